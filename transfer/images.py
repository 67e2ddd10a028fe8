# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Photos to classify: finding them, and decoding them in the graph as evaluation does.

JPEGs go through the op slim's TFExample decoder runs on the records evaluation
reads, and every image through the Inception evaluation crop, so a photo gets
the probabilities evaluation would give it.
"""
from __future__ import absolute_import, division, print_function

import glob
import io
import os

from PIL import Image

import inception_preprocessing
from tf_compat import tf
from transfer.datasets.photos import IMAGE_EXTENSIONS

PNG_SIGNATURE = b'\x89PNG'
# Pillow modes a PNG keeps as they are; others are converted before re-encoding.
PNG_MODES = ('1', 'L', 'LA', 'P', 'RGB', 'RGBA')


def _png_on_white(encoded):
  """Decodes a PNG to RGB, laying transparent parts on white as the converter does."""
  rgba = tf.cast(tf.image.decode_png(encoded, channels=4), tf.float32)
  alpha = rgba[:, :, 3:] / 255.0
  rgb = rgba[:, :, :3] * alpha + 255.0 * (1.0 - alpha)
  # Opaque pixels come out exactly as they were.
  return tf.cast(tf.round(rgb), tf.uint8)


def decode_image(encoded):
  """Decodes JPEG, PNG, GIF (first frame) or 24-bit BMP bytes to uint8 RGB [h, w, 3].

  JPEGs go through `decode_jpeg(channels=3)`, the op slim's TFExample decoder
  runs on the records evaluation reads, so the pixels are the same; grayscale
  JPEGs come out with three equal channels, as they do there.
  """
  def other():
    return tf.image.decode_image(encoded, channels=3, expand_animations=False)

  def not_jpeg():
    return tf.cond(tf.equal(tf.strings.substr(encoded, 0, 4), PNG_SIGNATURE),
                   lambda: _png_on_white(encoded), other)

  image = tf.cond(tf.image.is_jpeg(encoded),
                  lambda: tf.image.decode_jpeg(encoded, channels=3), not_jpeg)
  image.set_shape([None, None, 3])
  return image


def preprocess(encoded, size):
  """Encoded image -> float32 [size, size, 3] in [-1, 1], as evaluation prepares it."""
  return inception_preprocessing.preprocess_image(decode_image(encoded), size, size,
                                                  is_training=False)


def pillow_png(data):
  """Re-encodes what Pillow reads but TF does not (8/32-bit BMP, TIFF, WebP) as PNG.

  Raises:
    Whatever Pillow raises for data it cannot decode.
  """
  image = Image.open(io.BytesIO(data))
  image.load()
  if image.mode not in PNG_MODES:
    has_alpha = 'A' in image.mode or 'transparency' in image.info
    image = image.convert('RGBA' if has_alpha else 'RGB')
  buffer = io.BytesIO()
  image.save(buffer, 'PNG')
  return buffer.getvalue()


def _is_image_name(name):
  return (not name.startswith('.')
          and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS)


def _folder_images(folder):
  """Image files under `folder`, sub-folders included, sorted; hidden ones left out."""
  found = []
  for root, dirs, files in os.walk(folder):
    dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
    found.extend(os.path.join(root, f) for f in sorted(files) if _is_image_name(f))
  return found


def find_images(inputs):
  """Expands files, folders and glob patterns into image paths.

  A file named on the command line is taken whatever its extension; folders
  contribute the files with an image extension.

  Returns:
    (paths in order without repeats, [(input, reason)] of inputs matching nothing).
  """
  paths, missing = [], []
  for item in inputs:
    if os.path.isdir(item):
      found = _folder_images(item)
    elif os.path.isfile(item):
      found = [item]
    else:
      found = []
      for match in sorted(glob.glob(item)):
        found.extend(_folder_images(match) if os.path.isdir(match) else [match])
    if not found:
      missing.append((item, 'no such file, or no image in that folder or glob'))
    paths.extend(found)
  seen = set()
  return [p for p in paths if not (p in seen or seen.add(p))], missing
