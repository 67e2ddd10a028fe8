# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The converter: photos -> TFRecords, publishing as a whole, the flowers download, the command.

Everything runs on real files in tmp_path; the only server is one on 127.0.0.1.
"""
import glob
import os
import shutil
import socket
import subprocess
import sys

import pytest

import create_tfrecord
import dataset_utils
import sample_files
import train_flowers
from tf_compat import tf
from tiny_data import REPO
from transfer import downloads, files
from transfer.datasets import convert, photos, publish
from transfer.errors import DownloadError


def test_mixed_formats_round_trip(mixed_photos, tmp_path):
  photo_dir, sizes = mixed_photos
  out = str(tmp_path / 'out')
  summary = convert.convert_dataset(photo_dir, out, validation_size=3, num_shards=2)
  assert sorted(os.listdir(out)) == [
      'flowers_train_00000-of-00002.tfrecord', 'flowers_train_00001-of-00002.tfrecord',
      'flowers_validation_00000-of-00002.tfrecord',
      'flowers_validation_00001-of-00002.tfrecord', 'labels.txt']
  assert dataset_utils.read_label_file(out) == {0: 'cats', 1: 'dogs', 2: 'emus'}
  assert (summary['train'], summary['validation'], summary['skipped']) == (6, 3, [])
  assert summary['reencoded'] == 7  # all but the two RGB JPEGs

  counts = {split: [len(sample_files.records(f)) for f in sorted(glob.glob(
      os.path.join(out, 'flowers_%s_*.tfrecord' % split)))] for split in ('train', 'validation')}
  assert counts == {'train': [3, 3], 'validation': [2, 1]}

  rows = sample_files.records(os.path.join(out, '*.tfrecord'))
  decoded = sample_files.decode_all([tf.train.Example(features=tf.train.Features(feature=r))
                                     .SerializeToString() for r in rows])
  by_size = {size: name for name, (_, size) in sizes.items()}
  seen = set()
  for parsed, image in decoded:
    height, width = parsed['image/height'], parsed['image/width']
    assert image.shape == (height, width, 3)
    assert parsed['image/format'] == b'jpg'
    name = by_size[width, height]  # every test photo has its own size
    seen.add(name)
    # Class ids follow the sorted folder names.
    assert parsed['image/class/label'] == ['cats', 'dogs', 'emus'].index(sizes[name][0])
    if name == 'a.jpg':  # an RGB JPEG keeps its own bytes
      with open(os.path.join(photo_dir, 'cats', 'a.jpg'), 'rb') as f:
        assert parsed['image/encoded'] == f.read()
    if name in ('a.jpg', 'b.png', 'c.gif', 'd.bmp', 'f.jpeg'):  # colours survive
      channel = 0 if sizes[name][0] == 'cats' else 1
      assert image[..., channel].mean() > 150, name
    if name in ('g.png', 'h.png'):  # transparent black becomes white, not black
      left, right = image[:, :width // 2 - 2], image[:, width // 2 + 2:]
      assert left.min() > 230 and right[..., 2].mean() > 180 and right[..., 0].mean() < 80
  assert seen == set(sizes)
  # Each record names its photo (image/filename), as the converter found it.
  named = {r['image/filename'].bytes_list.value[0].decode('utf-8'): r['image/width']
           .int64_list.value[0] for r in rows}
  assert named == {os.path.join(photo_dir, label, name): size[0]
                   for name, (label, size) in sizes.items()}


def test_same_seed_same_split_other_seed_other_split(mixed_photos, tmp_path):
  photo_dir, _ = mixed_photos

  def validation_images(seed, name):
    out = str(tmp_path / name)
    convert.convert_dataset(photo_dir, out, validation_size=3, num_shards=1,
                            random_seed=seed, verbose=False)
    return sorted(r['image/width'].int64_list.value[0]
                  for r in sample_files.records(os.path.join(out, 'flowers_validation_*.tfrecord')))

  first = validation_images(0, 'a')
  assert validation_images(0, 'b') == first
  assert any(validation_images(seed, 'c%d' % seed) != first for seed in (1, 2, 3))


def test_corrupt_empty_and_non_image_files_are_skipped_and_listed(tmp_path, capsys):
  root = tmp_path / 'photos'
  for label in ('x', 'y'):
    (root / label).mkdir(parents=True)
    for i in range(3):
      (root / label / ('%d.jpg' % i)).write_bytes(sample_files.jpeg_bytes((20 + i, 20)))
  (root / 'x' / 'empty.jpg').write_bytes(b'')
  whole = sample_files.jpeg_bytes((64, 64))
  (root / 'y' / 'cut.jpg').write_bytes(whole[:len(whole) // 2])  # header intact, pixels not
  (root / 'y' / 'junk.png').write_bytes(b'not a png at all')
  (root / 'y' / 'notes.txt').write_text('hello')
  (root / 'x' / '.DS_Store').write_bytes(b'\0\0\0\1Bud1')
  (root / '.hidden_folder').mkdir()
  (root / 'LICENSE.txt').write_text('top-level files are not classes')

  summary = convert.convert_dataset(str(root), str(tmp_path / 'out'), validation_size=2,
                                    num_shards=1)
  skipped = sorted(os.path.relpath(p, str(root)) for p, _ in summary['skipped'])
  assert skipped == ['x/empty.jpg', 'y/cut.jpg', 'y/junk.png']
  assert [os.path.relpath(p, str(root)) for p in summary['ignored']] == ['y/notes.txt']
  assert summary['train'] + summary['validation'] == 6
  assert summary['class_names'] == ['x', 'y']
  out = capsys.readouterr().out
  assert 'Skipped 3 unreadable file(s):' in out
  for name in skipped + ['y/notes.txt']:
    assert name in out
  assert 'empty file' in out


def test_class_folder_without_images_is_an_error(tmp_path):
  root = tmp_path / 'photos'
  (root / 'full').mkdir(parents=True)
  (root / 'full' / 'a.jpg').write_bytes(sample_files.jpeg_bytes())
  (root / 'full' / 'b.jpg').write_bytes(sample_files.jpeg_bytes())
  (root / 'hollow').mkdir()
  (root / 'hollow' / '.DS_Store').write_bytes(b'x')
  with pytest.raises(ValueError, match='hollow'):
    convert.convert_dataset(str(root), str(tmp_path / 'out'), validation_size=1)


def test_class_folder_with_only_broken_images_is_an_error_and_writes_nothing(tmp_path):
  root = tmp_path / 'photos'
  (root / 'good').mkdir(parents=True)
  for i in range(3):
    (root / 'good' / ('%d.jpg' % i)).write_bytes(sample_files.jpeg_bytes())
  (root / 'bad').mkdir()
  (root / 'bad' / 'broken.jpg').write_bytes(b'\xff\xd8 nonsense')
  out = tmp_path / 'out'
  with pytest.raises(ValueError, match=r'bad.*no readable image'):
    convert.convert_dataset(str(root), str(out), validation_size=1, num_shards=2)
  assert os.listdir(str(out)) == []


def test_validation_size_must_leave_training_images(tmp_path):
  for name in ('one', 'two'):
    root = tmp_path / 'photos' / name
    root.mkdir(parents=True)
    for i in range(2):
      (root / ('%d.jpg' % i)).write_bytes(sample_files.jpeg_bytes())
  with pytest.raises(ValueError, match='validation_size 4 leaves no training images'):
    convert.convert_dataset(str(root.parent), str(tmp_path / 'out'), validation_size=4)


def test_existing_shards_need_overwrite(mixed_photos, tmp_path, capsys):
  photo_dir, _ = mixed_photos
  out = str(tmp_path / 'out')
  convert.convert_dataset(photo_dir, out, validation_size=3, num_shards=3)
  with pytest.raises(ValueError) as error:
    convert.convert_dataset(photo_dir, out, validation_size=3, num_shards=2)
  assert 'flowers_train_00000-of-00003.tfrecord' in str(error.value)
  assert '--overwrite' in str(error.value)

  capsys.readouterr()
  assert create_tfrecord.main(['--photo_dir', photo_dir, '--output_dir', out,
                               '--validation_size', '3']) == 1
  err = capsys.readouterr().err
  assert err.count('\n') == 1 and err.startswith('error: ') and '--overwrite' in err

  # With overwrite, shards of the old shard count go too: readers glob them all.
  convert.convert_dataset(photo_dir, out, validation_size=3, num_shards=2,
                          overwrite=True)
  assert len(glob.glob(os.path.join(out, '*.tfrecord'))) == 4
  assert len(sample_files.records(os.path.join(out, 'flowers_*.tfrecord'))) == 9


def test_different_labels_txt_needs_overwrite(mixed_photos, tmp_path):
  photo_dir, _ = mixed_photos
  dataset_utils.write_label_file({0: 'daisy'}, str(tmp_path))
  with pytest.raises(ValueError, match='labels.txt.*--overwrite'):
    convert.convert_dataset(photo_dir, str(tmp_path), validation_size=3)
  assert not glob.glob(str(tmp_path / '*.tfrecord'))


def test_interrupted_conversion_leaves_no_finished_looking_file(mixed_photos, tmp_path,
                                                                monkeypatch):
  photo_dir, _ = mixed_photos
  real = dataset_utils.image_to_tfexample
  calls = []

  def failing(*args, **keywords):
    calls.append(1)
    if len(calls) == 5:
      raise KeyboardInterrupt  # as if Ctrl-C came mid-way
    return real(*args, **keywords)

  monkeypatch.setattr(dataset_utils, 'image_to_tfexample', failing)
  out = tmp_path / 'out'
  with pytest.raises(KeyboardInterrupt):
    convert.convert_dataset(photo_dir, str(out), validation_size=2, num_shards=2)
  assert len(calls) == 5
  assert os.listdir(str(out)) == []  # no shard, no temporary, no labels.txt


def test_download_flowers_from_local_server_extracts_and_converts(tmp_path):
  served = tmp_path / 'served'
  served.mkdir()
  sample_files.flowers_tarball(str(served / 'flower_photos.tgz'))
  out = tmp_path / 'out'
  with sample_files.serve(str(served)) as url:
    assert create_tfrecord.main(['--download_flowers', '--flowers_url', url + '/flower_photos.tgz',
                                 '--output_dir', str(out), '--validation_size', '2',
                                 '--num_shards', '2']) == 0
  assert (out / 'flower_photos.tgz').read_bytes() == (served / 'flower_photos.tgz').read_bytes()
  assert (out / 'flower_photos' / 'LICENSE.txt').read_bytes() == b'CC-BY'
  assert dataset_utils.read_label_file(str(out)) == {0: 'daisy', 1: 'roses', 2: 'tulips'}
  assert len(sample_files.records(str(out / 'flowers_train_*.tfrecord'))) == 4
  assert len(sample_files.records(str(out / 'flowers_validation_*.tfrecord'))) == 2

  # A second run uses the archive already there: no server needed.
  downloads.download_and_extract(
      'http://127.0.0.1:%d/flower_photos.tgz' % sample_files.unused_port(), str(out))


def test_connection_refused_says_what_to_download_by_hand(tmp_path, capsys):
  url = 'http://127.0.0.1:%d/flower_photos.tgz' % sample_files.unused_port()
  dest = tmp_path / 'dl' / 'flower_photos.tgz'
  with pytest.raises(DownloadError) as error:
    downloads.download(url, str(dest))
  message = str(error.value)
  assert url in message and str(dest) in message and 'by hand' in message
  assert 'refused' in message.lower()
  assert os.listdir(str(tmp_path / 'dl')) == []

  assert create_tfrecord.main(['--download_flowers', '--flowers_url', url,
                               '--output_dir', str(tmp_path / 'out')]) == 1
  err = capsys.readouterr().err
  assert err.count('\n') == 1 and 'Traceback' not in err
  assert url in err and '--photo_dir %s' % (tmp_path / 'out' / 'flower_photos') in err


def test_make_demo_from_the_command_line(tmp_path, capsys):
  out = tmp_path / 'out'
  assert create_tfrecord.main(['--make_demo', '--output_dir', str(out),
                               '--demo_images_per_class', '6', '--validation_size', '5',
                               '--num_shards', '2']) == 0
  assert dataset_utils.read_label_file(str(out)) == dataset_utils.read_label_file(REPO)
  assert len(sample_files.records(str(out / 'flowers_validation_*.tfrecord'))) == 5
  assert len(sample_files.records(str(out / 'flowers_train_*.tfrecord'))) == 25
  assert 'demo_photos' in os.listdir(str(out))


def test_help_and_errors_from_the_command_line(tmp_path, capsys):
  with pytest.raises(SystemExit) as done:
    create_tfrecord.main(['--help'])
  assert done.value.code == 0
  text = capsys.readouterr().out
  for flag in ('--photo_dir', '--output_dir', '--validation_size', '--num_shards',
               '--random_seed', '--file_prefix', '--overwrite', '--download_flowers',
               '--flowers_url', '--make_demo'):
    assert flag in text
  assert create_tfrecord.main([]) == 1
  assert 'nothing to convert' in capsys.readouterr().err

  # The script itself: one line on stderr, exit status 1, no traceback.
  missing = str(tmp_path / 'missing')
  run = subprocess.run([sys.executable, os.path.join(REPO, 'create_tfrecord.py'),
                        '--photo_dir', missing], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, cwd=str(tmp_path))
  err = run.stderr.decode()
  assert run.returncode == 1
  assert err.splitlines()[-1] == 'error: photo folder %s does not exist' % missing
  assert 'Traceback' not in err


# ---------------------------------------------------------------- publishing as a whole
class Faults(object):
  """Counts the file-system changes of a run and fails the `fail_at`-th one."""
  CHANGES = ('replace', 'rename', 'remove', 'unlink', 'rmdir', 'rmtree')

  def __init__(self, fail_at=None):
    self.fail_at = fail_at
    self.count = 0

  def wrap(self, module):
    faults = self

    class Proxy(object):
      def __getattr__(self, name):
        real = getattr(module, name)
        if name not in Faults.CHANGES:
          return real

        def change(path, *args, **kwargs):
          faults.count += 1
          if faults.count == faults.fail_at:
            raise OSError(5, 'injected failure', path)
          return real(path, *args, **kwargs)
        return change
    return Proxy()


def visible_set(folder):
  """What readers see: {name: content} of every file but hidden ones.

  A shard's content is its records as (label, height, width, photo bytes), in
  order: the serialised bytes of equal records can differ (map order).
  """
  seen = {}
  for name in os.listdir(folder):
    path = os.path.join(folder, name)
    if name.startswith('.'):
      continue
    if name.endswith('.tfrecord'):
      seen[name] = [tuple(r[key].int64_list.value[0] for key in
                          ('image/class/label', 'image/height', 'image/width'))
                    + (r['image/encoded'].bytes_list.value[0],)
                    for r in sample_files.records(path)]
    else:
      seen[name] = open(path, 'rb').read()
  return seen


def publish_photos(root, with_third_class):
  for label in ('a', 'b', 'c') if with_third_class else ('a', 'b'):
    os.makedirs(str(root / label), exist_ok=True)
    for i in range(3):
      (root / label / ('%d.jpg' % i)).write_bytes(
          sample_files.jpeg_bytes((20 + i, 20 + len(label)), (50 * len(label), 90, 30)))
  return str(root)


def test_a_crash_at_any_publishing_step_leaves_the_old_set_or_the_new_one(tmp_path,
                                                                          monkeypatch):
  old_photos = publish_photos(tmp_path / 'old_photos', False)
  new_photos = publish_photos(tmp_path / 'new_photos', True)
  reference = str(tmp_path / 'reference')
  convert.convert_dataset(new_photos, reference, validation_size=2, num_shards=2,
                          verbose=False)
  new_set = visible_set(reference)

  def run(fail_at):
    out = str(tmp_path / ('out%s' % fail_at))
    convert.convert_dataset(old_photos, out, validation_size=2, num_shards=3,
                            verbose=False)
    faults = Faults(fail_at)
    with monkeypatch.context() as patch:
      for module in (convert, publish, files):
        patch.setattr(module, 'os', faults.wrap(os))
      for module in (convert, publish):
        patch.setattr(module, 'shutil', faults.wrap(shutil))
      try:
        convert.convert_dataset(new_photos, out, validation_size=2, num_shards=2,
                                overwrite=True, verbose=False)
      except OSError as e:
        assert 'injected failure' in str(e)
    return out, faults.count

  old_out, steps = run(None)
  assert visible_set(old_out) == new_set and steps >= 8
  old_set = {}
  outcomes = set()
  for fail_at in range(1, steps + 1):
    out, _ = run(fail_at)
    if not old_set:
      old_set = visible_set(str(tmp_path / 'out1'))
    journal = os.path.exists(os.path.join(out, publish.PUBLISH_JOURNAL))
    if journal:  # committed: readers refuse until the publish is finished
      with pytest.raises(ValueError, match='--finish_publish --output_dir'):
        train_flowers.get_split('train', out)
      assert create_tfrecord.main(['--finish_publish', '--output_dir', out]) == 0
      outcomes.add('finished')
      assert visible_set(out) == new_set, fail_at
    else:
      seen = visible_set(out)
      assert seen in (old_set, new_set), fail_at
      outcomes.add('old' if seen == old_set else 'new')
    # Whatever is left hidden, the next conversion clears it.
    convert.convert_dataset(new_photos, out, validation_size=2, num_shards=2,
                            overwrite=True, verbose=False)
    assert sorted(os.listdir(out)) == sorted(new_set), fail_at
  assert outcomes == {'old', 'finished', 'new'}


def test_the_old_set_is_different_from_the_new_one(tmp_path):
  # Guards the test above: a crash that kept the old set must be told from a finished one.
  a = str(tmp_path / 'a')
  b = str(tmp_path / 'b')
  convert.convert_dataset(publish_photos(tmp_path / 'pa', False), a, validation_size=2,
                          num_shards=3, verbose=False)
  convert.convert_dataset(publish_photos(tmp_path / 'pb', True), b, validation_size=2,
                          num_shards=2, verbose=False)
  assert set(visible_set(a)).isdisjoint(set(visible_set(b)) - {'labels.txt'})
  assert visible_set(a)['labels.txt'] != visible_set(b)['labels.txt']


def test_a_second_converter_on_the_same_folder_is_refused(mixed_photos, tmp_path):
  photo_dir, _ = mixed_photos
  out = tmp_path / 'out'
  out.mkdir()
  with publish.output_lock(str(out)):  # as a running converter holds it
    with pytest.raises(ValueError) as refused:
      convert.convert_dataset(photo_dir, str(out), validation_size=3)
  assert str(refused.value).startswith('%s is in use by create_tfrecord.py (pid %d on %s since '
                                       % (out, os.getpid(), socket.gethostname()))
  assert str(refused.value).endswith('wait for it to finish, or pass another --output_dir')
  assert os.listdir(str(out)) == []
  convert.convert_dataset(photo_dir, str(out), validation_size=3, verbose=False)


def test_staging_folders_of_crashed_runs_are_removed(mixed_photos, tmp_path):
  photo_dir, _ = mixed_photos
  stale = tmp_path / 'out' / '.staging-99999-abc'
  stale.mkdir(parents=True)
  (stale / 'flowers_train_00000-of-00005.tfrecord').write_bytes(b'half')
  convert.convert_dataset(photo_dir, str(tmp_path / 'out'), validation_size=3,
                          num_shards=1, verbose=False)
  assert sorted(os.listdir(str(tmp_path / 'out'))) == [
      'flowers_train_00000-of-00001.tfrecord', 'flowers_validation_00000-of-00001.tfrecord',
      'labels.txt']


@pytest.mark.parametrize('error', [MemoryError, TypeError])
def test_memory_and_programming_errors_are_not_bad_photos(mixed_photos, tmp_path,
                                                          monkeypatch, error):
  photo_dir, _ = mixed_photos

  def broken(*args):
    raise error('not a photo problem')

  monkeypatch.setattr(photos, 'load_photo', broken)
  out = tmp_path / 'out'
  with pytest.raises(error):
    convert.convert_dataset(photo_dir, str(out), validation_size=3, num_threads=2)
  assert os.listdir(str(out)) == []


def test_same_seed_flag_gives_the_same_shards(mixed_photos, tmp_path):
  photo_dir, _ = mixed_photos
  sets = []
  for name, seed in (('a', '7'), ('b', '7'), ('c', '8')):
    out = str(tmp_path / name)
    assert create_tfrecord.main(['--photo_dir', photo_dir, '--output_dir', out, '--seed', seed,
                                 '--validation_size', '3', '--num_shards', '2']) == 0
    sets.append(visible_set(out))
  assert sets[0] == sets[1]
  assert sets[0] != sets[2]
