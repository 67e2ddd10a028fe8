# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The evaluation script on the checkpoint the training fixture leaves."""
import os

import numpy as np
import pytest

import eval_flowers
import tiny_data
from tf_compat import tf
from tiny_data import IMAGE_SIZE, SPEC, command_line
from transfer import checkpoints, locks, pictures

# Its tests share module fixtures: pytest-xdist runs them in one worker.
pytestmark = pytest.mark.xdist_group('eval_flowers')


def test_the_group_keeps_the_module_on_one_worker(request):
  # pytest 9.2 with pytest-xdist 3.8 dropped the groups (see requirements-tf2.txt): each
  # worker then made the module fixtures again. A grouped test's id names its group.
  if getattr(request.config.option, 'dist', 'no') == 'loadgroup':
    assert request.node.nodeid.endswith('@eval_flowers'), request.node.nodeid


def eval_flags(records, log_dir, log_eval, **extra):
  """eval_flowers.evaluate's keywords; `extra` adds flags or overrides these."""
  return dict(dict(dataset_dir=records, log_dir=log_dir, log_eval=log_eval, image_size=IMAGE_SIZE,
                   batch_size=3, num_epochs=2), **extra)


def eval_argv(records, log_dir, log_eval, **extra):
  """The same as a command line."""
  return command_line(eval_flags(records, log_dir, log_eval, **extra))


@pytest.fixture(scope='module')
def evaluated(records, trained, tmp_path_factory):
  """Two passes over the 8 validation images in batches of 3: a batch holds both passes."""
  log_eval = str(tmp_path_factory.mktemp('eval') / 'log_eval')
  shown = {}
  real = pictures.save_predictions

  def save_predictions(path, images, true_names, predicted_names):
    shown.update(images=images, true_names=true_names)
    return real(path, images, true_names, predicted_names)
  # As while a training writes the log dir: eval only reads it, and takes no lock.
  # (wait: pytest-xdist without --dist loadgroup makes this fixture in each worker.)
  with pytest.MonkeyPatch.context() as patch, \
      locks.hold(trained['log_dir'], 'a training', '--log_dir', wait=True):
    patch.setattr(pictures, 'save_predictions', save_predictions)
    result = eval_flowers.evaluate(**eval_flags(records, trained['log_dir'], log_eval))
    holder = locks.read_holder(locks.beside(trained['log_dir']))
  return dict(result=result, log_eval=log_eval, holder=holder, shown=shown)


def test_eval_runs_while_a_training_holds_the_log_dir(evaluated):
  assert (evaluated['holder']['task'], evaluated['holder']['pid']) == ('a training', os.getpid())
  assert evaluated['result']['confusion'].sum() == 8  # each image once over the two passes


def test_eval_accuracy_is_close_to_training_accuracy(trained, evaluated):
  # The batch-norm trap: moving averages that never settled would put
  # is_training=False evaluation far below what training reached.
  train_accuracy = trained['resumed']['accuracy']
  assert train_accuracy >= 0.8
  # One-sided: the streaming training accuracy counts distorted images, with
  # dropout, so evaluation may well beat it (TF 2.x: 1.0 against 0.81).
  assert evaluated['result']['accuracy'] >= train_accuracy - 0.10, (
      evaluated['result']['accuracy'], train_accuracy)


def validation_labels(records):
  """The labels of the validation records, read straight from the files, in file order."""
  labels = []
  for path in sorted(tf.gfile.Glob(os.path.join(records, 'flowers_validation_*.tfrecord'))):
    for record in tf.python_io.tf_record_iterator(path):
      example = tf.train.Example.FromString(record)
      labels.append(example.features.feature['image/class/label'].int64_list.value[0])
  return labels


def test_eval_counts_each_validation_image_once_over_two_passes(records, evaluated):
  confusion = evaluated['result']['confusion']
  labels = validation_labels(records)
  assert confusion.shape == (2, 2)
  assert confusion.sum() == len(labels) == 8
  assert confusion.sum(axis=1).tolist() == [labels.count(0), labels.count(1)]
  accuracy = np.trace(confusion) / confusion.sum()
  assert evaluated['result']['accuracy'] == pytest.approx(accuracy, abs=1e-6)
  # Top-k holds at least the top-1 hits (with 2 classes k is 2, so "== 1" would hold trivially).
  assert evaluated['result']['top_k_accuracy'] >= evaluated['result']['accuracy']


def test_the_predictions_picture_shows_the_first_images(records, evaluated):
  # All 8 (fewer than the 10 shown), in file order: not the last, partial batch.
  names = {0: 'blue', 1: 'red'}
  assert evaluated['shown']['true_names'] == [names[i] for i in validation_labels(records)]
  assert evaluated['shown']['images'].shape == (8, IMAGE_SIZE, IMAGE_SIZE, 3)


