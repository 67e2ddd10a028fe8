# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""What a trained log dir records about its model, so later commands need only the log dir.

Training writes LOG_DIR/model_settings.json (image size, class count, where the
labels and the TFRecords came from, the moving-average decay) and
LOG_DIR/labels.txt, a copy of its label file. eval_flowers.py,
predict_flowers.py and export_flowers.py take their defaults from there; a
flag given on the command line still wins, and an image size the checkpoint
cannot have been trained at is refused, naming the trained one.
"""
from __future__ import absolute_import, division, print_function

import json
import os
import sys

import dataset_utils
from inception_resnet_v2 import AUX_KERNEL, aux_logits_kernel_size, smallest_input_size
from tf_compat import tf
from transfer import averages, checkpoints, files
from transfer.errors import UsageError

SETTINGS_FILENAME = 'model_settings.json'
LABELS_COPY = 'labels.txt'
KEYS = ('image_size', 'num_classes', 'labels_file', 'labels_source', 'dataset_dir')


def save(log_dir, image_size, labels_path, labels, dataset_dir, moving_average_decay=None):
  """Writes the record and the label copy into log_dir, each all or nothing.

  Args:
    log_dir: the training log folder.
    image_size: the size training reads images at.
    labels_path: the label file training used.
    labels: {id: name} read from it.
    dataset_dir: the folder of the TFRecords.
    moving_average_decay: the run's --moving_average_decay, None when off.
  """
  tf.gfile.MakeDirs(log_dir)
  files.write_atomically(os.path.join(log_dir, LABELS_COPY),
                         dataset_utils.label_file_bytes(labels))
  record = dict(image_size=image_size, num_classes=len(labels), labels_file=LABELS_COPY,
                labels_source=os.path.abspath(labels_path),
                dataset_dir=os.path.abspath(dataset_dir),
                moving_average_decay=moving_average_decay)
  files.write_atomically(os.path.join(log_dir, SETTINGS_FILENAME),
                         (json.dumps(record, indent=2, sort_keys=True) + '\n').encode('utf-8'))


def load(log_dir):
  """The record in log_dir, or None when there is none (older log dirs, ImageNet).

  Raises:
    UsageError: when the file is damaged or edited into something unusable.
  """
  path = os.path.join(log_dir, SETTINGS_FILENAME)
  if not os.path.isfile(path):
    return None
  try:
    with open(path) as f:
      record = json.load(f)
    size, classes = record['image_size'], record['num_classes']
    decay = record.setdefault('moving_average_decay', None)  # absent in older records
    if not all(isinstance(v, int) and v > 0 for v in (size, classes)) or not all(
        isinstance(record[k], str) for k in KEYS[2:]) or not (
            decay is None or isinstance(decay, float) and 0 < decay < 1):
      raise ValueError('a value of the wrong type')
  except (ValueError, KeyError, TypeError) as e:
    raise UsageError('%s is damaged (%s): delete it and pass --image_size, --labels_file '
                     'and --dataset_dir yourself, or train again' % (path, e))
  return record


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


def apply(args, checkpoint, image_size, dataset_dir, use_dataset=False):
  """Fills the flags left unset (None) from the checkpoint's log dir, then checks them.

  Args:
    args: the command's flags; image_size and dataset_dir are None when not given.
    checkpoint: the fine-tuned checkpoint; its folder holds the record.
    image_size, dataset_dir: the command's defaults, for a log dir with no record.
    use_dataset: the command reads the TFRecords (eval), so DATASET_DIR is taken too.

  Returns:
    The lines to tell the user (see `take`) once the command's own checks pass:
    which values were taken, a size other than the trained one, and whether
    the weights' moving averages are used (args.moving_averages is set).
  """
  folder = os.path.dirname(checkpoint) or '.'
  record = load(folder)
  taken = []
  if args.image_size is None:
    args.image_size = record['image_size'] if record else image_size
    if record:
      taken.append('--image_size %d' % args.image_size)
  check_image_size(checkpoint, args.image_size, record)
  if record and args.dataset_dir is None and not args.labels_file:
    args.labels_file = os.path.join(folder, record['labels_file'])
    taken.append('--labels_file %s' % args.labels_file)
  if args.dataset_dir is None:
    args.dataset_dir = record['dataset_dir'] if record and use_dataset else dataset_dir
    if record and use_dataset:
      taken.append('--dataset_dir %s' % args.dataset_dir)
  notes = []
  if taken:
    notes.append('Settings from %s: %s' % (os.path.join(folder, SETTINGS_FILENAME),
                                           ', '.join(taken)))
  if record and args.image_size != record['image_size']:
    notes.append('Using --image_size %d; the model was trained at %d.'
                 % (args.image_size, record['image_size']))
  args.moving_averages, note = averages.choose(
      checkpoint, args.no_moving_average, record and record['moving_average_decay'])
  return notes + ([note] if note else [])


def take(args, checkpoint, image_size, dataset_dir, use_dataset=False, out=None):
  """`apply`, then the class names the checkpoint fits; then tells what was taken.

  Returns:
    checkpoints.class_names's (label file path, [class names]).

  Raises:
    UsageError: before anything is told, for a bad record, size or label file.
  """
  notes = apply(args, checkpoint, image_size, dataset_dir, use_dataset)
  labels = checkpoints.class_names(checkpoint, args.dataset_dir, args.labels_file)
  out = out or sys.stderr  # stdout may be a command's data
  for line in notes:
    out.write(line + '\n')
  out.flush()
  return labels
