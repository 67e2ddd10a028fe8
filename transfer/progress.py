# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Progress shown while long work runs.

`ProgressBar` is the line every long-running step prints (conversion, downloads,
caches); `ProgressLog` is training's line every N steps: step/total, loss,
images/s and ETA.
"""
from __future__ import absolute_import, division, print_function

import sys
import time

from tf_compat import tf


def format_duration(seconds):
  """Seconds as m:ss, or h:mm:ss from an hour on."""
  minutes, seconds = divmod(int(seconds), 60)
  hours, minutes = divmod(minutes, 60)
  return '%d:%02d:%02d' % (hours, minutes, seconds) if hours else '%d:%02d' % (minutes, seconds)


def format_bytes(count):
  for unit in ('B', 'KB', 'MB', 'GB'):
    if count < 1024 or unit == 'GB':
      return ('%d %s' if unit == 'B' else '%.1f %s') % (count, unit)
    count /= 1024.0


class ProgressBar(object):
  """A progress line on stderr: count/total, percent, rate and time left.

  On a terminal the line is redrawn in place a few times a second. Elsewhere
  (a log file, CI) a plain line is printed every `interval` seconds and once at
  the end, so logs stay short.

      with ProgressBar(total=len(paths), label='Converting', unit='images') as bar:
        for path in paths:
          ...
          bar.update()
  """

  def __init__(self, total=None, label='', unit='', stream=None, interval=None, width=25):
    """Creates the bar; nothing is printed until the first update.

    Args:
      total: the count at completion; None or 0 when unknown (no bar, no ETA).
      label: text in front of the line.
      unit: 'B' shows counts as bytes (KB, MB); any other text is appended to rates.
      stream: where to write; sys.stderr (looked up now) by default.
      interval: seconds between lines; 0.2 on a terminal, 10 elsewhere.
      width: characters of the bar itself.
    """
    self.total = total or None
    self.label = label
    self.unit = unit
    self.stream = stream if stream is not None else sys.stderr
    isatty = getattr(self.stream, 'isatty', None)
    self.tty = bool(isatty and isatty())
    self.interval = interval if interval is not None else (0.2 if self.tty else 10.0)
    self.width = width
    self.count = 0
    self.start = time.time()
    self._last_line = self.start if not self.tty else 0.0
    self._drawn_chars = 0
    self._closed = False

  def update(self, amount=1):
    """Adds `amount` to the count and redraws when it is time to."""
    self.count += amount
    now = time.time()
    if now - self._last_line >= self.interval:
      self._draw(now)

  def close(self):
    """Draws the final line (once)."""
    if not self._closed:
      self._closed = True
      self._draw(time.time(), final=True)

  def __enter__(self):
    return self

  def __exit__(self, *unused_exc_info):
    self.close()

  def _amount(self, count):
    return format_bytes(count) if self.unit == 'B' else '{:,}'.format(count)

  def format_line(self, now=None):
    """The current text, e.g. `Converting  [===   ]  120/200   60%  80.1 images/s  ETA 0:01`."""
    elapsed = max((now or time.time()) - self.start, 1e-6)
    rate = self.count / elapsed
    if self.unit == 'B':
      rate_text = '%s/s' % format_bytes(rate)
    else:
      rate_text = '%.1f %s/s' % (rate, self.unit) if self.unit else '%.1f/s' % rate
    parts = [self.label] if self.label else []
    if self.total:
      fraction = min(self.count / self.total, 1.0)
      filled = int(fraction * self.width)
      parts.append('[%s%s]' % ('=' * filled, ' ' * (self.width - filled)))
      parts.append('%s/%s' % (self._amount(self.count), self._amount(self.total)))
      parts.append('%3d%%' % (100 * fraction))
    else:
      parts.append(self._amount(self.count))
    parts.append(rate_text)
    if self._closed:
      parts.append('in %s' % format_duration(elapsed))
    elif self.total and rate > 0:
      parts.append('ETA %s' % format_duration(max(self.total - self.count, 0) / rate))
    return '  '.join(parts)

  def _draw(self, now, final=False):
    line = self.format_line(now)
    if self.tty:
      # Pad over the remains of a longer previous line.
      self.stream.write('\r' + line.ljust(self._drawn_chars) + ('\n' if final else ''))
      self._drawn_chars = len(line)
    else:
      self.stream.write(line + '\n')
    self.stream.flush()
    self._last_line = now


class ProgressLog(object):
  """Logs step/total, loss, images/s and ETA every `every_n_steps` steps and at the end.

  Speed and ETA come from the steps since the previous line. Steps may jump (a
  cluster's global step counts every worker's updates): a line is due whenever
  a multiple of `every_n_steps` was reached or passed.

  Args:
    first_step: the global step training starts from.
    total_steps: the last step.
    images_per_step: the images one global step trains (every clone's, every
      aggregated replica's).
    every_n_steps: how often a line is due.
  """

  def __init__(self, first_step, total_steps, images_per_step, every_n_steps):
    self.total_steps = total_steps
    self.images_per_step = images_per_step
    self.every_n_steps = every_n_steps
    self._step = first_step
    self._time = time.time()
    self._next = self._due_after(first_step)

  def _due_after(self, step):
    return (step // self.every_n_steps + 1) * self.every_n_steps

  def step_done(self, step, loss):
    if step < self._next and step < self.total_steps:
      return
    now = time.time()
    steps_per_sec = (step - self._step) / max(now - self._time, 1e-6)
    eta = (self.total_steps - step) / max(steps_per_sec, 1e-9)
    tf.logging.info('step %d/%d: loss %.4f, %.1f images/s, ETA %s', step, self.total_steps,
                    loss, steps_per_sec * self.images_per_step, format_duration(eta))
    self._step, self._time = step, now
    self._next = self._due_after(step)
