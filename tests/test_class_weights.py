# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""--class_weights in the losses, and eval's figures for uneven classes."""
import collections

import numpy as np
import pytest

import eval_flowers
import train_flowers
from tf_compat import tf
from tiny_data import train_settings
from transfer import metrics, run_record
from transfer.errors import UsageError
from transfer.training import bottleneck_head, class_weighting, losses, schedule, start

# What resolve reads of a split, for the file and error cases.
Split = collections.namedtuple('Split', ['labels_to_name', 'num_classes', 'data_sources'])
COLOURS = Split({0: 'blue', 1: 'red', 2: 'green'}, 3, [])


def write_records(path, labels):
  with tf.io.TFRecordWriter(path) as writer:
    for label in labels:
      feature = {'image/class/label': tf.train.Feature(int64_list=tf.train.Int64List(
          value=[label]))}
      writer.write(tf.train.Example(features=tf.train.Features(
          feature=feature)).SerializeToString())
  return path


def test_balanced_weights_come_from_the_records_counts(tmp_path):
  shard = write_records(str(tmp_path / 'train.tfrecord'), [0] * 6 + [1] * 3 + [2])
  weights = class_weighting.resolve('balanced', COLOURS._replace(data_sources=[shard]))
  # N / (K n_c): 10 / (3 * 6), 10 / (3 * 3), 10 / (3 * 1).
  np.testing.assert_allclose(weights, [10 / 18., 10 / 9., 10 / 3.])
  assert class_weighting.resolve('none', COLOURS) is None


def test_balanced_counts_the_real_records(records):
  dataset = train_flowers.get_split('train', records)
  counts = class_weighting.records.count_labels(dataset.data_sources)
  assert sum(counts.values()) == dataset.num_samples and len(counts) == dataset.num_classes


def test_a_weights_file_names_every_class(tmp_path):
  path = tmp_path / 'weights.txt'
  path.write_text(u'# rare green\nred:1\nblue: 0.5\n\ngreen:4\n')
  assert class_weighting.resolve(str(path), COLOURS) == (0.5, 1.0, 4.0)
  assert class_weighting.as_map((0.5, 1.0, 4.0), COLOURS) == {'blue': 0.5, 'red': 1.0,
                                                              'green': 4.0}


@pytest.mark.parametrize('text, message', [
    ('red:1\nblue:1\n', 'has no weight for green: add'),
    ('red:1\nblue:1\ngreen:1\npink:2\n', 'line 4: no class pink'),
    ('red:1\nblue:0\ngreen:1\n', 'line 2: the weight of blue must be above 0'),
    ('red:1\nblue:-2\ngreen:1\n', 'the weight of blue must be above 0'),
    ('red 1\n', 'line 1: \'red 1\' is not name:weight'),
])
def test_a_bad_weights_file_is_one_line_naming_it(tmp_path, text, message):
  path = tmp_path / 'weights.txt'
  path.write_text(text)
  with pytest.raises(UsageError, match=message):
    class_weighting.resolve(str(path), COLOURS)


def test_balanced_refuses_a_class_without_training_images(tmp_path):
  shard = write_records(str(tmp_path / 'train.tfrecord'), [0, 0, 1])
  with pytest.raises(UsageError, match='no image of green: add photos'):
    class_weighting.resolve('balanced', COLOURS._replace(data_sources=[shard]))


def test_an_unknown_value_is_a_usage_error(records):
  with pytest.raises(UsageError, match="argument --class_weights: 'balance' is neither none, "
                                       "balanced nor a file"):
    train_settings(records, '/unused', class_weights='balance')


def test_the_command_refuses_a_bad_file_before_any_work(records, tmp_path, capsys):
  path = tmp_path / 'weights.txt'
  path.write_text(u'blue:1\n')
  log_dir = tmp_path / 'log'
  code = train_flowers.main(['--dataset_dir', records, '--log_dir', str(log_dir), '--from_scratch',
                             '--class_weights', str(path)])
  err = capsys.readouterr().err.strip().splitlines()
  assert code == 1 and len(err) == 1 and 'has no weight for red' in err[0], err
  assert not log_dir.exists()


# ---------------------------------------------------------------- the loss
def losses_of(logits, labels, **keywords):
  with tf.Graph().as_default():
    loss = losses.classification_loss(tf.constant(logits), {}, tf.constant(labels), 3,
                                      **keywords)
    plain = tf.losses.softmax_cross_entropy(  # the tutorial's loss, as it always was built
        tf.one_hot(labels, 3), tf.constant(logits),
        label_smoothing=keywords.get('label_smoothing', 0.0), loss_collection=None)
    with tf.Session() as sess:
      return sess.run([loss, plain])


def test_weighted_loss_is_the_mean_of_weighted_examples():
  rng = np.random.RandomState(3)
  logits = rng.normal(0, 2, (8, 3)).astype(np.float32)
  labels = np.array([0, 1, 2, 2, 1, 0, 2, 2])
  weights = (0.5, 1.0, 4.0)
  for eps in (0.0, 0.1):
    weighted, _ = losses_of(logits, labels, label_smoothing=eps, class_weights=weights)
    log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    targets = (1 - eps) * np.eye(3)[labels] + eps / 3
    per_example = -(targets * log_p).sum(1)
    expected = np.mean(np.array(weights)[labels] * per_example)
    assert weighted == pytest.approx(expected, rel=1e-5)
    assert abs(expected - per_example.mean()) > 0.1  # the weights matter here


