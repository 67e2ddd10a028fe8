# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The README's "Bad inputs and what you get": one test per row.

Each error row checks the exit code, that stderr ends in exactly one `error:`
line (no traceback) naming the file or flag, and that nothing half-written is
left. Commands run in-process through their main(argv), except where the
process itself is the point (--debug, quiet output).
"""
import errno
import importlib
import logging
import os
import shutil
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

import create_tfrecord
import demo
import eval_flowers
import sample_files
import tiny_data
import train_flowers
from tf_compat import tf
from tiny_data import HEADS_ONLY_ARGV, IMAGE_SIZE, REPO, SPEC
from transfer import cli
from transfer.errors import BAD_LABEL_TAG


def assert_one_error(code, err, *words):
  """Exit code 1 and exactly one `error:` line, the last one, holding every word."""
  assert code == 1, err
  assert 'Traceback' not in err, err
  errors = [line for line in err.splitlines() if line.startswith('error:')]
  assert len(errors) == 1, err
  assert err.strip().splitlines()[-1] == errors[0]
  for word in words:
    assert str(word) in errors[0], (word, errors[0])
  return errors[0]


def train_main(records, log_dir, *extra):
  return train_flowers.main(['--dataset_dir', str(records), '--log_dir', str(log_dir),
                             '--image_size', str(IMAGE_SIZE), '--batch_size', '2',
                             '--from_scratch', '--num_epochs', '1'] + list(extra))


def eval_main(records, log_eval, *extra):
  return eval_flowers.main(['--dataset_dir', str(records), '--log_eval', str(log_eval),
                            '--image_size', str(IMAGE_SIZE), '--batch_size', '4',
                            '--num_epochs', '1'] + list(extra))


def convert_main(photo_dir, out, *extra):
  return create_tfrecord.main(['--photo_dir', str(photo_dir), '--output_dir', str(out),
                               '--num_shards', '1', '--num_threads', '1'] + list(extra))


def copy_records(records, tmp_path):
  copy = str(tmp_path / 'records')
  shutil.copytree(records, copy, ignore=shutil.ignore_patterns('photos'))
  return copy


def two_class_photos(root, per_class=3):
  for label in ('a', 'b'):
    (root / label).mkdir(parents=True)
    for i in range(per_class):
      (root / label / ('%d.jpg' % i)).write_bytes(sample_files.jpeg_bytes((20 + i, 24)))
  return root


# ---------------------------------------------------------------- the dataset folder
@pytest.mark.parametrize('state', ['missing', 'empty'])
def test_missing_or_empty_dataset_folder(tmp_path, capsys, state):
  folder = tmp_path / 'data'
  if state == 'empty':
    folder.mkdir()
  log_dir = tmp_path / 'log'
  line = assert_one_error(train_main(folder, log_dir), capsys.readouterr().err,
                          folder, 'create_tfrecord.py')
  assert ('does not exist' if state == 'missing' else 'flowers_train_*.tfrecord') in line
  assert not log_dir.exists()
  # The converter's photo folder, the same way.
  out = tmp_path / 'out'
  line = assert_one_error(convert_main(folder, out, '--validation_size', '1'),
                          capsys.readouterr().err, folder)
  assert ('does not exist' if state == 'missing' else 'no class sub-folders') in line
  assert not out.exists()


# ---------------------------------------------------------------- shards
def test_no_shards_for_a_split(records, tmp_path, capsys):
  data = copy_records(records, tmp_path)
  for path in tf.gfile.Glob(os.path.join(data, 'flowers_validation_*')):
    os.remove(path)
  log_eval = tmp_path / 'log_eval'
  assert_one_error(eval_main(data, log_eval, '--clean_baseline'), capsys.readouterr().err,
                   'flowers_validation_*.tfrecord', 'create_tfrecord.py')
  assert not log_eval.exists()


@pytest.mark.parametrize('damage', ['truncated', 'bad CRC'])
def test_truncated_or_bad_crc_shard(records, tmp_path, capsys, damage):
  data = copy_records(records, tmp_path)
  shard = sorted(tf.gfile.Glob(os.path.join(data, 'flowers_train_*')))[1]
  content = bytearray(open(shard, 'rb').read())
  if damage == 'truncated':
    content = content[:-7]
  else:
    content[len(content) // 2] ^= 0x10  # inside some record's photo bytes
  with open(shard, 'wb') as f:
    f.write(content)
  log_dir = tmp_path / 'log'
  line = assert_one_error(train_main(data, log_dir), capsys.readouterr().err,
                          shard, 'convert the photos again')
  assert ('truncated' if damage == 'truncated' else 'corrupted') in line
  assert not log_dir.exists()


# ---------------------------------------------------------------- photos
def png_header_only(width, height):
  """A PNG whose header announces width x height pixels, and nothing more."""
  def chunk(kind, data):
    return (struct.pack('>I', len(data)) + kind + data
            + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))
  return (b'\x89PNG\r\n\x1a\n'
          + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)))


def write_odd_photo(path, kind):
  """Writes a photo of `kind` to `path` (the suffix is chosen here); returns the path."""
  if kind == 'corrupt JPEG':
    whole = sample_files.jpeg_bytes((64, 64))
    path = path + '.jpg'
    open(path, 'wb').write(whole[:len(whole) // 2])
  elif kind == '0-byte file':
    path = path + '.jpg'
    open(path, 'wb').close()
  elif kind == 'huge image':  # 40000 x 40000: Pillow refuses it as a decompression bomb
    path = path + '.png'
    open(path, 'wb').write(png_header_only(40000, 40000))
  elif kind == 'CMYK JPEG':
    path = path + '.jpg'
    sample_files.solid((31, 23), (40, 200, 40), 'CMYK').save(path, 'JPEG')
  elif kind == '16-bit PNG':
    path = path + '.png'
    Image.fromarray(np.full((23, 31), 40000, np.uint16)).save(path)
  elif kind == 'GIF':
    path = path + '.gif'
    sample_files.solid((31, 23), (40, 200, 40)).convert('P').save(path, 'GIF')
  return path


@pytest.mark.parametrize('kind, skipped', [
    ('corrupt JPEG', True), ('0-byte file', True), ('huge image', True),
    ('CMYK JPEG', False), ('16-bit PNG', False), ('GIF', False)])
def test_odd_photos_are_converted_or_skipped_and_listed(tmp_path, capsys, kind, skipped):
  root = two_class_photos(tmp_path / 'photos')
  odd = write_odd_photo(str(root / 'a' / 'odd'), kind)
  out = tmp_path / 'out'
  assert convert_main(root, out, '--validation_size', '1') == 0
  captured = capsys.readouterr()
  assert 'error:' not in captured.err
  records = sample_files.records(str(out / '*.tfrecord'))
  if skipped:  # listed by name, with the reason, and the rest converted
    assert len(records) == 6
    assert 'Skipped 1 unreadable file(s):' in captured.out
    listed = [l for l in captured.out.splitlines() if os.path.basename(odd) in l]
    assert len(listed) == 1 and ': ' in listed[0], captured.out
  else:  # re-encoded as an RGB JPEG of the same size
    assert len(records) == 7
    assert '(1 photos re-encoded as JPEG)' in captured.out
    sizes = [(r['image/width'].int64_list.value[0], r['image/height'].int64_list.value[0])
             for r in records]
    assert (31, 23) in sizes
  assert sorted(os.listdir(str(out))) == [
      'flowers_train_00000-of-00001.tfrecord', 'flowers_validation_00000-of-00001.tfrecord',
      'labels.txt']


# ---------------------------------------------------------------- classes
@pytest.mark.parametrize('case', ['empty class folder', 'one class only'])
def test_empty_class_folder_or_one_class(tmp_path, capsys, case):
  root = two_class_photos(tmp_path / 'photos')
  if case == 'empty class folder':
    (root / 'c').mkdir()
    words = [root / 'c', 'no image files']
  else:
    shutil.rmtree(str(root / 'b'))
    words = [root, 'one class', 'at least two']
  out = tmp_path / 'out'
  assert_one_error(convert_main(root, out, '--validation_size', '1'),
                   capsys.readouterr().err, *words)
  assert not out.exists()


# ---------------------------------------------------------------- labels
@pytest.mark.parametrize('text, words', [
    ('0:blue\nred\n', ['line 2', "expected 'id:name'"]),
    ('0:blue\n2:red\n', ['without gaps', '1 is missing']),
    ('', ['holds no labels'])])
def test_malformed_labels_or_label_gaps(records, tmp_path, capsys, text, words):
  data = copy_records(records, tmp_path)
  with open(os.path.join(data, 'labels.txt'), 'w') as f:
    f.write(text)
  log_dir = tmp_path / 'log'
  assert_one_error(train_main(data, log_dir), capsys.readouterr().err,
                   os.path.join(data, 'labels.txt'), *words)
  assert not log_dir.exists()


def test_no_labels_txt_is_an_error_not_the_flowers_list(records, tmp_path, capsys,
                                                        monkeypatch):
  data = copy_records(records, tmp_path)
  os.remove(os.path.join(data, 'labels.txt'))
  monkeypatch.chdir(REPO)  # where ./labels.txt (the five flowers) is
  log_dir = tmp_path / 'log'
  assert_one_error(train_main(data, log_dir), capsys.readouterr().err,
                   os.path.join(data, 'labels.txt'), '--labels_file')
  assert not log_dir.exists()


def test_label_at_or_above_num_classes(records, tmp_path, capsys, small_network):
  # One class named, labels 0 and 1 stored: the in-graph check stops the
  # Supervisor's input threads, and the command names the folder and the fix.
  labels = tmp_path / 'one_class.txt'
  labels.write_text('0:blue\n')
  log_dir = tmp_path / 'log'
  assert_one_error(train_main(records, log_dir, '--labels_file', str(labels), *HEADS_ONLY_ARGV),
                   capsys.readouterr().err, BAD_LABEL_TAG, records, '--labels_file')
  assert tf.train.latest_checkpoint(str(log_dir)) is None


def test_loss_that_becomes_nan(records, tmp_path, capsys, small_network):
  # Adam moves every weight by about the learning rate: 1e30 overflows at once.
  log_dir = tmp_path / 'log'
  assert_one_error(train_main(records, log_dir, '--initial_learning_rate', '1e30',
                              *HEADS_ONLY_ARGV),
                   capsys.readouterr().err, 'NaN', '--initial_learning_rate', '--log_dir')


# ---------------------------------------------------------------- checkpoints and logs
def test_missing_checkpoint(records, tmp_path, capsys):
  # Training's missing ImageNet checkpoint: test_train_flowers.py
  # test_missing_imagenet_checkpoint_says_how_to_get_it.
  log_eval = tmp_path / 'log_eval'
  missing = tmp_path / 'model.ckpt-7'
  assert_one_error(eval_main(records, log_eval, '--checkpoint_file', str(missing)),
                   capsys.readouterr().err, missing, '--checkpoint_file')
  assert not log_eval.exists()


def test_checkpoint_of_another_model(records, tmp_path, capsys):
  other = tiny_data.write_spec_checkpoint(str(tmp_path / 'other.ckpt'),
                                          tiny_data.read_spec(SPEC)[:3])
  log_eval = tmp_path / 'log_eval'
  # Told before any graph is built, from the checkpoint's index.
  assert_one_error(eval_main(records, log_eval, '--checkpoint_file', other),
                   capsys.readouterr().err, other, 'holds no', 'not an Inception-ResNet-V2')
  assert not log_eval.exists()


def test_stale_demo_log_that_cannot_be_removed(tmp_path, capsys, monkeypatch):
  # Training's stale log_dir: test_train_flowers.py test_stale_log_dir_gets_a_clear_message.
  work = tmp_path / 'run'
  (work / 'log').mkdir(parents=True)
  (work / 'log' / 'checkpoint').write_text('model_checkpoint_path: "model.ckpt-99"\n')

  def refuse(path, *args, **kwargs):
    raise PermissionError(errno.EACCES, 'Permission denied', path)

  def must_not_train(*args):
    raise AssertionError('the old log would have been resumed')

  monkeypatch.setattr(demo.shutil, 'rmtree', refuse)
  monkeypatch.setattr(train_flowers, 'train', must_not_train)
  code = demo.main(['--work_dir', str(work), '--demo_images_per_class', '4',
                    '--validation_size', '4'])
  assert_one_error(code, capsys.readouterr().err, work / 'log', 'Permission denied',
                   '--work_dir')
  assert sorted(os.listdir(str(work))) == ['log']  # nothing converted


# ---------------------------------------------------------------- flags
def test_file_pattern_without_placeholder(records, tmp_path, capsys):
  log_dir = tmp_path / 'log'
  assert_one_error(train_main(records, log_dir, '--file_pattern', 'flowers_*.tfrecord'),
                   capsys.readouterr().err, '--file_pattern flowers_*.tfrecord', '%s')
  assert not log_dir.exists()


@pytest.mark.parametrize('size, words', [
    ('0', ['--validation_size must be at least 1']),
    ('6', ['validation_size 6 leaves no training images', '--validation_size'])])
def test_validation_size_zero_or_larger_than_the_data(tmp_path, capsys, size, words):
  root = two_class_photos(tmp_path / 'photos')
  out = tmp_path / 'out'
  assert_one_error(convert_main(root, out, '--validation_size', size),
                   capsys.readouterr().err, *words)
  assert not out.exists()


def test_empty_validation_split_from_elsewhere(records, tmp_path, capsys):
  # Empty shards, as an older converter wrote them for --validation_size 0.
  data = copy_records(records, tmp_path)
  for path in tf.gfile.Glob(os.path.join(data, 'flowers_validation_*')):
    open(path, 'wb').close()
  log_eval = tmp_path / 'log_eval'
  assert_one_error(eval_main(data, log_eval, '--clean_baseline'), capsys.readouterr().err,
                   'hold no records', '--validation_size 1')
  assert not log_eval.exists()


def test_image_size_below_the_network_minimum(records, tmp_path, capsys):
  log_dir = tmp_path / 'log'
  assert_one_error(train_main(records, log_dir, '--image_size', '80'),
                   capsys.readouterr().err, '--image_size 80', 'pass --image_size 107')
  assert not log_dir.exists()


def test_batch_size_larger_than_the_split(records, tmp_path, capsys):
  log_dir = tmp_path / 'log'
  assert_one_error(train_main(records, log_dir, '--batch_size', '33'),
                   capsys.readouterr().err, '--batch_size 33', '32 training images')
  assert not log_dir.exists()


def test_bad_flag_value_is_one_line(capsys):
  with pytest.raises(SystemExit) as done:
    train_flowers.main(['--batch_size', '0'])
  assert_one_error(done.value.code, capsys.readouterr().err, '--batch_size',
                   'positive integer', '--help')


@pytest.mark.parametrize('command', ['train_flowers', 'eval_flowers', 'predict_flowers',
                                     'export_flowers', 'create_tfrecord', 'demo', 'reproduce'])
def test_a_prefix_of_a_flag_is_refused_not_taken_for_it(command, capsys):
  # argparse's default would read --verbos as --verbose, and a new flag could
  # silently change what an old command line's prefix means.
  with pytest.raises(SystemExit) as done:
    importlib.import_module(command).main(['photo.jpg'] * (command == 'predict_flowers') +
                                          ['--verbos'])
  assert_one_error(done.value.code, capsys.readouterr().err,
                   'unrecognized arguments: --verbos')


@pytest.mark.parametrize('argv, words', [
    (['--optimizer', 'lamb'], ['--optimizer', "invalid choice: 'lamb'", 'rmsprop']),
    (['--learning_rate_decay_type', 'cosine'], ['--learning_rate_decay_type', 'polynomial']),
    (['--label_smoothing', '-0.1'], ['--label_smoothing', 'at least 0 and below 1']),
    (['--label_smoothing', '1'], ['--label_smoothing', 'at least 0 and below 1']),
    (['--weight_decay', '-0.00004'], ['--weight_decay', 'at least 0 and below 1']),
    (['--weight_decay', '1'], ['--weight_decay', 'at least 0 and below 1']),
    (['--moving_average_decay', '0'], ['--moving_average_decay', 'above 0 and below 1']),
    (['--moving_average_decay', '1'], ['--moving_average_decay', 'above 0 and below 1']),
    (['--momentum', '0.5'], ['--momentum is a flag of --optimizer momentum, not of adam',
                             'pass --optimizer momentum']),
    (['--optimizer', 'sgd', '--opt_epsilon', '1'], ['--opt_epsilon', 'adam', 'not of sgd']),
    (['--learning_rate_decay_type', 'fixed', '--learning_rate_decay_factor', '0.5'],
     ['--learning_rate_decay_factor does nothing with --learning_rate_decay_type fixed',
      'drop it']),
    (['--end_learning_rate', '0.001'], ['--end_learning_rate', 'exponential', 'polynomial']),
])
def test_bad_training_knobs_are_one_line(argv, words, tmp_path, capsys):
  with pytest.raises(SystemExit) as done:
    train_flowers.main(['--log_dir', str(tmp_path / 'log')] + argv)
  assert_one_error(done.value.code, capsys.readouterr().err, *words)
  assert not (tmp_path / 'log').exists()


# ---------------------------------------------------------------- writing
class FullDiskWriter(object):
  """A TFRecordWriter that fails like TensorFlow's on a full disk, after 3 records."""
  written = 0

  def __init__(self, path):
    self.path = path
    self.real = REAL_WRITER(path)

  def write(self, record):
    FullDiskWriter.written += 1
    if FullDiskWriter.written > 3:
      raise tf.errors.ResourceExhaustedError(None, None,
                                             '%s; No space left on device' % self.path)
    self.real.write(record)

  def close(self):
    self.real.close()


