# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""What each exported form of a trained model costs: size, verified accuracy, speed.

    make bench-export LOG_DIR=demo_run/log [TF=2]
    (or: .venv/bin/python benchmarks/bench_export.py --log_dir demo_run/log)

Exports LOG_DIR's checkpoint with every TensorFlow Lite variant and --verify,
then times each form on the validation images: latency at batch 1 (median of
--repeats single images) and throughput at batch 32. The checkpoint and the
frozen graph take preprocessed images; the SavedModel takes encoded JPEGs and
decodes them in its graph; the TensorFlow Lite files are converted for batch 1,
so their batch of 32 is 32 invocations in a row.
"""
from __future__ import absolute_import, division, print_function

import argparse
import os
import shutil
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..'))
sys.path.insert(0, HERE)

import export_flowers  # noqa: E402
from machine import cpu_model  # noqa: E402
from tf_compat import tf  # noqa: E402
from transfer import (averages, best_checkpoint, export_data, export_runners,  # noqa: E402
                      model_settings)

BATCH = 32
VARIANTS = 'none,float16,dynamic,int8'


def timed(run, inputs, repeats):
  """(median seconds of one image, images a second over a batch of BATCH)."""
  run(inputs[:1])  # warm-up: the first run prepares the graph or allocates
  single = []
  for i in range(repeats):
    start = time.time()
    run(inputs[i % len(inputs):][:1])
    single.append(time.time() - start)
  batch = np.concatenate([inputs] * (BATCH // len(inputs) + 1))[:BATCH]
  start = time.time()
  run(batch)
  return float(np.median(single)), BATCH / (time.time() - start)


def loaders(export_dir, log_dir):
  """[(artefact name, (run, close) maker, takes encoded bytes)], the checkpoint first."""
  checkpoint, _ = best_checkpoint.choose('', log_dir, None)
  record = model_settings.load(best_checkpoint.record_dir(checkpoint))
  # The checkpoint as export takes it: its moving averages when it holds them.
  use_averages, _ = averages.choose(checkpoint, False, record['moving_average_decay'])
  model = (checkpoint, record['num_classes'], record['image_size'], use_averages)
  found = [('checkpoint', lambda: export_runners.checkpoint_runner(*model), False),
           ('saved_model', lambda: export_runners.saved_model_runner(
               os.path.join(export_dir, 'saved_model', '1')), True),
           ('frozen_graph.pb', lambda: export_runners.frozen_runner(
               os.path.join(export_dir, 'frozen_graph.pb')), False)]
  for name in sorted(os.listdir(export_dir)):
    if name.endswith('.tflite'):
      found.append((name, lambda path=os.path.join(export_dir, name):
                    export_runners.tflite_runner(path), False))
  return found, record


def main():
  p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  p.add_argument('--log_dir', required=True, help='a trained log dir (run.json records it)')
  p.add_argument('--verify_images', type=int, default=350)
  p.add_argument('--repeats', type=int, default=5, help='single images timed, median taken')
  args = p.parse_args()
  tf.logging.set_verbosity(tf.logging.ERROR)
  work = tempfile.mkdtemp(prefix='bench_export_')
  try:
    report(args, os.path.join(work, 'export'))
  finally:
    shutil.rmtree(work, ignore_errors=True)  # over 600 MB of artefacts


def report(args, export_dir):
  """Exports into export_dir, then prints the table."""
  result = export_flowers.export(log_dir=args.log_dir, output_dir=export_dir,
                                 tflite_quantization=VARIANTS, verify=True,
                                 verify_images=args.verify_images)
  rows = {row['artefact']: row for row in result['verification']['rows']}
  found, record = loaders(export_dir, args.log_dir)
  encoded, _ = export_data.read_examples(export_data.find_split(
      'validation', record['dataset_dir'], export_flowers.file_pattern, '--log_dir'), BATCH)
  images = export_data.preprocess_all(encoded, record['image_size'])
  print('CPU: %s, %d cores; TensorFlow %s' % (cpu_model(), os.cpu_count() or 1, tf.__version__))
  print('Inception-ResNet-V2, %d classes at %dx%d, verified on %d validation images:'
        % (record['num_classes'], record['image_size'], record['image_size'],
           result['verification']['images']))
  print('%-22s %9s %7s %9s %12s %14s' % ('form', 'size MB', 'top-1', 'agreement',
                                         'batch 1 ms', 'batch 32 img/s'))
  for name, load, takes_bytes in found:
    run, close = load()
    try:
      latency, rate = timed(run, np.array(encoded, dtype=object) if takes_bytes else images,
                            args.repeats)
    finally:
      close()
    row = rows[name]
    print('%-22s %9.1f %7.4f %9.4f %12.1f %14.2f' % (
        name, row['bytes'] / 1e6, row['accuracy'], row['agreement'], latency * 1000, rate))


if __name__ == '__main__':
  main()
