# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Classifying photos with a restored model: one session, images fed in batches.

A file that cannot be read or decoded is passed to `on_skip` with the reason,
so that one bad photo never stops the others.
"""
from __future__ import absolute_import, division, print_function

import os

import numpy as np

from tf_compat import tf
from transfer import files, images, model, runtime
from transfer.errors import UsageError

NOT_AN_IMAGE = 'not an image (neither TensorFlow nor Pillow can decode it)'


class Predictor(object):
  """A session holding the restored model, fed one image and one batch at a time.

  The graph is built and restored at the first image to decode, so that files
  skipped unread (empty, missing) cost no graph.
  """

  def __init__(self, checkpoint, num_classes, size, moving_averages=False):
    self.model = (checkpoint, num_classes, size, moving_averages)
    self.sess = None

  def start(self):
    """Builds the graph and restores the model, once; returns the session."""
    if self.sess is None:
      checkpoint, num_classes, size, moving_averages = self.model
      graph = tf.Graph()
      with graph.as_default():
        self.encoded = tf.placeholder(tf.string, [], name='image_bytes')
        self.preprocessed = images.preprocess(self.encoded, size)
        self.images, self.probabilities = model.build_classifier(num_classes, size)
        sess = tf.Session(config=runtime.session_config())
        try:
          model.restore_model(sess, checkpoint, moving_averages)
        except BaseException:
          sess.close()
          raise
      graph.finalize()
      self.sess = sess  # only once restored
    return self.sess

  def prepare(self, data):
    """Encoded bytes -> preprocessed float32 [S, S, 3]; raises on undecodable data."""
    return self.start().run(self.preprocessed, {self.encoded: data})

  def classify(self, batch):
    """Preprocessed float32 [N, S, S, 3] -> probabilities [N, num_classes]."""
    return self.start().run(self.probabilities, {self.images: batch})

  def close(self):
    if self.sess is not None:
      self.sess.close()


def read_and_prepare(predictor, path):
  """Reads and preprocesses one file; returns (image, None) or (None, reason)."""
  try:
    with open(path, 'rb') as f:
      data = f.read()
  except OSError as e:
    return None, e.strerror or str(e)
  if not data:
    return None, 'empty file'
  predictor.start()  # outside the try: a failure here is the model's, not the photo's
  try:
    return predictor.prepare(data), None
  except tf.errors.InvalidArgumentError:
    pass
  # A format TensorFlow cannot decode may still be one Pillow reads.
  try:
    return predictor.prepare(images.pillow_png(data)), None
  except Exception as e:  # pylint: disable=broad-except
    # Pillow raises many types for bad data; each one just means "unreadable".
    return None, unreadable_reason(e)


def unreadable_reason(error):
  """A short reason from Pillow's exception, without its in-memory file repr."""
  text = str(error).splitlines()[0] if str(error) else type(error).__name__
  if text.startswith('cannot identify image file'):
    return NOT_AN_IMAGE
  return 'corrupt image (%s)' % text


def top_classes(probabilities, names, k):
  """The k most probable classes: {'names', 'indices', 'probabilities'}."""
  order = np.argsort(-probabilities, kind='stable')[:k]
  return {'names': [names[i] for i in order], 'indices': [int(i) for i in order],
          'probabilities': [float(probabilities[i]) for i in order]}


def classify_paths(predictor, paths, names, batch_size, k, on_result, on_skip):
  """Classifies `paths` in batches, calling on_result(path, top) or on_skip(path, reason).

  Returns:
    (number classified, number skipped).
  """
  done = skipped = 0
  pending, batch = [], []

  def flush():
    for path, probabilities in zip(pending, predictor.classify(np.stack(batch))):
      on_result(path, top_classes(probabilities, names, k))
    del pending[:], batch[:]

  for path in paths:
    image, reason = read_and_prepare(predictor, path)
    if image is None:
      on_skip(path, reason)
      skipped += 1
      continue
    pending.append(path)
    batch.append(image)
    done += 1
    if len(batch) == batch_size:
      flush()
  if batch:
    flush()
  return done, skipped


def write_json(path, document):
  """Writes `document` as JSON through a temporary file, so it is all or nothing."""
  folder = os.path.dirname(os.path.abspath(path))
  if not os.path.isdir(folder):
    raise UsageError('--output_json %s: folder %s does not exist' % (path, folder))
  files.write_json(path, document)
