# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""LOG_DIR/run.json: one record of a run, its sections written whole, earlier log dirs read."""
import json
import os

import pytest

from transfer import run_record


def write(path, value):
  with open(path, 'w') as f:
    f.write(value if isinstance(value, str) else json.dumps(value))


def test_each_section_is_replaced_whole_and_the_other_kept(tmp_path):
  log_dir = str(tmp_path / 'log')
  run_record.write_section(log_dir, 'schedule', {'batch_size': 8, 'head_checkpoint': 'x'})
  run_record.write_section(log_dir, 'model', {'image_size': 107})
  run_record.write_section(log_dir, 'schedule', {'batch_size': 4})
  with open(os.path.join(log_dir, 'run.json')) as f:
    assert json.load(f) == {'schedule': {'batch_size': 4}, 'model': {'image_size': 107}}
  assert run_record.read_section(log_dir, 'model') == (
      {'image_size': 107}, os.path.join(log_dir, 'run.json'))
  assert os.listdir(log_dir) == ['run.json']  # no temporary left


def test_a_log_dir_of_an_earlier_version_is_read_and_moves_whole(tmp_path):
  log_dir = str(tmp_path)
  write(os.path.join(log_dir, 'schedule.json'), {'batch_size': 8})
  write(os.path.join(log_dir, 'model_settings.json'), {'image_size': 299})
  assert run_record.read_section(log_dir, 'schedule') == (
      {'batch_size': 8}, os.path.join(log_dir, 'schedule.json'))
  run_record.write_section(log_dir, 'schedule', {'batch_size': 8, 'num_epochs': 3})
  with open(os.path.join(log_dir, 'run.json')) as f:
    assert json.load(f) == {'schedule': {'batch_size': 8, 'num_epochs': 3},
                            'model': {'image_size': 299}}
  assert run_record.read_section(log_dir, 'model')[1] == os.path.join(log_dir, 'run.json')


def test_no_record_is_none(tmp_path):
  assert run_record.read_section(str(tmp_path), 'model') == (None, None)


@pytest.mark.parametrize('name', ['run.json', 'schedule.json'])
def test_a_damaged_file_is_named(tmp_path, name):
  write(str(tmp_path / name), '{"schedule": ')
  with pytest.raises(ValueError, match=r'%s is damaged \(not valid JSON' % name):
    run_record.read_section(str(tmp_path), 'schedule')
