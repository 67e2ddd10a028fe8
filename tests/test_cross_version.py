# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""TensorFlow 1.15 and 2.x agree: the same outputs, and each other's checkpoints.

The checkpoint tests run the other version's venv (.venv for TF 1.15,
.venv-tf2 for TF 2.x) in a subprocess, so that one suite tests both ways;
they skip when that venv is not built.
"""
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import eval_flowers
import outputs_fixture
import train_flowers
from tf_compat import tf
from tiny_data import HEADS_ONLY, IMAGE_SIZE, REPO, command_line

# venv folder -> the make command that builds it.
VENVS = {'.venv': 'make venv', '.venv-tf2': 'make venv TF=2'}
# Like the `trained` fixture; 32 training images make 4 steps an epoch. Each
# resume trains the heads only: every variable still crosses both ways.
TRAINING = dict(batch_size=8, batch_norm_decay=0.8, summary_every_n_steps=2,
                imagenet_checkpoint_file='/nonexistent/x.ckpt', **HEADS_ONLY)
STEPS_PER_EPOCH = 4


def test_outputs_match_the_tf115_fixture():
  stored = np.load(outputs_fixture.PATH)
  got = outputs_fixture.compute_outputs()
  assert sorted(got) == sorted(k for k in stored.files if k != 'tensorflow_version')
  for name, actual in sorted(got.items()):
    expected = stored[name]
    # Relative to each tensor's scale: oneDNN sums in another order, and an
    # element-wise relative error means nothing for the ReLU zeros.
    scale = float(np.abs(expected).max())
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4 * scale, err_msg=name)


def other_python():
  """The python of the venv that is not this one; skips when it is not built."""
  here = os.path.realpath(sys.prefix)
  for folder, command in sorted(VENVS.items()):
    venv = os.path.join(REPO, folder)
    if os.path.realpath(venv) == here:
      continue
    if not os.path.isfile(os.path.join(venv, '.installed')):
      pytest.skip('%s is not built: run `%s` to test checkpoints across TensorFlow versions'
                  % (folder, command))
    return os.path.join(venv, 'bin', 'python')
  pytest.skip('this python (%s) is neither .venv nor .venv-tf2' % sys.prefix)


def run_there(python, script, *argv):
  """Runs a script with the other venv's python; returns its output."""
  # TF 2.x sets TF2_BEHAVIOR=1 in its process, which would switch a TF 1.15
  # child to v2 behaviour; the oneDNN choice is the child's own too.
  env = {k: v for k, v in os.environ.items()
         if k not in ('TF2_BEHAVIOR', 'TF_ENABLE_ONEDNN_OPTS')}
  result = subprocess.run([python, os.path.join(REPO, script)] + list(argv), cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=1200)
  assert result.returncode == 0, result.stderr[-3000:]
  return result.stdout + result.stderr


def train_flags(records, log_dir, epochs):
  return dict(TRAINING, dataset_dir=records, log_dir=log_dir, image_size=IMAGE_SIZE,
              num_epochs=epochs)


def eval_flags(records, log_dir, log_eval):
  return dict(dataset_dir=records, log_dir=log_dir, log_eval=log_eval, image_size=IMAGE_SIZE,
              batch_size=4, num_epochs=1)


def accuracy_in(output):
  found = re.findall(r'Final Streaming Accuracy: ([0-9.]+)', output)
  assert found, output[-3000:]
  return float(found[-1])


def latest_step(log_dir):
  return int(tf.train.latest_checkpoint(log_dir).rsplit('-', 1)[1])


def copy_latest_checkpoint(source_dir, log_dir):
  """Copies only the latest checkpoint; the state file the Supervisor wrote
  holds absolute paths into source_dir, so a new one is written."""
  latest = tf.train.latest_checkpoint(source_dir)
  os.makedirs(log_dir)
  for path in tf.gfile.Glob(latest + '.*'):
    shutil.copy(path, log_dir)
  tf.train.update_checkpoint_state(log_dir, os.path.join(log_dir, os.path.basename(latest)))


def evaluate_here(records, log_dir, log_eval):
  return eval_flowers.evaluate(**eval_flags(records, log_dir, log_eval))['accuracy']


@pytest.mark.slow
def test_checkpoints_move_both_ways_and_evaluate_alike(records, trained, tmp_path):
  # Trained here, resumed there, resumed here again: each version restores what
  # the other one saved, and both evaluate the last checkpoint alike.
  python = other_python()
  log_dir = str(tmp_path / 'log')
  copy_latest_checkpoint(trained['log_dir'], log_dir)
  assert latest_step(log_dir) == 7 * STEPS_PER_EPOCH

  output = run_there(python, 'train_flowers.py', *command_line(train_flags(records, log_dir, 8)))
  assert 'Resuming from' in output
  assert latest_step(log_dir) == 8 * STEPS_PER_EPOCH

  result = train_flowers.train(**train_flags(records, log_dir, 9))
  assert result['global_step'] == latest_step(log_dir) == 9 * STEPS_PER_EPOCH
  assert np.isfinite(result['loss'])

  # Both versions judge the checkpoint alike: same predictions on the same images.
  here = evaluate_here(records, log_dir, str(tmp_path / 'eval_here'))
  there = accuracy_in(run_there(python, 'eval_flowers.py',
                                *command_line(eval_flags(records, log_dir,
                                                         str(tmp_path / 'eval_there')))))
  assert abs(there - here) <= 1 / 8.0, (there, here)
