# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""What keeps a long training run safe to stop and honest about how it ended.

- `Checkpointer`: saves between steps, every N steps and/or every N seconds,
  so a checkpoint's global step always matches the weights it holds.
- `InputStopped` and `input_failures_reported`: a run whose input stopped early
  ends with one line and exit code 1, never as a finished run.
- `TrainingControl`: what the loop calls between steps, with the stop signals
  (transfer.training.signals) and the progress lines (transfer.progress).
"""
from __future__ import absolute_import, division, print_function

import collections
import contextlib
import time

from tf_compat import tf
from transfer import flags
from transfer.errors import BAD_LABEL_TAG, UsageError
from transfer.progress import ProgressLog
from transfer.training.signals import Interrupted, StopSignals


# ================ DEFAULTS (each one is also a flag of train_flowers.py) ================
summary_every_n_steps = 10
save_interval_secs = 600
# Also save after every this many steps (0: only by time). Saves also happen on
# Ctrl-C / SIGTERM and at the end.
save_every_n_steps = 0
# A progress line (step/total, loss, images/s, ETA) every this many steps.
log_every_n_steps = 10


def add_flags(p):
  """When training writes summaries, checkpoints and progress lines."""
  p.add_argument('--summary_every_n_steps', type=flags.positive_int,
                 default=summary_every_n_steps)
  p.add_argument('--save_interval_secs', type=flags.positive_int, default=save_interval_secs)
  p.add_argument('--save_every_n_steps', type=flags.non_negative_int,
                 default=save_every_n_steps, help='also save after every N steps (0: off)')
  p.add_argument('--log_every_n_steps', type=flags.positive_int, default=log_every_n_steps,
                 help='a progress line (step/total, loss, images/s, ETA) every N steps')


class ControlSettings(collections.namedtuple(
    'ControlSettings', ('summary_every_n_steps', 'save_interval_secs', 'save_every_n_steps',
                        'log_every_n_steps'),
    defaults=(summary_every_n_steps, save_interval_secs, save_every_n_steps,
              log_every_n_steps))):
  """When training writes summaries, checkpoints and progress lines (the flags' names)."""
  __slots__ = ()


class Checkpointer(object):
  """Saves through the Supervisor's saver between steps.

  Args:
    sv: the Supervisor; only its chief saves.
    global_step: the global step variable, named in the checkpoint files.
    every_n_steps: save after every this many steps; 0 turns it off.
    every_n_secs: save when this many seconds passed since the last save.
  """

  def __init__(self, sv, global_step, every_n_steps=0, every_n_secs=0):
    self.sv = sv
    self.global_step = global_step
    self.every_n_steps = every_n_steps
    self.every_n_secs = every_n_secs
    self.last_saved_step = None
    self.last_path = None
    self._last_time = time.time()

  def save(self, sess, step):
    """Saves every variable; returns the checkpoint path (None when not chief)."""
    if not self.sv.is_chief:
      return None
    self.last_path = self.sv.saver.save(sess, self.sv.save_path, global_step=self.global_step)
    self.last_saved_step = step
    self._last_time = time.time()
    return self.last_path

  def maybe_save(self, sess, step):
    """Saves when `step` completes N steps or N seconds passed; returns the path or None."""
    due_by_steps = self.every_n_steps and step % self.every_n_steps == 0
    due_by_time = self.every_n_secs and time.time() - self._last_time >= self.every_n_secs
    if (due_by_steps or due_by_time) and step != self.last_saved_step:
      return self.save(sess, step)
    return None


class InputStopped(Exception):
  """The input queue ended before the last step."""

  def __init__(self, step, total_steps):
    self.step = step
    self.total_steps = total_steps
    super(InputStopped, self).__init__('the training input ended at step %d of %d'
                                       % (step, total_steps))


@contextlib.contextmanager
def input_failures_reported(dataset_dir, control):
  """Turns an input pipeline that stopped early into a UsageError.

  Wraps the Supervisor's managed session. When the loop raised InputStopped,
  the exception leaving the session is the first error an input thread
  reported (the Supervisor re-raises it), else InputStopped itself.

  Args:
    dataset_dir: named in the message.
    control: the run's TrainingControl; unless its loop stopped on its input,
      errors pass unchanged.
  """
  try:
    yield
  except (tf.errors.OpError, InputStopped) as e:
    step = control.input_stopped_at
    if step is None:
      raise
    if isinstance(e, tf.errors.InvalidArgumentError) and BAD_LABEL_TAG in e.message:
      raise  # cli.report_errors names the bad label
    if isinstance(e, InputStopped):
      cause = 'the input queue ran dry'
    else:
      cause = '%s: %s' % (type(e).__name__, first_line(e.message))
    raise UsageError('training stopped at step %d of %d because reading %s failed (%s): '
                     'check or convert those records again, then run the same command to '
                     'resume from the last checkpoint'
                     % (step, control.total_steps, dataset_dir, cause))


def first_line(text):
  return text.strip().splitlines()[0] if text.strip() else text


class TrainingControl(object):
  """What the training loop calls between steps: signals, saving, progress.

  Usage, around the Supervisor's session:

      control = TrainingControl(settings, images_per_step)
      with control.signals, input_failures_reported(dataset_dir, control):
        with sv.managed_session() as sess:
          control.begin(sess, sv, global_step, total_steps)
          ... each step: control.check_signal(sess); run; control.step_done(...)

  Args:
    settings: a ControlSettings (save and log intervals).
    images_per_step: the images a global step trains, for the progress lines.
    why_stuck: see signals.StopSignals; given for a cluster task.
  """

  def __init__(self, settings, images_per_step, why_stuck=None):
    self.settings = settings
    self.images_per_step = images_per_step
    self.signals = StopSignals(why_stuck)
    self.input_stopped_at = None
    self.total_steps = None
    self.step = None
    self.checkpointer = None
    self.progress = None

  def begin(self, sess, sv, global_step, total_steps):
    """Starts saving and logging from the session's global step; returns that step."""
    self.step = int(sess.run(global_step))
    self.total_steps = total_steps
    self.checkpointer = Checkpointer(sv, global_step, self.settings.save_every_n_steps,
                                     self.settings.save_interval_secs)
    self.checkpointer.last_saved_step = self.step  # restored, or about to be initialised
    self.progress = ProgressLog(self.step, total_steps, self.images_per_step,
                                self.settings.log_every_n_steps)
    self.signals.defer()
    return self.step

  def check_signal(self, sess):
    """After a SIGINT/SIGTERM: saves the last finished step and raises Interrupted."""
    if not self.signals.requested:
      return
    saver = self.checkpointer
    path = saver.last_path if saver.last_saved_step == self.step else None
    path = path or saver.save(sess, self.step)
    # The step the checkpoint is named for: in a cluster another worker may have
    # moved the shared step on since this one's last step.
    step = int(path.rsplit('-', 1)[1]) if path else self.step
    raise Interrupted(self.signals.signum, step, path)

  def step_done(self, sess, step, loss):
    self.step = step
    self.progress.step_done(step, loss)
    self.checkpointer.maybe_save(sess, step)

  def input_stopped(self, step):
    """Raises InputStopped, which the session re-raises unless an input thread's error
    came first."""
    self.input_stopped_at = step
    raise InputStopped(step, self.total_steps)
