# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""demo.py end to end on a tiny demo set: every stage runs and reports."""
import os
import re
import shlex

import demo
import eval_flowers
import export_flowers
import predict_flowers


def test_demo_shows_transfer_offline(tmp_path, capsys, monkeypatch):
  monkeypatch.chdir(tmp_path)  # no ./flower_photos, no checkpoint here
  code = demo.main(['--work_dir', 'run', '--demo_images_per_class', '6', '--validation_size',
                    '10', '--image_size', '107', '--batch_size', '4',
                    '--source_images_per_class', '6', '--source_epochs', '1',
                    '--head_epochs', '3', '--fine_tune_epochs', '1'])
  out = capsys.readouterr().out
  assert code == 0
  assert 'drawing the embedded demo set' in out
  assert 'a stand-in for ImageNet' in out
  # The table: one row a run, each with its accuracy and wall time.
  rows = re.findall(r'^(from scratch, \d+ epochs|head only, from cached bottlenecks|'
                    r'head first, then from Mixed_7a) +([01]\.\d{3}) +(\d+) s$', out, re.M)
  assert [name.split(',')[0] for name, _, _ in rows] == [
      'from scratch', 'head only', 'head first']
  assert all(0 <= float(acc) <= 1 and int(secs) > 0 for _, acc, secs in rows)
  for name in ('predictions.png', 'confusion_matrix.png'):
    assert os.path.isfile(os.path.join('run', 'log_eval', name))
  # The fast recipe's model, its two phases in one log: the head at step 0, then one
  # epoch of 20 images in batches of 4.
  saved = os.listdir(os.path.join('run', 'log'))
  assert 'model.ckpt-0.index' in saved and 'model.ckpt-5.index' in saved
  assert os.path.isfile(os.path.join('run', 'log_eval_head', 'confusion_matrix.png'))
  assert 'tensorboard --logdir run' in out

  # It ends with the commands that use its model; they work as printed.
  commands = out[out.index('Use the model'):].splitlines()[1:]
  mains = {'predict_flowers.py': predict_flowers.main, 'eval_flowers.py': eval_flowers.main,
           'export_flowers.py': export_flowers.main}
  assert [shlex.split(c)[1] for c in commands] == [
      'predict_flowers.py', 'eval_flowers.py', 'export_flowers.py']
  for command in commands:
    argv = shlex.split(command)
    assert argv[0] == 'python' and mains[argv[1]](argv[2:]) == 0, command
  printed = capsys.readouterr()
  assert printed.out.count(os.path.join('run', 'photos', 'daisy')) == 6  # one line a photo
  assert os.path.isfile(os.path.join('run', 'export', 'saved_model', '1', 'saved_model.pb'))