def test_the_auxiliary_loss_is_weighted_the_same_way():
  rng = np.random.RandomState(6)
  logits, aux = rng.normal(0, 2, (2, 6, 3)).astype(np.float32)
  labels = np.array([0, 1, 2, 2, 1, 0])
  weights = (0.5, 1.0, 4.0)
  with tf.Graph().as_default():
    losses.classification_loss(tf.constant(logits), {'AuxLogits': tf.constant(aux)},
                               tf.constant(labels), 3, aux_loss_weight=0.4,
                               class_weights=weights)
    with tf.Session() as sess:
      main_loss, aux_loss = sess.run(tf.losses.get_losses())[::-1]
  log_p = aux - np.log(np.exp(aux).sum(1, keepdims=True))
  expected = 0.4 * np.mean(np.array(weights)[labels] * -log_p[np.arange(6), labels])
  assert aux_loss == pytest.approx(expected, rel=1e-5)
  assert main_loss != pytest.approx(aux_loss)


def test_no_weights_is_the_unweighted_loss_bitwise():
  rng = np.random.RandomState(4)
  logits = rng.normal(0, 2, (8, 3)).astype(np.float32)
  labels = rng.randint(0, 3, 8)
  for eps in (0.0, 0.2):
    loss, plain = losses_of(logits, labels, label_smoothing=eps)
    assert loss.tobytes() == plain.tobytes()


def test_the_head_trains_on_the_weighted_loss(tmp_path, caplog):
  rng = np.random.RandomState(5)
  vectors = rng.rand(12, bottleneck_head.bottlenecks.VECTOR_SIZE).astype(np.float32)
  labels = np.array([0] * 9 + [1] * 3, np.int64)
  cache = {'train': (vectors, labels), 'validation': (vectors[:4], labels[:4])}
  s = train_flowers.make_settings(head_epochs=1, seed=0)
  caplog.set_level('INFO')
  results = [bottleneck_head.train_head(cache, 2, s.head, s.optimizer, s.loss, 0,
                                        str(tmp_path / str(w)), w) for w in (None, (1.0, 3.0))]
  assert results[0].loss != pytest.approx(results[1].loss, rel=1e-3)
  assert '(balanced ' in caplog.text  # each epoch's line has the balanced accuracy


# ---------------------------------------------------------------- the run record
def test_the_weights_are_recorded_and_a_changed_map_refused(records, tmp_path, caplog):
  caplog.set_level('INFO')
  dataset = train_flowers.get_split('train', records)
  settings = train_settings(records, str(tmp_path / 'log'), from_scratch=True,
                            class_weights='balanced')
  _, recorded = start.check_start(settings, dataset)
  assert set(recorded['class_weights']) == {'blue', 'red'}
  assert 'Class weights (balanced): blue ' in caplog.text
  run_record.write_section(str(tmp_path / 'log'), schedule.SECTION, recorded)
  again = dict(recorded, class_weights={'blue': 1.0, 'red': 3.0})
  with pytest.raises(UsageError, match='class_weights'):
    schedule.check_schedule(str(tmp_path / 'log'), again, True, False)
  plain = train_settings(records, str(tmp_path / 'plain'), from_scratch=True)
  assert start.check_start(plain, dataset)[1]['class_weights'] is None


# ---------------------------------------------------------------- eval's figures
def test_balanced_accuracy_and_f1_by_hand(caplog):
  # true x predicted: 8 blue (6 right), 2 red (1 right), 2 green (never predicted).
  confusion = np.array([[6, 2, 0], [1, 1, 0], [1, 1, 0]])
  recalls = [6 / 8., 1 / 2., 0.]
  precisions = [6 / 8., 1 / 4., 0.]
  f1s = [2 * r * p / (r + p) if r + p else 0. for r, p in zip(recalls, precisions)]
  assert metrics.balanced_accuracy(confusion) == pytest.approx(np.mean(recalls))
  assert metrics.macro_f1(confusion) == pytest.approx(np.mean(f1s))
  caplog.set_level('INFO')
  result = eval_flowers.report_classes(confusion, ['blue', 'red', 'green'])
  assert result['per_class']['red'] == pytest.approx(
      {'recall': 0.5, 'precision': 0.25, 'f1': f1s[1], 'count': 2})
  assert 'Balanced accuracy: %.4f' % np.mean(recalls) in caplog.text
  assert 'Macro F1: %.4f' % np.mean(f1s) in caplog.text
  assert caplog.text.count('No image was predicted as green') == 1
  tags = {v.tag for v in result['summary'].value}
  assert {'Validation_Balanced_Accuracy', 'Validation_Macro_F1',
          'Validation_Per_Class/green/precision'} <= tags
  # A class without images counts in neither mean.
  assert metrics.balanced_accuracy([[3, 1, 0], [0, 0, 0], [0, 2, 2]]) == pytest.approx(
      (3 / 4. + 2 / 4.) / 2)