def test_eval_writes_pictures_and_summaries(evaluated):
  for name in ('predictions.png', 'confusion_matrix.png'):
    path = os.path.join(evaluated['log_eval'], name)
    assert path in evaluated['result']['pictures']
    with open(path, 'rb') as f:
      assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    assert os.path.getsize(path) > 5000
  tags = set()
  for path in tf.gfile.Glob(os.path.join(evaluated['log_eval'], 'events.out.tfevents.*')):
    for event in tf.train.summary_iterator(path):
      tags.update(v.tag for v in event.summary.value)
  assert 'Validation_Accuracy' in tags
  assert 'Validation_Top_2_Accuracy' in tags  # k = min(5, classes)


def test_eval_command_prints_the_final_line(records, trained, tmp_path, capfd):
  code = eval_flowers.main(eval_argv(records, trained['log_dir'], str(tmp_path / 'ev'),
                                     num_epochs=1))
  out = capfd.readouterr().out.strip().splitlines()
  assert code == 0
  assert out[-1].startswith('Final Streaming Accuracy: 0.') or out[-1] == (
      'Final Streaming Accuracy: 1.0000')
  assert len(out[-1].split(': ')[1]) == 6


def test_eval_without_checkpoint_says_to_train_first(records, tmp_path, capsys):
  code = eval_flowers.main(eval_argv(records, str(tmp_path / 'empty'), str(tmp_path / 'ev')))
  err = capsys.readouterr().err.strip()
  assert code == 1 and len(err.splitlines()) == 1
  assert 'train_flowers.py' in err


CHECKED = ('InceptionResnetV2/Conv2d_1a_3x3/weights',
           'InceptionResnetV2/Conv2d_1a_3x3/BatchNorm/moving_mean')


def record_restores(monkeypatch):
  """Wraps the init_fn eval builds: returns {name: value or None} of what it restored."""
  seen = {}
  real = checkpoints.init_fn

  def recording(checkpoint, variables, fix):
    init_fn = real(checkpoint, variables, fix)
    if init_fn is None:
      return None

    def init_and_record(sess):
      init_fn(sess)
      seen.update({v.op.name: None for v in variables})
      picked = [v for v in variables if v.op.name in CHECKED]
      seen.update(zip([v.op.name for v in picked], sess.run(picked)))
    return init_and_record

  monkeypatch.setattr(checkpoints, 'init_fn', recording)
  return seen


def test_imagenet_baseline_restores_all_but_the_new_heads(records, spec_checkpoint, tmp_path,
                                                          monkeypatch):
  seen = record_restores(monkeypatch)
  result = eval_flowers.evaluate(**eval_flags(
      records, str(tmp_path / 'none'), str(tmp_path / 'ev'), imagenet_baseline=True,
      imagenet_checkpoint_file=spec_checkpoint, num_epochs=1))
  assert result['confusion'].sum() == 8
  heads = ('InceptionResnetV2/Logits/', 'InceptionResnetV2/AuxLogits/')
  kept = [name for name, _ in tiny_data.read_spec(SPEC) if not name.startswith(heads)]
  assert sorted(seen) == sorted(kept) and len(kept) == 896
  reader = tf.train.load_checkpoint(spec_checkpoint)
  for name in CHECKED:
    np.testing.assert_array_equal(seen[name], reader.get_tensor(name))


def test_clean_baseline_restores_nothing(records, tmp_path, monkeypatch):
  seen = record_restores(monkeypatch)
  # No log_dir and no checkpoint: anything but the clean baseline would stop here.
  result = eval_flowers.evaluate(**eval_flags(
      records, str(tmp_path / 'none'), str(tmp_path / 'ev'), clean_baseline=True, num_epochs=1))
  assert result['confusion'].sum() == 8 and seen == {}


def test_checkpoint_file_is_the_one_evaluated(records, trained, tmp_path):
  # The first run's checkpoint (step 24), while the training log ends at step 28.
  log_eval = str(tmp_path / 'ev')
  eval_flowers.evaluate(**eval_flags(records, str(tmp_path / 'none'), log_eval,
                                     checkpoint_file=trained['first_checkpoint'], num_epochs=1))
  steps = set()
  for path in tf.gfile.Glob(os.path.join(log_eval, 'events.out.tfevents.*')):
    for event in tf.train.summary_iterator(path):
      if any(v.tag == 'Validation_Accuracy' for v in event.summary.value):
        steps.add(event.step)
  # The restored step counts on from 24: 8 images in batches of 3 are 3 steps.
  assert steps == {27}, steps
