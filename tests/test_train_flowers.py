# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""get_split / load_batch and the training script, on small real graphs."""
import os
import subprocess
import sys
import tarfile

import numpy as np
import pytest

import inception_preprocessing
import tiny_data
import train_flowers
from tf_compat import tf
from tiny_data import HEADS_ONLY_ARGV, IMAGE_SIZE, REPO, SPEC, train_flags, train_settings
from transfer import checkpoints, model, runtime
from transfer.datasets import convert, records as shards
from transfer.errors import BAD_LABEL_TAG
from transfer.training import start


# ---------------------------------------------------------------- get_split
def test_get_split_rejects_unknown_split(records):
  with pytest.raises(ValueError, match='test'):
    train_flowers.get_split('test', records)


def test_get_split_without_files_names_folder_pattern_and_command(tmp_path):
  with pytest.raises(ValueError) as error:
    train_flowers.get_split('train', str(tmp_path))
  message = str(error.value)
  assert str(tmp_path) in message
  assert 'flowers_train_*.tfrecord' in message
  assert 'create_tfrecord.py' in message


def test_get_split_counts_every_shard_and_reads_labels(records):
  dataset = train_flowers.get_split('train', records)
  files = dataset.data_sources
  assert len(files) == 2
  assert dataset.num_samples == sum(
      sum(1 for _ in tf.python_io.tf_record_iterator(f)) for f in files) == 32
  assert dataset.num_classes == 2
  assert dataset.labels_to_name == {0: 'blue', 1: 'red'}
  assert train_flowers.get_split('validation', records).num_samples == 8


def test_count_records_rejects_a_truncated_file(records, tmp_path):
  shard = train_flowers.get_split('train', records).data_sources[0]
  cut = tmp_path / 'cut.tfrecord'
  cut.write_bytes(open(shard, 'rb').read()[:-7])
  with pytest.raises(ValueError, match='truncated'):
    shards.count_records(str(cut))


