# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""--class_weights: how much each class's examples count in the loss.

`none` is the tutorial's loss. `balanced` gives class c the weight
N / (K * n_c), from the training split's own counts of its K classes, so that
every class adds the same total to an epoch's loss (Keras's and scikit-learn's
"balanced"). A FILE gives `name:weight` lines, one for every class.
"""
from __future__ import absolute_import, division, print_function

import argparse
import os

from tf_compat import tf
from transfer.datasets import records
from transfer.errors import UsageError

NONE, BALANCED = 'none', 'balanced'


def flag(text):
  """An argparse type: none, balanced or an existing file."""
  if text in (NONE, BALANCED) or os.path.isfile(text):
    return text
  raise argparse.ArgumentTypeError(
      '%r is neither none, balanced nor a file of name:weight lines' % text)


def add_flags(p):
  p.add_argument('--class_weights', type=flag, default=NONE,
                 help='weigh each example\'s loss by its class: none (default, the tutorial\'s '
                 'loss), balanced (N / (classes x images of the class), from the training '
                 'split) or FILE with a name:weight line for every class')


def resolve(spec, dataset):
  """The weight of each class, in label order, or None for `none`.

  Args:
    spec: the --class_weights value.
    dataset: the training split (get_split): its labels_to_name and shards.

  Raises:
    UsageError: for a file missing a class, naming an unknown one or with a
      weight that is not above 0; for `balanced` when a class has no image.
  """
  names = [dataset.labels_to_name[i] for i in range(dataset.num_classes)]
  if spec == NONE:
    return None
  if spec == BALANCED:
    return _balanced(names, records.count_labels(dataset.data_sources))
  return _read(spec, names)


def _balanced(names, counts):
  empty = [name for i, name in enumerate(names) if not counts.get(i)]
  if empty:
    raise UsageError('--class_weights balanced: the training split has no image of %s: add '
                     'photos of it, or pass a FILE of weights' % ', '.join(empty))
  total = sum(counts[i] for i in range(len(names)))
  return tuple(total / float(len(names) * counts[i]) for i in range(len(names)))


def _read(path, names):
  weights = {}
  with open(path) as f:
    for number, line in enumerate(f, 1):
      if not line.strip() or line.lstrip().startswith('#'):
        continue
      name, _, value = line.strip().rpartition(':')
      try:
        weight = float(value)
      except ValueError:
        weight = None
      where = '--class_weights %s line %d' % (path, number)
      if not name or weight is None:
        raise UsageError('%s: %r is not name:weight' % (where, line.strip()))
      if name not in names:
        raise UsageError('%s: no class %s in the labels (%s)' % (where, name, ', '.join(names)))
      if not weight > 0:
        raise UsageError('%s: the weight of %s must be above 0, got %s' % (where, name, value))
      weights[name] = weight
  missing = [name for name in names if name not in weights]
  if missing:
    raise UsageError('--class_weights %s has no weight for %s: add a name:weight line for '
                     'every class' % (path, ', '.join(missing)))
  return tuple(weights[name] for name in names)


def as_map(weights, dataset):
  """{class name: weight} as the run record keeps it; None for `none`."""
  if weights is None:
    return None
  return {dataset.labels_to_name[i]: w for i, w in enumerate(weights)}


def log(spec, weights, dataset):
  """One line naming every class's weight."""
  if weights is not None:
    tf.logging.info('Class weights (%s): %s.', spec, ', '.join(
        '%s %.4g' % (dataset.labels_to_name[i], w) for i, w in enumerate(weights)))
