# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""What a trained log dir records about its model, so later commands need only the log dir.

Training writes the 'model' section of LOG_DIR/run.json (image size, class
count, where the labels and the TFRecords came from, the moving-average decay;
model_settings.json in earlier log dirs) and LOG_DIR/labels.txt, a copy of its
label file. eval_flowers.py,
predict_flowers.py and export_flowers.py take their defaults from there; a
flag given on the command line still wins, and an image size the checkpoint
cannot have been trained at is refused, naming the trained one.
"""
from __future__ import absolute_import, division, print_function

import collections
import os
import sys

import dataset_utils
from inception_resnet_v2 import AUX_KERNEL, aux_logits_kernel_size, smallest_input_size
from tf_compat import tf
from transfer import averages, best_checkpoint, checkpoints, files, run_record
from transfer.datasets import records
from transfer.errors import UsageError

# Its section of the log dir's run.json (transfer/run_record.py).
SECTION = 'model'
LABELS_COPY = 'labels.txt'
KEYS = ('image_size', 'num_classes', 'labels_file', 'labels_source', 'dataset_dir')


def save(log_dir, image_size, dataset_dir, labels_file, moving_average_decay=None):
  """Writes the record and the label copy into log_dir, each all or nothing.

  Args:
    log_dir: the training log folder.
    image_size: the size training reads images at.
    dataset_dir: the folder of the TFRecords.
    labels_file: the label file training used ('': DATASET_DIR/labels.txt).
    moving_average_decay: the run's --moving_average_decay, None when off.
  """
  labels_path, labels = records.read_labels(dataset_dir, labels_file)
  tf.gfile.MakeDirs(log_dir)
  files.write_atomically(os.path.join(log_dir, LABELS_COPY),
                         dataset_utils.label_file_bytes(labels))
  record = dict(image_size=image_size, num_classes=len(labels), labels_file=LABELS_COPY,
                labels_source=os.path.abspath(labels_path),
                dataset_dir=os.path.abspath(dataset_dir),
                moving_average_decay=moving_average_decay)
  run_record.write_section(log_dir, SECTION, record)


def load(log_dir):
  """The record in log_dir, or None when there is none (ImageNet, log dirs before it)."""
  return load_with_path(log_dir)[0]


def load_with_path(log_dir):
  """(the record in log_dir, the file holding it), or (None, None) when there is none.

  Raises:
    UsageError: when the file is damaged or edited into something unusable.
  """
  try:
    record, path = run_record.read_section(log_dir, SECTION)
  except ValueError as e:
    raise UsageError('%s: delete it and pass --image_size, --labels_file and --dataset_dir '
                     'yourself, or train again' % e)
  if record is None:
    return None, None
  try:
    size, classes = record['image_size'], record['num_classes']
    decay = record.setdefault('moving_average_decay', None)  # absent in older records
    if not all(isinstance(v, int) and v > 0 for v in (size, classes)) or not all(
        isinstance(record[k], str) for k in KEYS[2:]) or not (
            decay is None or isinstance(decay, float) and 0 < decay < 1):
      raise ValueError('a value of the wrong type')
  except (ValueError, KeyError, TypeError) as e:
    raise UsageError('%s is damaged (%s): delete it and pass --image_size, --labels_file '
                     'and --dataset_dir yourself, or train again' % (path, e))
  return record, path


def trained_size_range(kernel):
  """(smallest, largest) image size whose auxiliary head has this kernel side."""
  sizes = [s for s in range(smallest_input_size(create_aux_logits=True), 2048)
           if aux_logits_kernel_size(s) == kernel]
  return (sizes[0], sizes[-1]) if sizes else (None, None)


def check_image_size(checkpoint, image_size, record):
  """Refuses an image size the checkpoint's auxiliary head proves wrong.

  Reads only the checkpoint's index: the auxiliary head's last kernel covers
  the map left at the size trained at. A size other than the recorded one
  that fits is allowed: the caller says so.
  """
  shapes = dict(tf.train.list_variables(checkpoint))
  if AUX_KERNEL not in shapes or aux_logits_kernel_size(image_size) == shapes[AUX_KERNEL][0]:
    return
  if record:
    raise UsageError('%s was trained at --image_size %d and does not fit --image_size %d: '
                     'drop --image_size or pass %d' % (checkpoint, record['image_size'],
                                                       image_size, record['image_size']))
  low, high = trained_size_range(shapes[AUX_KERNEL][0])
  raise UsageError('%s was trained at another image size than %d (its auxiliary head fits '
                   '%s to %s): pass the --image_size it was trained at'
                   % (checkpoint, image_size, low, high))


class ModelChoice(collections.namedtuple('ModelChoice', (
    'image_size', 'dataset_dir', 'labels_file', 'moving_averages'))):
  """How a command uses a trained model: the settings `resolve` took or checked.

  image_size, dataset_dir, labels_file: the flags of the same names, filled;
  moving_averages: whether the weights' moving averages are restored.
  """
  __slots__ = ()


def resolve(checkpoint, image_size, dataset_dir, labels_file, no_moving_average, defaults,
            use_dataset=False):
  """Fills the flags left unset (None) from the checkpoint's log dir, then checks them.

  Args:
    checkpoint: the fine-tuned checkpoint; its folder holds the record (for
      LOG_DIR/best/, the log dir above it).
    image_size, dataset_dir: the command's flags, None when not given.
    labels_file: the command's --labels_file ('' when not given).
    no_moving_average: the command's --no_moving_average.
    defaults: (image size, dataset dir) of the command, for a log dir with no record.
    use_dataset: the command reads the TFRecords (eval), so DATASET_DIR is taken too.

  Returns:
    (ModelChoice, the lines to tell the user once the command's own checks
    pass: which values were taken, a size other than the trained one, and
    whether the weights' moving averages are used).
  """
  folder = best_checkpoint.record_dir(checkpoint)
  record, record_file = load_with_path(folder)
  taken = []
  if image_size is None:
    image_size = record['image_size'] if record else defaults[0]
    if record:
      taken.append('--image_size %d' % image_size)
  check_image_size(checkpoint, image_size, record)
  if record and dataset_dir is None and not labels_file:
    labels_file = os.path.join(folder, record['labels_file'])
    taken.append('--labels_file %s' % labels_file)
  if dataset_dir is None:
    dataset_dir = record['dataset_dir'] if record and use_dataset else defaults[1]
    if record and use_dataset:
      taken.append('--dataset_dir %s' % dataset_dir)
  notes = []
  if taken:
    notes.append('Settings from %s: %s' % (record_file, ', '.join(taken)))
  if record and image_size != record['image_size']:
    notes.append('Using --image_size %d; the model was trained at %d.'
                 % (image_size, record['image_size']))
  use_averages, note = averages.choose(
      checkpoint, no_moving_average, record and record['moving_average_decay'])
  choice = ModelChoice(image_size, dataset_dir, labels_file, use_averages)
  return choice, notes + ([note] if note else [])


def take(checkpoint, image_size, dataset_dir, labels_file, no_moving_average, defaults,
         use_dataset=False, out=None, told=()):
  """`resolve`, then the class names the checkpoint fits; then tells what was taken.

  told: lines to tell first, once the checks pass (which checkpoint was chosen).

  Returns:
    (ModelChoice, checkpoints.class_names's (label file path, [class names])).

  Raises:
    UsageError: before anything is told, for a bad record, size or label file.
  """
  choice, notes = resolve(checkpoint, image_size, dataset_dir, labels_file, no_moving_average,
                          defaults, use_dataset)
  labels = checkpoints.class_names(checkpoint, choice.dataset_dir, choice.labels_file)
  out = out or sys.stderr  # stdout may be a command's data
  for line in [line for line in told if line] + notes:
    out.write(line + '\n')
  out.flush()
  return choice, labels
