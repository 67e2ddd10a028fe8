# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The commands as Python functions: keywords named like the flags, the same checks."""
import os
import re
import signal
import threading

import pytest

import create_tfrecord
import eval_flowers
import export_flowers
import predict_flowers
import train_flowers
from tiny_data import HEADS_ONLY, REPO, train_flags
from transfer.errors import UsageError
from transfer.training import control, signals


def readme_snippet():
  with open(os.path.join(REPO, 'README.md')) as f:
    return re.search(r'## From Python.*?```python\n(.*?)```', f.read(), re.S).group(1)


def test_the_readme_snippet_runs_as_written(tmp_path, monkeypatch, capsys, small_network):
  monkeypatch.chdir(tmp_path)
  exec(compile(readme_snippet(), 'README.md', 'exec'), {})  # pylint: disable=exec-used
  out = capsys.readouterr().out
  assert re.search(r'^step 3, loss \d', out, re.M), out  # 15 training photos, batches of 5
  assert re.search(r'^validation accuracy 0\.\d{3}$', out, re.M), out
  predicted = re.findall(r'^py_demo/data/demo_photos/daisy/\S+\.jpg \[', out, re.M)
  assert len(predicted) == 4, out
  assert out.rstrip().endswith('argument --batch_size: must be a positive integer, got 0')


@pytest.mark.parametrize('function', [train_flowers.train, eval_flowers.evaluate,
                                      export_flowers.export, create_tfrecord.convert,
                                      lambda **flags: predict_flowers.predict(['x.jpg'], **flags)])
def test_an_unknown_keyword_is_a_type_error_naming_it(function):
  with pytest.raises(TypeError, match="unexpected keyword argument 'batch_sise'"):
    function(batch_sise=4)


@pytest.mark.parametrize('argv', [
    ['--batch_size', '0'],
    ['--optimizer', 'adam', '--momentum', '0.5'],
    ['--learning_rate_decay_type', 'fixed', '--num_epochs_before_decay', '3'],
    ['--num_epochs', '0'],
    ['--fine_tune_from', 'Mixed_9z'],
    ['--device', 'tpu'],
])
def test_a_bad_keyword_raises_the_line_the_command_prints(argv, capsys):
  with pytest.raises(SystemExit) as exit_info:
    train_flowers.main(argv)
  assert exit_info.value.code == 1
  line = capsys.readouterr().err.strip()
  keywords = {argv[i].lstrip('-'): argv[i + 1] for i in range(0, len(argv), 2)}
  with pytest.raises(UsageError) as error:
    train_flowers.make_settings(**keywords)
  assert isinstance(error.value, ValueError)
  assert line == 'error: %s (see %s --help)' % (error.value, os.path.basename(
      train_flowers.build_parser().prog)), line


def test_keywords_go_through_the_flag_types():
  assert train_flowers.make_settings(batch_size='4') == train_flowers.make_settings(batch_size=4)
  settings = train_flowers.make_settings(initial_learning_rate=1e-5, from_scratch=True,
                                         optimizer='rmsprop')
  assert settings.learning_rate.initial_learning_rate == 1e-5 and settings.from_scratch
  assert settings.optimizer.rmsprop_decay == 0.9  # TF-slim's default, filled when built
  with pytest.raises(UsageError, match='invalid int value'):
    train_flowers.make_settings(seed=1.5)
  with pytest.raises(UsageError, match='takes True or False'):
    train_flowers.make_settings(from_scratch='yes')


def test_settings_are_immutable():
  settings = train_flowers.make_settings()
  with pytest.raises(AttributeError):
    settings.batch_size = 3
  with pytest.raises(AttributeError):
    settings.optimizer.optimizer = 'sgd'


def test_ctrl_c_in_a_python_call_raises_keyboard_interrupt_after_saving(records, tmp_path,
                                                                       monkeypatch,
                                                                       small_network):
  real = control.TrainingControl.step_done

  def interrupt_after_the_first_step(self, sess, step, loss):
    real(self, sess, step, loss)
    if step == 1:
      os.kill(os.getpid(), signal.SIGINT)
  monkeypatch.setattr(control.TrainingControl, 'step_done', interrupt_after_the_first_step)
  log_dir = str(tmp_path / 'log')
  with pytest.raises(KeyboardInterrupt, match='stopped by SIGINT after step 1; saved'):
    train_flowers.train(**train_flags(records, log_dir, from_scratch=True, num_epochs=5,
                                      **HEADS_ONLY))
  assert os.path.exists(os.path.join(log_dir, 'model.ckpt-1.index'))
  assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored


def test_stop_signals_install_no_handler_outside_the_main_thread():
  before = signal.getsignal(signal.SIGINT)
  failures = []

  def enter_and_leave():
    try:
      with signals.StopSignals() as stop:
        stop.defer()
    except Exception as e:  # pylint: disable=broad-except
      failures.append(e)
  thread = threading.Thread(target=enter_and_leave)
  thread.start()
  thread.join()
  assert not failures
  assert signal.getsignal(signal.SIGINT) is before
