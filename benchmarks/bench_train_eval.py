# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Prints end-to-end training and evaluation images/s at 299x299, batch 10,
and the overhead of train_flowers' loop over a bare `sess.run(train_op)`.

    .venv/bin/python benchmarks/bench_train_eval.py [--steps 6]

Target: the loop (logging, metrics, summaries) costs <= 5% over the bare op.
"""
from __future__ import absolute_import, division, print_function

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

import eval_flowers  # noqa: E402
import train_flowers  # noqa: E402
from tf_compat import tf  # noqa: E402
from timed_loop import NoStop, build_graph, run_steps  # noqa: E402
from transfer import runtime  # noqa: E402
from transfer.datasets import convert, demo_photos  # noqa: E402


def time_training(args, records):
  """Returns (s/step of train_loop, s/step of bare train_op) in one session."""
  targs = train_flowers.make_settings(dataset_dir=records, batch_size=args.batch_size,
                                      image_size=args.image_size, from_scratch=True,
                                      summary_every_n_steps=10)
  with tf.Graph().as_default():
    graph = build_graph(targs)
    with runtime.queue_session(runtime.session_config()) as sess:
      # Warm-up: TF prepares an executor for each new set of fetches, which
      # takes seconds for this graph; do it for all three outside the timing.
      for _ in range(args.warmup):
        sess.run(graph.train_op)
      run_steps(sess, graph, targs._replace(
          control=targs.control._replace(summary_every_n_steps=2)), steps=2)
      # Alternate the two, so drift in machine load hits both alike.
      loop_time, bare_time = 0.0, 0.0
      for _ in range(args.rounds):
        start = time.time()
        run_steps(sess, graph, targs, steps=args.steps)
        loop_time += time.time() - start
        start = time.time()
        for _ in range(args.steps):
          sess.run(graph.train_op)
        bare_time += time.time() - start
  steps = args.steps * args.rounds
  return loop_time / steps, bare_time / steps


def time_eval(args, records, work):
  """Returns images/s of eval_flowers' loop (an un-restored model: speed only)."""
  eargs = eval_flowers.settings_from_flags(eval_flowers.build_parser().parse_args(
      ['--dataset_dir', records, '--log_eval', os.path.join(work, 'eval'), '--clean_baseline',
       '--batch_size', str(args.batch_size), '--num_epochs', '3',
       '--image_size', str(args.image_size)]))
  with tf.Graph().as_default():
    g = eval_flowers.build_eval_graph(eargs)
    with runtime.queue_session(runtime.session_config()) as sess:
      # Warm up on one epoch's worth of batches, then time the other two.
      for _ in range(g['dataset'].num_samples // args.batch_size):
        sess.run(g['predictions'])
      eargs = eargs._replace(num_epochs=2)
      start = time.time()
      eval_flowers.eval_loop(sess, NoStop(), g, eargs)
      elapsed = time.time() - start
  return eargs.num_epochs * g['dataset'].num_samples / elapsed


def main():
  p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  p.add_argument('--image_size', type=int, default=299)
  p.add_argument('--batch_size', type=int, default=10)
  p.add_argument('--steps', type=int, default=4, help='steps of each kind per round')
  p.add_argument('--rounds', type=int, default=3)
  p.add_argument('--warmup', type=int, default=1)
  args = p.parse_args()
  work = tempfile.mkdtemp(prefix='bench_train_')
  photos = os.path.join(work, 'photos')
  records = os.path.join(work, 'records')
  demo_photos.make_demo_photos(photos, images_per_class=12)
  convert.convert_dataset(photos, records, validation_size=40, num_shards=1)

  tf.logging.set_verbosity(tf.logging.ERROR)
  loop, bare = time_training(args, records)
  tf.logging.set_verbosity(tf.logging.ERROR)
  eval_rate = time_eval(args, records, work)
  print('Inception-ResNet-V2 at %dx%d, batch %d:' % (args.image_size, args.image_size,
                                                     args.batch_size))
  print('  training, train_loop:       %6.2f s/step  %6.2f images/s' % (loop, args.batch_size / loop))
  print('  training, bare train_op:    %6.2f s/step  %6.2f images/s' % (bare, args.batch_size / bare))
  print('  loop overhead:              %+6.1f %%  (target <= 5 %%)' % (100.0 * (loop / bare - 1)))
  print('  evaluation, eval_loop:                       %6.2f images/s' % eval_rate)


if __name__ == '__main__':
  main()
