# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Prints training images/s of one process alone, 1 worker + 1 ps, and 2 workers
(async and sync) + 1 ps, all on loopback on this machine, with ratios.

    .venv/bin/python benchmarks/bench_scale.py [--image_size 107 --steps 12]

On one machine the workers share its cores, so no speed-up is expected: the
table shows what the distributed runtime costs (variables and gradients through
gRPC, the sync barrier), from which docs/distributed.md extrapolates to N machines.
"""
from __future__ import absolute_import, division, print_function

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
sys.path.insert(0, REPO)

from machine import cpu_model  # noqa: E402
from transfer.datasets import convert, demo_photos  # noqa: E402

# The training loop's progress line: its images/s counts every worker's images.
STEP_LINE = re.compile(r'step \d+/\d+: loss [-\d.naif]+, ([\d.]+) images/s, ETA ')



def free_ports(count):
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(('127.0.0.1', 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def steady_rate(log_path, warmup):
  """images/s of the run from its chief's progress lines, the first `warmup` left out."""
  with open(log_path, errors='replace') as f:
    rates = [float(m.group(1)) for m in STEP_LINE.finditer(f.read())][warmup:]
  if not rates:
    raise SystemExit('no timed steps in %s: raise --steps' % log_path)
  return statistics.median(rates)


def run_setup(name, work, records, args, workers, sync=False):
  """Trains with `workers` workers (0: one process, no cluster); returns images/s."""
  folder = os.path.join(work, name)
  os.makedirs(folder)
  common = [sys.executable, os.path.join(REPO, 'train_flowers.py'), '--dataset_dir', records,
            '--log_dir', os.path.join(folder, 'log'), '--from_scratch',
            '--image_size', str(args.image_size), '--batch_size', str(args.batch_size),
            '--num_epochs', '1', '--summary_every_n_steps', '1000', '--log_every_n_steps', '1']
  jobs = [('alone', [])]
  if workers:
    ports = free_ports(workers + 1)
    common += ['--ps_hosts', '127.0.0.1:%d' % ports[0], '--worker_hosts',
               ','.join('127.0.0.1:%d' % p for p in ports[1:])]
    if sync:
      common.append('--sync_replicas')
    jobs = [('ps', ['--job_name', 'ps', '--task_index', '0'])] + [
        ('worker%d' % i, ['--job_name', 'worker', '--task_index', str(i)])
        for i in range(workers)]
  procs = []
  try:
    for job, flags in jobs:
      log = open(os.path.join(folder, job + '.log'), 'wb')
      procs.append((job, subprocess.Popen(common + flags, stdout=log, stderr=log, cwd=folder)))
    for job, proc in procs:
      if proc.wait(args.timeout) != 0:
        raise SystemExit('%s/%s failed: see %s' % (name, job, os.path.join(folder, job + '.log')))
  finally:
    for _, proc in procs:
      if proc.poll() is None:
        proc.kill()
  # The chief's global step counts every worker's updates (in sync mode, all
  # the gradients an update aggregates).
  chief = 'worker0' if workers else 'alone'
  return steady_rate(os.path.join(folder, chief + '.log'), args.warmup)


def main():
  p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  p.add_argument('--image_size', type=int, default=107)
  p.add_argument('--batch_size', type=int, default=4)
  p.add_argument('--steps', type=int, default=12, help='steps of one process alone')
  p.add_argument('--warmup', type=int, default=2, help='first steps of each process left out')
  p.add_argument('--timeout', type=int, default=1800, help='seconds a setup may take')
  args = p.parse_args()
  work = tempfile.mkdtemp(prefix='bench_scale_')
  photos, records = os.path.join(work, 'photos'), os.path.join(work, 'records')
  # One epoch of `steps` batches alone; 2 workers share it.
  demo_photos.make_demo_photos(photos, images_per_class=args.steps * args.batch_size // 5 + 2)
  convert.convert_dataset(photos, records, validation_size=5, num_shards=1)

  setups = [('one process, no cluster', 'alone', 0, False),
            ('1 worker + 1 ps', 'w1', 1, False),
            ('2 workers + 1 ps, async', 'w2_async', 2, False),
            ('2 workers + 1 ps, sync', 'w2_sync', 2, True)]
  rates = []
  for label, name, workers, sync in setups:
    rates.append(run_setup(name, work, records, args, workers, sync))
    print('  measured %-26s %7.2f images/s' % (label, rates[-1]), file=sys.stderr)

  print('CPU: %s, %d cores' % (cpu_model(), os.cpu_count()))
  print('Inception-ResNet-V2 training at %dx%d, batch %d per worker, loopback gRPC:'
        % (args.image_size, args.image_size, args.batch_size))
  print('  %-26s %10s %12s' % ('setup', 'images/s', 'vs alone'))
  for (label, _, _, _), rate in zip(setups, rates):
    print('  %-26s %10.2f %11.2fx' % (label, rate, rate / rates[0]))


if __name__ == '__main__':
  main()
