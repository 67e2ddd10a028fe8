# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Fast transfer: cached bottlenecks, head-first training, fine-tuning only the top.

One head-only run (a checkpoint the tests make stands in for ImageNet) and one
fine-tuning run on top of it are shared by the tests of this module.
"""
import errno
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import eval_flowers
import fake_cache_pass
import inception_preprocessing
import train_flowers
from inception_resnet_v2 import (LOGITS_LAYER_SCOPE, LOGITS_SCOPE, LOGITS_WEIGHTS, SCOPE,
                                 TRUNK_BLOCKS, inception_resnet_v2_base, smallest_input_size)
from test_bad_inputs import assert_one_error
from tf_compat import slim, tf
from tiny_data import (IMAGE_SIZE, REPO, command_line, logged_lines, read_record, train_flags,
                       train_settings)
from test_train_flowers import event_values
from transfer import best_checkpoint, bottleneck_pass, bottlenecks, checkpoints, files, model
from transfer.errors import UsageError
from transfer.training import bottleneck_head, head_phase, schedule

pytestmark = pytest.mark.xdist_group('fast_transfer')
HEADS = ('InceptionResnetV2/Logits', 'InceptionResnetV2/AuxLogits')
BATCH_NORM_STATISTICS = ('BatchNorm/moving_mean', 'BatchNorm/moving_variance')
HEAD_FLAGS = dict(head_epochs=6, head_batch_size=8, seed=3)


def head_flags(records, checkpoint, log_dir, bottleneck_dir, **extra):
  return train_flags(records, log_dir, imagenet_checkpoint_file=checkpoint,
                     bottleneck_dir=bottleneck_dir, **dict(HEAD_FLAGS, **extra))


@pytest.fixture(scope='module')
def head_run(records, source_checkpoint, tmp_path_factory):
  """The head alone (--num_epochs 0) on the two-colour set, and the lines it logged."""
  folder = tmp_path_factory.mktemp('head_run')
  log_dir, cache_dir = str(folder / 'log'), str(folder / 'bottlenecks')
  with logged_lines() as logged:
    train_flowers.train(**head_flags(records, source_checkpoint, log_dir, cache_dir,
                                    num_epochs=0))
  recorded = read_record(log_dir, 'schedule')
  return dict(log_dir=log_dir, cache_dir=cache_dir, schedule=recorded, logged=logged,
              checkpoint=tf.train.latest_checkpoint(log_dir))


def copy_of_head_run(head_run, log_dir):
  """log_dir made a copy of the head run's: its checkpoint, record and TensorBoard events."""
  shutil.copytree(head_run['log_dir'], log_dir)
  # The copied run's own `checkpoint` file names the original's absolute path.
  tf.train.update_checkpoint_state(log_dir, os.path.basename(head_run['checkpoint']))
  return log_dir


@pytest.fixture(scope='module')
def top_run(records, source_checkpoint, head_run, tmp_path_factory):
  """Fine-tunes --fine_tune_from Mixed_7a for one epoch from a copy of the head run,
  validating the head checkpoint (epoch 0) and the epoch."""
  log_dir = copy_of_head_run(head_run, str(tmp_path_factory.mktemp('top_run') / 'log'))
  flags = head_flags(records, source_checkpoint, log_dir, head_run['cache_dir'], num_epochs=1,
                     fine_tune_from='Mixed_7a', batch_size=8)
  result = train_flowers.train(**dict(flags, validation_every_n_epochs=1))
  return dict(log_dir=log_dir, flags=flags, result=result)


def cache_of(cache_dir):
  """The one cache in cache_dir, as {array name: values}."""
  (path,) = glob.glob(os.path.join(cache_dir, '*', bottlenecks.CACHE_FILENAME))
  with np.load(path) as stored:
    return dict(stored)


def prelogits_of_records(records, split, checkpoint):
  """(PreLogitsFlatten, label) of every image of a split, one image at a time, from raw records."""
  examples = [tf.train.Example.FromString(r) for path in
              sorted(glob.glob(os.path.join(records, 'flowers_%s_*.tfrecord' % split)))
              for r in tf.io.tf_record_iterator(path)]
  with tf.Graph().as_default():
    encoded = tf.placeholder(tf.string, [])
    decoded = tf.image.decode_jpeg(encoded, channels=3)
    preprocessed = inception_preprocessing.preprocess_image(decoded, IMAGE_SIZE, IMAGE_SIZE,
                                                            is_training=False)
    _, end_points = model.build_model(tf.expand_dims(preprocessed, 0), 2, is_training=False)
    saver = tf.train.Saver(slim.get_variables_to_restore(exclude=list(HEADS)))
    with tf.Session() as sess:
      saver.restore(sess, checkpoint)
      vectors = [sess.run(end_points['PreLogitsFlatten'], {
          encoded: e.features.feature['image/encoded'].bytes_list.value[0]})[0]
                 for e in examples]
  labels = [e.features.feature['image/class/label'].int64_list.value[0] for e in examples]
  return np.array(vectors), np.array(labels)