REAL_WRITER = tf.io.TFRecordWriter


def test_full_disk_while_converting_keeps_the_old_set(tmp_path, capsys, monkeypatch):
  root = two_class_photos(tmp_path / 'photos')
  out = tmp_path / 'out'
  assert convert_main(root, out, '--validation_size', '1') == 0
  before = {name: (out / name).read_bytes() for name in os.listdir(str(out))}
  (root / 'a' / 'new.jpg').write_bytes(sample_files.jpeg_bytes((50, 50)))
  capsys.readouterr()

  monkeypatch.setattr(tf.io, 'TFRecordWriter', FullDiskWriter)
  assert_one_error(convert_main(root, out, '--validation_size', '1', '--overwrite'),
                   capsys.readouterr().err, 'No space left on device', 'free some disk space')
  assert FullDiskWriter.written > 3
  # The old set, whole; no new shard, no staging folder.
  assert {name: (out / name).read_bytes() for name in os.listdir(str(out))} == before


# ---------------------------------------------------------------- the process itself
def run_script(script, *argv, cwd=None):
  return subprocess.run([sys.executable, os.path.join(REPO, script)] + list(argv),
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                        universal_newlines=True)


def test_debug_shows_the_traceback(tmp_path):
  missing = str(tmp_path / 'missing')
  run = run_script('create_tfrecord.py', '--photo_dir', missing, '--debug')
  assert run.returncode == 1
  assert 'Traceback' in run.stderr and 'DatasetError' in run.stderr
  assert 'photo folder %s does not exist' % missing in run.stderr


