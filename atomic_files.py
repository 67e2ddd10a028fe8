# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Files that appear under their final name only when complete.

Writers create a temporary name beside the target and rename it into place, so
a crash never leaves a finished-looking but partial file.
"""
from __future__ import absolute_import, division, print_function

import os


def temp_name(path):
  """A temporary name beside `path`: it matches no `*.tfrecord` or labels.txt pattern,
  and is unique to this process."""
  return '%s.tmp-%d' % (path, os.getpid())


def remove_quietly(path):
  """Removes a file when it exists; other errors are ignored too (best-effort clean-up)."""
  try:
    os.remove(path)
  except OSError:
    pass


def write_atomically(path, data):
  """Writes bytes to `path` through a temporary file, so readers see all or nothing."""
  temp = temp_name(path)
  try:
    with open(temp, 'wb') as f:
      f.write(data)
    os.replace(temp, path)
  finally:
    remove_quietly(temp)