def test_cached_vectors_are_the_networks_prelogits_of_each_image(records, source_checkpoint,
                                                                 head_run):
  cache = cache_of(head_run['cache_dir'])
  expected, labels = prelogits_of_records(records, 'validation', source_checkpoint)
  cached = cache['validation_vectors']
  assert cached.shape == expected.shape == (8, bottlenecks.VECTOR_SIZE)
  # In record order (the shards sorted, each one's records in turn): each cached vector
  # is nearest to its own image's.
  nearest = [int(np.argmin(np.abs(expected - v).max(axis=1))) for v in cached]
  assert nearest == list(range(8))
  scale = np.abs(expected).max()
  np.testing.assert_allclose(cached, expected[nearest], rtol=0, atol=1e-5 * scale)
  np.testing.assert_array_equal(cache['validation_labels'], labels[nearest])
  assert cache['train_vectors'].shape == (32, bottlenecks.VECTOR_SIZE)


def test_head_checkpoint_keeps_the_base_bitwise_and_holds_the_trained_logits(source_checkpoint,
                                                                            head_run):
  source = tf.train.load_checkpoint(source_checkpoint)
  written = tf.train.load_checkpoint(head_run['checkpoint'])
  names = {name for name, _ in tf.train.list_variables(head_run['checkpoint'])}
  base = [n for n, _ in tf.train.list_variables(source_checkpoint) if not n.startswith(HEADS)]
  assert len(base) > 800 and set(base) <= names
  for name in base:  # the batch-norm moving statistics among them
    assert np.array_equal(written.get_tensor(name), source.get_tensor(name)), name
  assert written.get_tensor(LOGITS_WEIGHTS).shape == (bottlenecks.VECTOR_SIZE, 2)
  assert 'InceptionResnetV2/AuxLogits/Logits/weights' in names
  assert written.get_tensor('global_step') == 0
  assert head_run['checkpoint'].endswith('model.ckpt-0')


def test_head_checkpoint_evaluates_to_the_accuracy_head_training_reported(records, head_run,
                                                                          tmp_path):
  # The head phase's log dir records the image size and the data, as any other.
  evaluated = eval_flowers.evaluate(log_dir=head_run['log_dir'], log_eval=str(tmp_path / 'eval'),
                                    num_epochs=1, batch_size=4)
  reported = head_run['schedule']['head_validation_accuracy']
  assert abs(evaluated['accuracy'] - reported) <= 1 / 8.0 + 1e-6, (evaluated, reported)
  assert head_run['schedule']['head_epochs'] == 6


def test_second_run_reads_the_cache_and_runs_no_forward_pass(records, source_checkpoint, head_run,
                                                             tmp_path, monkeypatch,
                                                             small_network):
  # The checkpoint it completes is the small network's: only the head is compared.
  def no_forward_pass(*unused):
    raise AssertionError('the cached bottlenecks were computed again')
  monkeypatch.setattr(bottleneck_pass, 'run_pass', no_forward_pass)
  train_flowers.train(**head_flags(records, source_checkpoint, str(tmp_path / 'again'),
                                  head_run['cache_dir'], num_epochs=0))
  again = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(tmp_path / 'again')))
  first = tf.train.load_checkpoint(head_run['checkpoint'])
  # The same seed and the same vectors train the same head.
  np.testing.assert_allclose(again.get_tensor(LOGITS_WEIGHTS),
                             first.get_tensor(LOGITS_WEIGHTS), atol=1e-6)


def small_cache(seed, count=6):
  rng = np.random.RandomState(seed)
  return {'train': (rng.rand(count, bottlenecks.VECTOR_SIZE).astype(np.float32),
                    np.arange(count) % 2)}


def committing(cache):
  """A cache pass (bottlenecks.cached's `compute`) that commits `cache`'s vectors."""
  def compute(todo, commit):
    for chunk in todo:
      vectors, labels = cache[chunk.segment]
      commit(chunk, vectors[chunk.start:chunk.start + chunk.size],
             labels[chunk.start:chunk.start + chunk.size])
  return compute


def key_of(folder, size=IMAGE_SIZE, payload=b'weights'):
  checkpoint, shard = os.path.join(folder, 'ckpt'), os.path.join(folder, 'shard')
  for path, data in ((checkpoint, payload), (shard, b'records')):
    with open(path, 'wb') as f:
      f.write(data)
  return bottlenecks.cache_key(checkpoint, [], size, {'train': [shard]}, 2)


def test_cache_key_follows_the_checkpoint_contents_not_its_path(tmp_path):
  (tmp_path / 'a').mkdir()
  (tmp_path / 'b').mkdir()
  same = bottlenecks.key_id(key_of(str(tmp_path / 'a'))) == bottlenecks.key_id(
      key_of(str(tmp_path / 'b')))
  assert same
  assert bottlenecks.key_id(key_of(str(tmp_path / 'a'), payload=b'other')) != bottlenecks.key_id(
      key_of(str(tmp_path / 'b')))


def test_another_key_gets_a_cache_of_its_own_and_says_why(tmp_path, caplog):
  cache_dir = str(tmp_path / 'caches')
  first = bottlenecks.cached(cache_dir, key_of(str(tmp_path)), {'train': 6},
                             committing(small_cache(1)))
  caplog.set_level('INFO')
  bigger = key_of(str(tmp_path), size=IMAGE_SIZE + 8)
  second = bottlenecks.cached(cache_dir, bigger, {'train': 6},
                              committing(small_cache(2)))
  assert 'image size %d -> %d' % (IMAGE_SIZE, IMAGE_SIZE + 8) in caplog.text
  assert len(glob.glob(os.path.join(cache_dir, '*', bottlenecks.CACHE_FILENAME))) == 2
  again = bottlenecks.cached(cache_dir, key_of(str(tmp_path)), {'train': 6}, None)
  np.testing.assert_array_equal(again['train'][0], first['train'][0])
  assert not np.array_equal(second['train'][0], first['train'][0])


