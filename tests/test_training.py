# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Training that is killed, stopped, resumed with other settings, or starved of input.

The kill and signal tests run real training as a subprocess, the others
in-process; the small stand-in network (small_network.py) keeps each run short,
its steps made to last STEP_SECONDS in a subprocess so that a kill or signal
lands mid-run.
"""
import glob
import hashlib
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

import dataset_utils
import small_network as stand_in
import train_flowers
from tf_compat import tf
from tiny_data import HEADS_ONLY_ARGV, IMAGE_SIZE, REPO, read_record
from transfer import locks, progress, run_record
from transfer.training import control, schedule, signals
from transfer.training import start as training_start

SCRIPT = os.path.join(REPO, 'train_flowers.py')
# 32 training images in batches of 8: 4 steps an epoch.
FAST = ('--image_size', str(IMAGE_SIZE), '--batch_size', '8', '--from_scratch',
        '--log_every_n_steps', '1') + HEADS_ONLY_ARGV
STEP_SECONDS = 1.0
RUN_TIMEOUT = 600  # seconds a run may take on a loaded machine (about 10 s when idle)
STEP_LINE = re.compile(r'step (\d+)/(\d+): loss ')


def fingerprint(folder):
  """{file name: sha256} of a folder, to show that nothing in it changed."""
  prints = {}
  for path in sorted(glob.glob(os.path.join(folder, '*'))):
    if os.path.isfile(path):
      with open(path, 'rb') as f:
        prints[os.path.basename(path)] = hashlib.sha256(f.read()).hexdigest()
  return prints


def start(records, log_dir, output, *extra):
  """Starts train_flowers.py on the small network; its output goes to the file `output`."""
  argv = [sys.executable, stand_in.__file__, '--step_seconds', str(STEP_SECONDS), SCRIPT,
          '--dataset_dir', records, '--log_dir', log_dir]
  argv += list(FAST) + list(extra)
  with open(output, 'wb') as out:
    return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)


def read(path):
  with open(path) as f:
    return f.read()


def logged_steps(text):
  return [int(m.group(1)) for m in STEP_LINE.finditer(text)]


def saved_step(log_dir):
  """The global step of the latest checkpoint in log_dir, or None."""
  latest = tf.train.latest_checkpoint(log_dir)
  return int(latest.rsplit('-', 1)[1]) if latest else None


def wait_until(condition, proc, output, timeout=RUN_TIMEOUT):
  """Polls `condition()` while `proc` runs; fails on its early exit or a timeout."""
  deadline = time.time() + timeout
  while not condition():
    if proc.poll() is not None:
      pytest.fail('training exited (%s) before the awaited state:\n%s'
                  % (proc.returncode, read(output)[-3000:]))
    if time.time() > deadline:
      pytest.fail('timed out after %d s:\n%s' % (timeout, read(output)[-3000:]))
    time.sleep(0.2)


def finish(proc, output, timeout=RUN_TIMEOUT):
  """Waits for `proc`; returns (exit code, output)."""
  try:
    proc.wait(timeout)
  except subprocess.TimeoutExpired:
    pytest.fail('timed out after %d s:\n%s' % (timeout, read(output)[-3000:]))
  return proc.returncode, read(output)


def stopped(proc):
  """Kills `proc` when a test left it running."""
  if proc.poll() is None:
    proc.kill()
    proc.wait(30)


# ---------------------------------------------------------------- kill -9
def test_sigkill_after_a_checkpoint_resumes_there_and_repeats_no_saved_step(records, tmp_path):
  log_dir = str(tmp_path / 'log')
  data_before = fingerprint(records)
  first_out = str(tmp_path / 'first.txt')
  proc = start(records, log_dir, first_out, '--num_epochs', '2', '--save_every_n_steps', '2')
  try:
    wait_until(lambda: (saved_step(log_dir) or 0) >= 2, proc, first_out)
    # A second training on the busy log dir is refused at once, naming the first.
    started = time.time()
    with pytest.raises(locks.FolderBusy, match='in use by a training \\(pid %d ' % proc.pid):
      train_flowers.train(dataset_dir=records, log_dir=log_dir)
    assert time.time() - started < 30
    first_pid = proc.pid
    proc.send_signal(signal.SIGKILL)
    code, first = finish(proc, first_out)
  finally:
    stopped(proc)
  assert code == -signal.SIGKILL
  killed_at = saved_step(log_dir)
  assert killed_at >= 2 and killed_at % 2 == 0
  assert 'Finished training' not in first
  # The checkpoint holds only steps the first run finished and logged.
  assert logged_steps(first)[:killed_at] == list(range(1, killed_at + 1))
  events_before = sorted(glob.glob(os.path.join(log_dir, 'events.out.tfevents.*')))

  second_out = str(tmp_path / 'second.txt')
  proc = start(records, log_dir, second_out, '--num_epochs', '2', '--save_every_n_steps', '2')
  try:
    code, second = finish(proc, second_out)
  finally:
    stopped(proc)
  assert code == 0, second[-3000:]
  # The killed run's lock went with it; its record is named once.
  took_over = 'Took over %s from a training (pid %d ' % (log_dir, first_pid)
  assert second.count(took_over) == 1, second[-3000:]
  assert 'model.ckpt-%d' % killed_at in second  # "Resuming from ..."
  # Every step after the checkpoint once, none before it again, to the end.
  assert logged_steps(second) == list(range(killed_at + 1, 9))
  assert saved_step(log_dir) == 8
  # No data lost: the records are untouched, the first run's events are still there.
  assert fingerprint(records) == data_before
  assert set(events_before) <= set(glob.glob(os.path.join(log_dir, 'events.out.tfevents.*')))
  assert os.path.isfile(os.path.join(log_dir, run_record.FILENAME))


# ---------------------------------------------------------------- SIGTERM, SIGINT
@pytest.fixture(scope='module')
def terminated(records, tmp_path_factory):
  """A run of 50 epochs stopped by SIGTERM after its second step."""
  folder = tmp_path_factory.mktemp('terminated')
  log_dir, output = str(folder / 'log'), str(folder / 'out.txt')
  proc = start(records, log_dir, output, '--num_epochs', '50')
  try:
    wait_until(lambda: 2 in logged_steps(read(output)), proc, output)
    with pytest.raises(locks.FolderBusy) as refused:  # a second training there meanwhile
      train_flowers.train(dataset_dir=records, log_dir=log_dir)
    proc.send_signal(signal.SIGTERM)
    code, text = finish(proc, output)
  finally:
    stopped(proc)
  return dict(log_dir=log_dir, code=code, text=text, refused=str(refused.value), pid=proc.pid)


@pytest.mark.xdist_group('terminated')  # one worker: one terminated run
def test_sigterm_saves_the_last_step_and_exits_143(terminated):
  assert terminated['code'] == 143, terminated['text'][-3000:]
  # The refused second training touched nothing of this run, which saved as ever.
  assert 'in use by a training (pid %d ' % terminated['pid'] in terminated['refused']
  last = logged_steps(terminated['text'])[-1]
  assert last >= 2
  # Saved by the signal alone: the time-based save is 600 s away, step saves are off.
  assert saved_step(terminated['log_dir']) == last
  checkpoints = glob.glob(os.path.join(terminated['log_dir'], 'model.ckpt-*.index'))
  assert [os.path.basename(c) for c in checkpoints] == ['model.ckpt-%d.index' % last]
  assert 'Finished training' not in terminated['text']
  expected = ('stopped by SIGTERM after step %d; saved %s: run the same command to resume'
              % (last, os.path.join(terminated['log_dir'], 'model.ckpt-%d' % last)))
  assert terminated['text'].strip().splitlines()[-1] == expected


def test_a_first_signal_waits_for_the_step_a_second_one_stops_at_once():
  before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
  with signals.StopSignals() as stop:
    # Before the session: nothing to save, so a signal stops at once.
    with pytest.raises(signals.Interrupted) as early:
      os.kill(os.getpid(), signal.SIGINT)
      time.sleep(1)  # the handler runs in this thread, between byte codes
    assert early.value.exit_code == 130 and 'nothing to save' in str(early.value)
    stop.defer()
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.1)
    assert stop.requested and stop.signum == signal.SIGINT
    with pytest.raises(signals.Interrupted) as second:
      os.kill(os.getpid(), signal.SIGTERM)
      time.sleep(1)
    assert second.value.exit_code == 143
  assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


STUCK_STEP = """
import sys
sys.path.insert(0, sys.argv[1])
from tf_compat import tf
from transfer.training import signals

