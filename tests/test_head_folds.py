# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""--head_folds (the head's K-fold cross-validation) and --report_suspects.

The arithmetic and the folds' split run on synthetic vectors; one run on a
three-colour set with red photos planted in green/ checks the report end to end.
"""
import csv
import os

import numpy as np
import pytest
from PIL import Image

import dataset_utils
import train_flowers
from test_bad_inputs import assert_one_error
from tiny_data import IMAGE_SIZE, logged_lines, read_record, train_flags
from tf_compat import tf
from transfer import bottlenecks, suspects
from transfer.datasets import convert
from transfer.training import head_folds

pytestmark = pytest.mark.xdist_group('fast_transfer')


# ---------------------------------------------------------------- folds and interval
def test_folds_are_stratified_seeded_and_even():
  labels = np.repeat([0, 1, 2], [7, 5, 9])
  fold = head_folds.assign_folds(labels, 3, seed=4)
  for label, size in ((0, 7), (1, 5), (2, 9)):  # each class spread as evenly as it can be
    per_fold = np.bincount(fold[labels == label], minlength=3)
    assert per_fold.max() - per_fold.min() <= 1 and per_fold.sum() == size
  assert np.bincount(fold).tolist() == [7, 7, 7]
  assert (head_folds.assign_folds(labels, 3, seed=4) == fold).all()
  assert not (head_folds.assign_folds(labels, 3, seed=5) == fold).all()


def test_wilson_interval():
  low, high = head_folds.wilson_interval(50, 100)
  assert (round(low, 4), round(high, 4)) == (0.4038, 0.5962)
  low, high = head_folds.wilson_interval(10, 10)  # inside [0, 1], unlike the normal one's
  assert (round(low, 4), round(high, 4)) == (0.7225, 1.0)


def fold_settings(**flags):
  return train_flowers.make_settings(**dict(dict(head_epochs=40, head_batch_size=16,
                                                 head_learning_rate=0.01), **flags))


def test_no_view_of_a_test_image_trains_its_fold(monkeypatch):
  # Labels at random, and each training image's views equal to its evaluation vector:
  # a head that saw a test image's views would recognise it; one that did not, guesses.
  rng = np.random.RandomState(0)
  count, train, views = 60, 45, 3
  vectors = rng.normal(size=(count, bottlenecks.VECTOR_SIZE)).astype(np.float32)
  labels = rng.randint(3, size=count).astype(np.int64)
  images = np.repeat(np.arange(train), views)
  cache = {'train': (vectors[:train], labels[:train]),
           'validation': (vectors[train:], labels[train:]),
           'train_views': (vectors[images], labels[images], images)}
  s = fold_settings()
  result = head_folds.cross_validate(cache, 3, 3, s.head, s.optimizer, s.loss, seed=1)
  assert result.probabilities.shape == (count, 3) and (result.labels == labels).all()
  assert result.accuracy < 0.6, result.accuracy
  # The control: with every view in every fold's training set, the test images' views leak.
  real = head_folds._fold_training_set
  monkeypatch.setattr(head_folds, '_fold_training_set', lambda cache, vectors, labels, in_fold:
                      real(cache, vectors, labels, in_fold | (np.arange(count) < train)))
  leaked = head_folds.cross_validate(cache, 3, 3, s.head, s.optimizer, s.loss, seed=1)
  assert leaked.accuracy > 0.7, leaked.accuracy


def test_the_folds_learn_what_separates_the_classes():
  rng = np.random.RandomState(1)
  labels = np.repeat([0, 1, 2], 12).astype(np.int64)
  centres = rng.normal(size=(3, bottlenecks.VECTOR_SIZE))
  vectors = (centres[labels] + rng.normal(scale=0.5, size=(36, bottlenecks.VECTOR_SIZE)))
  cache = {'train': (vectors.astype(np.float32), labels)}
  s = fold_settings(head_epochs=10)
  result = head_folds.cross_validate(cache, 3, 4, s.head, s.optimizer, s.loss, seed=2)
  assert result.accuracy == 1.0 and round(result.interval[1], 6) == 1.0
  assert (result.probabilities.argmax(1) == labels).all()


# ---------------------------------------------------------------- naming the photos
def test_records_without_a_filename_are_named_by_shard_and_index(tmp_path):
  jpeg = dataset_utils.image_to_tfexample
  paths = [str(tmp_path / 'a.tfrecord'), str(tmp_path / 'b.tfrecord')]
  for path, count in zip(paths, (2, 3)):
    with tf.io.TFRecordWriter(path) as writer:
      for i in range(count):
        writer.write(jpeg(b'%s-%d' % (path[-10:].encode(), i), b'jpg', 1, 1, 0,
                          filename='named.jpg' if i == 2 else None).SerializeToString())
  found = suspects.read_photos(paths, [0, 3, 4])
  assert {i: name for i, (name, _) in found.items()} == {
      0: 'a.tfrecord:0', 3: 'b.tfrecord:1', 4: 'named.jpg'}
  assert found[3][1] == b'b.tfrecord-1'


# ---------------------------------------------------------------- bad inputs
# The fold flags' cross-flag errors sit in test_fast_transfer's bad transfer flags.
@pytest.mark.parametrize('extra, words', [
    # The shared set: 20 photos of each colour, 40 in all.
    (('--head_folds', '21'), ('--head_folds 21', 'blue has only 20 photos', '20 or less')),
    (('--head_folds', '2', '--report_suspects', '41'),
     ('--report_suspects 41', 'only 40 photos', '40 or less')),
])
def test_folds_or_suspects_beyond_the_set_are_refused_before_the_cache_pass(
    records, source_checkpoint, tmp_path, capsys, extra, words):
  log_dir, cache_dir = tmp_path / 'log', tmp_path / 'bottlenecks'
  code = train_flowers.main(
      ['--dataset_dir', records, '--log_dir', str(log_dir), '--image_size', str(IMAGE_SIZE),
       '--imagenet_checkpoint_file', source_checkpoint, '--bottleneck_dir', str(cache_dir),
       '--head_epochs', '2', '--num_epochs', '0'] + list(extra))
  assert_one_error(code, capsys.readouterr().err, *words)
  assert not cache_dir.exists() and not log_dir.exists()


# ---------------------------------------------------------------- planted labels
COLOURS = {'blue': (40, 60, 210), 'green': (40, 190, 60), 'red': (215, 40, 40)}
PLANTED = 2


def make_planted_photos(photo_dir, per_class=12, seed=0):
  """Noisy single-colour photos a class folder, and PLANTED red ones in green/."""
  rng = np.random.RandomState(seed)
  photos = [(name, colour, '%s_%02d.jpg' % (name, i))
            for name, colour in sorted(COLOURS.items()) for i in range(per_class)]
  photos += [('green', COLOURS['red'], 'planted_%d.jpg' % i) for i in range(PLANTED)]
  for folder, colour, filename in photos:
    os.makedirs(os.path.join(photo_dir, folder), exist_ok=True)
    h, w = rng.randint(40, 64, size=2)
    pixels = np.clip(np.array(colour) + rng.normal(0, 20, (h, w, 3)), 0, 255)
    Image.fromarray(pixels.astype(np.uint8)).save(os.path.join(photo_dir, folder, filename))
  return [os.path.join(photo_dir, 'green', 'planted_%d.jpg' % i) for i in range(PLANTED)]


def test_planted_labels_rank_first_among_the_suspects(source_checkpoint, tmp_path):
  planted = make_planted_photos(str(tmp_path / 'photos'))
  records = str(tmp_path / 'records')
  convert.convert_dataset(str(tmp_path / 'photos'), records, validation_size=6, num_shards=2,
                          verbose=False)
  log_dir = str(tmp_path / 'log')
  with logged_lines() as logged:
    train_flowers.train(**train_flags(
        records, log_dir, imagenet_checkpoint_file=source_checkpoint,
        bottleneck_dir=str(tmp_path / 'bottlenecks'), head_epochs=20, head_batch_size=8,
        head_folds=3, report_suspects=PLANTED + 2, num_epochs=0, seed=5))
  with open(os.path.join(log_dir, suspects.TSV_FILENAME)) as f:
    rows = list(csv.reader(f, delimiter='\t'))
  assert rows[0] == list(suspects.HEADER) and len(rows) == PLANTED + 3
  assert sorted(row[0] for row in rows[1:PLANTED + 1]) == planted, rows
  for row in rows[1:PLANTED + 1]:
    assert row[1:3] == ['green', 'red'] and float(row[3]) < 0.5 < float(row[4]), row
  for row in rows[PLANTED + 1:]:  # the others: each name is its record's, in the cache's order
    assert os.path.basename(os.path.dirname(row[0])) == row[1], rows
  given = [float(row[3]) for row in rows[1:]]
  assert given == sorted(given)
  with Image.open(os.path.join(log_dir, suspects.PNG_FILENAME)) as picture:
    assert picture.format == 'PNG' and picture.size[0] > 300
  (line,) = [line for line in logged if '95%' in line]
  recorded = read_record(log_dir, 'schedule')
  low, high = recorded['head_folds_interval_95']
  assert recorded['head_folds'] == 3 and low < recorded['head_folds_accuracy'] < high
  assert '%.4f-%.4f' % (low, high) in line and '38 images' in line
  assert any('suspects.tsv' in line for line in logged)