def test_precision_batch_size_views_and_their_seed_are_in_the_key(tmp_path):
  base = key_of(str(tmp_path))
  others = {'precision bfloat16 -> float32': dict(precision=None),
            '--bottleneck_batch_size 2 -> 4': dict(batch_size=4),
            '--bottleneck_views 0 -> 2': dict(views=2, views_seed=1)}
  checkpoint, shard = str(tmp_path / 'ckpt'), str(tmp_path / 'shard')
  old = bottlenecks.cache_key(checkpoint, [], IMAGE_SIZE, {'train': [shard]}, 2, 'bfloat16')
  for change, extra in others.items():
    new = bottlenecks.cache_key(checkpoint, [], IMAGE_SIZE, {'train': [shard]},
                                **dict(dict(batch_size=2, precision='bfloat16'), **extra))
    assert bottlenecks.key_id(new) != bottlenecks.key_id(old)
    assert change in bottlenecks._key_changes(old, new)
  # The seed only matters with views.
  assert base == bottlenecks.cache_key(checkpoint, [], IMAGE_SIZE, {'train': [shard]}, 2,
                                       views_seed=5)
  seeded = bottlenecks.cache_key(checkpoint, [], IMAGE_SIZE, {'train': [shard]}, 2, views=2,
                                 views_seed=6)
  assert "the views' seed 1 -> 6" in bottlenecks._key_changes(
      dict(seeded, views_seed=1), seeded)


def test_views_without_a_seed_draw_one_and_a_rerun_keeps_it(records, tmp_path):
  settings = train_settings(records, str(tmp_path), head_epochs=1, bottleneck_views=2,
                            seed=None)
  run_schedule = {}
  seed = head_phase._views_seed(settings, run_schedule)
  assert run_schedule['bottleneck_views_seed'] == seed
  assert read_record(str(tmp_path), 'schedule')['bottleneck_views_seed'] == seed
  # The rerun after a stopped pass: the same seed, so the same cache to resume.
  assert head_phase._views_seed(settings, {}) == seed
  assert head_phase._views_seed(settings._replace(seed=4), {}) == 4


def test_damaged_cache_is_rebuilt_and_a_full_disk_keeps_the_old_one(tmp_path, monkeypatch,
                                                                    caplog):
  key = key_of(str(tmp_path))
  calls = []

  def compute(todo, commit):
    calls.append('train')
    committing(small_cache(len(calls)))(todo, commit)
  cache_dir = str(tmp_path / 'caches')
  bottlenecks.cached(cache_dir, key, {'train': 6}, compute)
  path = os.path.join(cache_dir, bottlenecks.key_id(key), bottlenecks.CACHE_FILENAME)
  with open(path, 'rb') as f:
    data = f.read()
  with open(path, 'wb') as f:
    f.write(data[:len(data) // 2])  # truncated
  caplog.set_level('INFO')
  rebuilt = bottlenecks.cached(cache_dir, key, {'train': 6}, compute)
  assert len(calls) == 2 and 'is damaged' in caplog.text
  np.testing.assert_array_equal(rebuilt['train'][0], small_cache(2)['train'][0])
  # A second image count: the cache no longer fits and is rebuilt, never used.
  fewer = bottlenecks.cached(cache_dir, key, {'train': 5}, committing(small_cache(0, 5)))
  assert fewer['train'][1].shape == (5,)
  bottlenecks.cached(cache_dir, key, {'train': 6}, compute)
  with open(path, 'rb') as f:
    good = f.read()

  def full_disk(target, unused_data):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), target)
  monkeypatch.setattr(files, 'write_atomically', full_disk)
  with open(path, 'wb') as f:
    f.write(b'damaged')
  with pytest.raises(UsageError, match='free some space'):
    bottlenecks.cached(cache_dir, key, {'train': 6}, compute)
  monkeypatch.undo()
  with open(path, 'wb') as f:
    f.write(good)
  other = key_of(str(tmp_path), payload=b'new weights')
  monkeypatch.setattr(files, 'write_atomically', full_disk)
  with pytest.raises(UsageError, match='free some space'):
    bottlenecks.cached(cache_dir, other, {'train': 6}, compute)
  with open(path, 'rb') as f:
    assert f.read() == good  # the old cache stays whole
  assert not glob.glob(os.path.join(cache_dir, bottlenecks.key_id(other), '*'))


def chunks_in(cache_dir):
  return glob.glob(os.path.join(cache_dir, '*', '*' + bottlenecks.CHUNK_SUFFIX))


def killed_after(command, cache_dir, chunks, timeout=300):
  """Runs `command` (an argv), kill -9 once `chunks` chunks are committed in cache_dir (the
  kill lands while it computes or writes the next); what it logged."""
  with open(cache_dir + '.log', 'w+') as log:
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + timeout
    while proc.poll() is None and len(chunks_in(cache_dir)) < chunks and time.time() < deadline:
      time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, 'the pass ended before it was killed'
    log.seek(0)
    return log.read()


def resumed_at(text):
  """(N, M) of the one line `resuming the cache pass at N of M vectors`."""
  (line,) = [l for l in text.splitlines() if 'resuming' in l]
  return tuple(int(n) for n in re.search(r'resuming the cache pass at (\d+) of (\d+) vectors',
                                         line).groups())


