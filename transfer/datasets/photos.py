# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Photos on the way in: a folder of class sub-folders, each photo decoded once.

RGB JPEGs keep their bytes; anything else Pillow reads (PNG, GIF, BMP, grey,
palette, RGBA, CMYK, 16-bit) is re-encoded as an RGB JPEG, the format the
training input decodes. A file that cannot be decoded is named with the reason.
"""
from __future__ import absolute_import, division, print_function

import collections
import io
import os
import struct
import zlib
from concurrent import futures

import numpy as np
from PIL import Image

from dataset_utils import DatasetError

# Quality of the JPEGs made from photos that are not RGB JPEGs already.
JPEG_QUALITY = 95
# Lower-case extensions of the files treated as photos; Pillow decides the rest.
IMAGE_EXTENSIONS = ('.bmp', '.gif', '.jpe', '.jpeg', '.jpg', '.png', '.ppm', '.tif', '.tiff',
                    '.webp')


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


def list_photos(photo_dir):
  """Finds the photos of a folder with one sub-folder per class.

  Hidden files and folders (.DS_Store, .ipynb_checkpoints) are ignored; other
  files without an image extension are listed as ignored.

  Args:
    photo_dir: the folder of class sub-folders.

  Returns:
    (class_names sorted, [(path, class_id)], [ignored paths]).

  Raises:
    DatasetError: no such folder, no class sub-folder, or a class sub-folder
      without image files.
  """
  if not os.path.isdir(photo_dir):
    raise DatasetError('photo folder %s does not exist' % photo_dir)
  class_names = sorted(n for n in os.listdir(photo_dir)
                       if not n.startswith('.') and os.path.isdir(os.path.join(photo_dir, n)))
  if not class_names:
    raise DatasetError('%s has no class sub-folders: put the photos of each class in a '
                       'sub-folder named after the class, e.g. %s'
                       % (photo_dir, os.path.join(photo_dir, 'daisy', '*.jpg')))
  if len(class_names) < 2:
    raise DatasetError('%s has only one class sub-folder, %s: a classifier needs at least '
                       'two classes (one sub-folder each)' % (photo_dir, class_names[0]))
  photos, ignored = [], []
  for class_id, name in enumerate(class_names):
    folder = os.path.join(photo_dir, name)
    found = 0
    for filename in sorted(os.listdir(folder)):
      path = os.path.join(folder, filename)
      if filename.startswith('.'):
        continue
      if (os.path.splitext(filename)[1].lower() in IMAGE_EXTENSIONS
          and os.path.isfile(path)):
        photos.append((path, class_id))
        found += 1
      else:
        ignored.append(path)
    if not found:
      raise DatasetError('class folder %s holds no image files (%s)'
                         % (folder, ' '.join(IMAGE_EXTENSIONS)))
  return class_names, photos, ignored


def try_load_photo(path, jpeg_quality):
  """load_photo, returning (None, reason) instead of raising for a bad file."""
  try:
    return load_photo(path, jpeg_quality), None
  except BAD_PHOTO_ERRORS as e:
    # Pillow raises many types for bad data; each one just means "unreadable".
    return None, str(e) or type(e).__name__


def load_in_order(paths, jpeg_quality, num_threads):
  """Yields try_load_photo results in order, decoding a few files ahead on threads."""
  if num_threads <= 1:
    for path in paths:
      yield try_load_photo(path, jpeg_quality)
    return
  # A bounded window, so that stopping early only waits for a few files.
  with futures.ThreadPoolExecutor(num_threads) as pool:
    window = collections.deque()
    for path in paths:
      window.append(pool.submit(try_load_photo, path, jpeg_quality))
      if len(window) >= 4 * num_threads:
        yield window.popleft().result()
    while window:
      yield window.popleft().result()
