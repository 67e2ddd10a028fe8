# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""What keeps a long training run safe to stop and honest about how it ended.

- `StopSignals`: Ctrl-C (SIGINT) and SIGTERM finish the current step, save it
  and end the run with exit code 130 / 143.
- `Checkpointer`: saves between steps, every N steps and/or every N seconds,
  so a checkpoint's global step always matches the weights it holds.
- `ProgressLog`: a line every N steps with step/total, loss, images/s and ETA.
- `check_schedule`, `save_schedule`: the learning-rate schedule is stored
  beside the checkpoints; resuming with another one is refused unless asked for.
- `InputStopped` and `input_failures_reported`: a run whose input stopped early
  ends with one line and exit code 1, never as a finished run.
"""
from __future__ import absolute_import, division, print_function

import contextlib
import json
import os
import signal
import time

import tensorflow.compat.v1 as tf

import atomic_files
import cli
import dataset_utils
import downloads
from cli import UsageError

SCHEDULE_FILENAME = 'schedule.json'
# The flags the learning rate of a global step depends on, with the training set
# size (it sets the steps of an epoch). num_epochs is left out on purpose: it
# only moves the last step, so raising it extends a run on the same schedule.
SCHEDULE_KEYS = ('batch_size', 'train_images', 'initial_learning_rate',
                 'learning_rate_decay_factor', 'num_epochs_before_decay')
SIGNAL_NAMES = {signal.SIGINT: 'SIGINT', signal.SIGTERM: 'SIGTERM'}


# ================ SIGNALS ================
class Interrupted(cli.Stopped):
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
  save; a second one raises Interrupted, without saving. Python runs the handler
  in the main thread once the running TensorFlow call returns.
  The previous handlers come back on exit.
  """

  def __init__(self):
    self.signum = None
    self._deferred = False
    self._previous = {}

  def __enter__(self):
    for signum in SIGNAL_NAMES:
      self._previous[signum] = signal.signal(signum, self._handle)
    return self

  def __exit__(self, *exc_info):
    for signum, handler in self._previous.items():
      signal.signal(signum, handler)
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


# ================ SAVING ================
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


# ================ PROGRESS ================
class ProgressLog(object):
  """Logs step/total, loss, images/s and ETA every `every_n_steps` steps and at the end.

  Speed and ETA come from the steps since the previous line.
  """

  def __init__(self, first_step, total_steps, batch_size, every_n_steps):
    self.total_steps = total_steps
    self.batch_size = batch_size
    self.every_n_steps = every_n_steps
    self._step = first_step
    self._time = time.time()

  def step_done(self, step, loss):
    if step % self.every_n_steps and step != self.total_steps:
      return
    now = time.time()
    steps_per_sec = (step - self._step) / max(now - self._time, 1e-6)
    eta = (self.total_steps - step) / max(steps_per_sec, 1e-9)
    tf.logging.info('step %d/%d: loss %.4f, %.1f images/s, ETA %s', step, self.total_steps,
                    loss, steps_per_sec * self.batch_size, downloads.format_duration(eta))
    self._step, self._time = step, now


# ================ SCHEDULE ================
def schedule_of(args, train_images):
  """The schedule-defining settings of a run, as stored in schedule.json."""
  schedule = {key: getattr(args, key) for key in SCHEDULE_KEYS if key != 'train_images'}
  schedule['train_images'] = train_images
  schedule['num_epochs'] = args.num_epochs
  return schedule


def schedule_changes(old, new):
  """['batch_size 8 -> 4', ...] for the schedule keys that differ."""
  return ['%s %s -> %s' % (key, old[key], new[key]) for key in SCHEDULE_KEYS
          if key in old and old[key] != new[key]]


def schedule_path(log_dir):
  return os.path.join(log_dir, SCHEDULE_FILENAME)


def check_schedule(log_dir, schedule, resuming, allow_changed):
  """Compares a resumed run's schedule with the one stored in log_dir.

  Args:
    log_dir: the folder of the checkpoints and schedule.json.
    schedule: this run's `schedule_of`.
    resuming: whether log_dir holds a checkpoint this run continues.
    allow_changed: only log the changes instead of refusing them.

  Raises:
    UsageError: naming every changed setting, old -> new.
  """
  path = schedule_path(log_dir)
  if not resuming or not os.path.isfile(path):
    return  # a new run, or a log_dir from before schedules were stored
  try:
    with open(path) as f:
      old = json.load(f)
  except ValueError:
    raise UsageError('%s is not valid JSON: delete it to resume without the schedule check'
                     % path)
  changes = schedule_changes(old, schedule)
  if changes and not allow_changed:
    raise UsageError('log_dir %s was trained with another learning-rate schedule (%s): '
                     'pass the old values, or --allow_changed_schedule to go on with the '
                     'new ones from the saved step, or choose another --log_dir'
                     % (log_dir, ', '.join(changes)))
  if changes:
    tf.logging.warning('Schedule changed (%s): the learning rate follows the new one from '
                       'the saved step on.', ', '.join(changes))
  if old.get('num_epochs') != schedule['num_epochs']:
    tf.logging.info('num_epochs %s -> %s: the same schedule, only the last step moves.',
                    old.get('num_epochs'), schedule['num_epochs'])


def save_schedule(log_dir, schedule):
  """Writes schedule.json into log_dir (created when missing), all or nothing."""
  if not os.path.isdir(log_dir):
    os.makedirs(log_dir)
  atomic_files.write_atomically(
      schedule_path(log_dir),
      (json.dumps(schedule, indent=2, sort_keys=True) + '\n').encode('utf-8'))


# ================ FAILURES ================
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
    if isinstance(e, tf.errors.InvalidArgumentError) and dataset_utils.BAD_LABEL_TAG in e.message:
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


# ================ ALL TOGETHER ================
class TrainingControl(object):
  """What the training loop calls between steps: signals, saving, progress.

  Usage, around the Supervisor's session:

      control = TrainingControl(args)
      with control.signals, input_failures_reported(args.dataset_dir, control):
        with sv.managed_session() as sess:
          control.begin(sess, sv, global_step, total_steps)
          ... each step: control.check_signal(sess); run; control.step_done(...)
  """

  def __init__(self, args):
    self.args = args
    self.signals = StopSignals()
    self.input_stopped_at = None
    self.total_steps = None
    self.step = None
    self.checkpointer = None
    self.progress = None

  def begin(self, sess, sv, global_step, total_steps):
    """Starts saving and logging from the session's global step; returns that step."""
    self.step = int(sess.run(global_step))
    self.total_steps = total_steps
    self.checkpointer = Checkpointer(sv, global_step, self.args.save_every_n_steps,
                                     self.args.save_interval_secs)
    self.checkpointer.last_saved_step = self.step  # restored, or about to be initialised
    self.progress = ProgressLog(self.step, total_steps, self.args.batch_size,
                                self.args.log_every_n_steps)
    self.signals.defer()
    return self.step

  def check_signal(self, sess):
    """After a SIGINT/SIGTERM: saves the last finished step and raises Interrupted."""
    if not self.signals.requested:
      return
    saver = self.checkpointer
    path = saver.last_path if saver.last_saved_step == self.step else None
    path = path or saver.save(sess, self.step)
    raise Interrupted(self.signals.signum, self.step, path)

  def step_done(self, sess, step, loss):
    self.step = step
    self.progress.step_done(step, loss)
    self.checkpointer.maybe_save(sess, step)

  def input_stopped(self, step):
    """Raises InputStopped, which the session re-raises unless an input thread's error
    came first."""
    self.input_stopped_at = step
    raise InputStopped(step, self.total_steps)