class _CacheDone(Exception):
  """Raised instead of training the head: the cache pass is what is tested."""


def test_a_cache_pass_killed_then_interrupted_resumes_and_ends_as_an_uninterrupted_one(
    records, source_checkpoint, head_run, tmp_path, caplog, monkeypatch):
  # Chunks of a batch of 32, the default: the training images' evaluation views, the
  # validation images', then 2 views of each training image in two chunks.
  chunks = bottlenecks.plan(bottlenecks.segment_sizes({'train': 32, 'validation': 8}, 2), 32)
  assert [c.size for c in chunks] == [32, 8, 32, 32]
  flags = head_flags(records, source_checkpoint, str(tmp_path / 'log'),
                     str(tmp_path / 'bottlenecks'), num_epochs=0, head_epochs=1,
                     bottleneck_views=2)
  cache_dir = flags['bottleneck_dir']
  # kill -9 once the first chunk is committed.
  killed_after([sys.executable, os.path.join(REPO, 'train_flowers.py')] + command_line(flags),
               cache_dir, 1)
  done = len(chunks_in(cache_dir))
  # Then Ctrl-C as the first chunk of views is written.
  write = files.write_atomically

  def ctrl_c_at_the_views(path, data):
    if os.path.basename(path).startswith(bottlenecks.VIEWS + '.'):
      raise KeyboardInterrupt()
    write(path, data)
  monkeypatch.setattr(files, 'write_atomically', ctrl_c_at_the_views)
  caplog.set_level('INFO')
  with pytest.raises(KeyboardInterrupt):
    train_flowers.train(**flags)
  assert resumed_at(caplog.text) == (sum(c.size for c in chunks[:done]), 104)
  assert len(chunks_in(cache_dir)) == 2
  monkeypatch.setattr(files, 'write_atomically', write)
  caplog.clear()

  def cache_done(cache, *unused):
    raise _CacheDone(cache)
  monkeypatch.setattr(bottleneck_head, 'train_head', cache_done)
  with pytest.raises(_CacheDone):
    train_flowers.train(**flags)
  assert resumed_at(caplog.text) == (40, 104)
  (folder,) = glob.glob(os.path.join(cache_dir, '*'))
  assert sorted(os.listdir(folder)) == [bottlenecks.CACHE_FILENAME, bottlenecks.KEY_FILENAME]
  cache = cache_of(cache_dir)
  # The evaluation views are bitwise those of the head run's pass, never stopped.
  uninterrupted = cache_of(head_run['cache_dir'])
  for split in ('train', 'validation'):
    assert np.array_equal(cache[split + '_vectors'], uninterrupted[split + '_vectors']), split
    assert np.array_equal(cache[split + '_labels'], uninterrupted[split + '_labels']), split
  # Two views of each image, labelled as it is; drawn, not its evaluation view.
  images = cache['train_views_images']
  assert sorted(images) == sorted(list(range(32)) * 2)
  assert np.array_equal(cache['train_views_labels'], cache['train_labels'][images])
  views = cache['train_views_vectors']
  assert views.shape == (64, bottlenecks.VECTOR_SIZE) and np.all(np.isfinite(views))
  assert not np.any(np.all(views == cache['train_vectors'][images], axis=1))


def test_a_chunk_store_killed_anywhere_resumes_to_the_same_cache(tmp_path, monkeypatch, caplog):
  # 7 + 3 images and 2 views of each training image, batches of 2: chunks 0-3 hold the
  # training images, 4-5 the validation ones, 6-12 the views; 24 vectors.
  plan = bottlenecks.plan(bottlenecks.segment_sizes(fake_cache_pass.COUNTS,
                                                    fake_cache_pass.VIEWS), 2)
  assert len(plan) == 13

  def vectors(chunks):
    return sum(c.size for c in plan[:chunks])
  stopped = str(tmp_path / 'stopped')
  done = 0
  for kill_after in (1, 5, 9):  # in the training images, the validation ones, the views
    log = killed_after([sys.executable, fake_cache_pass.__file__, stopped], stopped, kill_after)
    if done:
      assert resumed_at(log) == (vectors(done), 24), log
    # Counted after the kill: a chunk being written then is not there, nor read as whole.
    done = len(chunks_in(stopped))
  caplog.set_level('INFO', logger='tensorflow')
  got = fake_cache_pass.run(stopped)
  assert resumed_at(caplog.text) == (vectors(done), 24), caplog.text
  (folder,) = glob.glob(os.path.join(stopped, '*'))
  assert sorted(os.listdir(folder)) == [bottlenecks.CACHE_FILENAME, bottlenecks.KEY_FILENAME]
  monkeypatch.setattr(fake_cache_pass, 'SECONDS_A_CHUNK', 0)
  expected = fake_cache_pass.run(str(tmp_path / 'whole'))  # never stopped
  assert sorted(got) == sorted(expected)
  for segment in expected:
    for got_array, expected_array in zip(got[segment], expected[segment]):
      assert np.array_equal(got_array, expected_array), segment


def top_graph_at_learning_rate_0(records, batch_norm):
  """build_training_graph's TrainGraph of --fine_tune_from Mixed_7a at learning rate 0."""
  settings = train_settings(records, '/unused', fine_tune_from='Mixed_7a', batch_size=8,
                            fine_tune_batch_norm=batch_norm, initial_learning_rate=0)
  return train_flowers.build_training_graph(settings, train_flowers.get_split('train', records))


