# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The images an export is checked and calibrated on: records of a split, preprocessed.

--verify reads the validation split, int8 calibration the training split, of
the model's dataset; both are found before anything is written, so that a
missing split costs no export.
"""
from __future__ import absolute_import, division, print_function

import itertools

import numpy as np

from tf_compat import tf
from transfer import images, runtime
from transfer.datasets import records
from transfer.errors import UsageError


def find_split(split, dataset_dir, file_pattern, flag):
  """The shards of `split` in dataset_dir, for `flag`'s sake.

  Raises:
    UsageError: naming `flag` and the folder, when the split is missing or empty.
  """
  try:
    return records.find_shards(split, dataset_dir, file_pattern)[0]
  except UsageError as e:
    raise UsageError('%s needs the %s split of the model\'s dataset, and there is none '
                     '(%s): pass the --dataset_dir that holds it, or drop %s'
                     % (flag, split, e, flag))


def read_examples(shards, limit):
  """The first `limit` records of the shards: ([encoded image bytes], [labels])."""
  encoded, labels = [], []
  for _, _, feature in itertools.islice(records.parsed_records(shards), limit):
    encoded.append(feature['image/encoded'].bytes_list.value[0])
    labels.append(feature['image/class/label'].int64_list.value[0])
  return encoded, labels


def preprocess_all(encoded, size):
  """Encoded images -> float32 [N, size, size, 3], as predict_flowers.py prepares them."""
  with tf.Graph().as_default():
    data = tf.placeholder(tf.string, [])
    image = images.preprocess(data, size)
    with tf.Session(config=runtime.session_config()) as sess:
      return np.stack([sess.run(image, {data: e}) for e in encoded])
