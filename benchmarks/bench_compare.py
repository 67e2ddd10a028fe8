# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Training speed of TensorFlow 1.15 against TensorFlow 2.x settings, in one run.

    make bench-compare          # builds .venv and .venv-tf2 first
    .venv/bin/python benchmarks/bench_compare.py [--steps 3] [--rounds 1]

Each configuration (1.15; 2.x float32 with oneDNN off and on; 2.x bfloat16 where
the CPU has AVX512_BF16/AMX; each with TensorFlow's threads and with intra 2 /
inter 1) trains in its own process with its venv's python: train_flowers'
graph and its train_loop, at 299x299, batch 10, on TFRecords of the drawn demo
set. Each round runs every configuration once, and more rounds (--rounds)
alternate them, so that drift in the machine's load hits them alike; one
round at the defaults takes about 15 minutes on 2 cores. Prints s/step,
images/s, the ratio to 1.15 and peak RSS.

Targets: the fastest configuration >= 1.4x 1.15 on an AVX2-only CPU, >= 3x on a
CPU with AMX; peak RSS <= 4 GB.
"""
from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from machine import cpu_info

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

TARGET_AVX2 = 1.4
TARGET_AMX = 3.0
TARGET_RSS_GB = 4.0
BF16_FLAGS = ('avx512_bf16', 'amx_bf16')
SHOWN_FLAGS = ('avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_tile', 'amx_bf16')



def configurations(has_bf16):
  """(label, venv, TF_ENABLE_ONEDNN_OPTS, extra flags) of each run."""
  kinds = [('1.15', '.venv', '', []),
           ('2.x fp32 oneDNN off', '.venv-tf2', '0', []),
           ('2.x fp32 oneDNN on', '.venv-tf2', '1', [])]
  if has_bf16:
    kinds.append(('2.x bf16 oneDNN on', '.venv-tf2', '1', ['--mixed_precision']))
  # Versions alternate within each thread setting, so slow drift spreads over all.
  runs = [(label + ', threads auto', venv, onednn, flags)
          for label, venv, onednn, flags in kinds]
  runs += [(label + ', intra 2/inter 1', venv, onednn,
            flags + ['--intra_op_threads', '2', '--inter_op_threads', '1'])
           for label, venv, onednn, flags in kinds]
  return runs


# ---------------------------------------------------------------- worker
def make_records(folder):
  """The drawn demo photos as TFRecords, made once for every configuration."""
  from transfer.datasets import convert, demo_photos
  photos = os.path.join(folder, 'photos')
  demo_photos.make_demo_photos(photos, images_per_class=12)
  convert.convert_dataset(photos, folder, validation_size=10, num_shards=1)


def measure(args, flags):
  """Times the training loop in this process; returns a dict of figures."""
  # Here, not at the top: tf_compat reads TF_ENABLE_ONEDNN_OPTS when TensorFlow loads.
  import train_flowers
  from tf_compat import tf
  from timed_loop import build_graph, run_steps
  from transfer import runtime
  tf.logging.set_verbosity(tf.logging.ERROR)
  targs = train_flowers.settings_from_flags(train_flowers.build_parser().parse_args(
      ['--dataset_dir', args.records, '--batch_size', str(args.batch_size),
       '--image_size', str(args.image_size), '--from_scratch',
       '--summary_every_n_steps', '10'] + flags))
  with tf.Graph().as_default():
    graph = build_graph(targs)
    with runtime.queue_session(runtime.session_config(targs.runtime)) as sess:
      # Warm-up through the loop itself: TF prepares an executor (seconds for
      # this graph) for each new set of fetches, and the loop's are its own.
      run_steps(sess, graph, targs, args.warmup)
      start = time.time()
      run_steps(sess, graph, targs, args.steps)
      seconds = (time.time() - start) / args.steps
  return {'seconds_per_step': seconds,
          'peak_rss_gb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0 ** 2,
          'describe': runtime.describe(targs.runtime)}


# ---------------------------------------------------------------- driver
def run_worker(python, onednn, flags, args):
  env = dict(os.environ)
  env.pop('TF_ENABLE_ONEDNN_OPTS', None)
  if onednn:
    env['TF_ENABLE_ONEDNN_OPTS'] = onednn
  env['TF_CPP_MIN_LOG_LEVEL'] = '2'
  command = [python, os.path.abspath(__file__), '--worker', '--records', args.records,
             '--steps', str(args.steps), '--warmup', str(args.warmup),
             '--batch_size', str(args.batch_size), '--image_size', str(args.image_size),
             '--'] + flags
  result = subprocess.run(command, env=env, cwd=REPO, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
  if result.returncode != 0:
    raise RuntimeError('%s failed:\n%s' % (' '.join(command), result.stderr[-2000:]))
  return json.loads(result.stdout.strip().splitlines()[-1])


def print_table(runs, results, model, flags, args, elapsed, loads):
  base = results[runs[0][0]]
  base_step = sum(r['seconds_per_step'] for r in base) / len(base)
  print('CPU: %s, %d cores; flags: %s' % (
      model, os.cpu_count(), ' '.join(f for f in SHOWN_FLAGS if f in flags) or '-'))
  # Other processes on the machine slow some runs more than others.
  print('load average (1 min) before / after: %.1f / %.1f' % loads)
  print('Inception-ResNet-V2 training (the training loop, Adam) at %dx%d, batch %d; '
        '%d rounds x %d steps after %d warm-up, %.0f s in all'
        % (args.image_size, args.image_size, args.batch_size, args.rounds, args.steps,
           args.warmup, elapsed))
  print()
  print('| configuration | s/step | images/s | x 1.15 | peak RSS |')
  print('|---|---|---|---|---|')
  best = None
  for label, _, _, _ in runs:
    rows = results[label]
    step = sum(r['seconds_per_step'] for r in rows) / len(rows)
    rss = max(r['peak_rss_gb'] for r in rows)
    ratio = base_step / step
    print('| %s | %.2f | %.2f | %.2f | %.2f GB |' % (label, step, args.batch_size / step,
                                                     ratio, rss))
    if best is None or ratio > best[1]:
      best = (label, ratio, rss)
  peak = max(r['peak_rss_gb'] for rows in results.values() for r in rows)
  amx = 'amx_bf16' in flags
  target = TARGET_AMX if amx else TARGET_AVX2
  print()
  print('fastest: %s, %.2fx 1.15: target >= %.1fx on %s: %s'
        % (best[0], best[1], target, 'a CPU with AMX' if amx else 'an AVX2-only CPU',
           'met' if best[1] >= target else 'MISSED'))
  print('peak RSS %.2f GB: target <= %.1f GB: %s'
        % (peak, TARGET_RSS_GB, 'met' if peak <= TARGET_RSS_GB else 'MISSED'))
  if not any(f in flags for f in BF16_FLAGS):
    print('bf16: not run, this CPU has no AVX512_BF16/AMX')


def drive(args):
  model, flags = cpu_info()
  runs = configurations(any(f in flags for f in BF16_FLAGS))
  pythons = {venv: os.path.join(REPO, venv, 'bin', 'python') for venv in ('.venv', '.venv-tf2')}
  missing = [p for p in pythons.values() if not os.path.exists(p)]
  if missing:
    print('error: %s missing: run `make venv` and `make venv TF=2` (or make bench-compare)'
          % ', '.join(missing), file=sys.stderr)
    return 1
  start, load_before = time.time(), os.getloadavg()[0]
  work = tempfile.mkdtemp(prefix='bench_compare_')
  args.records = os.path.join(work, 'records')
  subprocess.check_call([pythons['.venv'], os.path.abspath(__file__), '--make_records',
                         args.records], cwd=REPO, stdout=subprocess.DEVNULL)
  results = {label: [] for label, _, _, _ in runs}
  for round_index in range(args.rounds):
    for label, venv, onednn, extra in runs:
      figures = run_worker(pythons[venv], onednn, extra, args)
      results[label].append(figures)
      print('round %d: %-36s %6.2f s/step  (%s)' % (round_index + 1, label,
                                                    figures['seconds_per_step'],
                                                    figures['describe']), file=sys.stderr)
  shutil.rmtree(work, ignore_errors=True)
  print_table(runs, results, model, flags, args, time.time() - start,
              (load_before, os.getloadavg()[0]))
  return 0


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  p.add_argument('--steps', type=int, default=3, help='timed steps per run')
  p.add_argument('--warmup', type=int, default=2, help='untimed steps per run (>= 2)')
  p.add_argument('--rounds', type=int, default=1, help='passes over all configurations')
  p.add_argument('--image_size', type=int, default=299)
  p.add_argument('--batch_size', type=int, default=10)
  p.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
  p.add_argument('--make_records', help=argparse.SUPPRESS)
  p.add_argument('--records', help=argparse.SUPPRESS)
  p.add_argument('flags', nargs='*', help=argparse.SUPPRESS)
  args = p.parse_args(argv)
  if args.make_records:
    make_records(args.make_records)
    return 0
  if args.worker:
    print(json.dumps(measure(args, args.flags)))
    return 0
  return drive(args)


if __name__ == '__main__':
  sys.exit(main())