def moved_by_a_step(train_graph, checkpoint):
  """The model variables one step of train_graph changes from `checkpoint`'s values."""
  variables = slim.get_model_variables()
  names = {v.op.name for v in variables}
  with tf.Session() as sess:
    # Only the rest (the step, Adam's slots) initialised: the model's 55M weights are restored.
    sess.run([tf.variables_initializer([v for v in tf.global_variables()
                                        if v.op.name not in names]),
              tf.local_variables_initializer()])
    tf.train.Saver(variables).restore(sess, checkpoint)
    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess, coord)
    try:
      sess.run(train_graph.train_op)
      values = sess.run(variables)
    finally:
      coord.request_stop()
      coord.join(threads, stop_grace_period_secs=5)
  saved = tf.train.load_checkpoint(checkpoint)
  return [v.op.name for v, value in zip(variables, values)
          if not np.array_equal(value, saved.get_tensor(v.op.name))]


def test_fine_tune_from_builds_no_gradient_below_and_freezes_batch_norm(records, head_run):
  # The tutorial's batch norm in the top (--fine_tune_batch_norm train).
  with tf.Graph().as_default() as graph:
    train_graph = top_graph_at_learning_rate_0(records, 'train')
    ops = [op.name for op in graph.get_operations()]
    # The variable each moving-average update assigns to.
    updates = [op.inputs[0].op.name for op in tf.get_collection(tf.GraphKeys.UPDATE_OPS)]
    slots = {v.op.name for v in tf.global_variables() if v.op.name.endswith('/Adam')}
    moved = moved_by_a_step(train_graph, head_run['checkpoint'])
  gradients = [n for n in ops if n.startswith('gradients/')]
  below = re.compile(r'InceptionResnetV2/(Conv2d_1a_3x3|Mixed_5b|Mixed_6a|Repeat_1)/')
  assert not [n for n in gradients if below.search(n)]
  assert [n for n in gradients if 'InceptionResnetV2/Mixed_7a/' in n]
  # Only the trained layers update their moving statistics and have Adam slots.
  assert updates and all(model.in_scopes(n, model.fine_tune_scopes('Mixed_7a')) for n in updates)
  assert 'InceptionResnetV2/Mixed_7a/Branch_0/Conv2d_0a_1x1/BatchNorm/moving_mean' in updates
  assert slots and all(model.in_scopes(n, model.fine_tune_scopes('Mixed_7a')) for n in slots)
  assert not any('AuxLogits' in n for n in slots)
  # So even at learning rate 0 a step after the head moves the top's statistics away
  # from those the head was trained with (and nothing else).
  assert moved and all(n.endswith(BATCH_NORM_STATISTICS) for n in moved)
  assert {n for n in moved if n.endswith('moving_mean')} == {
      n for n in updates if n.endswith('moving_mean')}


def test_at_learning_rate_0_frozen_batch_norm_keeps_the_head_checkpoint_bitwise(records,
                                                                               head_run):
  # --fine_tune_batch_norm frozen, the default after a head: every batch-norm layer in
  # inference mode, the top's included, so a step at rate 0 changes no variable at all
  # (the model hands over the head's predictions).
  with tf.Graph().as_default():
    train_graph = top_graph_at_learning_rate_0(records, None)
    assert not tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    statistics = [v.op.name for v in slim.get_model_variables()
                  if v.op.name.endswith(BATCH_NORM_STATISTICS)]
    assert len(statistics) > 400 and any(
        model.in_scopes(n, model.fine_tune_scopes('Mixed_7a')) for n in statistics)
    assert moved_by_a_step(train_graph, head_run['checkpoint']) == []


def test_after_the_head_phase_one_line_says_what_comes_next():
  def line(**flags):
    return head_phase.next_step(train_flowers.make_settings(head_epochs=2, **flags))
  assert line(num_epochs=0).startswith('--num_epochs 0: the run ends with the head. ')
  assert line(num_epochs=2, fine_tune_from='Mixed_7a') == (
      'Next: fine-tuning Mixed_7a and the blocks above it on the images for 2 epochs, from '
      'this checkpoint.')
  assert line(num_epochs=1) == (
      'Next: fine-tuning every layer on the images for 1 epoch, from this checkpoint.')


def test_the_trunk_blocks_are_the_scopes_each_end_point_adds():
  built = set()
  for end_point, scopes in TRUNK_BLOCKS:
    size = smallest_input_size()
    with tf.Graph().as_default():
      inception_resnet_v2_base(tf.placeholder(tf.float32, [1, size, size, 3]), end_point)
      tops = {v.op.name.split('/')[1] for v in tf.global_variables()}
    assert tops - built == set(scopes), end_point
    built = tops


