# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Prints what the fast-transfer recipe costs on this machine, side by side with the tutorial's.

    .venv/bin/python benchmarks/bench_transfer.py [--image_size 299]

Measured in one run: first, on the demo's set at 128, the cache pass with
--bottleneck_views 4 in float32 and (where it runs) bfloat16, its images/s and
seconds a view, the head's validation accuracy without and with the views
on each cache, and --head_folds 5 on each (its accuracy, interval and seconds)
(--parts views); then (--parts speed) the cache pass's images/s at
two batch sizes, the head phase on 3,300 vectors for 70 epochs, and a
--fine_tune_from Mixed_7a step against a full step; then the projected time to
a first result on the real flowers set. Targets: cache pass >= 3x full training's images/s, head phase
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
from transfer import bottleneck_pass, bottlenecks, model, runtime  # noqa: E402
from transfer.datasets import convert, demo_photos  # noqa: E402
from transfer.training import bottleneck_head, head_folds  # noqa: E402

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
  """Images/s of the cache pass over the training split, its first batch (and so the graph
  build, restore and warm-up) left out."""
  return pass_rates(records, checkpoint, size, batch_size, 0, runtime.RuntimeSettings())[0]


def pass_rates(records, checkpoint, size, batch_size, views, settings, splits=('train',)):
  """(evaluation views/s, seconds a view, the cache) of one cache pass with `views` views.

  Timed between chunk commits (a chunk is a batch), the first chunk left out.
  """
  datasets = {name: train_flowers.get_split(name, records) for name in splits}
  sizes = bottlenecks.segment_sizes({n: d.num_samples for n, d in datasets.items()}, views)
  chunks = bottlenecks.plan(sizes, batch_size)
  parts, seconds, count = {}, {}, {}
  last = [None]

  def commit(chunk, vectors, labels):
    now = time.time()
    parts.setdefault(chunk.segment, []).append((vectors, labels))
    if last[0] is not None:
      kind = 'views' if chunk.segment == bottlenecks.VIEWS else 'evaluation'
      seconds[kind] = seconds.get(kind, 0.0) + now - last[0]
      count[kind] = count.get(kind, 0) + chunk.size
    last[0] = now
  bottleneck_pass.run_pass(datasets, chunks, commit, checkpoint, list(HEADS), size, batch_size,
                           views, 0, runtime.session_config(settings))
  cache = {segment: tuple(np.concatenate(a) for a in zip(*p)) for segment, p in parts.items()}
  if views:
    cache[bottlenecks.VIEWS] += (np.arange(sizes[bottlenecks.VIEWS]) % sizes['train'],)
  per_view = seconds['views'] / count['views'] if views else float('nan')
  return count['evaluation'] / seconds['evaluation'], per_view, cache


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


def make_normalised_checkpoint(path, size):
  """Random weights with batch-norm statistics of one batch of noise, as the tests' stand-in:
  features that tell images apart (an untrained network's moving statistics would not)."""
  with tf.Graph().as_default():
    tf.set_random_seed(1)
    images = tf.constant(np.random.RandomState(1).uniform(-1, 1, (16, size, size, 3)),
                         tf.float32)
    model.build_model(images, 1001, is_training=True, batch_norm_decay=0.0)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
      return tf.train.Saver().save(sess, path, write_meta_graph=False)


def head_accuracy(cache, classes, epochs=30):
  """The head's validation accuracy (its best epoch, as the head phase keeps) on a cache."""
  s = train_flowers.make_settings(head_epochs=epochs, seed=0)
  return bottleneck_head.train_head(cache, classes, s.head, s.optimizer, s.loss, s.seed,
                                    tempfile.mkdtemp(prefix='bench_head_')).validation_accuracy


