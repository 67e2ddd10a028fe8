# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The flowers photos: 3,670 photos of five classes, as TensorFlow publishes them."""
from __future__ import absolute_import, division, print_function

import os

from dataset_utils import DatasetError
from transfer.downloads import DOWNLOAD_TIMEOUT, download_and_extract
from transfer.errors import ArchiveError, DownloadError

FLOWERS_URL = 'http://download.tensorflow.org/example_images/flower_photos.tgz'
# Size of the official archive, so that a cut-short or hand-copied file is caught.
FLOWERS_SIZE = 228813984
FLOWERS_CLASSES = ('daisy', 'dandelion', 'roses', 'sunflowers', 'tulips')


def download_flowers(download_dir, url=FLOWERS_URL, timeout=DOWNLOAD_TIMEOUT):
  """Fetches and extracts the flowers photos; returns the flower_photos folder.

  Args:
    download_dir: where flower_photos.tgz is saved and extracted.
    url: where to fetch it; the size is checked for the official URL.
    timeout: seconds to wait for the server at each step.

  Returns:
    The path of the extracted flower_photos folder.
  """
  photo_dir = os.path.join(download_dir, 'flower_photos')
  try:
    download_and_extract(url, download_dir, filename='flower_photos.tgz',
                         expected_size=FLOWERS_SIZE if url == FLOWERS_URL else None,
                         timeout=timeout)
  except ArchiveError:
    raise
  except DownloadError as e:
    raise DownloadError('%s, then run this again; or extract it yourself and run again '
                        'with --photo_dir %s' % (e, os.path.abspath(photo_dir)))
  if not os.path.isdir(photo_dir):
    raise DatasetError('%s held no flower_photos folder' % url)
  return photo_dir