def test_the_head_phase_builds_the_networks_own_logits_layer():
  # Same variables; and the same weights on the same pooled vectors give the same scores.
  rng = np.random.RandomState(4)
  vectors = rng.uniform(0, 2, (5, bottlenecks.VECTOR_SIZE)).astype(np.float32)
  values = {LOGITS_WEIGHTS: rng.normal(0, 0.1, (bottlenecks.VECTOR_SIZE, 3)).astype(np.float32),
            LOGITS_LAYER_SCOPE + '/biases': rng.normal(0, 1, 3).astype(np.float32)}

  def logits_layer_run(logits, feed):
    """({name: shape} of the model variables under SCOPE/Logits, the scores at `values`)."""
    layer = [v for v in slim.get_model_variables() if model.in_scopes(
        v.op.name, [SCOPE + '/' + LOGITS_SCOPE])]
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run([v.assign(values[v.op.name]) for v in layer])
      return {v.op.name: v.shape.as_list() for v in layer}, sess.run(logits, feed)

  with tf.Graph().as_default():
    s = train_flowers.make_settings()
    head_graph = bottleneck_head._build_head(3, s.head.head_learning_rate, s.optimizer, s.loss)
    head_variables, head_scores = logits_layer_run(head_graph.logits,
                                                   {head_graph.vectors: vectors})
  with tf.Graph().as_default():
    images = tf.placeholder(tf.float32, [None, IMAGE_SIZE, IMAGE_SIZE, 3])
    logits, end_points = model.build_model(images, 3, is_training=False)
    # The vectors stand in for the global pool they were cached from.
    network_variables, network_scores = logits_layer_run(
        logits, {end_points['global_pool']: vectors[:, None, None, :]})
  assert head_variables == network_variables == {
      LOGITS_WEIGHTS: [bottlenecks.VECTOR_SIZE, 3], LOGITS_LAYER_SCOPE + '/biases': [3]}
  np.testing.assert_array_equal(head_scores, network_scores)


def test_fine_tuning_the_top_resumes_from_the_head_and_keeps_the_rest_bitwise(head_run, top_run,
                                                                              monkeypatch):
  assert top_run['result']['global_step'] == 4
  before = tf.train.load_checkpoint(head_run['checkpoint'])
  after = tf.train.load_checkpoint(tf.train.latest_checkpoint(top_run['log_dir']))
  top = model.fine_tune_scopes('Mixed_7a')
  names = [n for n, _ in tf.train.list_variables(head_run['checkpoint']) if n != 'global_step']
  frozen = [n for n in names if not model.in_scopes(n, top)]
  assert any('moving_variance' in n for n in frozen)
  for name in frozen:
    assert np.array_equal(before.get_tensor(name), after.get_tensor(name)), name
  moved = [n for n in names if model.in_scopes(n, top)
           and not np.array_equal(before.get_tensor(n), after.get_tensor(n))]
  assert any(n.startswith('InceptionResnetV2/Mixed_7a/') for n in moved)
  assert any(n.startswith(LOGITS_LAYER_SCOPE) for n in moved)
  # Batch norm frozen, the default after a head: the top's statistics stay, its beta learns.
  assert not [n for n in moved if n.endswith(BATCH_NORM_STATISTICS)]
  assert any(n.startswith('InceptionResnetV2/Mixed_7a/') and n.endswith('BatchNorm/beta')
             for n in moved)
  # The run record keeps both phases: the head's results, then the layers fine-tuned.
  recorded = read_record(top_run['log_dir'], 'schedule')
  assert recorded['fine_tune_from'] == 'Mixed_7a' and recorded['num_epochs'] == 1
  for key in ('head_checkpoint', 'head_validation_accuracy', 'head_epochs'):
    assert recorded[key] == head_run['schedule'][key], key

  # A rerun of the same command with a second epoch never redoes the head phase.
  def no_head_phase(*unused):
    raise AssertionError('the head phase ran again')
  monkeypatch.setattr(head_phase, 'run', no_head_phase)
  assert train_flowers.train(**dict(top_run['flags'], num_epochs=2))['global_step'] == 8


@pytest.mark.parametrize('flags, mode', [
    ({}, 'train'), (dict(head_epochs=2), 'frozen'), (dict(fine_tune_from='Mixed_7a'), 'frozen'),
    (dict(fine_tune_from='Mixed_7a', fine_tune_batch_norm='train'), 'train'),
    (dict(fine_tune_batch_norm='frozen'), 'frozen')])
def test_batch_norm_is_frozen_by_default_only_after_a_head_or_in_a_top(records, flags, mode):
  settings = train_settings(records, '/unused', **flags)
  assert settings.fine_tune_batch_norm == mode
  # Where build_model lets batch norm train: nowhere when frozen; else as before.
  assert settings.batch_norm_scopes == ([] if mode == 'frozen' else settings.trained_scopes)


def test_resuming_with_the_other_batch_norm_mode_is_refused(records, tmp_path):
  log_dir = str(tmp_path)
  started = train_settings(records, log_dir, fine_tune_from='Mixed_7a')
  schedule.save_schedule(log_dir, schedule.schedule_of(started, 32))
  other = train_settings(records, log_dir, fine_tune_from='Mixed_7a',
                         fine_tune_batch_norm='train')
  with pytest.raises(UsageError, match='fine_tune_batch_norm frozen -> train'):
    schedule.check_schedule(log_dir, schedule.schedule_of(other, 32), True, False)
  schedule.check_schedule(log_dir, schedule.schedule_of(started, 32), True, False)


