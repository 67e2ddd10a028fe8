# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""What machine a benchmark ran on, for its header: timings from other machines don't compare."""
from __future__ import absolute_import, division, print_function

import platform


def cpu_info():
  """(model name, set of flags) from /proc/cpuinfo; no TensorFlow needed."""
  model, flags = platform.processor() or platform.machine() or 'unknown CPU', set()
  try:
    with open('/proc/cpuinfo') as f:
      for line in f:
        key, _, value = line.partition(':')
        if key.strip() == 'model name':
          model = value.strip()
        elif key.strip() == 'flags':
          flags = set(value.split())
        if flags and model:
          break
  except (IOError, OSError):
    pass
  return model, flags


def cpu_model():
  """The CPU's marketing name."""
  return cpu_info()[0]
