# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Prints predict_flowers' throughput beside eval_flowers' loop, at 299x299, batch 32.

    make bench    (or: .venv/bin/python benchmarks/bench_predict.py)

Prediction feeds one decoded image at a time and one batch at a time, without
queues; the target is a ratio >= 1: no slower than the queued evaluation loop.
Both run an un-trained 5-class model on the drawn demo photos: speed only.
"""
from __future__ import absolute_import, division, print_function

import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..'))
sys.path.insert(0, HERE)

import bench_train_eval  # noqa: E402
from machine import cpu_model  # noqa: E402
from tf_compat import tf  # noqa: E402
from transfer import images, model, predictor  # noqa: E402
from transfer.datasets import convert, demo_photos  # noqa: E402



def write_checkpoint(path, num_classes, image_size):
  """Saves freshly initialised model variables: the shape of a fine-tuned checkpoint."""
  with tf.Graph().as_default():
    model.build_classifier(num_classes, image_size)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      return tf.train.Saver().save(sess, path)


def time_predict(args, checkpoint, paths, names):
  """Returns images/s of predict_flowers' read-decode-classify path."""
  classifier = predictor.Predictor(checkpoint, len(names), args.image_size)
  try:
    def classify(batch_paths):
      return predictor.classify_paths(classifier, batch_paths, names, args.batch_size, 1,
                                      lambda path, top: None, lambda path, reason: None)
    classify(paths[:args.batch_size])  # warm-up: TF prepares each new set of fetches once
    start = time.time()
    done, _ = classify(paths)
    return done / (time.time() - start)
  finally:
    classifier.close()


def main():
  p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  p.add_argument('--image_size', type=int, default=299)
  p.add_argument('--batch_size', type=int, default=32)
  p.add_argument('--images_per_class', type=int, default=16, help='demo photos a class')
  args = p.parse_args()
  work = tempfile.mkdtemp(prefix='bench_predict_')
  photos = os.path.join(work, 'photos')
  records = os.path.join(work, 'records')
  demo_photos.make_demo_photos(photos, images_per_class=args.images_per_class)
  convert.convert_dataset(photos, records, validation_size=4 * args.images_per_class,
                                  num_shards=1, verbose=False)
  names = sorted(os.listdir(photos))
  paths, _ = images.find_images([photos])

  tf.logging.set_verbosity(tf.logging.ERROR)
  checkpoint = write_checkpoint(os.path.join(work, 'model.ckpt'), len(names), args.image_size)
  predict_rate = time_predict(args, checkpoint, paths, names)
  eval_rate = bench_train_eval.time_eval(args, records, work)
  print('CPU: %s, %d cores' % (cpu_model(), os.cpu_count() or 1))
  print('Inception-ResNet-V2 at %dx%d, batch %d, %d photos:'
        % (args.image_size, args.image_size, args.batch_size, len(paths)))
  print('  predict_flowers (no queues):  %6.2f images/s' % predict_rate)
  print('  eval_flowers (eval_loop):     %6.2f images/s' % eval_rate)
  print('  ratio predict / eval:         %6.2f  (target >= 1)' % (predict_rate / eval_rate))


if __name__ == '__main__':
  main()
