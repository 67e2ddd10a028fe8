"""dataset_utils: photos -> TFRecords, label files, downloads, archives, the demo set.

Everything runs on real files in tmp_path; the only server is one on 127.0.0.1.
"""
import glob
import hashlib
import http.server
import io
import os
import socket
import subprocess
import sys
import tarfile

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from PIL import Image

import dataset_utils
import tiny_data
import train_flowers

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------- helpers
def solid(size, colour, mode='RGB'):
  """A noisy solid-colour image of (width, height) `size`, converted to `mode`."""
  rng = np.random.RandomState(sum(size))
  pixels = np.clip(np.array(colour) + rng.normal(0, 8, (size[1], size[0], 3)), 0, 255)
  return Image.fromarray(pixels.astype(np.uint8)).convert(mode)


def half_transparent(size, colour, palette=False):
  """Left half transparent black, right half `colour`: as RGBA or as palette + transparency."""
  width, height = size
  if palette:
    image = Image.new('P', size, 1)
    image.putpalette([0, 0, 0] + list(colour) + [0, 0, 0] * 254)
    image.paste(0, (0, 0, width // 2, height))
    image.info['transparency'] = 0
    return image
  image = Image.new('RGBA', size, tuple(colour) + (255,))
  image.paste((0, 0, 0, 0), (0, 0, width // 2, height))
  return image


def jpeg_bytes(size=(30, 20), colour=(200, 30, 30)):
  buffer = io.BytesIO()
  solid(size, colour).save(buffer, 'JPEG', quality=90)
  return buffer.getvalue()


def records(pattern):
  """[(features dict)] of every record in the files matching `pattern`, in file order."""
  rows = []
  for path in sorted(glob.glob(pattern)):
    for serialized in tf.python_io.tf_record_iterator(path):
      example = tf.train.Example.FromString(serialized)
      rows.append(example.features.feature)
  return rows


def decode_all(serialized_records):
  """Parses records with tf.io.parse_single_example and decodes them with decode_jpeg."""
  with tf.Graph().as_default():
    serialized = tf.placeholder(tf.string, [])
    parsed = tf.io.parse_single_example(serialized, {
        'image/encoded': tf.FixedLenFeature([], tf.string),
        'image/format': tf.FixedLenFeature([], tf.string),
        'image/class/label': tf.FixedLenFeature([], tf.int64),
        'image/height': tf.FixedLenFeature([], tf.int64),
        'image/width': tf.FixedLenFeature([], tf.int64)})
    image = tf.image.decode_jpeg(parsed['image/encoded'], channels=3)
    with tf.Session() as sess:
      return [sess.run([parsed, image], {serialized: s}) for s in serialized_records]


def make_tarball(path, members):
  """Writes a .tgz of (name, bytes) regular files, or ready tarfile.TarInfo objects."""
  with tarfile.open(path, 'w:gz') as tar:
    for member in members:
      if isinstance(member, tarfile.TarInfo):
        tar.addfile(member)
      else:
        name, data = member
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
  return path


class _Handler(http.server.SimpleHTTPRequestHandler):
  """Serves a folder; /short.tgz promises more bytes than it sends."""

  def do_GET(self):
    if self.path == '/short.tgz':
      self.send_response(200)
      self.send_header('Content-Length', '5000')
      self.end_headers()
      self.wfile.write(b'x' * 100)
      self.close_connection = True
      return
    super().do_GET()

  def log_message(self, *args):
    pass


def serve(directory):
  """An HTTP server for `directory` on 127.0.0.1; yields its base URL."""
  return tiny_data.serve_directory(directory, handler=_Handler)


def unused_port():
  """A port nothing listens on (bound then released)."""
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
  # A proxy from the environment must not intercept the local test server.
  for name in ('http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY'):
    monkeypatch.delenv(name, raising=False)
  monkeypatch.setenv('no_proxy', '127.0.0.1,localhost')


@pytest.fixture
def mixed_photos(tmp_path):
  """Three classes in every format the converter must turn into RGB JPEG records."""
  root = tmp_path / 'photos'
  specs = {
      # name: (class, image, format, save options)
      'a.jpg': ('cats', solid((40, 30), (200, 40, 40)), 'JPEG', {}),
      'b.png': ('cats', solid((33, 21), (200, 40, 40)), 'PNG', {}),
      'c.gif': ('cats', solid((25, 35), (200, 40, 40)).convert('P'), 'GIF', {}),
      'd.bmp': ('dogs', solid((31, 17), (40, 200, 40)), 'BMP', {}),
      'e.jpg': ('dogs', solid((20, 44), (128, 128, 128), 'L'), 'JPEG', {}),
      'f.jpeg': ('dogs', solid((28, 28), (40, 200, 40), 'CMYK'), 'JPEG', {}),
      'g.png': ('emus', half_transparent((26, 19), (40, 40, 200)), 'PNG', {}),
      'h.png': ('emus', half_transparent((18, 22), (40, 40, 200), True), 'PNG',
                {'transparency': 0}),
      'i.JPG': ('emus', solid((50, 24), (40, 40, 200)), 'JPEG', {'progressive': True}),
  }
  for name, (label, image, fmt, options) in specs.items():
    (root / label).mkdir(parents=True, exist_ok=True)
    image.save(str(root / label / name), fmt, **options)
  return str(root), {name: (label, image.size) for name, (label, image, _, _) in specs.items()}


# ---------------------------------------------------------------- label file
def test_top_level_labels_txt_lists_the_five_flowers():
  assert dataset_utils.read_label_file(REPO) == {
      0: 'daisy', 1: 'dandelion', 2: 'roses', 3: 'sunflowers', 4: 'tulips'}
  with open(os.path.join(REPO, 'labels.txt')) as f:
    assert f.read() == '0:daisy\n1:dandelion\n2:roses\n3:sunflowers\n4:tulips\n'


def test_label_file_round_trip(tmp_path):
  labels = {2: 'c: with colon', 0: 'a', 1: 'b b'}
  path = dataset_utils.write_label_file(labels, str(tmp_path / 'new'), 'names.txt')
  assert open(path).read() == '0:a\n1:b b\n2:c: with colon\n'
  assert dataset_utils.read_label_file(str(tmp_path / 'new'), 'names.txt') == labels
  assert os.listdir(str(tmp_path / 'new')) == ['names.txt']  # no temporary left


@pytest.mark.parametrize('bad_line', ['daisy', 'x:daisy', '3:', '1:again'])
def test_malformed_label_file_names_file_and_line(tmp_path, bad_line):
  (tmp_path / 'labels.txt').write_text('0:daisy\n1:dandelion\n\n%s\n' % bad_line)
  with pytest.raises(ValueError) as error:
    dataset_utils.read_label_file(str(tmp_path))
  assert str(tmp_path / 'labels.txt') in str(error.value)
  assert 'line 4' in str(error.value)


# ---------------------------------------------------------------- examples
def test_image_to_tfexample_decodes_with_slim_tfexample_decoder():
  data = jpeg_bytes((30, 20))
  example = dataset_utils.image_to_tfexample(data, b'jpg', 20, 30, 3)
  feature = example.features.feature
  assert feature['image/encoded'].bytes_list.value == [data]
  assert feature['image/format'].bytes_list.value == [b'jpg']
  assert [feature[k].int64_list.value[0] for k in
          ('image/class/label', 'image/height', 'image/width')] == [3, 20, 30]
  with tf.Graph().as_default():
    decoder = train_flowers.tfexample_decoder()
    image, label = decoder.decode(tf.constant(example.SerializeToString()), ['image', 'label'])
    with tf.Session() as sess:
      image, label = sess.run([image, label])
  assert image.shape == (20, 30, 3) and label == 3
  assert abs(image[..., 0].mean() - 200) < 10  # the red channel of the photo


# ---------------------------------------------------------------- conversion
def test_mixed_formats_round_trip(mixed_photos, tmp_path):
  photo_dir, sizes = mixed_photos
  out = str(tmp_path / 'out')
  summary = dataset_utils.convert_dataset(photo_dir, out, validation_size=3, num_shards=2)
  assert sorted(os.listdir(out)) == [
      'flowers_train_00000-of-00002.tfrecord', 'flowers_train_00001-of-00002.tfrecord',
      'flowers_validation_00000-of-00002.tfrecord',
      'flowers_validation_00001-of-00002.tfrecord', 'labels.txt']
  assert dataset_utils.read_label_file(out) == {0: 'cats', 1: 'dogs', 2: 'emus'}
  assert (summary['train'], summary['validation'], summary['skipped']) == (6, 3, [])
  assert summary['reencoded'] == 7  # all but the two RGB JPEGs

  counts = {split: [len(records(f)) for f in sorted(glob.glob(
      os.path.join(out, 'flowers_%s_*.tfrecord' % split)))] for split in ('train', 'validation')}
  assert counts == {'train': [3, 3], 'validation': [2, 1]}

  rows = records(os.path.join(out, '*.tfrecord'))
  decoded = decode_all([tf.train.Example(features=tf.train.Features(feature=r))
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


def test_same_seed_same_split_other_seed_other_split(mixed_photos, tmp_path):
  photo_dir, _ = mixed_photos

  def validation_images(seed, name):
    out = str(tmp_path / name)
    dataset_utils.convert_dataset(photo_dir, out, validation_size=3, num_shards=1,
                                  random_seed=seed, verbose=False)
    return sorted(r['image/width'].int64_list.value[0]
                  for r in records(os.path.join(out, 'flowers_validation_*.tfrecord')))

  first = validation_images(0, 'a')
  assert validation_images(0, 'b') == first
  assert any(validation_images(seed, 'c%d' % seed) != first for seed in (1, 2, 3))


def test_corrupt_empty_and_non_image_files_are_skipped_and_listed(tmp_path, capsys):
  root = tmp_path / 'photos'
  for label in ('x', 'y'):
    (root / label).mkdir(parents=True)
    for i in range(3):
      (root / label / ('%d.jpg' % i)).write_bytes(jpeg_bytes((20 + i, 20)))
  (root / 'x' / 'empty.jpg').write_bytes(b'')
  whole = jpeg_bytes((64, 64))
  (root / 'y' / 'cut.jpg').write_bytes(whole[:len(whole) // 2])  # header intact, pixels not
  (root / 'y' / 'junk.png').write_bytes(b'not a png at all')
  (root / 'y' / 'notes.txt').write_text('hello')
  (root / 'x' / '.DS_Store').write_bytes(b'\0\0\0\1Bud1')
  (root / '.hidden_folder').mkdir()
  (root / 'LICENSE.txt').write_text('top-level files are not classes')

  summary = dataset_utils.convert_dataset(str(root), str(tmp_path / 'out'), validation_size=2,
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
  (root / 'full' / 'a.jpg').write_bytes(jpeg_bytes())
  (root / 'full' / 'b.jpg').write_bytes(jpeg_bytes())
  (root / 'hollow').mkdir()
  (root / 'hollow' / '.DS_Store').write_bytes(b'x')
  with pytest.raises(ValueError, match='hollow'):
    dataset_utils.convert_dataset(str(root), str(tmp_path / 'out'), validation_size=1)


def test_class_folder_with_only_broken_images_is_an_error_and_writes_nothing(tmp_path):
  root = tmp_path / 'photos'
  (root / 'good').mkdir(parents=True)
  for i in range(3):
    (root / 'good' / ('%d.jpg' % i)).write_bytes(jpeg_bytes())
  (root / 'bad').mkdir()
  (root / 'bad' / 'broken.jpg').write_bytes(b'\xff\xd8 nonsense')
  out = tmp_path / 'out'
  with pytest.raises(ValueError, match=r'bad.*no readable image'):
    dataset_utils.convert_dataset(str(root), str(out), validation_size=1, num_shards=2)
  assert os.listdir(str(out)) == []


def test_validation_size_must_leave_training_images(tmp_path):
  root = tmp_path / 'photos' / 'only'
  root.mkdir(parents=True)
  for i in range(4):
    (root / ('%d.jpg' % i)).write_bytes(jpeg_bytes())
  with pytest.raises(ValueError, match='validation_size 4 leaves no training images'):
    dataset_utils.convert_dataset(str(root.parent), str(tmp_path / 'out'), validation_size=4)


def test_existing_shards_need_overwrite(mixed_photos, tmp_path, capsys):
  photo_dir, _ = mixed_photos
  out = str(tmp_path / 'out')
  dataset_utils.convert_dataset(photo_dir, out, validation_size=3, num_shards=3)
  with pytest.raises(ValueError) as error:
    dataset_utils.convert_dataset(photo_dir, out, validation_size=3, num_shards=2)
  assert 'flowers_train_00000-of-00003.tfrecord' in str(error.value)
  assert '--overwrite' in str(error.value)

  capsys.readouterr()
  assert dataset_utils.main(['--photo_dir', photo_dir, '--output_dir', out,
                             '--validation_size', '3']) == 1
  err = capsys.readouterr().err
  assert err.count('\n') == 1 and err.startswith('error: ') and '--overwrite' in err

  # With overwrite, shards of the old shard count go too: readers glob them all.
  dataset_utils.convert_dataset(photo_dir, out, validation_size=3, num_shards=2,
                                overwrite=True)
  assert len(glob.glob(os.path.join(out, '*.tfrecord'))) == 4
  assert len(records(os.path.join(out, 'flowers_*.tfrecord'))) == 9


def test_different_labels_txt_needs_overwrite(mixed_photos, tmp_path):
  photo_dir, _ = mixed_photos
  dataset_utils.write_label_file({0: 'daisy'}, str(tmp_path))
  with pytest.raises(ValueError, match='labels.txt.*--overwrite'):
    dataset_utils.convert_dataset(photo_dir, str(tmp_path), validation_size=3)
  assert not glob.glob(str(tmp_path / '*.tfrecord'))


def test_interrupted_conversion_leaves_no_finished_looking_file(mixed_photos, tmp_path,
                                                                monkeypatch):
  photo_dir, _ = mixed_photos
  real = dataset_utils.image_to_tfexample
  calls = []

  def failing(*args):
    calls.append(1)
    if len(calls) == 5:
      raise KeyboardInterrupt  # as if Ctrl-C came mid-way
    return real(*args)

  monkeypatch.setattr(dataset_utils, 'image_to_tfexample', failing)
  out = tmp_path / 'out'
  with pytest.raises(KeyboardInterrupt):
    dataset_utils.convert_dataset(photo_dir, str(out), validation_size=2, num_shards=2)
  assert len(calls) == 5
  assert os.listdir(str(out)) == []  # no shard, no temporary, no labels.txt


# ---------------------------------------------------------------- downloads
def flowers_tarball(path):
  members = [('flower_photos/LICENSE.txt', b'CC-BY')]
  for label in ('daisy', 'roses', 'tulips'):
    for i in range(2):
      members.append(('flower_photos/%s/%d.jpg' % (label, i), jpeg_bytes((16 + i, 12))))
  return make_tarball(path, members)


def test_download_flowers_from_local_server_extracts_and_converts(tmp_path):
  served = tmp_path / 'served'
  served.mkdir()
  flowers_tarball(str(served / 'flower_photos.tgz'))
  out = tmp_path / 'out'
  with serve(str(served)) as url:
    assert dataset_utils.main(['--download_flowers', '--flowers_url', url + '/flower_photos.tgz',
                               '--output_dir', str(out), '--validation_size', '2',
                               '--num_shards', '2']) == 0
  assert (out / 'flower_photos.tgz').read_bytes() == (served / 'flower_photos.tgz').read_bytes()
  assert (out / 'flower_photos' / 'LICENSE.txt').read_bytes() == b'CC-BY'
  assert dataset_utils.read_label_file(str(out)) == {0: 'daisy', 1: 'roses', 2: 'tulips'}
  assert len(records(str(out / 'flowers_train_*.tfrecord'))) == 4
  assert len(records(str(out / 'flowers_validation_*.tfrecord'))) == 2

  # A second run uses the archive already there: no server needed.
  dataset_utils.download_and_extract('http://127.0.0.1:%d/flower_photos.tgz' % unused_port(),
                                     str(out))


def test_connection_refused_says_what_to_download_by_hand(tmp_path, capsys):
  url = 'http://127.0.0.1:%d/flower_photos.tgz' % unused_port()
  dest = tmp_path / 'dl' / 'flower_photos.tgz'
  with pytest.raises(dataset_utils.DownloadError) as error:
    dataset_utils.download(url, str(dest))
  message = str(error.value)
  assert url in message and str(dest) in message and 'by hand' in message
  assert 'refused' in message.lower()
  assert os.listdir(str(tmp_path / 'dl')) == []

  assert dataset_utils.main(['--download_flowers', '--flowers_url', url,
                             '--output_dir', str(tmp_path / 'out')]) == 1
  err = capsys.readouterr().err
  assert err.count('\n') == 1 and 'Traceback' not in err
  assert url in err and '--photo_dir %s' % (tmp_path / 'out' / 'flower_photos') in err


@pytest.mark.parametrize('case', ['short', 'size', 'sha256', 'missing'])
def test_download_that_does_not_verify_leaves_nothing(tmp_path, case):
  served = tmp_path / 'served'
  served.mkdir()
  (served / 'file.bin').write_bytes(b'0123456789')
  dest = tmp_path / 'dl' / 'file.bin'
  with serve(str(served)) as url:
    kwargs = {'size': {'expected_size': 11}, 'sha256': {'sha256': '00' * 32}}.get(case, {})
    path = {'short': '/short.tgz', 'missing': '/absent.bin'}.get(case, '/file.bin')
    with pytest.raises(dataset_utils.DownloadError) as error:
      dataset_utils.download(url + path, str(dest), **kwargs)
  message = str(error.value)
  assert {'short': 'got 100 of the 5000 bytes', 'size': 'got 10 bytes, expected 11',
          'sha256': 'expected ' + '00' * 32, 'missing': '404'}[case] in message
  assert str(dest) in message
  assert os.listdir(str(tmp_path / 'dl')) == []


def test_download_verifies_size_and_sha256(tmp_path):
  served = tmp_path / 'served'
  served.mkdir()
  (served / 'file.bin').write_bytes(b'0123456789')
  with serve(str(served)) as url:
    path = dataset_utils.download(url + '/file.bin', str(tmp_path / 'file.bin'), 10,
                                  hashlib.sha256(b'0123456789').hexdigest())
  assert open(path, 'rb').read() == b'0123456789'


def test_damaged_existing_archive_is_downloaded_again(tmp_path):
  served = tmp_path / 'served'
  served.mkdir()
  flowers_tarball(str(served / 'flower_photos.tgz'))
  good = (served / 'flower_photos.tgz').read_bytes()
  out = tmp_path / 'out'
  out.mkdir()
  (out / 'flower_photos.tgz').write_bytes(b'half a download')
  with serve(str(served)) as url:
    dataset_utils.download_and_extract(url + '/flower_photos.tgz', str(out),
                                       expected_size=len(good))
  assert (out / 'flower_photos.tgz').read_bytes() == good
  assert (out / 'flower_photos' / 'daisy' / '0.jpg').is_file()


# ---------------------------------------------------------------- archives
def link(name, target, hard=False):
  info = tarfile.TarInfo(name)
  info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
  info.linkname = target
  return info


def special(name, kind):
  info = tarfile.TarInfo(name)
  info.type = kind
  return info


@pytest.mark.parametrize('bad, why', [
    (('ABSOLUTE/evil.txt', b'x'), 'absolute'),  # ABSOLUTE: tmp_path, made absolute below
    (('photos/../../evil.txt', b'x'), "'..'"),
    (link('photos/escape', '../../outside'), 'outside'),
    (link('photos/abs', '/etc'), 'absolute'),
    (link('photos/hard', '../outside.txt', hard=True), 'outside'),
    (link('photos/hard2', 'photos/../../x', hard=True), 'outside'),
    (special('photos/fifo', tarfile.FIFOTYPE), 'FIFO'),
    (special('photos/dev', tarfile.CHRTYPE), 'device'),
])
def test_hostile_archives_are_refused_and_extract_nothing(tmp_path, bad, why):
  if not isinstance(bad, tarfile.TarInfo):
    bad = (bad[0].replace('ABSOLUTE', str(tmp_path)), bad[1])
  tar_path = make_tarball(str(tmp_path / 'evil.tgz'),
                          [('photos/good.txt', b'fine'), bad, ('photos/late.txt', b'y')])
  dest = tmp_path / 'dest'
  with pytest.raises(dataset_utils.ArchiveError) as error:
    dataset_utils.safe_extract(tar_path, str(dest))
  message = str(error.value)
  name = bad.name if isinstance(bad, tarfile.TarInfo) else bad[0]
  assert tar_path in message and repr(name) in message and why in message
  assert not dest.exists() or list(dest.iterdir()) == []
  assert sorted(os.listdir(str(tmp_path))) == ['dest', 'evil.tgz'] or not dest.exists()
  assert not (tmp_path / 'evil.txt').exists() and not (tmp_path / 'outside').exists()


def test_member_under_a_symlink_is_refused(tmp_path):
  tar_path = make_tarball(str(tmp_path / 'evil.tgz'),
                          [link('photos/inner', '.'), ('photos/inner/x.txt', b'x')])
  with pytest.raises(dataset_utils.ArchiveError, match='under a link'):
    dataset_utils.safe_extract(tar_path, str(tmp_path / 'dest'))


def test_symlink_inside_the_target_is_allowed(tmp_path):
  tar_path = make_tarball(str(tmp_path / 'ok.tgz'),
                          [('photos/a/real.txt', b'x'), link('photos/b', 'a/real.txt')])
  dataset_utils.safe_extract(tar_path, str(tmp_path / 'dest'))
  assert (tmp_path / 'dest' / 'photos' / 'b').read_bytes() == b'x'


def test_truncated_archive_is_reported(tmp_path):
  whole = make_tarball(str(tmp_path / 'whole.tgz'),
                       [('a.bin', os.urandom(100000))])
  cut = tmp_path / 'cut.tgz'
  cut.write_bytes(open(whole, 'rb').read()[:20000])
  with pytest.raises(dataset_utils.ArchiveError, match='cut.tgz is not a complete tar'):
    dataset_utils.safe_extract(str(cut), str(tmp_path / 'dest'))
  assert not (tmp_path / 'dest').exists()


def test_failure_while_extracting_removes_what_was_created(tmp_path, monkeypatch):
  tar_path = make_tarball(str(tmp_path / 'a.tgz'),
                          [('top/one.txt', b'1'), ('top/sub/two.txt', b'2')])
  dest = tmp_path / 'dest'
  (dest / 'top').mkdir(parents=True)
  (dest / 'top' / 'mine.txt').write_bytes(b'keep')
  real = tarfile.TarFile.makefile

  def failing(self, tarinfo, targetpath):
    if tarinfo.name.endswith('two.txt'):
      raise OSError(28, 'No space left on device')
    return real(self, tarinfo, targetpath)

  monkeypatch.setattr(tarfile.TarFile, 'makefile', failing)
  with pytest.raises(OSError):
    dataset_utils.safe_extract(tar_path, str(dest))
  assert sorted(os.listdir(str(dest / 'top'))) == ['mine.txt']


# ---------------------------------------------------------------- demo set and CLI
def test_demo_photos_are_deterministic_and_balanced(tmp_path):
  def files(folder):
    found = {}
    for path in sorted(glob.glob(os.path.join(folder, '*', '*'))):
      with open(path, 'rb') as f:
        found[os.path.relpath(path, folder)] = f.read()
    return found

  first = files(dataset_utils.make_demo_photos(str(tmp_path / 'a'), images_per_class=4))
  second = files(dataset_utils.make_demo_photos(str(tmp_path / 'b'), images_per_class=4))
  assert first == second and len(first) == 20
  labels = dataset_utils.read_label_file(REPO)
  assert sorted(os.listdir(str(tmp_path / 'a'))) == [labels[i] for i in range(5)]
  for name in labels.values():
    assert len(os.listdir(str(tmp_path / 'a' / name))) == 4
  for data in first.values():
    image = Image.open(io.BytesIO(data))
    assert image.format == 'JPEG' and image.mode == 'RGB'
    assert all(80 <= side <= 160 for side in image.size)
  other_seed = dataset_utils.make_demo_photos(str(tmp_path / 'c'), images_per_class=4, seed=1)
  assert files(other_seed) != first

  # A smaller rerun replaces the earlier demo files; a foreign folder is refused.
  dataset_utils.make_demo_photos(str(tmp_path / 'a'), images_per_class=2)
  assert len(files(str(tmp_path / 'a'))) == 10
  (tmp_path / 'a' / 'cats').mkdir()
  with pytest.raises(ValueError, match='cats'):
    dataset_utils.make_demo_photos(str(tmp_path / 'a'))


def test_demo_classes_differ_in_colour(tmp_path):
  # The demo trains from scratch at a small size: colour alone should tell most apart.
  folder = dataset_utils.make_demo_photos(str(tmp_path), images_per_class=6)
  means = {}
  for name in dataset_utils.FLOWERS_CLASSES:
    pixels = [np.asarray(Image.open(p).resize((32, 32)), np.float32).reshape(-1, 3)
              for p in glob.glob(os.path.join(folder, name, '*.jpg'))]
    pixels = np.concatenate(pixels)
    hue = np.asarray(Image.fromarray(pixels[None].astype(np.uint8)).convert('HSV'))[0]
    vivid = hue[(hue[:, 1] > 120) & (hue[:, 2] > 120)]  # saturated, bright: the flowers
    means[name] = np.bincount(vivid[:, 0] // 16, minlength=16) / float(len(vivid))
  names = sorted(means)
  for i, a in enumerate(names):
    for b in names[i + 1:]:
      assert np.abs(means[a] - means[b]).sum() > 0.2, (a, b)


def test_make_demo_from_the_command_line(tmp_path, capsys):
  out = tmp_path / 'out'
  assert dataset_utils.main(['--make_demo', '--output_dir', str(out),
                             '--demo_images_per_class', '6', '--validation_size', '5',
                             '--num_shards', '2']) == 0
  assert dataset_utils.read_label_file(str(out)) == dataset_utils.read_label_file(REPO)
  assert len(records(str(out / 'flowers_validation_*.tfrecord'))) == 5
  assert len(records(str(out / 'flowers_train_*.tfrecord'))) == 25
  assert 'demo_photos' in os.listdir(str(out))


def test_progress_bar_prints_plain_lines_when_not_a_terminal():
  stream = io.StringIO()
  with dataset_utils.ProgressBar(200, label='Converting', unit='images', stream=stream) as bar:
    for _ in range(200):
      bar.update()
  line, = stream.getvalue().splitlines()  # only the final line within 10 s
  assert line.startswith('Converting  [====') and '200/200' in line and '100%' in line
  assert 'images/s' in line
  stream = io.StringIO()
  with dataset_utils.ProgressBar(None, unit='B', stream=stream, interval=0) as bar:
    bar.update(3 * 1024 * 1024)
  assert stream.getvalue().splitlines()[-1].startswith('3.0 MB')


def test_help_and_errors_from_the_command_line(tmp_path, capsys):
  with pytest.raises(SystemExit) as done:
    dataset_utils.main(['--help'])
  assert done.value.code == 0
  text = capsys.readouterr().out
  for flag in ('--photo_dir', '--output_dir', '--validation_size', '--num_shards',
               '--random_seed', '--file_prefix', '--overwrite', '--download_flowers',
               '--flowers_url', '--make_demo'):
    assert flag in text
  assert dataset_utils.main([]) == 1
  assert 'nothing to convert' in capsys.readouterr().err

  # The script itself: one line on stderr, exit status 1, no traceback.
  missing = str(tmp_path / 'missing')
  run = subprocess.run([sys.executable, os.path.join(REPO, 'dataset_utils.py'),
                        '--photo_dir', missing], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, cwd=str(tmp_path))
  err = run.stderr.decode()
  assert run.returncode == 1
  assert err.splitlines()[-1] == 'error: photo folder %s does not exist' % missing
  assert 'Traceback' not in err