def test_tensorboard_keeps_the_head_curves_after_fine_tuning(head_run, top_run):
  # Read as TensorBoard reads a log dir: each folder a run, and the events of a run
  # whose steps start again (fine-tuning's session starts at step 0) purged.
  from tensorboard.backend.event_processing import plugin_event_multiplexer
  runs = plugin_event_multiplexer.EventMultiplexer(purge_orphaned_data=True)
  runs.AddRunsFromDirectory(top_run['log_dir'])
  runs.Reload()
  head = {e.step: float(tf.make_ndarray(e.tensor_proto))
          for e in runs.Tensors(bottleneck_head.SUMMARY_RUN, 'head/validation_accuracy')}
  assert sorted(head) == list(range(1, 7))
  # Fine-tuning's own curve (a test above may have resumed that run for a second epoch).
  steps = [e.step for e in runs.Tensors('.', 'accuracy')]
  assert steps[0] == 2 and steps == sorted(steps)
  # Validation's curve beside it, from the head checkpoint (step 0); a resume of the run
  # (above) makes TensorBoard drop the points at and after the step it resumed from.
  validated = [e.step for e in runs.Tensors('.', 'validation/accuracy')]
  assert validated[0] == 0 and validated == sorted(validated)
  # The head checkpoint is its best epoch, as the curve shows it, and the run says so.
  best = head_run['schedule']['head_best_epoch']
  assert head[best] == max(head.values())
  assert abs(head_run['schedule']['head_validation_accuracy'] - head[best]) < 1e-6
  kept = [line for line in head_run['logged'] if line.startswith('Head trained: ')]
  assert len(kept) == 1 and 'kept epoch %d of 6' % best in kept[0], kept


def test_the_head_is_validated_as_epoch_0_and_the_model_handed_over_is_no_worse(head_run,
                                                                              top_run):
  accuracy = event_values(top_run['log_dir'], 'validation/accuracy')
  assert sorted(accuracy) == [0, 4]  # the head checkpoint (epoch 0), then epoch 1
  # Epoch 0 measures the head's weights through the network, on the images themselves.
  head = head_run['schedule']['head_validation_accuracy']
  assert abs(accuracy[0] - head) <= 1 / 8.0 + 1e-6, (accuracy, head)
  # What eval, predict and export take by default: the best of the two, never below the head.
  record = read_record(top_run['log_dir'], 'validation')
  assert record['best_accuracy'] == pytest.approx(max(accuracy.values()))
  assert record['best_accuracy'] >= accuracy[0]
  kept = best_checkpoint.find(top_run['log_dir'])
  assert kept == os.path.join(top_run['log_dir'], record['best_checkpoint'])
  assert kept.endswith('model.ckpt-%d' % record['best_step'])


def history(lines):
  """[(validation accuracy, validation loss)] of each head epoch logged."""
  return [(float(a), float(b)) for a, b in re.findall(
      r'validation accuracy ([0-9.]+) \(balanced [0-9.]+\), validation loss ([0-9.]+)',
      '\n'.join(lines))]


def test_the_head_keeps_its_epoch_of_best_validation_accuracy(tmp_path, caplog):
  # Validation holds the training vectors with the labels swapped: the better the
  # head fits, the worse it validates, so the last epoch is not the best.
  vectors = np.random.RandomState(0).rand(20, bottlenecks.VECTOR_SIZE).astype(np.float32)
  labels = np.arange(20) % 2
  cache = {'train': (vectors, labels), 'validation': (vectors, 1 - labels)}
  s = train_flowers.make_settings(head_epochs=4, head_batch_size=5)

  def train(epochs, cache=cache):
    return bottleneck_head.train_head(cache, 2, s.head._replace(head_epochs=epochs),
                                      s.optimizer, s.loss, 1, str(tmp_path))
  caplog.set_level('INFO')
  result = train(4)
  scores = history(caplog.messages)
  assert len(scores) == 4
  best = max(range(4), key=lambda i: (scores[i][0], -scores[i][1], -i)) + 1
  assert result.epoch == best < 4
  assert (result.validation_accuracy, round(result.validation_loss, 4)) == scores[best - 1]
  # The weights are that epoch's: training only that far gives the same.
  np.testing.assert_allclose(train(best).weights, result.weights, rtol=0, atol=1e-6)
  # Its validation loss is the plain cross-entropy of those weights.
  logits = vectors.dot(result.weights) + result.biases
  logits -= logits.max(axis=1, keepdims=True)
  log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
  assert abs(-log_p[np.arange(20), 1 - labels].mean() - result.validation_loss) < 1e-4
  # No validation split: the last epoch.
  assert train(2, {'train': cache['train']}).epoch == 2


def test_weighted_classes_keep_the_epoch_of_best_balanced_accuracy(tmp_path, caplog):
  # Plain accuracy favours the first epoch, balanced accuracy the second.
  first = dict(validation_accuracy=0.9, validation_balanced_accuracy=0.5, validation_loss=1.0)
  second = dict(validation_accuracy=0.8, validation_balanced_accuracy=0.7, validation_loss=1.0)
  assert not bottleneck_head._better(second, first, 'validation_accuracy')
  assert bottleneck_head._better(second, first, 'validation_balanced_accuracy')
  # Uneven validation labels; weighted training keeps the epoch its balanced figures say.
  vectors = np.random.RandomState(1).rand(20, bottlenecks.VECTOR_SIZE).astype(np.float32)
  labels = (np.arange(20) % 4 == 0).astype(np.int64)
  s = train_flowers.make_settings(head_epochs=4, head_batch_size=5)
  caplog.set_level('INFO')
  result = bottleneck_head.train_head({'train': (vectors, labels),
                                       'validation': (vectors, 1 - labels)}, 2, s.head,
                                      s.optimizer, s.loss, 1, str(tmp_path), (1.0, 3.0))
  scores = [(float(b), -float(l)) for b, l in re.findall(
      r'\(balanced ([0-9.]+)\), validation loss ([0-9.]+)', caplog.text)]
  assert len(scores) == 4
  assert result.epoch == max(range(4), key=lambda i: (scores[i], -i)) + 1