def test_quiet_unless_verbose(records, tmp_path):
  # The error comes after the input pipeline is built, which TensorFlow warns about.
  argv = ['--dataset_dir', records, '--log_dir', str(tmp_path / 'log'), '--from_scratch',
          '--image_size', '80']
  quiet = run_script('train_flowers.py', *argv)
  assert quiet.returncode == 1
  lines = quiet.stderr.splitlines()
  assert lines[-1] == (
      'error: --image_size 80 is below 107, the smallest input Inception-ResNet-V2 '
      '(with its auxiliary head) takes: pass --image_size 107 or more')
  # Only the script's own progress lines before it: no warnings, no C++ logs.
  assert [line for line in lines[:-1] if not line.startswith('INFO:tensorflow:')] == []
  assert len(lines) <= 3, lines
  loud = run_script('train_flowers.py', '--verbose', *argv)
  assert loud.returncode == 1
  assert 'is deprecated' in loud.stderr
  assert loud.stderr.splitlines()[-1] == lines[-1]


def test_tensorflows_own_info_lines_only_with_verbose(tmp_path, caplog, monkeypatch):
  caplog.set_level(logging.INFO, logger='tensorflow')
  # --verbose also sets the C++ log level, which later subprocesses would inherit.
  monkeypatch.setenv('TF_CPP_MIN_LOG_LEVEL', os.environ.get('TF_CPP_MIN_LOG_LEVEL', '2'))
  with tf.Graph().as_default():
    weight = tf.Variable(1.0)
    saver = tf.train.Saver()
    with tf.Session() as sess:
      sess.run(weight.initializer)
      path = saver.save(sess, str(tmp_path / 'model.ckpt'))

      def restore(verbose):
        cli.configure_output(verbose)
        caplog.clear()
        saver.restore(sess, path)  # the Saver logs 'Restoring parameters from ...'
        tf.logging.info('a line of the project')
        return [record.getMessage() for record in caplog.records]
      try:
        quiet, loud = restore(False), restore(True)
      finally:
        cli.configure_output(False)
  assert quiet == ['a line of the project']
  assert loud == ['Restoring parameters from %s' % path, 'a line of the project']
