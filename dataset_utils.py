# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""TF-slim's dataset helpers: TFExample features and the `labels.txt` file.

A leaf, as TF-slim's dataset_utils.py is: the converter writes with these and
every command reads labels with them; nothing of the project is imported here.
"""
from __future__ import absolute_import, division, print_function

import os

import tf_compat  # noqa: F401  (before TensorFlow: runs the code on TF 2.x too)
import tensorflow.compat.v1 as tf

LABELS_FILENAME = 'labels.txt'


class DatasetError(ValueError):
  """A problem with the photos, the label file or the output folder."""


# ================ TFRECORD EXAMPLES ================
def int64_feature(values):
  """A tf.train.Feature holding one int or a list of ints."""
  if not isinstance(values, (tuple, list)):
    values = [values]
  return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))


def bytes_feature(values):
  """A tf.train.Feature holding one bytes string (str is UTF-8 encoded) or a list of them."""
  if not isinstance(values, (tuple, list)):
    values = [values]
  values = [v.encode('utf-8') if isinstance(v, str) else v for v in values]
  return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))


def image_to_tfexample(image_data, image_format, height, width, class_id, filename=None):
  """Builds the tf.train.Example of one image, with the keys TF-slim decoders read.

  Args:
    image_data: the encoded image (bytes).
    image_format: its format, e.g. b'jpg' (what slim's flowers converter writes).
    height: image height in pixels.
    width: image width in pixels.
    class_id: the integer label.
    filename: the photo's path, stored as `image/filename` (bytes) so that a
      report can name the photo; None (the tutorial's example) leaves it out.

  Returns:
    A tf.train.Example.
  """
  feature = {
      'image/encoded': bytes_feature(image_data),
      'image/format': bytes_feature(image_format),
      'image/class/label': int64_feature(class_id),
      'image/height': int64_feature(height),
      'image/width': int64_feature(width),
  }
  if filename is not None:
    feature['image/filename'] = bytes_feature(filename)
  return tf.train.Example(features=tf.train.Features(feature=feature))


# ================ LABEL FILE ================
def label_file_bytes(labels_to_class_names):
  """The label file's contents: `id:name` lines sorted by id, UTF-8."""
  return ''.join('%d:%s\n' % (label, labels_to_class_names[label])
                 for label in sorted(labels_to_class_names)).encode('utf-8')


def write_label_file(labels_to_class_names, dataset_dir, filename=LABELS_FILENAME):
  """Writes `id:name` lines, sorted by id.

  Callers write into a folder that is published as a whole (the converter's
  staging folder, the exporter's temporary one), so a plain write is enough.

  Args:
    labels_to_class_names: {int: class name}.
    dataset_dir: the folder to write into (created when missing).
    filename: the label file's name.

  Returns:
    The path written.
  """
  tf.io.gfile.makedirs(dataset_dir)
  path = os.path.join(dataset_dir, filename)
  with tf.io.gfile.GFile(path, 'wb') as f:
    f.write(label_file_bytes(labels_to_class_names))
  return path


def read_label_file(dataset_dir, filename=LABELS_FILENAME):
  """Reads a label file of `id:name` lines (blank lines are ignored).

  Args:
    dataset_dir: the folder holding the file (local, or a tf.gfile URL like gs://).
    filename: the label file's name.

  Returns:
    {int id: class name}, with ids 0 .. N-1.

  Raises:
    DatasetError (a ValueError): naming the file and line of a malformed line
      or a repeated id, or naming the file when it is missing, empty or its
      ids have gaps.
  """
  path = os.path.join(dataset_dir, filename)
  if not tf.io.gfile.exists(path):
    raise DatasetError('label file %s not found: create it with create_tfrecord.py or '
                       'pass --labels_file' % path)
  with tf.io.gfile.GFile(path, 'rb') as f:
    text = f.read().decode('utf-8-sig')  # -sig: a byte-order mark from Windows editors
  labels = {}
  for number, line in enumerate(text.splitlines(), 1):
    if not line.strip():
      continue
    label, colon, name = line.partition(':')
    try:
      label = int(label)
    except ValueError:
      label = None
    if not colon or label is None or not name.strip():
      raise DatasetError("%s line %d: expected 'id:name' (like 0:daisy), got %r"
                         % (path, number, line))
    if label in labels:
      raise DatasetError('%s line %d: id %d appears twice' % (path, number, label))
    labels[label] = name.strip()
  _check_label_ids(labels, path)
  return labels


def _check_label_ids(labels, path):
  """Ids must be 0 .. N-1: the model has N outputs and names output i by id i."""
  if not labels:
    raise DatasetError("%s holds no labels: expected one 'id:name' line a class" % path)
  missing = sorted(set(range(len(labels))) - set(labels))
  if missing:
    raise DatasetError('%s: ids must run from 0 to %d without gaps, but %d is missing '
                       '(and %d is there): number the classes 0, 1, 2, ...'
                       % (path, len(labels) - 1, missing[0], max(labels)))

