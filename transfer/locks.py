# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""One writer per folder: an OS lock that dies with its process and names its holder.

`hold(folder, ...)` takes an exclusive `flock` on a lock file, the same kernel
lock the converter always used: the kernel drops it when its process ends in
any way (kill -9, a crash, a power cut), so no lock outlives its run. The
holder writes its pid, host, start time and command into the file, for the
refusal of a second writer to name it; a record found there with no kernel
lock on it belongs to a run that is gone, and the new holder says it takes over.

Where the lock file lives: `.NAME.lock` beside the folder, in its parent
(`beside`). Not inside it: the demo deletes old log dirs and export swaps a new
folder in by rename, and a lock inside would go with the old folder while its
holder still writes. Not in a per-user temporary folder: that is per host (two
machines writing one NFS log dir would not see each other's lock) and cleaners
empty it; beside the folder the lock is on the folder's own file system, for
every host and user that can write there. The converter keeps its lock inside
its output folder (`inside`): that folder is often `.`, whose parent may not be
writable, and nothing replaces it.

A lock file is removed when its holder lets go; a holder that finds the file it
locked removed meanwhile (its last holder let go) locks the new one instead.
"""
from __future__ import absolute_import, division, print_function

import contextlib
import errno
import fcntl
import json
import os
import shlex
import socket
import sys
import time

from transfer import files
from transfer.errors import UsageError

# What flock answers on a file system without locks (some NFS and FUSE mounts).
NO_LOCKS = frozenset([errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP])
_MAX_COMMAND = 200  # characters of the holder's command kept in its record
_warned_no_locks = []  # a warning once a process


class FolderBusy(UsageError):
  """Another process holds the folder's lock; the message names it and the fix."""


def beside(folder):
  """The lock file of `folder`: `.NAME.lock` in its parent (symbolic links resolved)."""
  parent, name = os.path.split(os.path.realpath(folder))
  return os.path.join(parent, '.%s.lock' % name)


def inside(folder, name):
  """A lock file inside `folder`, for a folder that stays (the converter's)."""
  return os.path.join(folder, '.%s.lock' % name)


def _record(task):
  command = ' '.join(shlex.quote(a) for a in [os.path.basename(sys.executable)] + sys.argv)
  if len(command) > _MAX_COMMAND:
    command = command[:_MAX_COMMAND - 3] + '...'
  return {'task': task, 'pid': os.getpid(), 'host': socket.gethostname(),
          'since': time.strftime('%Y-%m-%d %H:%M:%S'), 'command': command}


def _describe(record):
  """'a training (pid 12 on host since 2026-01-02 03:04:05: python train_flowers.py ...)'."""
  if not record:
    return 'another process (which has not written its pid yet)'
  return '%s (pid %s on %s since %s: %s)' % (
      record.get('task', 'another process'), record.get('pid'), record.get('host'),
      record.get('since'), record.get('command'))


def _read_record(fd):
  """The holder's record in the open lock file, or None when empty or half-written."""
  try:
    data = os.pread(fd, 1 << 16, 0)
    return json.loads(data.decode('utf-8')) if data.strip() else None
  except (OSError, ValueError):
    return None


def read_holder(lock_file):
  """The record in `lock_file` (whoever wrote it last), or None; for messages and tests."""
  try:
    fd = os.open(lock_file, os.O_RDONLY)
  except OSError:
    return None
  try:
    return _read_record(fd)
  finally:
    os.close(fd)


def _open(lock_file, flag):
  """Opens (creating) the lock file; one UsageError naming it when it cannot be."""
  parent = os.path.dirname(lock_file)
  try:
    os.makedirs(parent, exist_ok=True)
    return os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
  except OSError as e:
    why = ('%s is a file, not a folder' % parent if isinstance(e, FileExistsError)
           else e.strerror or e)
    raise UsageError('cannot create the lock file %s (%s): pass another %s, in a folder you '
                     'can write to' % (lock_file, why, flag))


def _still_there(fd, lock_file):
  """True when lock_file is still the file fd has open (no holder removed it meanwhile)."""
  try:
    on_disk, opened = os.stat(lock_file), os.fstat(fd)
  except OSError:
    return False
  return (on_disk.st_dev, on_disk.st_ino) == (opened.st_dev, opened.st_ino)


def _warn_no_locks(folder):
  if not _warned_no_locks:
    _warned_no_locks.append(folder)
    print('warning: the file system of %s has no file locks: nothing stops two runs from '
          'writing there at once, so start one at a time (see "One writer a folder" in the '
          'README)' % folder, file=sys.stderr)


def _lock(fd, folder, flag, wait):
  """Takes the kernel lock on fd; False when the file system has none.

  Raises:
    FolderBusy: another process holds it (unless `wait`: then waits for it).
  """
  try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return True
  except BlockingIOError:
    holder = _describe(_read_record(fd))
    if not wait:
      raise FolderBusy('%s is in use by %s: wait for it to finish, or pass another %s'
                       % (folder, holder, flag))
    print('Waiting for %s, which is writing %s.' % (holder, folder), file=sys.stderr)
    fcntl.flock(fd, fcntl.LOCK_EX)  # Ctrl-C still ends the wait
    return True
  except OSError as e:
    if e.errno not in NO_LOCKS:
      raise
    _warn_no_locks(folder)
    return False


def _acquire(lock_file, folder, flag, wait):
  """The open, locked lock file (or None on a file system without locks)."""
  while True:
    fd = _open(lock_file, flag)
    try:
      if not _lock(fd, folder, flag, wait):
        if not os.fstat(fd).st_size:
          files.remove_quietly(lock_file)  # no lock to hold: leave no file either
        os.close(fd)
        return None
    except BaseException:
      os.close(fd)
      raise
    if _still_there(fd, lock_file):
      return fd
    os.close(fd)  # its holder removed it as it let go: lock the file there now


def _release(fd, lock_file):
  """Removes the lock file, then lets go; a file left behind is marked clean (empty)."""
  try:
    os.ftruncate(fd, 0)
    if _still_there(fd, lock_file):
      files.remove_quietly(lock_file)
  except OSError:
    pass
  finally:
    os.close(fd)


@contextlib.contextmanager
def hold(folder, task, flag, wait=False, lock_file=None):
  """Holds the exclusive lock on `folder` while the block runs.

  Args:
    folder: the folder written, as the user named it (for the messages).
    task: what the holder does, for a refusal: 'a training', 'an export', ...
    flag: the flag naming the folder, for the fix: '--log_dir'.
    wait: wait for another holder to let go instead of refusing at once.
    lock_file: the lock file; by default `beside(folder)`.

  Raises:
    FolderBusy: (a UsageError) another process holds the lock, and not `wait`;
      its message names the folder, the holder and the fix.
    UsageError: the lock file cannot be created (a read-only file system ...).
  """
  if '://' in folder:  # gs://, hdfs://: TensorFlow writes there, no OS lock reaches it
    yield
    return
  lock_file = lock_file or beside(folder)
  fd = _acquire(lock_file, folder, flag, wait)
  if fd is None:  # no locks on this file system: warned, go on
    yield
    return
  try:
    gone = _read_record(fd)
    if gone:
      print('Took over %s from %s, which is gone.' % (folder, _describe(gone)),
            file=sys.stderr)
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(_record(task), sort_keys=True).encode('utf-8'), 0)
    yield
  finally:
    _release(fd, lock_file)
