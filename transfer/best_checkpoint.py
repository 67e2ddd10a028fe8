# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""LOG_DIR/best/: the checkpoint of the best validation so far, and which checkpoint a command takes.

Training (transfer/training/model_selection.py) writes the model's variables
(with their moving averages, when kept) into a new folder beside the old best,
then swaps the two by renames:

    LOG_DIR/best.tmp-PID-XXXX  written, then renamed to  LOG_DIR/best.new
    LOG_DIR/best               renamed to                LOG_DIR/best.old
    LOG_DIR/best.new           renamed to                LOG_DIR/best
    LOG_DIR/best.old           removed

A crash at any moment leaves a whole best: `best`, or `best.new` when the crash
came between the two renames. Readers take `best.new` first when it is there;
the next save (or `settle`) finishes the swap. Each folder has its own
`checkpoint` state file (so tf.train.latest_checkpoint(LOG_DIR/best) finds its
checkpoint) and `validation.json`, the scores it was chosen by.

eval_flowers.py, predict_flowers.py and export_flowers.py take `--checkpoint
best|latest` (transfer/flags.py): best by default when LOG_DIR has a best
checkpoint, else the latest; `--checkpoint_file` still wins. `choose` picks
it and says which.
"""
from __future__ import absolute_import, division, print_function

import glob
import json
import os
import shutil

from tf_compat import tf
from transfer import checkpoints, files
from transfer.errors import UsageError

FOLDER = 'best'
NEW, OLD = FOLDER + '.new', FOLDER + '.old'
# The scores the checkpoint in a best folder was chosen by.
INFO = 'validation.json'


def folder(log_dir):
  return os.path.join(log_dir, FOLDER)


def record_dir(checkpoint):
  """The log dir whose run record describes `checkpoint`: its folder, or the one above best/."""
  where = os.path.dirname(checkpoint) or '.'
  if os.path.basename(os.path.normpath(where)) in (FOLDER, NEW):
    return os.path.dirname(os.path.normpath(where)) or '.'
  return where


# ================ WRITING ================
def _remove(path):
  shutil.rmtree(path, ignore_errors=True)


def _swap(log_dir):
  """Moves a whole best.new into place as best; the old best goes."""
  current, new, old = (os.path.join(log_dir, name) for name in (FOLDER, NEW, OLD))
  if os.path.isdir(current):
    _remove(old)
    os.rename(current, old)
  os.rename(new, current)
  _remove(old)


def settle(log_dir):
  """Finishes a swap a crash interrupted, and removes what a crash left half-written."""
  if os.path.isdir(os.path.join(log_dir, NEW)):
    _swap(log_dir)
  _remove(os.path.join(log_dir, OLD))
  for staging in glob.glob(folder(log_dir) + '.tmp-*'):  # files.temp_name's
    _remove(staging)


def save(sess, saver, log_dir, step, info):
  """Replaces LOG_DIR/best with the checkpoint of `saver`'s variables at `step`.

  Args:
    sess: the session holding the values.
    saver: a tf.train.Saver with save_relative_paths=True (see `saver_of`).
    log_dir: the training log folder.
    step: the global step, in the checkpoint's name.
    info: the JSON-able scores it was chosen by, kept beside it.

  Returns:
    The checkpoint's path once it is in LOG_DIR/best.
  """
  settle(log_dir)
  staging = files.temp_name(folder(log_dir))
  os.makedirs(staging)
  try:
    name = os.path.basename(saver.save(sess, os.path.join(staging, 'model.ckpt'),
                                       global_step=step, write_meta_graph=False))
    files.write_json(os.path.join(staging, INFO), info)
    os.rename(staging, os.path.join(log_dir, NEW))
  finally:
    _remove(staging)
  _swap(log_dir)
  return os.path.join(folder(log_dir), name)


def saver_of(variables):
  """A Saver of `variables` that writes a state file valid after its folder is renamed."""
  return tf.train.Saver(variables, save_relative_paths=True, max_to_keep=1,
                        name='best_saver')


# ================ READING ================
def _whole(path):
  """The checkpoint in a best folder, or None."""
  if not os.path.isdir(path):
    return None
  return tf.train.latest_checkpoint(path)


def find(log_dir):
  """The best checkpoint of a log dir, or None: best.new while a swap is unfinished, else best."""
  return _whole(os.path.join(log_dir, NEW)) or _whole(folder(log_dir))


def info_of(checkpoint):
  """The scores beside a best checkpoint ({} when unreadable)."""
  try:
    with open(os.path.join(os.path.dirname(checkpoint), INFO)) as f:
      return json.load(f)
  except (IOError, OSError, ValueError):
    return {}


def describe(checkpoint):
  """'validation accuracy 0.8750 at epoch 3' of a best checkpoint, or ''."""
  info = info_of(checkpoint)
  if 'accuracy' not in info:
    return ''
  return 'validation accuracy %.4f at epoch %s' % (info['accuracy'], info.get('epoch', '?'))


def choose(checkpoint_file, log_dir, which=None):
  """The checkpoint a command uses, and the line that says which.

  Args:
    checkpoint_file: --checkpoint_file; when given, it is the one.
    log_dir: --log_dir.
    which: --checkpoint: 'best', 'latest', or None for best when there is one.

  Returns:
    (checkpoint path, one line naming it; None for --checkpoint_file, the user's own).

  Raises:
    UsageError: for --checkpoint best where LOG_DIR has no best checkpoint, or
      no checkpoint at all.
  """
  if checkpoint_file:
    return checkpoints.find_checkpoint(checkpoint_file, log_dir), None
  best = find(log_dir)
  if which == 'best' and not best:
    raise UsageError('--checkpoint best: %s holds no best checkpoint (%s): train with '
                     'validation (--validation_every_n_epochs) or pass --checkpoint latest'
                     % (log_dir, folder(log_dir)))
  if best and which != 'latest':
    scores = describe(best)
    return best, ('Using the best checkpoint %s%s (--checkpoint latest: the last one).'
                  % (best, ', ' + scores if scores else ''))
  path = checkpoints.find_checkpoint('', log_dir)
  other = ' (--checkpoint best: %s)' % best if best else ''
  return path, 'Using the latest checkpoint %s%s.' % (path, other)
