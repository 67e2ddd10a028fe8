# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Prints what the fast-transfer recipe costs on this machine, side by side with the tutorial's.

    .venv/bin/python benchmarks/bench_transfer.py [--image_size 299]

Measured in one run: the cache pass's images/s at two batch sizes, the head
phase on 3,300 vectors for 70 epochs, and a --fine_tune_from Mixed_7a step
against a full step; then the projected time to a first result on the real
flowers set. Targets: cache pass >= 3x full training's images/s, head phase
<= 60 s, top step <= 0.5x a full step, first result <= 30 minutes.
"""
from __future__ import absolute_import, division, print_function

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

import machine  # noqa: E402
import train_flowers  # noqa: E402
from tf_compat import tf  # noqa: E402
from timed_loop import build_graph  # noqa: E402
from transfer import bottlenecks, model, runtime  # noqa: E402
from transfer.datasets import convert, demo_photos  # noqa: E402
from transfer.training import bottleneck_head  # noqa: E402

# The real flowers set: 3,670 photos, 350 of them held out for validation.
FLOWERS_IMAGES, FLOWERS_TRAIN, FLOWERS_VALIDATION = 3670, 3320, 350
TUTORIAL_EPOCHS, TUTORIAL_BATCH = 70, 10
HEADS = ('InceptionResnetV2/Logits', 'InceptionResnetV2/AuxLogits')


def make_source_checkpoint(path, size):
  """An untrained 1001-class network: the speed of a restore, not its values, matters here."""
  with tf.Graph().as_default():
    model.build_model(tf.placeholder(tf.float32, [1, size, size, 3]), 1001, is_training=False)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      return tf.train.Saver().save(sess, path, write_meta_graph=False)


def time_cache_pass(records, checkpoint, size, batch_size):
  """Images/s of the cache pass, its graph build and restore left out.

  The pass runs over the training split once and then twice; the difference
  is the time of one pass over it in the steady state.
  """
  dataset = train_flowers.get_split('train', records)

  def seconds(epochs):
    def input_fn():
      images, _, labels = train_flowers.load_batch(dataset, batch_size, size, size,
                                                   is_training=False, num_epochs=epochs)
      return images, labels
    start = time.time()
    bottlenecks.compute_vectors({'train': input_fn}, {'train': epochs * dataset.num_samples},
                                dataset.num_classes, checkpoint, list(HEADS),
                                runtime.session_config())
    return time.time() - start
  return dataset.num_samples / max(seconds(2) - seconds(1), 1e-6)


def time_head(epochs, vectors=FLOWERS_TRAIN, classes=5):
  """Seconds of train_head over `vectors` random bottlenecks for `epochs` epochs."""
  rng = np.random.RandomState(0)
  cache = {'train': (rng.rand(vectors, bottlenecks.VECTOR_SIZE).astype(np.float32),
                     rng.randint(0, classes, vectors).astype(np.int64)),
           'validation': (rng.rand(350, bottlenecks.VECTOR_SIZE).astype(np.float32),
                          rng.randint(0, classes, 350).astype(np.int64))}
  start = time.time()
  s = train_flowers.make_settings(head_epochs=epochs, seed=0)
  bottleneck_head.train_head(cache, classes, s.head, s.optimizer, s.loss, s.seed,
                             tempfile.mkdtemp(prefix='bench_head_'))
  return time.time() - start


def time_steps(records, size, rounds, steps, fine_tune_from=''):
  """Seconds a training step of batch 10 takes, warm-up excluded."""
  targs = train_flowers.make_settings(dataset_dir=records, batch_size=TUTORIAL_BATCH,
                                      image_size=size, from_scratch=True,
                                      fine_tune_from=fine_tune_from)
  with tf.Graph().as_default():
    graph = build_graph(targs)
    with runtime.queue_session(runtime.session_config()) as sess:
      sess.run(graph.train_op)  # the first run prepares the executor
      times = []
      for _ in range(rounds):
        start = time.time()
        for _ in range(steps):
          sess.run(graph.train_op)
        times.append((time.time() - start) / steps)
  return min(times)


def print_table(args, cache_rates, head_secs, full_step, top_step):
  model_name, flags = machine.cpu_info()
  shown = sorted(f for f in flags if f in ('avx2', 'avx512f', 'avx512_bf16', 'amx_tile'))
  print('\n%s (%d cores; %s), load %.2f (1-min average, this run included), TensorFlow %s, '
        '%dx%d' % (model_name, os.cpu_count(), ' '.join(shown) or 'no AVX2',
                   os.getloadavg()[0], tf.__version__, args.image_size, args.image_size))
  full_rate = TUTORIAL_BATCH / full_step
  print('  full training step, batch 10:    %7.2f s   %6.1f images/s' % (full_step, full_rate))
  print('  --fine_tune_from Mixed_7a step:  %7.2f s   %.2fx a full step  (target <= 0.5x)'
        % (top_step, top_step / full_step))
  for batch, rate in sorted(cache_rates.items()):
    print('  cache pass, batch %2d:            %7.1f images/s  %.1fx full training  '
          '(target >= 3x)' % (batch, rate, rate / full_rate))
  print('  head, %d epochs of %d vectors:  %7.1f s  (target <= 60 s)'
        % (TUTORIAL_EPOCHS, FLOWERS_TRAIN, head_secs))
  best_rate = max(cache_rates.values())
  first = FLOWERS_IMAGES / best_rate + head_secs
  top_epoch = FLOWERS_TRAIN / float(TUTORIAL_BATCH) * top_step
  tutorial = TUTORIAL_EPOCHS * FLOWERS_TRAIN / float(TUTORIAL_BATCH) * full_step
  print('Projected for the flowers set (%d photos at %d):' % (FLOWERS_IMAGES, args.image_size))
  print('  fast recipe, head only:          %7.1f min  (target <= 30)' % (first / 60))
  print('  ... then an epoch from Mixed_7a: %7.1f min more' % (top_epoch / 60))
  print("  the tutorial's recipe (70 epochs):%7.1f h" % (tutorial / 3600))
  # Validation runs the network in inference mode with evaluation preprocessing at
  # --batch_size: the cache pass's work at batch 10, so its rate projects a pass.
  validation_pass = FLOWERS_VALIDATION / cache_rates[10]
  print('  a validation pass (%d images):   %7.1f min  %.0f%% of an epoch from Mixed_7a, %.0f%% '
        'of a full epoch' % (FLOWERS_VALIDATION, validation_pass / 60,
                             100 * validation_pass / top_epoch,
                             100 * validation_pass / (tutorial / TUTORIAL_EPOCHS)))


def main():
  p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  p.add_argument('--image_size', type=int, default=299)
  p.add_argument('--photos_per_class', type=int, default=13)
  p.add_argument('--rounds', type=int, default=2)
  p.add_argument('--steps', type=int, default=2, help='steps of each kind per round')
  args = p.parse_args()
  work = tempfile.mkdtemp(prefix='bench_transfer_')
  photos, records = os.path.join(work, 'photos'), os.path.join(work, 'records')
  demo_photos.make_demo_photos(photos, images_per_class=args.photos_per_class)
  convert.convert_dataset(photos, records, validation_size=1, num_shards=1)
  checkpoint = make_source_checkpoint(os.path.join(work, 'source.ckpt'), args.image_size)
  tf.logging.set_verbosity(tf.logging.ERROR)
  cache_rates = {b: time_cache_pass(records, checkpoint, args.image_size, b) for b in (10, 32)}
  head_secs = time_head(TUTORIAL_EPOCHS)
  # Alternated, so that drift in the machine's load hits both alike.
  full, top = [], []
  for _ in range(args.rounds):
    full.append(time_steps(records, args.image_size, 1, args.steps))
    top.append(time_steps(records, args.image_size, 1, args.steps, 'Mixed_7a'))
  print_table(args, cache_rates, head_secs, min(full), min(top))


if __name__ == '__main__':
  main()
