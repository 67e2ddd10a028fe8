# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""One writer per folder: trainings, exports, cache passes and the demo refuse or wait.

The holders are this process (another open file: flock tells them apart) or a
small process that only holds a lock; no test trains. A refused command stops
before it builds any graph.
"""
import errno
import glob
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import demo
import export_flowers
import train_flowers
from tiny_data import REPO, train_flags, train_settings
from transfer import bottlenecks, locks
from transfer.deployment import cluster
from transfer.errors import UsageError
from transfer.training import start

HOLDER = """
import sys, time
sys.path.insert(0, sys.argv[1])
from transfer import locks
with locks.hold(sys.argv[2], 'a training', '--log_dir'):
  print('held', flush=True)
  time.sleep(600)
"""


def fingerprint(folder):
  """{relative path: sha256} of every file under folder."""
  prints = {}
  for root, _, names in os.walk(folder):
    for name in names:
      with open(os.path.join(root, name), 'rb') as f:
        prints[os.path.relpath(os.path.join(root, name), folder)] = hashlib.sha256(
            f.read()).hexdigest()
  return prints


def one_error(code, err, *words):
  """Exit code 1 and one `error:` line, the last of stderr, holding every word."""
  assert code == 1, err
  lines = err.strip().splitlines()
  assert [l for l in lines if l.startswith('error:')] == lines[-1:], err
  for word in words:
    assert str(word) in lines[-1], (word, lines[-1])
  return lines[-1]


# ---------------------------------------------------------------- the lock itself
def test_a_second_writer_is_refused_naming_the_first_and_the_lock_goes_with_it(tmp_path):
  log_dir = str(tmp_path / 'log')
  with locks.hold(log_dir, 'a training', '--log_dir'):
    assert os.listdir(str(tmp_path)) == ['.log.lock']
    with pytest.raises(locks.FolderBusy) as refused:
      with locks.hold(log_dir, 'a training', '--log_dir'):
        pytest.fail('two holders')
  message = str(refused.value)
  assert message.startswith('%s is in use by a training (pid %d on %s since '
                            % (log_dir, os.getpid(), socket.gethostname()))
  assert message.endswith('wait for it to finish, or pass another --log_dir')
  assert time.strftime('%Y-%m-%d') in message
  assert os.listdir(str(tmp_path)) == []  # let go: no file left
  with locks.hold(log_dir, 'a training', '--log_dir'):
    pass


def test_the_lock_outlives_its_folder_deleted_or_replaced_by_rename(tmp_path):
  log_dir = tmp_path / 'log'
  log_dir.mkdir()
  with locks.hold(str(log_dir), 'a training', '--log_dir'):
    shutil.rmtree(str(log_dir))
    (tmp_path / 'new').mkdir()
    os.rename(str(tmp_path / 'new'), str(log_dir))
    # Another spelling of the same folder finds the same lock.
    with pytest.raises(locks.FolderBusy):
      with locks.hold(os.path.join(str(tmp_path), '.', 'log', ''), 'a training', '--log_dir'):
        pass


def test_a_holder_killed_with_sigkill_leaves_no_lock_and_is_named_as_gone(tmp_path, capfd):
  log_dir = str(tmp_path / 'log')
  holder = subprocess.Popen([sys.executable, '-c', HOLDER, REPO, log_dir],
                            stdout=subprocess.PIPE, universal_newlines=True)
  try:
    assert holder.stdout.readline().strip() == 'held'
    with pytest.raises(locks.FolderBusy, match='pid %d ' % holder.pid):
      with locks.hold(log_dir, 'a training', '--log_dir'):
        pass
    holder.kill()  # SIGKILL: the holder cannot let go itself
    holder.wait(60)
  finally:
    if holder.poll() is None:
      holder.kill()
  capfd.readouterr()
  with locks.hold(log_dir, 'a training', '--log_dir'):
    err = capfd.readouterr().err.strip().splitlines()
  assert len(err) == 1, err
  assert err[0].startswith('Took over %s from a training (pid %d on %s since '
                           % (log_dir, holder.pid, socket.gethostname())), err
  assert err[0].endswith('), which is gone.'), err


def test_a_file_system_without_locks_gets_one_warning_and_goes_on(tmp_path, monkeypatch,
                                                                   capsys):
  def no_locks(fd, operation):
    raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))
  monkeypatch.setattr(locks.fcntl, 'flock', no_locks)
  monkeypatch.setattr(locks, '_warned_no_locks', [])
  with locks.hold(str(tmp_path / 'a'), 'a training', '--log_dir'):
    with locks.hold(str(tmp_path / 'b'), 'an export', '--output_dir'):
      pass
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and err[0].startswith('warning: the file system of %s has no file locks'
                                             % (tmp_path / 'a')), err
  assert os.listdir(str(tmp_path)) == []


def test_a_lock_file_that_cannot_be_created_is_one_error_line(tmp_path, monkeypatch, capsys):
  (tmp_path / 'a_file').write_text('not a folder')
  log_dir = tmp_path / 'a_file' / 'log'
  code = train_flowers.main(['--log_dir', str(log_dir), '--dataset_dir', str(tmp_path)])
  one_error(code, capsys.readouterr().err, 'cannot create the lock file %s'
            % locks.beside(str(log_dir)), 'a_file is a file, not a folder', 'pass another --log_dir')

  real_open = os.open

  def read_only(path, *args):
    if path.endswith('.lock'):
      raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)
    return real_open(path, *args)
  monkeypatch.setattr(locks.os, 'open', read_only)
  code = train_flowers.main(['--log_dir', str(tmp_path / 'log'), '--dataset_dir', str(tmp_path)])
  one_error(code, capsys.readouterr().err, 'cannot create the lock file %s'
            % (tmp_path / '.log.lock'), 'Read-only file system', 'pass another --log_dir')
  assert not os.path.exists(str(tmp_path / 'log'))


# ---------------------------------------------------------------- training
def test_a_second_training_is_refused_at_once_and_touches_nothing(tmp_path):
  log_dir = tmp_path / 'log'
  log_dir.mkdir()
  (log_dir / 'checkpoint').write_text('model_checkpoint_path: "model.ckpt-8"\n')
  (log_dir / 'model.ckpt-8.index').write_bytes(b'the first run\'s')
  before = fingerprint(str(log_dir))
  with locks.hold(str(log_dir), 'a training', '--log_dir'):
    started = time.time()
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO, 'train_flowers.py'), '--log_dir', str(log_dir),
         '--dataset_dir', str(tmp_path / 'no_records')],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
    seconds = time.time() - started
  assert fingerprint(str(log_dir)) == before
  assert os.listdir(str(tmp_path)) == ['log']
  one_error(proc.returncode, proc.stderr, '%s is in use by a training (pid %d on %s since '
            % (log_dir, os.getpid(), socket.gethostname()), 'pass another --log_dir')
  assert seconds < 60  # the start-up of Python and TensorFlow; no graph was built
  assert not proc.stdout


def test_train_holds_the_lock_for_the_call_and_lets_go_on_return_or_error(tmp_path,
                                                                         monkeypatch):
  log_dir = str(tmp_path / 'log')
  seen = []

  def fake_run(settings, master=''):
    seen.append(locks.read_holder(locks.beside(settings.log_dir)))
    if len(seen) == 2:
      raise UsageError('the second call fails')
    return {'global_step': 1}
  monkeypatch.setattr(train_flowers, 'run_training', fake_run)
  assert train_flowers.train(**train_flags(str(tmp_path), log_dir)) == {'global_step': 1}
  assert os.listdir(str(tmp_path)) == []
  with pytest.raises(UsageError, match='the second call fails'):
    train_flowers.train(**train_flags(str(tmp_path), log_dir))
  assert os.listdir(str(tmp_path)) == []
  assert [(h['task'], h['pid']) for h in seen] == [('a training', os.getpid())] * 2


@pytest.mark.parametrize('job_name, task_index, locked', [
    ('worker', 0, True), ('worker', 1, False), ('ps', 0, False)])
def test_only_a_clusters_chief_locks_the_log_dir(tmp_path, monkeypatch, job_name, task_index,
                                                 locked):
  log_dir = str(tmp_path / 'log')
  settings = train_settings(str(tmp_path), log_dir, ps_hosts='localhost:1',
                            worker_hosts='localhost:2,localhost:3', job_name=job_name,
                            task_index=task_index)
  monkeypatch.setattr(cluster, 'run_task', lambda config, train_fn: os.path.exists(
      locks.beside(log_dir)))
  assert start.run_task(settings, None) == locked


# ---------------------------------------------------------------- other writers
def test_a_second_cache_pass_into_one_key_waits_then_reads_the_first_ones_cache(tmp_path,
                                                                               capfd):
  cache_dir = str(tmp_path / 'caches')
  key = {'checkpoint_sha256': 'a', 'image_size': 1, 'batch_size': 4}
  vectors = np.ones((3, bottlenecks.VECTOR_SIZE), np.float32), np.arange(3, dtype=np.int64)
  computing, results = threading.Event(), {}

  def slow(todo, commit):
    computing.set()
    time.sleep(1.5)  # the second pass starts meanwhile
    (chunk,) = todo
    commit(chunk, *vectors)

  def never(*unused):
    raise AssertionError('the second pass computed the cache again')

  def first():
    results['first'] = bottlenecks.cached(cache_dir, key, {'train': 3}, slow)
  thread = threading.Thread(target=first)
  thread.start()
  assert computing.wait(60)
  second = bottlenecks.cached(cache_dir, key, {'train': 3}, never)
  thread.join(60)
  np.testing.assert_array_equal(second['train'][0], vectors[0])
  assert 'first' in results
  err = capfd.readouterr().err
  assert 'Waiting for a bottleneck cache pass (pid %d ' % os.getpid() in err
  assert '%s.' % os.path.join(cache_dir, bottlenecks.key_id(key)) in err
  assert sorted(os.listdir(cache_dir)) == [bottlenecks.key_id(key)]  # no lock file left


def test_a_second_export_into_one_folder_is_refused_before_any_work(tmp_path, capsys):
  output_dir = str(tmp_path / 'export')
  with locks.hold(output_dir, 'an export', '--output_dir'):
    code = export_flowers.main(['--log_dir', str(tmp_path / 'no_log'),
                                '--output_dir', output_dir])
  one_error(code, capsys.readouterr().err, '%s is in use by an export (pid %d '
            % (output_dir, os.getpid()), 'or pass another --output_dir')
  assert os.listdir(str(tmp_path)) == []


def test_the_demo_removes_no_log_a_training_writes(tmp_path, capsys):
  log = tmp_path / 'run' / 'log'
  log.mkdir(parents=True)
  (log / 'checkpoint').write_text('model_checkpoint_path: "model.ckpt-3"\n')
  with locks.hold(str(log), 'a training', '--log_dir'):
    code = demo.main(['--work_dir', str(tmp_path / 'run')])
  one_error(code, capsys.readouterr().err, '%s is in use by a training (pid %d '
            % (log, os.getpid()), 'pass another --work_dir')
  assert sorted(glob.glob(str(tmp_path / 'run' / '*'))) == [str(log)]
  assert os.listdir(str(log)) == ['checkpoint']
