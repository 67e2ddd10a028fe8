# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""export_flowers.py --verify: every artefact written, run against the checkpoint.

Each artefact is loaded as a user would (transfer/export_runners.py) and run on
the first --verify_images validation images; the checkpoint is the one eval
would take, moving averages included. The float32 ones (frozen graph,
SavedModel, model.tflite) must give the checkpoint's top-1 on every image and
its probabilities within FLOAT_TOLERANCE; the reduced ones (float16, dynamic,
int8) may lose at most --max_accuracy_drop of its top-1 accuracy.
"""
from __future__ import absolute_import, division, print_function

import collections
import sys

import numpy as np

from tf_compat import tf
from transfer import export_data, export_runners, exporting, flags, quantization
from transfer.errors import UsageError

VERIFY_IMAGES = 350  # flowers' whole validation split
MAX_ACCURACY_DROP = 0.02
FLOAT_TOLERANCE = 1e-4
BATCH = 32
# Measured: TF 1.15's interpreter, int8 Inception-ResNet-V2 at 128 px.
TF1_INT8_SECONDS = 4.5

# One artefact to run: its name in the table, its path, how to load it, whether float32.
Artefact = collections.namedtuple('Artefact', 'name path kind float32')


def add_flags(p):
  p.add_argument('--verify', action='store_true',
                 help='after writing, run every artefact on the validation split and '
                 'compare it with the checkpoint; exit 1 naming one that falls short')
  p.add_argument('--verify_images', type=flags.positive_int, default=VERIFY_IMAGES,
                 help='validation images --verify runs, at most (default %d)' % VERIFY_IMAGES)
  p.add_argument('--max_accuracy_drop', type=flags.fraction, default=MAX_ACCURACY_DROP,
                 help='how far below the checkpoint\'s top-1 accuracy a float16, dynamic '
                 'or int8 TensorFlow Lite file may fall (default %g)' % MAX_ACCURACY_DROP)


class VerificationFailed(UsageError):
  """An artefact falls short; `rows` is the whole table, of `images` images."""

  def __init__(self, message, rows, images):
    super(VerificationFailed, self).__init__(message)
    self.rows, self.images = rows, images


def artefacts(written, variants):
  """The artefacts in `written` (write_export's {name: path}), in the table's order."""
  found = [Artefact(exporting.FROZEN_GRAPH, written[exporting.FROZEN_GRAPH], 'frozen', True),
           Artefact(exporting.SAVED_MODEL, written[exporting.SAVED_MODEL], 'saved_model', True)]
  for variant in variants:
    name = quantization.FILES[variant]
    found.append(Artefact(name, written[name], 'tflite', variant in quantization.FLOAT32))
  return found


def _load(artefact):
  if artefact.kind == 'frozen':
    return export_runners.frozen_runner(artefact.path)
  if artefact.kind == 'saved_model':
    return export_runners.saved_model_runner(artefact.path)
  return export_runners.tflite_runner(artefact.path)


def _run(loaded, inputs):
  """Probabilities [N, classes] of a (run, close) pair, fed in batches."""
  run, close = loaded
  try:
    return np.concatenate([run(inputs[i:i + BATCH]) for i in range(0, len(inputs), BATCH)])
  finally:
    close()


def _row(name, size, probabilities, labels, reference):
  predicted = np.argmax(probabilities, 1)
  return collections.OrderedDict([
      ('artefact', name), ('bytes', size),
      ('accuracy', float(np.mean(predicted == labels))),
      ('agreement', float(np.mean(predicted == np.argmax(reference, 1)))),
      ('max_difference', float(np.max(np.abs(probabilities - reference))))])


def _problem(row, artefact, baseline, max_drop):
  """Why the row falls short, or None."""
  if artefact.float32:
    if row['agreement'] < 1 or row['max_difference'] > FLOAT_TOLERANCE:
      return ('%s differs from the checkpoint: top-1 agreement %.4f, probabilities up to '
              '%.2g apart (a float32 artefact must agree on every image, within %g)'
              % (artefact.name, row['agreement'], row['max_difference'], FLOAT_TOLERANCE))
  elif row['accuracy'] < baseline - max_drop - 1e-9:
    return ('%s: top-1 accuracy %.4f is %.4f below the checkpoint\'s %.4f '
            '(--max_accuracy_drop %g)' % (artefact.name, row['accuracy'],
                                           baseline - row['accuracy'], baseline, max_drop))
  return None


def _warn_if_slow(artefact, count, out):
  if artefact.name == quantization.FILES['int8'] and tf.__version__.startswith('1.'):
    out.write('Verifying %s on %d images: TensorFlow %s\'s interpreter runs int8 '
              'Inception-ResNet-V2 slowly (about %.1f s an image at 128 px; TF 2.x is '
              'far faster)\n' % (artefact.name, count, tf.__version__, TF1_INT8_SECONDS))
    out.flush()


def verify(trained, written, variants, examples, max_drop, out=None):
  """Runs every artefact in `written` on `examples` and compares it with the checkpoint.

  Args:
    trained: (checkpoint, class count, image size, moving_averages).
    written: write_export's {name: path}.
    variants: the TensorFlow Lite variants written (quantization.FILES keys).
    examples: ([encoded images], [labels]) of the validation split.
    max_drop: --max_accuracy_drop.
    out: where the slow-run warning goes (stderr).

  Returns:
    The table: a row (an OrderedDict) for the checkpoint, then one an artefact.

  Raises:
    VerificationFailed: naming each artefact that falls short, with the rows.
  """
  out = out or sys.stderr
  encoded, labels = examples
  labels = np.array(labels)
  images = export_data.preprocess_all(encoded, trained[2])
  reference = _run(export_runners.checkpoint_runner(*trained), images)
  rows = [_row('checkpoint', export_runners.checkpoint_size(trained[0]), reference, labels,
               reference)]
  problems = []
  for artefact in artefacts(written, variants):
    _warn_if_slow(artefact, len(images), out)
    inputs = np.array(encoded, dtype=object) if artefact.kind == 'saved_model' else images
    probabilities = _run(_load(artefact), inputs)
    rows.append(_row(artefact.name, export_runners.size_on_disk(artefact.path),
                     probabilities, labels, reference))
    problems.append(_problem(rows[-1], artefact, rows[0]['accuracy'], max_drop))
  problems = [p for p in problems if p]
  if problems:
    raise VerificationFailed('--verify: %s; the export is kept for inspection'
                             % '; '.join(problems), rows, len(images))
  return rows


def table(rows, count):
  """The table's lines: artefact, size, accuracy, agreement, largest difference."""
  lines = ['Verified on %d validation images:' % count,
           '%-22s %10s %9s %10s %9s' % ('artefact', 'size MB', 'top-1', 'agreement',
                                        'max diff')]
  for row in rows:
    lines.append('%-22s %10.1f %9.4f %10.4f %9.2g' % (
        row['artefact'], row['bytes'] / 1e6, row['accuracy'], row['agreement'],
        row['max_difference']))
  return lines