queue = tf.FIFOQueue(1, tf.int32, shapes=[])
with tf.Session() as sess, signals.StopSignals(lambda: 'the test step waits forever') as stop:
  stop.defer()
  print('blocking', flush=True)
  sess.run(queue.dequeue())  # a step that never returns, as on a lost ps
"""


def test_a_signal_ends_a_step_that_cannot_finish(tmp_path):
  # Python runs a signal handler only when the running TensorFlow call returns;
  # the watchdog hears the signal anyway and asks why_stuck.
  proc = subprocess.Popen([sys.executable, '-c', STUCK_STEP, REPO], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
  try:
    assert proc.stdout.readline().strip() == 'blocking'
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
  finally:
    stopped(proc)
  assert proc.returncode == 143, err
  assert err.strip().splitlines()[-1] == (
      'stopped by SIGTERM while the cluster cannot answer (the test step waits forever): '
      'nothing saved')


class FakeSupervisor(object):
  """Records the steps its saver is asked to save."""

  def __init__(self, is_chief=True):
    self.is_chief = is_chief
    self.save_path = '/log/model.ckpt'
    self.saver = self
    self.saved = []
    self.step = 0

  def save(self, sess, path, global_step=None):
    self.saved.append(self.step)
    return '%s-%d' % (path, self.step)


def test_checkpointer_saves_every_n_steps_and_after_n_seconds(monkeypatch):
  clock = [1000.0]
  monkeypatch.setattr(control.time, 'time', lambda: clock[0])
  sv = FakeSupervisor()
  by_steps = control.Checkpointer(sv, None, every_n_steps=3, every_n_secs=600)
  for sv.step in range(1, 10):
    clock[0] += 1
    by_steps.maybe_save(None, sv.step)
  assert sv.saved == [3, 6, 9]
  sv.saved = []
  by_time = control.Checkpointer(sv, None, every_n_steps=0, every_n_secs=600)
  for sv.step in range(1, 10):
    clock[0] += 250  # a save at 600 s, then 600 s after that save
    by_time.maybe_save(None, sv.step)
  assert sv.saved == [3, 6, 9]
  assert by_time.last_path == '/log/model.ckpt-9'
  worker = FakeSupervisor(is_chief=False)
  assert control.Checkpointer(worker, None, 1).save(None, 1) is None
  assert worker.saved == []


def test_progress_lines_every_n_steps_and_at_the_end(monkeypatch, tf_log):
  clock = [0.0]
  monkeypatch.setattr(progress.time, 'time', lambda: clock[0])
  log = progress.ProgressLog(first_step=0, total_steps=25, images_per_step=8,
                             every_n_steps=10)
  for step in range(1, 26):
    clock[0] += 2.0  # 2 s a step of 8 images
    log.step_done(step, 0.5)
  assert tf_log == ['step 10/25: loss 0.5000, 4.0 images/s, ETA 0:30',
                    'step 20/25: loss 0.5000, 4.0 images/s, ETA 0:10',
                    'step 25/25: loss 0.5000, 4.0 images/s, ETA 0:00']


def test_progress_counts_every_image_of_a_step_and_steps_that_jump(monkeypatch, tf_log):
  # Two clones of batch 4 (8 images a step); a cluster's shared step jumps by 2.
  clock = [0.0]
  monkeypatch.setattr(progress.time, 'time', lambda: clock[0])
  log = progress.ProgressLog(first_step=1, total_steps=9, images_per_step=8,
                             every_n_steps=4)
  for step in (3, 5, 7, 9):
    clock[0] += 4.0  # 2 global steps in 4 s
    log.step_done(step, 0.25)
  assert tf_log == ['step 5/9: loss 0.2500, 4.0 images/s, ETA 0:08',
                    'step 9/9: loss 0.2500, 4.0 images/s, ETA 0:00']


# ---------------------------------------------------------------- the schedule
def schedule_argv(log_dir, records, *extra):
  return ['--dataset_dir', records, '--log_dir', log_dir, '--num_epochs', '50'] + list(FAST) + \
      list(extra)


@pytest.mark.xdist_group('terminated')  # one worker: one terminated run
def test_resuming_with_another_schedule_says_what_changed(terminated, records, capsys,
                                                          small_network):
  log_dir = terminated['log_dir']
  before = fingerprint(log_dir)
  code = train_flowers.main(schedule_argv(log_dir, records, '--batch_size', '4',
                                          '--initial_learning_rate', '0.001'))
  err = capsys.readouterr().err.strip()
  assert code == 1
  assert len(err.splitlines()) == 1, err
  assert err.startswith('error: log_dir %s ' % log_dir)
  assert 'batch_size 8 -> 4, initial_learning_rate 0.0002 -> 0.001' in err
  assert '--allow_changed_schedule' in err
  assert 'num_epochs' not in err and 'learning_rate_decay_factor' not in err
  assert fingerprint(log_dir) == before  # nothing written


@pytest.mark.xdist_group('terminated')  # one worker: one terminated run
def test_allow_changed_schedule_goes_on_with_the_new_one(terminated, records, tmp_path, capsys,
                                                        small_network):
  log_dir = str(tmp_path / 'log')
  shutil.copytree(terminated['log_dir'], log_dir)
  start_step = saved_step(log_dir)
  # One more epoch at another decay factor: 4 steps a run of 8-image batches.
  epochs = start_step // 4 + 2
  code = train_flowers.main(schedule_argv(log_dir, records, '--num_epochs', str(epochs),
                                          '--learning_rate_decay_factor', '0.5',
                                          '--allow_changed_schedule'))
  assert code == 0, capsys.readouterr().err[-3000:]
  assert saved_step(log_dir) == epochs * 4
  stored = read_record(log_dir, 'schedule')
  assert stored['learning_rate_decay_factor'] == 0.5 and stored['num_epochs'] == epochs


def test_check_schedule_compares_what_sets_the_learning_rate(tmp_path):
  settings = train_flowers.make_settings(batch_size=8, num_epochs=6)
  log_dir = str(tmp_path / 'log')
  first = schedule.schedule_of(settings, 32)
  assert first['num_clones'] == 1 and first['replicas_to_aggregate'] == 1
  schedule.check_schedule(log_dir, first, resuming=False, allow_changed=False)
  schedule.save_schedule(log_dir, first)
  # More epochs: the learning rate of every step stays, so it is no change.
  longer = dict(first, num_epochs=7)
  schedule.check_schedule(log_dir, longer, resuming=True, allow_changed=False)
  more_images = dict(longer, train_images=40)
  with pytest.raises(ValueError, match=r'\(train_images 32 -> 40\)'):
    schedule.check_schedule(log_dir, more_images, resuming=True, allow_changed=False)
  schedule.check_schedule(log_dir, more_images, resuming=True, allow_changed=True)
  # A fresh run (no checkpoint to resume) does not compare.
  schedule.check_schedule(log_dir, dict(first, batch_size=1), resuming=False,
                             allow_changed=False)
  schedule.save_schedule(log_dir, more_images)
  assert read_record(log_dir, 'schedule') == more_images
  assert os.listdir(log_dir) == [run_record.FILENAME]  # no temporary left


# ---------------------------------------------------------------- input failures
@pytest.fixture
def tf_log():
  """The messages TensorFlow logs during a test."""
  lines = []

  class Collect(logging.Handler):
    def emit(self, record):
      lines.append(record.getMessage())

  handler = Collect()
  tf_logger = logging.getLogger('tensorflow')
  level = tf_logger.level
  tf_logger.addHandler(handler)
  tf_logger.setLevel(logging.INFO)
  yield lines
  tf_logger.removeHandler(handler)
  tf_logger.setLevel(level)


def test_the_log_says_what_a_changed_num_epochs_does(tmp_path, tf_log):
  log_dir = str(tmp_path / 'log')
  head_only = schedule.schedule_of(train_flowers.make_settings(head_epochs=2, num_epochs=0), 32)
  schedule.save_schedule(log_dir, head_only)
  # Fine-tuning after a head-only run: its epochs, not a moved end of the same schedule.
  schedule.check_schedule(log_dir, dict(head_only, num_epochs=3), resuming=True,
                          allow_changed=False, head_only=True)
  assert tf_log == []
  schedule.check_schedule(log_dir, dict(head_only, num_epochs=3), resuming=True,
                          allow_changed=False)
  assert tf_log == ['num_epochs 0 -> 3: the same schedule, only the last step moves.']


def test_the_batch_norm_warning_never_advises_the_decay_already_set(tf_log):
  training_start.warn_slow_batch_norm(0.9, True, 20)
  training_start.warn_slow_batch_norm(0.9, True, 5)
  training_start.warn_slow_batch_norm(0.9, True, 30)  # enough steps
  training_start.warn_slow_batch_norm(0.9997, False, 5)  # restored statistics
  assert tf_log == [
      'batch_norm_decay 0.9 averages over ~10 steps but training runs 20 from scratch: '
      'evaluation will suffer; pass --batch_norm_decay 0.85 or less, or train more epochs',
      'batch_norm_decay 0.9 averages over ~10 steps but training runs 5 from scratch: '
      'evaluation will suffer; train more epochs']


def records_with_a_bad_photo(records, folder):
  """A copy of `records` whose second training shard also holds a record that is not a JPEG."""
  os.makedirs(folder)
  for path in glob.glob(os.path.join(records, '*')):
    if os.path.isfile(path):
      shutil.copy(path, folder)
  shard = sorted(glob.glob(os.path.join(folder, 'flowers_train_*')))[1]
  good = list(tf.python_io.tf_record_iterator(shard))
  bad = dataset_utils.image_to_tfexample(b'not a jpeg at all', b'jpg', 40, 40, 0)
  with tf.python_io.TFRecordWriter(shard) as writer:
    for record in good + [bad.SerializeToString()]:
      writer.write(record)
  return folder


def assert_failed_in_one_line(code, err, tf_log, log_dir):
  assert code == 1
  assert len(err.strip().splitlines()) == 1, err
  assert err.startswith('error: training stopped at step ')
  assert not any('Finished training' in line for line in tf_log)
  assert saved_step(log_dir) is None  # no final checkpoint of an unfinished run


def test_an_input_thread_error_ends_in_one_line_not_in_success(records, tmp_path, capsys,
                                                               tf_log, small_network):
  data = records_with_a_bad_photo(records, str(tmp_path / 'data'))
  log_dir = str(tmp_path / 'log')
  code = train_flowers.main(['--dataset_dir', data, '--log_dir', log_dir, '--num_epochs', '20']
                            + list(FAST))
  err = capsys.readouterr().err
  assert_failed_in_one_line(code, err, tf_log, log_dir)
  assert 'reading %s failed (InvalidArgumentError: ' % data in err


def test_an_input_queue_that_runs_dry_ends_in_one_line(records, tmp_path, capsys, tf_log,
                                                       monkeypatch, small_network):
  real_load_batch = train_flowers.load_batch

  def one_epoch_only(*args, **kwargs):
    kwargs['num_epochs'] = 1
    return real_load_batch(*args, **kwargs)

  monkeypatch.setattr(train_flowers, 'load_batch', one_epoch_only)
  log_dir = str(tmp_path / 'log')
  code = train_flowers.main(['--dataset_dir', records, '--log_dir', log_dir, '--num_epochs', '2']
                            + list(FAST))
  err = capsys.readouterr().err
  assert_failed_in_one_line(code, err, tf_log, log_dir)
  # 32 images make 4 batches of 8; the 5th step finds the queue closed.
  assert err.startswith('error: training stopped at step 4 of 8 ')
  assert 'the input queue ran dry' in err
