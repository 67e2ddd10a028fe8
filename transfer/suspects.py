# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""--report_suspects N: the photos whose given label the out-of-fold heads doubt most.

Each photo is ranked by the probability a head that never trained on it gives
its label (its evaluation view's, from --head_folds): the lowest first. The N
first go to LOG_DIR/suspects.tsv and, as thumbnails, LOG_DIR/suspects.png, both
written atomically. Photos are named by the records themselves, read here in
the cache pass's order (each split's shards as get_split sorts them, records in
file order): the converter's `image/filename`, else `SHARD_BASENAME:INDEX`.
"""
from __future__ import absolute_import, division, print_function

import io
import os

import numpy as np
from PIL import Image

from tf_compat import tf
from transfer import files, pictures
from transfer.datasets import records

TSV_FILENAME = 'suspects.tsv'
PNG_FILENAME = 'suspects.png'
HEADER = ('photo', 'given_label', 'predicted_label', 'given_probability',
          'predicted_probability')
THUMBNAIL_SIZE = 160  # pixels, the longer side


def rank(probabilities, labels, count):
  """The `count` images whose given label has the lowest probability, lowest first
  (ties: the earlier image)."""
  given = probabilities[np.arange(len(labels)), labels]
  return [int(i) for i in np.argsort(given, kind='stable')[:count]]


def read_photos(sources, wanted):
  """{image index: (name, encoded image)} of the `wanted` records, counted over `sources`.

  Args:
    sources: TFRecord paths, in the order the cache pass read them.
    wanted: record indices over all the sources together.
  """
  wanted, found = set(wanted), {}
  # Only the wanted records are parsed: each holds its whole photo.
  for index, (path, position, record) in enumerate(records.serialized_records(sources)):
    if len(found) == len(wanted):
      break
    if index in wanted:
      feature = records.features_of(record)
      filename = feature['image/filename'].bytes_list.value if 'image/filename' in feature \
          else None
      name = (filename[0].decode('utf-8', 'replace') if filename
              else '%s:%d' % (os.path.basename(path), position))
      found[index] = (name, feature['image/encoded'].bytes_list.value[0])
  return found


def _thumbnail(encoded):
  image = Image.open(io.BytesIO(encoded)).convert('RGB')
  image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
  return np.asarray(image)


def report(log_dir, probabilities, labels, sources, labels_to_name, count):
  """Writes the `count` suspects to LOG_DIR/suspects.tsv and .png; logs where.

  Args:
    log_dir: where the report goes.
    probabilities: [images, classes] out-of-fold probabilities, in cache order.
    labels: [images] the given labels.
    sources: the TFRecord paths of those images, in the same order.
    labels_to_name: {label: class name}.
    count: how many photos to report.
  """
  chosen = rank(probabilities, labels, count)
  photos = read_photos(sources, chosen)
  rows, thumbnails, titles = ['\t'.join(HEADER)], [], []
  for i in chosen:
    name, encoded = photos[i]
    given, predicted = labels[i], int(np.argmax(probabilities[i]))
    rows.append('%s\t%s\t%s\t%.4f\t%.4f' % (
        name, labels_to_name[given], labels_to_name[predicted], probabilities[i, given],
        probabilities[i, predicted]))
    thumbnails.append(_thumbnail(encoded))
    titles.append('%s\ngiven %s (%.2f)\npredicted %s (%.2f)' % (
        os.path.basename(name), labels_to_name[given], probabilities[i, given],
        labels_to_name[predicted], probabilities[i, predicted]))
  if not os.path.isdir(log_dir):
    os.makedirs(log_dir)
  tsv = os.path.join(log_dir, TSV_FILENAME)
  files.write_atomically(tsv, ('\n'.join(rows) + '\n').encode('utf-8'))
  png = pictures.save_grid(os.path.join(log_dir, PNG_FILENAME), thumbnails, titles,
                           ['red'] * len(titles))
  tf.logging.info('Suspect labels: the %d photos whose given label the folds doubt most, '
                  'in %s and %s.', len(chosen), tsv, png)