def folds_line(cache, classes, folds=5, epochs=30):
  """--head_folds on a cache: the pooled out-of-fold accuracy, its interval and its cost."""
  s = train_flowers.make_settings(head_epochs=epochs, seed=0)
  result = head_folds.cross_validate(cache, classes, folds, s.head, s.optimizer, s.loss, s.seed)
  return '%d folds: %.3f (95%% %.3f-%.3f) in %.1f s' % ((folds, result.accuracy) +
                                                       tuple(result.interval) + (result.seconds,))


def views_table(records, size, views, work):
  """Cache pass in float32 and (where it runs) bfloat16, with views; the head on each."""
  checkpoint = make_normalised_checkpoint(os.path.join(work, 'normalised.ckpt'), size)
  classes = train_flowers.get_split('train', records).num_classes
  precisions = [('float32', runtime.RuntimeSettings())]
  bf16 = runtime.RuntimeSettings(mixed_precision=True)
  if runtime.precision_mode(bf16) == 'bfloat16':
    precisions.append(('bfloat16', bf16))
  rows = []
  for name, settings in precisions:
    rate, per_view, cache = pass_rates(records, checkpoint, size, 32, views, settings,
                                       ('train', 'validation'))
    plain = {k: v for k, v in cache.items() if k != bottlenecks.VIEWS}
    rows.append((name, rate, per_view, head_accuracy(plain, classes), head_accuracy(cache, classes),
                 folds_line(plain, classes), folds_line(cache, classes)))
  print('\nCache pass with --bottleneck_views %d at %dx%d, batch 32 (random-weight stand-in '
        'network); head 30 epochs:' % (views, size, size))
  for name, rate, per_view, plain, viewed, plain_folds, viewed_folds in rows:
    print('  %-8s  %6.1f images/s  %.3f s a view (%.1fx an evaluation image)  head validation '
          'accuracy: K=0 %.3f, K=%d %.3f' % (name, rate, per_view, per_view * rate, plain,
                                              views, viewed))
    print('            --head_folds, K=0: %s; K=%d: %s' % (plain_folds, views, viewed_folds))
  if len(rows) == 2:
    print('  bfloat16 / float32: %.2fx the images/s' % (rows[1][1] / rows[0][1]))
  else:
    print('  bfloat16: not here (%s)' % runtime.describe())


def main():
  p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  p.add_argument('--image_size', type=int, default=299)
  p.add_argument('--photos_per_class', type=int, default=13)
  p.add_argument('--rounds', type=int, default=2)
  p.add_argument('--steps', type=int, default=2, help='steps of each kind per round')
  p.add_argument('--parts', default='speed,views',
                 help='speed: the steps and the pass; views: views and bfloat16 on the demo set')
  p.add_argument('--views', type=int, default=4, help='--bottleneck_views of the views part')
  p.add_argument('--views_image_size', type=int, default=128, help="the demo's image size")
  args = p.parse_args()
  work = tempfile.mkdtemp(prefix='bench_transfer_')
  tf.logging.set_verbosity(tf.logging.ERROR)
  if 'views' in args.parts:
    # The demo's set: 40 photos a class, 50 held out.
    demo, demo_records = os.path.join(work, 'demo'), os.path.join(work, 'demo_records')
    demo_photos.make_demo_photos(demo, images_per_class=40)
    convert.convert_dataset(demo, demo_records, validation_size=50, num_shards=1, verbose=False)
    model_name, _ = machine.cpu_info()
    print('%s (%d cores), TensorFlow %s' % (model_name, os.cpu_count(), tf.__version__))
    views_table(demo_records, args.views_image_size, args.views, work)
  if 'speed' not in args.parts:
    return
  photos, records = os.path.join(work, 'photos'), os.path.join(work, 'records')
  demo_photos.make_demo_photos(photos, images_per_class=args.photos_per_class)
  convert.convert_dataset(photos, records, validation_size=1, num_shards=1)
  checkpoint = make_source_checkpoint(os.path.join(work, 'source.ckpt'), args.image_size)
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
