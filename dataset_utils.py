# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""TF-slim dataset helpers: TFExample features, label files, shard names, photo reading.

What the converter (create_tfrecord.py) and train_flowers.py share. Running
`python dataset_utils.py ...` is an alias of `python create_tfrecord.py ...`.
"""
from __future__ import absolute_import, division, print_function

import io
import os
import struct
import sys
import zlib

import cli  # before TensorFlow: it quiets TensorFlow's start-up logs
import numpy as np
from PIL import Image
import tf_compat  # noqa: F401  (before TensorFlow: runs the code on TF 2.x too)
import tensorflow.compat.v1 as tf
import tf_slim as slim

import atomic_files

LABELS_FILENAME = 'labels.txt'
FLOWERS_CLASSES = ('daisy', 'dandelion', 'roses', 'sunflowers', 'tulips')
# Train and validation, as in TF-slim's flowers set.
SPLITS = ('train', 'validation')
# Quality of the JPEGs made from photos that are not RGB JPEGs already.
JPEG_QUALITY = 95
# Lower-case extensions of the files treated as photos; Pillow decides the rest.
IMAGE_EXTENSIONS = ('.bmp', '.gif', '.jpe', '.jpeg', '.jpg', '.png', '.ppm', '.tif', '.tiff',
                    '.webp')
# Present in a dataset folder while (or when a crash interrupted) publishing a
# converted set; readers refuse the folder meanwhile (see create_tfrecord.publish).
PUBLISH_JOURNAL = '.publishing.json'
# Marks the message of the in-graph label check, so commands can recognise it.
BAD_LABEL_TAG = cli.BAD_LABEL_TAG


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


def image_to_tfexample(image_data, image_format, height, width, class_id):
  """Builds the tf.train.Example of one image, with the keys TF-slim decoders read.

  Args:
    image_data: the encoded image (bytes).
    image_format: its format, e.g. b'jpg' (what slim's flowers converter writes).
    height: image height in pixels.
    width: image width in pixels.
    class_id: the integer label.

  Returns:
    A tf.train.Example.
  """
  return tf.train.Example(features=tf.train.Features(feature={
      'image/encoded': bytes_feature(image_data),
      'image/format': bytes_feature(image_format),
      'image/class/label': int64_feature(class_id),
      'image/height': int64_feature(height),
      'image/width': int64_feature(width),
  }))


# ================ READING TFRECORDS ================
def count_records(path):
  """Counts the records of a TFRecord file, checking each one's CRCs on the way.

  The whole file is read (about half a second for the 230 MB of flowers), so
  that a truncated or damaged shard is reported here, in one line, instead of
  by an input thread in the middle of training. Local or tf.gfile paths.
  """
  count = 0
  try:
    for _ in tf.io.tf_record_iterator(path):
      count += 1
  except tf.errors.DataLossError as e:
    raise DatasetError('%s is damaged (%s, after %d good records): convert the photos again'
                       % (path, e.message, count))
  return count


def tfexample_decoder():
  """Decodes TF-slim's image TFExamples into 'image' (uint8 RGB) and 'label'."""
  keys_to_features = {
      'image/encoded': tf.FixedLenFeature((), tf.string, default_value=''),
      'image/format': tf.FixedLenFeature((), tf.string, default_value='jpg'),
      'image/class/label': tf.FixedLenFeature(
          [], tf.int64, default_value=tf.zeros([], dtype=tf.int64)),
  }
  items_to_handlers = {
      'image': slim.tfexample_decoder.Image(),
      'label': slim.tfexample_decoder.Tensor('image/class/label'),
  }
  return slim.tfexample_decoder.TFExampleDecoder(keys_to_features, items_to_handlers)


# ================ LABEL FILE ================
def label_file_bytes(labels_to_class_names):
  return ''.join('%d:%s\n' % (label, labels_to_class_names[label])
                 for label in sorted(labels_to_class_names)).encode('utf-8')


def write_label_file(labels_to_class_names, dataset_dir, filename=LABELS_FILENAME):
  """Writes `id:name` lines, sorted by id, atomically.

  Args:
    labels_to_class_names: {int: class name}.
    dataset_dir: the folder to write into (created when missing).
    filename: the label file's name.

  Returns:
    The path written.
  """
  os.makedirs(dataset_dir, exist_ok=True)
  path = os.path.join(dataset_dir, filename)
  atomic_files.write_atomically(path, label_file_bytes(labels_to_class_names))
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


def check_published(dataset_dir):
  """Raises DatasetError while dataset_dir holds a half-published set."""
  if tf.io.gfile.exists(os.path.join(dataset_dir, PUBLISH_JOURNAL)):
    raise DatasetError('%s holds a converted set whose publishing was interrupted: run '
                       '`python create_tfrecord.py --finish_publish --output_dir %s` to '
                       'complete it' % (dataset_dir, dataset_dir))


# ================ READING PHOTOS ================
def _to_rgb(image):
  """Converts any Pillow mode to RGB; transparent parts become white."""
  if image.mode in ('I', 'I;16', 'I;16B', 'I;16L', 'F'):
    # Pillow clips wide grey values to 8 bits; scale 16-bit ones down instead.
    pixels = np.asarray(image, dtype=np.float64)
    if pixels.max() > 255:
      pixels = pixels / 257.0
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), 'L')
  if image.mode in ('RGBA', 'LA', 'PA', 'RGBa', 'La') or 'transparency' in image.info:
    rgba = image.convert('RGBA')
    background = Image.new('RGB', rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel('A'))
    return background
  return image.convert('RGB')


