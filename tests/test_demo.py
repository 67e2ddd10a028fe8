# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""demo.py end to end on a tiny demo set: every stage runs and reports, its log says only
what is so, and the commands it prints work as printed in a new shell."""
import os
import re
import shlex
import subprocess
import sys

import pytest

import demo
import eval_flowers
import export_flowers
from tiny_data import REPO

# TensorFlow's own lines, shown only with --verbose.
TENSORFLOW_LINES = ('Running local_init_op', 'Starting standard services',
                    'Starting queue runners', 'global_step/sec', 'Restoring parameters from')
# Lines that were not so: nothing left to train after a head phase, a schedule
# "only moved" when fine-tuning follows a head-only run.
UNTRUE_LINES = ('nothing to train', 'the same schedule, only the last step moves')
# A new shell: no virtual env active, no project Python on the PATH.
NEW_SHELL = {'PATH': '/usr/bin:/bin', 'HOME': os.environ.get('HOME', '/'),
             'TRANSFER_GRAPH_OPTIMIZATIONS': os.environ['TRANSFER_GRAPH_OPTIMIZATIONS']}


def check_log(lines):
  """Fails on a line of the default output that is TensorFlow's own, untrue or useless."""
  text = '\n'.join(lines)
  for phrase in TENSORFLOW_LINES + UNTRUE_LINES:
    assert phrase not in text, phrase
  # A streaming accuracy right after an epoch's first header comes before any step: 0.
  assert not re.search(r'Epoch:? 1/\d+\n(.*Learning Rate.*\n)?.*Current Streaming Accuracy', text)
  # Advice to set what is already set.
  assert not re.search(r'batch_norm_decay (\S+) averages.*--batch_norm_decay \1\b', text)


def interpreter():
  """The interpreter as the demo must print it when run from the repository's root."""
  inside = os.path.abspath(sys.executable).startswith(os.path.join(REPO, ''))
  return os.path.relpath(sys.executable, REPO) if inside else sys.executable


@pytest.mark.slow
def test_demo_shows_transfer_offline(tmp_path, capsys, caplog, monkeypatch):
  # From the repository's root, as `make demo` runs it, with no real photos or checkpoint.
  monkeypatch.chdir(REPO)
  monkeypatch.setattr(demo, 'REAL_PHOTO_DIRS', (str(tmp_path / 'flower_photos'),))
  work = str(tmp_path / 'run')
  code = demo.main(['--work_dir', work, '--imagenet_checkpoint_file', str(tmp_path / 'absent'),
                    '--demo_images_per_class', '6', '--validation_size', '10',
                    '--image_size', '107', '--batch_size', '4',
                    '--source_images_per_class', '6', '--source_epochs', '1',
                    '--head_epochs', '3', '--fine_tune_epochs', '1'])
  out = capsys.readouterr().out
  assert code == 0
  assert 'drawing the embedded demo set' in out
  assert 'a stand-in for ImageNet' in out
  # The table: one row a run, each with its accuracy and wall time.
  rows = re.findall(r'^(from scratch, \d+ epochs|head only, from cached bottlenecks|'
                    r'head first, then from Mixed_7a, best on validation)'
                    r' +([01]\.\d{3}) +(\d+) s$', out, re.M)
  assert [name.split(',')[0] for name, _, _ in rows] == [
      'from scratch', 'head only', 'head first']
  assert all(0 <= float(acc) <= 1 and int(secs) > 0 for _, acc, secs in rows)
  for name in ('predictions.png', 'confusion_matrix.png'):
    assert os.path.isfile(os.path.join(work, 'log_eval', name))
  # The fast recipe's model, its two phases in one log: the head at step 0, then one
  # epoch of 20 images in batches of 4.
  saved = os.listdir(os.path.join(work, 'log'))
  assert 'model.ckpt-0.index' in saved and 'model.ckpt-5.index' in saved
  assert os.path.isfile(os.path.join(work, 'log_eval_head', 'confusion_matrix.png'))

  # The log (TensorFlow's logger; on the command line it goes to stderr).
  log = [record.getMessage() for record in caplog.records]
  check_log(log)
  head = [i for i, line in enumerate(log) if line.startswith('Head trained')]
  assert len(head) == 1 and log[head[0] + 1].startswith('--num_epochs 0: the run ends with')

  # TensorBoard, then the commands that use the model, each by the interpreter's path.
  program = re.search(r'TensorBoard: +(\S+) --logdir (\S+)$', out, re.M).groups()
  assert os.access(program[0], os.X_OK) and program[1] == work
  commands = out[out.index('Use the model'):].splitlines()[1:]
  assert [shlex.split(c)[:2] for c in commands] == [
      [interpreter(), script] for script in ('predict_flowers.py', 'eval_flowers.py',
                                             'export_flowers.py')]
  # The first runs verbatim in a new shell, from where the demo ran: the interpreter and
  # the paths work there. The others name the same interpreter (above); their flags
  # must parse to the demo's model. (Eval and export from only a log dir run in
  # test_model_settings and test_export_flowers; a run of each here cost minutes.)
  run = subprocess.run(commands[0], shell=True, cwd=REPO, env=NEW_SHELL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
  assert run.returncode == 0, (commands[0], run.stderr)
  assert run.stdout.count(os.path.join(work, 'photos', 'daisy')) == 6  # one line a photo
  check_log(run.stderr.splitlines())
  evaluation, export = [module.settings_from_flags(module.build_parser().parse_args(
      shlex.split(command)[2:])) for command, module in zip(commands[1:], (eval_flowers,
                                                                         export_flowers))]
  assert os.path.abspath(evaluation.log_dir) == os.path.join(work, 'log')
  assert os.path.abspath(export.log_dir) == os.path.join(work, 'log')
  assert os.path.abspath(export.output_dir) == os.path.join(work, 'export')
