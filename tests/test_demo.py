# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""demo.py end to end on a tiny demo set: every stage runs and reports."""
import os

import demo


def test_demo_runs_the_whole_path_offline(tmp_path, capsys, monkeypatch):
  monkeypatch.chdir(tmp_path)  # no ./flower_photos, no checkpoint here
  code = demo.main(['--work_dir', 'run', '--demo_images_per_class', '6', '--validation_size',
                    '10', '--image_size', '107', '--num_epochs', '1', '--batch_size', '4'])
  out = capsys.readouterr().out
  assert code == 0
  assert 'drawing the embedded demo set' in out
  assert 'absent, so this demo trains from scratch' in out
  assert 'Final Streaming Accuracy: ' in out
  for name in ('predictions.png', 'confusion_matrix.png'):
    assert os.path.isfile(os.path.join('run', 'log_eval', name))
  assert any(f.startswith('model.ckpt-5.') for f in os.listdir(os.path.join('run', 'log')))
  assert 'tensorboard --logdir run' in out