def encode_jpeg(image, quality=JPEG_QUALITY):
  """JPEG bytes of a Pillow image (converted to RGB first)."""
  buffer = io.BytesIO()
  _to_rgb(image).save(buffer, 'JPEG', quality=quality)
  return buffer.getvalue()


# What Pillow raises for a file it cannot decode (UnidentifiedImageError and
# DecompressionBombError included). Programming errors (TypeError,
# AttributeError, ...) and MemoryError are not among them: they are no bad photo.
BAD_PHOTO_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError,
                    struct.error, zlib.error, Image.DecompressionBombError)


def load_photo(path, jpeg_quality=JPEG_QUALITY):
  """Reads one photo, decodes it fully, and returns what its record stores.

  RGB JPEGs keep their original bytes; anything else (PNG, GIF, BMP, grey,
  palette, RGBA, CMYK, ...) is re-encoded as an RGB JPEG, which is what the
  training input pipeline decodes.

  Args:
    path: the image file.
    jpeg_quality: quality of re-encoded JPEGs.

  Returns:
    (jpeg_bytes, height, width, reencoded).

  Raises:
    One of BAD_PHOTO_ERRORS for a file that cannot be read or decoded
    (ValueError for an empty file).
  """
  with open(path, 'rb') as f:
    data = f.read()
  if not data:
    raise ValueError('empty file')
  image = Image.open(io.BytesIO(data))
  image.load()  # decodes every pixel: a truncated file fails here, not in training
  width, height = image.size
  # MPO is a camera JPEG with extra previews appended; decoders read the first.
  if image.format in ('JPEG', 'MPO') and image.mode == 'RGB':
    return data, height, width, False
  return encode_jpeg(image, jpeg_quality), height, width, True


# ================ SHARD NAMES ================
def shard_path(output_dir, file_prefix, split_name, shard_id, num_shards):
  """The slim-style shard name, e.g. flowers_train_00000-of-00005.tfrecord."""
  return os.path.join(output_dir, '%s_%s_%05d-of-%05d.tfrecord'
                      % (file_prefix, split_name, shard_id, num_shards))


if __name__ == '__main__':
  import create_tfrecord
  sys.exit(create_tfrecord.main())