def test_import_needs_no_labels_file(tmp_path):
  code = 'import train_flowers, eval_flowers; print(train_flowers.num_epochs)'
  env = dict(os.environ, PYTHONPATH=REPO)
  out = subprocess.run([sys.executable, '-c', code], cwd=str(tmp_path), env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
  assert out.returncode == 0, out.stderr.decode()[-2000:]
  assert out.stdout.decode().strip() == '70'


def run_batches(tensors, count):
  """Runs `count` batches of the queue-fed `tensors`."""
  with runtime.queue_session() as sess:
    return [sess.run(tensors) for _ in range(count)]


@pytest.mark.parametrize('is_training', [True, False])
def test_load_batch_shapes_ranges_and_labels(records, is_training):
  with tf.Graph().as_default():
    dataset = train_flowers.get_split('validation', records)
    images, raw, labels = train_flowers.load_batch(dataset, 4, 40, 48, is_training=is_training)
    batches = run_batches([images, raw, labels], 4)
  for images_v, raw_v, labels_v in batches:
    assert images_v.shape == (4, 40, 48, 3) and images_v.dtype == np.float32
    assert -1.0 <= images_v.min() and images_v.max() <= 1.0
    assert raw_v.shape == (4, 40, 48, 3) and raw_v.dtype == np.uint8
    # The two colours: red images have more red than blue, and the reverse.
    red = raw_v[..., 0].mean(axis=(1, 2)) > raw_v[..., 2].mean(axis=(1, 2))
    assert list(red) == [name == 'red' for name in
                         (dataset.labels_to_name[l] for l in labels_v)]
  seen = np.concatenate([b[2] for b in batches])
  assert sorted(set(seen)) == [0, 1]


def test_evaluation_batches_end_after_the_asked_epochs(records):
  with tf.Graph().as_default():
    dataset = train_flowers.get_split('validation', records)
    _, _, labels = train_flowers.load_batch(dataset, 3, 32, 32, is_training=False,
                                            num_epochs=2)
    with runtime.queue_session() as sess:
      sizes = []
      with pytest.raises(tf.errors.OutOfRangeError):
        while True:
          sizes.append(len(sess.run(labels)))
  assert sum(sizes) == 16 and sizes[-1] == 1  # 2 epochs of 8, the last batch smaller


def test_labels_outside_the_label_file_are_detected(records, tmp_path):
  labels = tmp_path / 'one_class.txt'
  labels.write_text('0:blue\n')
  with tf.Graph().as_default():
    dataset = train_flowers.get_split('train', records, labels_file=str(labels))
    assert dataset.num_classes == 1
    _, _, batch_labels = train_flowers.load_batch(dataset, 16, 32, 32)
    with pytest.raises(tf.errors.InvalidArgumentError, match=BAD_LABEL_TAG):
      run_batches(batch_labels, 3)


# ---------------------------------------------------------------- training
def build_graph(settings):
  """train_flowers' training graph for `settings` (a TrainSettings), in the default graph."""
  dataset = train_flowers.get_split('train', settings.dataset_dir, settings.file_pattern,
                                    settings.labels_file)
  return train_flowers.build_training_graph(settings, dataset)


def event_values(log_dir, tag):
  """{step: value} of a scalar tag over the event files of log_dir."""
  values = {}
  for path in tf.gfile.Glob(os.path.join(log_dir, 'events.out.tfevents.*')):
    for event in tf.train.summary_iterator(path):
      for value in event.summary.value:
        if value.tag == tag:
          values[event.step] = value.simple_value
  return values


def event_tags(log_dir):
  tags = set()
  for path in tf.gfile.Glob(os.path.join(log_dir, 'events.out.tfevents.*')):
    for event in tf.train.summary_iterator(path):
      tags.update(v.tag for v in event.summary.value)
  return tags


def test_training_writes_checkpoints_and_summaries(trained):
  assert trained['first']['global_step'] == 6 * 4
  assert trained['first_checkpoint'].endswith('model.ckpt-24')
  tags = event_tags(trained['log_dir'])
  for tag in ('losses/Total_Loss', 'accuracy', 'learning_rate'):
    assert tag in tags
  # Preprocessing image summaries and input-queue summaries are merged in.
  assert any('final_distorted_image' in t for t in tags), tags
  assert any('fraction_of_' in t for t in tags), tags
  # TensorBoard's graph comes from the event file; no slow text copy beside it.
  assert not os.path.exists(os.path.join(trained['log_dir'], 'graph.pbtxt'))
  graphs = [e for path in tf.gfile.Glob(os.path.join(trained['log_dir'], 'events.out.*'))
            for e in tf.train.summary_iterator(path) if e.graph_def]
  assert graphs


def test_learning_rate_follows_the_staircase(trained):
  rates = event_values(trained['log_dir'], 'learning_rate')
  assert len(rates) >= 10
  decay_steps = 4  # 1 epoch of ceil(32 / 8) steps
  for step, rate in rates.items():
    # The summary is taken in the same run as step `step`, before its increment.
    expected = 0.0002 * 0.3 ** ((step - 1) // decay_steps)
    assert rate == pytest.approx(expected, rel=1e-5), (step, rate)
  assert len(set('%.6g' % r for r in rates.values())) == 7  # steps 1-28: seven stairs


def test_last_checkpoint_holds_every_variable(records, trained):
  stored = dict(tf.train.list_variables(tf.train.latest_checkpoint(trained['log_dir'])))
  with tf.Graph().as_default():
    build_graph(train_settings(records, 'unused', batch_size=8))
    expected = {v.op.name for v in tf.global_variables()}
  assert set(stored) == expected
  # The new head, its Adam slots and the step, which the ImageNet checkpoint lacks.
  for name in ('InceptionResnetV2/Logits/Logits/weights',
               'InceptionResnetV2/Logits/Logits/weights/Adam_1', 'global_step'):
    assert name in stored


def test_second_run_resumes_at_the_saved_step(trained):
  assert trained['resumed']['global_step'] == 7 * 4
  assert tf.train.latest_checkpoint(trained['log_dir']).endswith('model.ckpt-28')
  losses = event_values(trained['log_dir'], 'losses/Total_Loss')
  assert max(losses) > 24 and min(losses) <= 24  # both runs in one log


def test_training_learns_the_small_set(trained):
  # Streaming accuracy of the resumed run: its last epoch only.
  assert trained['resumed']['accuracy'] >= 0.8, trained


def test_missing_imagenet_checkpoint_says_how_to_get_it(records, tmp_path, capsys):
  log_dir = tmp_path / 'log'
  code = train_flowers.main(['--dataset_dir', records, '--log_dir', str(log_dir),
                             '--checkpoint_file', str(tmp_path / 'absent.ckpt')])
  err = capsys.readouterr().err.strip()
  assert code == 1
  assert len(err.splitlines()) == 1
  assert 'absent.ckpt' in err and '--download_checkpoint' in err
  assert not log_dir.exists()


def test_stale_log_dir_gets_a_clear_message(records, tmp_path, capsys, small_network):
  # A log_dir written by another setup: model variables, but no Adam slots.
  log_dir = tmp_path / 'log'
  with tf.Graph().as_default():
    model.build_model(tf.placeholder(tf.float32, [1, IMAGE_SIZE, IMAGE_SIZE, 3]), 2,
                      is_training=True)
    tf.train.get_or_create_global_step()
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      tf.train.Saver().save(sess, str(log_dir / 'model.ckpt'), global_step=5)
  # The heads alone are trained: their Adam slots are missing all the same.
  code = train_flowers.main(['--dataset_dir', records, '--log_dir', str(log_dir),
                             '--image_size', str(IMAGE_SIZE), '--batch_size', '2']
                            + list(HEADS_ONLY_ARGV))
  err = capsys.readouterr().err.strip()
  assert code == 1
  assert len(err.splitlines()) == 1, err
  assert str(log_dir) in err and '/Adam' in err and '--log_dir' in err


# ---------------------------------------------------------------- the ImageNet checkpoint
def test_restore_fills_every_non_excluded_variable(records, spec_checkpoint, tmp_path):
  settings = train_settings(records, str(tmp_path / 'log'), checkpoint_file=spec_checkpoint)
  reader = tf.train.load_checkpoint(spec_checkpoint)
  with tf.Graph().as_default():
    graph = build_graph(settings)
    init_fn = start.init_fn(settings, graph.variables_to_restore, resume_from=None)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      init_fn(sess)
      restored = {v.op.name: v for v in graph.variables_to_restore}
      values = sess.run(restored)
      logits = sess.run('InceptionResnetV2/Logits/Logits/weights:0')
  names = set(restored)
  excluded = ('InceptionResnetV2/Logits/', 'InceptionResnetV2/AuxLogits/')
  kept = [n for n, _ in tiny_data.read_spec(SPEC) if not n.startswith(excluded)]
  assert names == set(kept) and len(kept) == 896
  for name, value in values.items():
    np.testing.assert_array_equal(value, reader.get_tensor(name), err_msg=name)
  assert not any(n.startswith(('InceptionResnetV2/Logits', 'InceptionResnetV2/AuxLogits'))
                 for n in names)
  assert logits.shape[-1] == 2


def make_checkpoint_tarball(folder, checkpoint):
  tar_path = os.path.join(folder, 'inception_resnet_v2_2016_08_30.tar.gz')
  with tarfile.open(tar_path, 'w:gz', compresslevel=1) as tar:
    tar.add(checkpoint, arcname=os.path.basename(checkpoint))
  return tar_path


def test_download_checkpoint_from_a_local_server(spec_checkpoint, tmp_path):
  served = tmp_path / 'served'
  served.mkdir()
  make_checkpoint_tarball(str(served), spec_checkpoint)
  target = tmp_path / 'ckpt' / 'inception_resnet_v2_2016_08_30.ckpt'
  with tiny_data.serve_directory(str(served)) as url:
    checkpoints.require_checkpoint(
        str(target), download=True, url=url + '/inception_resnet_v2_2016_08_30.tar.gz')
  assert tf.train.checkpoint_exists(str(target))
  assert len(tf.train.list_variables(str(target))) == 908


def test_downloaded_checkpoint_that_is_not_the_official_one_is_refused(tmp_path):
  served = tmp_path / 'served'
  served.mkdir()
  fake = tiny_data.write_spec_checkpoint(str(tmp_path / 'inception_resnet_v2_2016_08_30.ckpt'),
                                         tiny_data.read_spec(SPEC)[:100])
  make_checkpoint_tarball(str(served), fake)
  target = tmp_path / 'ckpt' / 'inception_resnet_v2_2016_08_30.ckpt'
  with tiny_data.serve_directory(str(served)) as url:
    with pytest.raises(ValueError, match='not the inception_resnet_v2_2016_08_30'):
      checkpoints.require_checkpoint(
          str(target), download=True, url=url + '/inception_resnet_v2_2016_08_30.tar.gz')


# ---------------------------------------------------------------- flags through train()
def test_trainable_and_exclude_scopes_through_train(spec_checkpoint, tmp_path, small_network):
  photos = tiny_data.make_colour_photos(str(tmp_path / 'photos'), per_class=3)
  records = str(tmp_path / 'records')
  convert.convert_dataset(photos, records, validation_size=2, num_shards=1, verbose=False)
  log_dir = str(tmp_path / 'log')
  excluded = 'InceptionResnetV2/Conv2d_1a_3x3/BatchNorm'
  train_flowers.train(**train_flags(
      records, log_dir, imagenet_checkpoint_file=spec_checkpoint, batch_size=4,
      num_epochs=1, trainable_scopes='InceptionResnetV2/Logits',
      checkpoint_exclude_scopes='InceptionResnetV2/Logits,InceptionResnetV2/AuxLogits,'
      + excluded))
  saved = tf.train.load_checkpoint(tf.train.latest_checkpoint(log_dir))
  imagenet = tf.train.load_checkpoint(spec_checkpoint)
  # Restored and not trained: still the ImageNet values.
  name = 'InceptionResnetV2/Conv2d_1a_3x3/weights'
  np.testing.assert_array_equal(saved.get_tensor(name), imagenet.get_tensor(name))
  # Excluded: its own initial values, not the checkpoint's fill.
  name = excluded + '/beta'
  assert not np.allclose(saved.get_tensor(name), imagenet.get_tensor(name))
  # Only the trainable scope got Adam slots, and they moved.
  slots = [n for n, _ in tf.train.list_variables(log_dir) if n.endswith('/Adam')]
  assert slots and all(n.startswith('InceptionResnetV2/Logits/') for n in slots), slots
  assert np.abs(saved.get_tensor('InceptionResnetV2/Logits/Logits/weights/Adam')).sum() > 0


def initial_weights(records, seed):
  with tf.Graph().as_default():
    build_graph(train_settings(records, 'unused', seed=seed))
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      return sess.run(tf.trainable_variables())


def test_seed_gives_the_same_initial_weights(records, small_network):
  first = initial_weights(records, 5)
  assert len(first) == 6
  for a, b in zip(first, initial_weights(records, 5)):
    np.testing.assert_array_equal(a, b)
  # The three layers' weights (not their batch-norm beta or biases) differ with the seed.
  for a, b in zip(first[::2], initial_weights(records, 6)[::2]):
    assert not np.allclose(a, b)


def test_seed_gives_the_same_distortions():
  photo = np.random.RandomState(0).randint(0, 256, (60, 80, 3)).astype(np.uint8)

  def distorted(seed):
    with tf.Graph().as_default():
      tf.set_random_seed(seed)  # what train does with --seed
      image = inception_preprocessing.preprocess_image(tf.constant(photo), 40, 40, True)
      with tf.Session() as sess:
        return np.stack([sess.run(image) for _ in range(3)])

  first = distorted(5)
  np.testing.assert_array_equal(first, distorted(5))
  assert not np.allclose(first, distorted(6))
  assert not np.allclose(first[0], first[1])  # a new distortion each run, all the same


def test_get_split_reads_through_tf_gfile_urls(records):
  # file:// goes through tf.io.gfile as gs:// does; plain open() cannot read it.
  dataset = train_flowers.get_split('train', 'file://' + records)
  assert dataset.num_samples == 32
  assert dataset.labels_to_name == {0: 'blue', 1: 'red'}
  assert all(f.startswith('file://') for f in dataset.data_sources)
