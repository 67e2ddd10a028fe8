# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Reading TF-slim's TFRecords: the shards of a split, their decoder, their labels.

`find_shards` reads every record of a split once, checking its CRCs, so that a
damaged shard is reported in one line before training starts, not by an input
thread hours into it.
"""
from __future__ import absolute_import, division, print_function

import os

import dataset_utils
from tf_compat import slim, tf
from transfer.datasets import publish
from transfer.errors import BAD_LABEL_TAG, UsageError

# Train and validation, as in TF-slim's flowers set.
SPLITS = ('train', 'validation')
# The command that makes a dataset folder; %s is the folder.
CONVERT_COMMAND = '`python create_tfrecord.py --photo_dir PHOTOS --output_dir %s`'
CONVERT_HINT = CONVERT_COMMAND + ' (or --download_flowers)'


def count_records(path):
  """Counts the records of a TFRecord file, checking each one's CRCs on the way.

  The whole file is read (about half a second for the 230 MB of flowers).
  Local or tf.gfile paths.

  Raises:
    DatasetError: naming the file, for a truncated or corrupted record.
  """
  count = 0
  try:
    for _ in tf.io.tf_record_iterator(path):
      count += 1
  except tf.errors.DataLossError as e:
    raise dataset_utils.DatasetError('%s is damaged (%s, after %d good records): convert '
                                     'the photos again' % (path, e.message, count))
  return count


def serialized_records(paths):
  """(path, position in it, the serialized Example) of each record of the files, in order."""
  for path in paths:
    for position, record in enumerate(tf.io.tf_record_iterator(path)):
      yield path, position, record


def features_of(record):
  """The feature map of a serialized Example."""
  return tf.train.Example.FromString(record).features.feature


def parsed_records(paths):
  """(path, position in it, the Example's feature map) of each record of the files, in order."""
  for path, position, record in serialized_records(paths):
    yield path, position, features_of(record)


# {(path, length, mtime) of each shard: {label: count}}: several parts of a run ask.
_label_counts = {}


def count_labels(paths):
  """{label: number of records} over the TFRecord files, from their image/class/label."""
  stats = [tf.io.gfile.stat(path) for path in paths]
  key = tuple((path, stat.length, stat.mtime_nsec) for path, stat in zip(paths, stats))
  if key not in _label_counts:
    counts = {}
    for _, _, feature in parsed_records(paths):
      label = feature['image/class/label'].int64_list.value[0]
      counts[label] = counts.get(label, 0) + 1
    _label_counts[key] = counts
  return dict(_label_counts[key])


def find_shards(split_name, dataset_dir, file_pattern):
  """The shards of one split and their record count, every record checked.

  Args:
    split_name: 'train' or 'validation'.
    dataset_dir: the folder of the shards (local or a tf.gfile URL like gs://).
    file_pattern: shard names, with %s standing for the split name.

  Returns:
    (sorted shard paths, number of records).

  Raises:
    ValueError: for an unknown split name; UsageError (a ValueError) when no
      shard matches or the split is empty; DatasetError for a damaged shard or
      a folder whose publishing a crash interrupted.
  """
  if split_name not in SPLITS:
    raise ValueError('split_name %r is not recognised: use train or validation'
                     % (split_name,))
  if '%s' not in file_pattern:
    raise UsageError('--file_pattern %s has no %%s for the split name: e.g. flowers_%%s_*.tfrecord'
                     % file_pattern)
  if not tf.io.gfile.isdir(dataset_dir):
    raise UsageError(('--dataset_dir %s does not exist: create the TFRecords with '
                      + CONVERT_HINT) % (dataset_dir, dataset_dir))
  publish.check_published(dataset_dir)
  files = sorted(tf.io.gfile.glob(os.path.join(dataset_dir, file_pattern % split_name)))
  if not files:
    raise UsageError(('no TFRecord file matches %s in %s: create them with ' + CONVERT_HINT)
                     % (file_pattern % split_name, os.path.abspath(dataset_dir), dataset_dir))
  num_samples = sum(count_records(f) for f in files)
  if not num_samples:
    raise UsageError('the %s shards in %s hold no records: convert the photos again%s'
                     % (split_name, dataset_dir, ' with --validation_size 1 or more'
                        if split_name == 'validation' else ''))
  return files, num_samples


def read_labels(dataset_dir, labels_file=None):
  """Reads the `index:name` label file: `labels_file`, else DATASET_DIR/labels.txt.

  There is no fallback to ./labels.txt (the flowers list): another dataset
  would silently get a 5-class head.

  Returns:
    (path, {int: name}) of the label file used.
  """
  path = labels_file or os.path.join(dataset_dir, dataset_utils.LABELS_FILENAME)
  if not tf.io.gfile.exists(path):
    if labels_file:
      raise UsageError('--labels_file %s not found: check the path' % labels_file)
    raise UsageError(('no label file %s: convert the photos with ' + CONVERT_COMMAND
                      + ', which writes it, or pass --labels_file (for TF-slim\'s flowers '
                      'shards: --labels_file labels.txt)') % (path, dataset_dir))
  folder, name = os.path.split(path)
  return path, dataset_utils.read_label_file(folder or '.', name)


def tfexample_decoder():
  """Decodes TF-slim's image TFExamples into 'image' (uint8 RGB) and 'label'."""
  keys_to_features = {
      'image/encoded': tf.FixedLenFeature((), tf.string, default_value=''),
      'image/format': tf.FixedLenFeature((), tf.string, default_value='jpg'),
      # A plain default (TF-slim's flowers.py uses tf.zeros): no op is made here,
      # so a Dataset can be described before its graph exists.
      'image/class/label': tf.FixedLenFeature([], tf.int64, default_value=0),
  }
  items_to_handlers = {
      'image': slim.tfexample_decoder.Image(),
      'label': slim.tfexample_decoder.Tensor('image/class/label'),
  }
  return slim.tfexample_decoder.TFExampleDecoder(keys_to_features, items_to_handlers)


def checked_label(label, num_classes):
  """`label`, failing with BAD_LABEL_TAG when outside [0, num_classes): a wrong head else."""
  with tf.control_dependencies([
      tf.debugging.assert_less(label, tf.constant(num_classes, tf.int64),
                               message='%s (%d classes)' % (BAD_LABEL_TAG, num_classes)),
      tf.debugging.assert_non_negative(label, message=BAD_LABEL_TAG)]):
    return tf.identity(label)
