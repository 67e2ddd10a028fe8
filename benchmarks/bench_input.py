# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Prints the images/s that load_batch delivers at 299x299 on the demo set.

    make bench    (or: .venv/bin/python benchmarks/bench_input.py)

Target on a 2-core CPU: >= 20 images/s per core with training preprocessing,
five times what Inception-ResNet-V2 consumes there, so input never limits.
"""
from __future__ import absolute_import, division, print_function

import argparse
import multiprocessing
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

import train_flowers  # noqa: E402
from tf_compat import tf  # noqa: E402
from transfer import runtime  # noqa: E402
from transfer.datasets import convert, demo_photos  # noqa: E402


def images_per_second(dataset_dir, is_training, batch_size, image_size, batches, warmup):
  """Times `batches` batches of load_batch after `warmup` ones; returns images/s."""
  with tf.Graph().as_default():
    dataset = train_flowers.get_split('train', dataset_dir)
    images, _, labels = train_flowers.load_batch(dataset, batch_size, image_size, image_size,
                                                 is_training=is_training)
    with runtime.queue_session(runtime.session_config()) as sess:
      for _ in range(warmup):
        sess.run([images, labels])
      start = time.time()
      count = 0
      for _ in range(batches):
        count += len(sess.run([images, labels])[1])
      elapsed = time.time() - start
  return count / elapsed


def main():
  p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  p.add_argument('--image_size', type=int, default=299)
  p.add_argument('--batch_size', type=int, default=10)
  p.add_argument('--batches', type=int, default=30)
  p.add_argument('--warmup', type=int, default=5)
  args = p.parse_args()
  tf.logging.set_verbosity(tf.logging.ERROR)
  cores = multiprocessing.cpu_count()
  work = tempfile.mkdtemp(prefix='bench_input_')
  demo_photos.make_demo_photos(os.path.join(work, 'photos'))
  convert.convert_dataset(os.path.join(work, 'photos'), work, validation_size=20,
                                  num_shards=2)
  print('load_batch at %dx%d, batch %d, %d cores:' % (args.image_size, args.image_size,
                                                      args.batch_size, cores))
  for mode, training in (('train', True), ('eval', False)):
    rate = images_per_second(work, training, args.batch_size, args.image_size,
                             args.batches, args.warmup)
    print('  %-5s preprocessing: %7.1f images/s (%.1f per core)' % (mode, rate, rate / cores))


if __name__ == '__main__':
  main()
