# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Files that appear under their final name only when complete.

Writers create a temporary name beside the target and rename it into place, so
a crash never leaves a finished-looking but partial file.
"""
from __future__ import absolute_import, division, print_function

import io
import json
import os
import uuid


def temp_name(path):
  """A new temporary name beside `path`, unique to this call (process id + random part).

  It matches no `*.tfrecord`, `*.png`, `*.jpg` or labels.txt pattern, so readers
  never pick it up.
  """
  return '%s.tmp-%d-%s' % (path, os.getpid(), uuid.uuid4().hex[:12])


def remove_quietly(path):
  """Removes a file when it exists; other errors are ignored too (best-effort clean-up)."""
  try:
    os.remove(path)
  except OSError:
    pass


def write_atomically(path, data):
  """Writes bytes to `path` through a temporary file, so readers see all or nothing.

  Raises:
    OSError: naming `path` (not the temporary), e.g. for a full disk.
  """
  temp = temp_name(path)
  try:
    with open(temp, 'wb') as f:
      f.write(data)
    os.replace(temp, path)
  except OSError as e:
    raise OSError(e.errno, e.strerror, path)
  finally:
    remove_quietly(temp)


def write_json(path, value):
  """Writes `value` as indented JSON (keys sorted, a final newline), all or nothing."""
  write_atomically(path, (json.dumps(value, indent=2, sort_keys=True) + '\n').encode('utf-8'))


def save_figure(fig, path, **kwargs):
  """Saves a matplotlib figure as PNG atomically; returns path."""
  buffer = io.BytesIO()
  fig.savefig(buffer, format='png', **kwargs)
  write_atomically(path, buffer.getvalue())
  return path


def save_image(image, path, image_format, **kwargs):
  """Saves a Pillow image atomically; returns path."""
  buffer = io.BytesIO()
  image.save(buffer, image_format, **kwargs)
  write_atomically(path, buffer.getvalue())
  return path