@pytest.mark.parametrize('extra, words', [
    (('--fine_tune_from', 'Mixed_9z'), ('Mixed_9z', 'Mixed_7a', 'Conv2d_7b_1x1')),
    (('--fine_tune_from', 'Mixed_7a', '--trainable_scopes', 'InceptionResnetV2/Logits'),
     ('--fine_tune_from', '--trainable_scopes')),
    (('--head_epochs', '2', '--from_scratch'), ('--head_epochs', '--from_scratch')),
    (('--head_epochs', '2', '--ps_hosts', 'localhost:1', '--worker_hosts', 'localhost:2',
      '--job_name', 'worker'), ('--head_epochs', 'cluster')),
    (('--head_epochs', '-1'), ('--head_epochs', '0 or more')),
    (('--fine_tune_batch_norm', 'off'), ('--fine_tune_batch_norm', 'frozen', 'train')),
    (('--num_epochs', '0'), ('--num_epochs 0', '--head_epochs')),
    (('--head_epochs', '2', '--bottleneck_views', '-1'), ('--bottleneck_views', '0 or more')),
    (('--bottleneck_views', '4'), ('--bottleneck_views', '--head_epochs')),
    (('--head_epochs', '2', '--head_folds', '1'), ('--head_folds', 'at least 2')),
    (('--head_epochs', '2', '--report_suspects', '3'), ('--report_suspects', '--head_folds')),
    (('--head_folds', '3', '--num_epochs', '1'), ('--head_folds', '--head_epochs')),
])
def test_bad_transfer_flags_get_one_error_line(records, tmp_path, capsys, extra, words):
  try:
    code = train_flowers.main(['--dataset_dir', records, '--log_dir', str(tmp_path / 'log'),
                               '--image_size', str(IMAGE_SIZE)] + list(extra))
  except SystemExit as e:  # a flag argparse refuses
    code = e.code
  assert_one_error(code, capsys.readouterr().err, *words)
  assert not os.path.exists(str(tmp_path / 'log'))


def test_a_finished_head_phase_with_other_head_flags_is_refused(records, source_checkpoint,
                                                                head_run):
  flags = train_flags(records, head_run['log_dir'], imagenet_checkpoint_file=source_checkpoint,
                      bottleneck_dir=head_run['cache_dir'], head_epochs=9, num_epochs=0, seed=3)
  with pytest.raises(UsageError, match='head_epochs 6 -> 9'):
    train_flowers.train(**flags)


def test_ctrl_c_in_the_head_phase_leaves_no_checkpoint_and_the_rerun_finishes_it(
    records, source_checkpoint, head_run, tmp_path, monkeypatch, capsys, small_network):
  # On the small network: the head run's cache serves it (vectors of NUM_FEATURES, keyed by
  # the checkpoint, not by the network).
  log_dir = str(tmp_path / 'log')
  argv = ['--dataset_dir', records, '--log_dir', log_dir, '--image_size', str(IMAGE_SIZE),
          '--imagenet_checkpoint_file', source_checkpoint, '--bottleneck_dir',
          head_run['cache_dir'], '--num_epochs', '0'] + command_line(HEAD_FLAGS)
  real = bottleneck_head.train_head

  def interrupted(*unused):
    raise KeyboardInterrupt()
  monkeypatch.setattr(bottleneck_head, 'train_head', interrupted)
  assert train_flowers.main(argv) == 130
  assert tf.train.latest_checkpoint(log_dir) is None
  monkeypatch.setattr(bottleneck_head, 'train_head', real)
  assert train_flowers.main(argv) == 0
  assert tf.train.latest_checkpoint(log_dir).endswith('model.ckpt-0')


def test_a_cluster_chief_completes_the_head_checkpoint_of_its_ps_placed_graph(records, head_run,
                                                                              tmp_path):
  # The chief's training graph puts its variables on /job:ps; the head checkpoint lacks the
  # optimizer slots, which are added from a local copy of the graph.
  folder = str(tmp_path / 'log')
  os.makedirs(folder)
  for path in glob.glob(head_run['checkpoint'] + '.*') + [
      os.path.join(head_run['log_dir'], 'run.json')]:
    with open(path, 'rb') as src:
      files.write_atomically(os.path.join(folder, os.path.basename(path)), src.read())
  checkpoint = os.path.join(folder, os.path.basename(head_run['checkpoint']))
  settings = train_settings(records, folder, fine_tune_from='Conv2d_7b_1x1')
  dataset = train_flowers.get_split('train', records)
  with tf.Graph().as_default(), tf.device(tf.train.replica_device_setter(ps_tasks=1)):
    train_flowers.build_training_graph(settings, dataset)
    assert tf.global_variables()[0].device.startswith('/job:ps')
    missing = checkpoints.missing_training_variables(checkpoint, tf.global_variables())
    assert missing and all('Adam' in v.op.name or 'power' in v.op.name for v in missing)
    checkpoints.complete_checkpoint(checkpoint, tf.global_variables())
    assert not checkpoints.missing_training_variables(checkpoint, tf.global_variables())
  before = tf.train.load_checkpoint(head_run['checkpoint'])
  after = tf.train.load_checkpoint(checkpoint)
  weights = LOGITS_WEIGHTS
  assert np.array_equal(before.get_tensor(weights), after.get_tensor(weights))
  assert np.all(after.get_tensor(weights + '/Adam') == 0)
