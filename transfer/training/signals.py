# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Ctrl-C (SIGINT) and SIGTERM: finish the current step, save it, exit 130 / 143.

Python runs a signal handler in the main thread once the running TensorFlow
call returns. A cluster worker whose ps task is gone may never return from its
step, nor (on TF 2.x) from closing its session after the step failed; so there
a watchdog thread, woken by the signal itself, checks the cluster and ends the
process when it cannot go on.
"""
from __future__ import absolute_import, division, print_function

import os
import signal
import sys
import threading

from tf_compat import tf
from transfer.errors import Stopped

SIGNAL_NAMES = {signal.SIGINT: 'SIGINT', signal.SIGTERM: 'SIGTERM'}
# How long the watchdog lets a signalled step run before it looks for a reason
# that the step cannot end, and how often it looks again.
STUCK_CHECK_SECS = 5


class Interrupted(Stopped):
  """Training stopped on a signal; `exit_code` is 128 + the signal number.

  Like KeyboardInterrupt it is no Exception, so that the Supervisor does not
  report it as an error; cli.report_errors prints it and exits with its code.
  """

  def __init__(self, signum, step=None, saved_to=None):
    self.signum = signum
    self.exit_code = 128 + signum
    self.step = step
    self.saved_to = saved_to
    name = SIGNAL_NAMES.get(signum, 'signal %d' % signum)
    if saved_to:
      message = ('stopped by %s after step %d; saved %s: run the same command to resume'
                 % (name, step, saved_to))
    elif step is not None:
      message = 'stopped by %s after step %d; the chief worker saves' % (name, step)
    else:
      message = 'stopped by %s before training started: nothing to save' % name
    super(Interrupted, self).__init__(message)


class StopSignals(object):
  """A context manager catching SIGINT and SIGTERM in the main thread.

  Until `defer()` is called a signal raises Interrupted. After it, the first
  signal only sets `signum` so that the training loop can finish its step and
  save; a second one raises Interrupted, without saving. The previous handlers
  come back on exit.

  Args:
    why_stuck: for a cluster task, a function returning why the process cannot
      go on (a ps task that does not answer), or None. When a signal has not
      ended the context within STUCK_CHECK_SECS, the watchdog calls it every
      STUCK_CHECK_SECS and, given a reason, prints one line and exits with
      128 + the signal number, saving nothing.
  """

  def __init__(self, why_stuck=None):
    self.signum = None
    self.why_stuck = why_stuck
    self._deferred = False
    self._previous = {}
    self._left = threading.Event()  # set when the context ends
    self._wakeup = None

  def __enter__(self):
    # Python delivers signals to the main thread alone, and only there may
    # handlers be set: a run in another thread (a notebook's worker) keeps
    # the process's handlers.
    if threading.current_thread() is not threading.main_thread():
      return self
    for signum in SIGNAL_NAMES:
      self._previous[signum] = signal.signal(signum, self._handle)
    if self.why_stuck:
      self._start_watchdog()
    return self

  def __exit__(self, *exc_info):
    for signum, handler in self._previous.items():
      signal.signal(signum, handler)
    if self._wakeup:
      signal.set_wakeup_fd(self._wakeup[2])
      self._left.set()
      os.close(self._wakeup[1])  # ends the watchdog's read
    return False

  def defer(self):
    """From now on a first signal waits for the loop to save."""
    self._deferred = True

  @property
  def requested(self):
    return self.signum is not None

  def _handle(self, signum, unused_frame):
    if not self._deferred or self.requested:
      raise Interrupted(signum)
    self.signum = signum
    tf.logging.warning('%s received: saving after this step (send it again to stop '
                       'without saving).', SIGNAL_NAMES[signum])

  # ---------------------------------------------------------------- watchdog
  def _start_watchdog(self):
    """The C-level handler writes each signal's number to a pipe the thread reads."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    previous = signal.set_wakeup_fd(write_fd)
    self._wakeup = (read_fd, write_fd, previous)
    threading.Thread(target=self._watch, args=(read_fd,), daemon=True,
                     name='stop-signal-watchdog').start()

  def _watch(self, read_fd):
    try:
      signum = _next_stop_signal(read_fd)
      while signum and not self._left.wait(STUCK_CHECK_SECS):
        reason = self.why_stuck()
        if reason:
          self._exit(signum, reason)
    finally:
      os.close(read_fd)

  @staticmethod
  def _exit(signum, reason):
    """Ends a process whose main thread waits on a cluster that cannot answer."""
    name = SIGNAL_NAMES.get(signum, 'signal %d' % signum)
    sys.stdout.flush()
    sys.stderr.write('stopped by %s while the cluster cannot answer (%s): nothing saved\n'
                     % (name, reason))
    sys.stderr.flush()
    os._exit(128 + signum)  # pylint: disable=protected-access


def _next_stop_signal(read_fd):
  """Reads signal numbers from the wakeup pipe up to SIGINT or SIGTERM; None once it closes."""
  while True:
    data = os.read(read_fd, 1)
    if not data:
      return None
    if data[0] in SIGNAL_NAMES:
      return data[0]
