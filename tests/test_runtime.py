# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The speed flags: device, threads, mixed precision, and their session set-up."""
import numpy as np
import pytest

import eval_flowers
import shared_results
import tf_compat
import train_flowers
from test_train_flowers import build_graph
from tf_compat import tf
from tiny_data import HEADS_ONLY, command_settings, train_flags, train_settings
from transfer import runtime
from transfer.errors import UsageError

rewriter_config_pb2 = runtime.rewriter_config_pb2

ON = rewriter_config_pb2.RewriterConfig.ON


def speed(**flags):
  """The RuntimeSettings train_flowers makes of the flags."""
  return train_flowers.make_settings(**flags).runtime


@pytest.fixture
def warnings(monkeypatch):
  """The warnings runtime logs, with its warn-once memory cleared."""
  logged = []
  monkeypatch.setattr(runtime, '_warned', set())
  monkeypatch.setattr(runtime.tf.logging, 'warning', lambda msg, *a: logged.append(msg % a))
  return logged


@pytest.mark.parametrize('module', [train_flowers, eval_flowers])
def test_both_scripts_take_the_speed_flags(module):
  settings = command_settings(module, device='cpu', intra_op_threads=2, inter_op_threads=1)
  config = runtime.session_config(settings.runtime)
  assert config.intra_op_parallelism_threads == 2
  assert config.inter_op_parallelism_threads == 1
  assert config.device_count['GPU'] == 0  # --device cpu hides any GPU
  assert config.allow_soft_placement and config.gpu_options.allow_growth
  defaults = runtime.session_config(command_settings(module).runtime)
  assert defaults.intra_op_parallelism_threads == defaults.inter_op_parallelism_threads == 0


@pytest.mark.parametrize('value, disabled', [('on', False), ('off', True)])
def test_graph_optimizations_flag_sets_the_rewriter(value, disabled):
  rewrites = runtime.session_config(speed(graph_optimizations=value)).graph_options.rewrite_options
  assert rewrites.disable_meta_optimizer == disabled


def test_mixed_precision_keeps_graph_optimizations_on(monkeypatch):
  monkeypatch.setattr(runtime, 'precision_mode', lambda settings=None: 'float16')
  rewrites = runtime.session_config(speed(graph_optimizations='off')).graph_options.rewrite_options
  assert not rewrites.disable_meta_optimizer and rewrites.auto_mixed_precision == ON


def test_negative_threads_are_refused(capsys):
  with pytest.raises(UsageError, match='must be 0 or more'):
    train_flowers.make_settings(intra_op_threads=-1)
  with pytest.raises(SystemExit):
    train_flowers.main(['--intra_op_threads', '-1'])
  assert 'must be 0 or more' in capsys.readouterr().err


def test_session_config_without_flags_keeps_the_old_behaviour():
  # Benchmarks and tests call it without arguments.
  config = runtime.session_config()
  assert config.allow_soft_placement and config.gpu_options.allow_growth
  assert config.intra_op_parallelism_threads == 0


def test_gpu_without_a_gpu_is_a_one_line_error(records, tmp_path, capsys):
  if runtime.gpu_present():
    pytest.skip('this machine has a GPU')
  code = train_flowers.main(['--dataset_dir', records, '--log_dir', str(tmp_path / 'log'),
                             '--from_scratch', '--device', 'gpu'])
  err = capsys.readouterr().err.strip().splitlines()
  assert code == 1
  assert len(err) == 1 and err[0].startswith('error: --device gpu:'), err
  assert '--device cpu' in err[0]
  assert not (tmp_path / 'log').exists()


def test_mixed_precision_without_bf16_or_gpu_warns_once_and_stays_float32(
    monkeypatch, warnings):
  monkeypatch.setattr(runtime, 'cpu_has_bf16', lambda flags=None: False)
  monkeypatch.setattr(runtime, 'gpu_present', lambda: False)
  settings = speed(mixed_precision=True)
  for _ in range(3):
    config = runtime.session_config(settings)
  rewrites = config.graph_options.rewrite_options
  assert rewrites.auto_mixed_precision != ON
  assert runtime.precision_mode(settings) is None
  assert len(warnings) == 1 and 'float32' in warnings[0]
  optimizer = tf.train.AdamOptimizer()
  assert runtime.wrap_optimizer(optimizer, settings) is optimizer


def test_bf16_cpu_turns_on_the_onednn_rewrite(monkeypatch, warnings):
  if runtime.BF16_REWRITE not in rewriter_config_pb2.RewriterConfig.DESCRIPTOR.fields_by_name:
    pytest.skip('TensorFlow %s has no oneDNN bfloat16 rewrite' % tf.__version__)
  monkeypatch.setattr(runtime, 'cpu_has_bf16', lambda flags=None: True)
  monkeypatch.setattr(runtime, 'onednn_enabled', lambda: True)
  monkeypatch.setattr(runtime, 'gpu_present', lambda: False)
  settings = speed(mixed_precision=True)
  config = runtime.session_config(settings)
  assert getattr(config.graph_options.rewrite_options, runtime.BF16_REWRITE) == ON
  assert runtime.precision_mode(settings) == 'bfloat16' and not warnings
  optimizer = tf.train.AdamOptimizer()
  assert runtime.wrap_optimizer(optimizer, settings) is optimizer  # bf16 needs no loss scale


def test_gpu_mixed_precision_is_float16_with_dynamic_loss_scaling(monkeypatch):
  monkeypatch.setattr(runtime, 'gpu_present', lambda: True)
  settings = speed(mixed_precision=True)
  config = runtime.session_config(settings)
  assert config.graph_options.rewrite_options.auto_mixed_precision == ON
  assert 'GPU' not in config.device_count  # auto keeps the GPU
  # The loss-scaled optimizer must still train: it unscales the gradients.
  with tf.Graph().as_default():
    w = tf.Variable(3.0)
    loss = tf.square(w - 1.0)
    optimizer = runtime.wrap_optimizer(tf.train.GradientDescentOptimizer(0.1), settings)
    assert optimizer is not None and not isinstance(optimizer, tf.train.GradientDescentOptimizer)
    step = optimizer.minimize(loss)
    with tf.Session(config=tf.ConfigProto(device_count={'GPU': 0})) as sess:
      sess.run(tf.global_variables_initializer())
      for _ in range(30):
        sess.run(step)
      assert abs(sess.run(w) - 1.0) < 0.01


def test_bf16_flags_are_read_from_cpuinfo(tmp_path):
  cpuinfo = tmp_path / 'cpuinfo'
  cpuinfo.write_text('processor\t: 0\nflags\t\t: fpu sse avx2 amx_bf16 amx_tile\n')
  assert runtime.cpu_has_bf16(runtime.cpu_flags(str(cpuinfo)))
  cpuinfo.write_text('processor\t: 0\nflags\t\t: fpu sse avx2 fma\n')
  assert not runtime.cpu_has_bf16(runtime.cpu_flags(str(cpuinfo)))
  assert runtime.cpu_flags(str(tmp_path / 'missing')) == set()


def test_input_pipeline_stays_on_the_cpu(records, tmp_path):
  settings = train_settings(records, str(tmp_path / 'log'), from_scratch=True, **HEADS_ONLY)
  with tf.Graph().as_default() as graph:
    build_graph(settings)
  readers = [op for op in graph.get_operations()
             if op.type in ('TFRecordReaderV2', 'ParseSingleExample', 'ParseExample',
                            'ParseExampleV2', 'QueueDequeueUpToV2', 'DecodeJpeg')]
  assert readers
  assert {op.device for op in readers} == {'/device:CPU:0'}


def test_onednn_is_on_for_tensorflow_2_unless_switched_off():
  # tf_compat sets TF_ENABLE_ONEDNN_OPTS=1 before TensorFlow loads, only on 2.x.
  if not tf_compat.IS_TF2:
    pytest.skip('TensorFlow %s has no oneDNN switch' % tf.__version__)
  import os
  assert runtime.onednn_enabled() == (os.environ.get('TF_ENABLE_ONEDNN_OPTS') != '0')


@pytest.mark.skipif(not runtime.cpu_has_bf16(),
                    reason='this CPU has no AVX512_BF16/AMX: bfloat16 would run emulated')
def test_bf16_training_reaches_the_float32_accuracy(records, trained, tmp_path):
  if runtime.precision_mode(speed(mixed_precision=True, device='cpu')) != 'bfloat16':
    pytest.skip('TensorFlow %s cannot run bfloat16 here (needs 2.x with oneDNN)'
                % tf.__version__)
  # The float32 run is the shared one: the same flags, 6 epochs (its first checkpoint), the
  # same batches in the same order (read deterministically, whatever the machine's load).
  log_dir = str(tmp_path / 'bf16')
  train_flowers.train(**train_flags(records, log_dir, from_scratch=True, num_epochs=6,
                                    mixed_precision=True, device='cpu',
                                    **dict(shared_results.TRAINING,
                                           **shared_results.SAME_EVERY_RUN)))
  accuracies = {}
  for name, checkpoint, extra in (('fp32', trained['first_checkpoint'], {}),
                                  ('bf16', tf.train.latest_checkpoint(log_dir),
                                   {'mixed_precision': True})):
    accuracies[name] = eval_flowers.evaluate(
        checkpoint_file=checkpoint, log_eval=str(tmp_path / (name + '_eval')), batch_size=4,
        num_epochs=1, device='cpu', **extra)['accuracy']
  # The runs differ in precision only: two of the eight validation images are allowed
  # between them. (Reading in the threads' order, one run fell to 3 of 8: every image one
  # class.)
  assert accuracies['bf16'] >= accuracies['fp32'] - 2 / 8.0, accuracies
  assert np.isfinite(list(accuracies.values())).all()
