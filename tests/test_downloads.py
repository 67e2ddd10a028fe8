# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Verified downloads, safe archive extraction and the progress bar."""
import hashlib
import io
import os
import tarfile

import pytest

import sample_files
from transfer import archives, downloads
from transfer.errors import ArchiveError, DownloadError
from transfer.progress import ProgressBar


@pytest.mark.parametrize('case', ['short', 'size', 'sha256', 'missing'])
def test_download_that_does_not_verify_leaves_nothing(tmp_path, case):
  served = tmp_path / 'served'
  served.mkdir()
  (served / 'file.bin').write_bytes(b'0123456789')
  dest = tmp_path / 'dl' / 'file.bin'
  with sample_files.serve(str(served)) as url:
    kwargs = {'size': {'expected_size': 11}, 'sha256': {'sha256': '00' * 32}}.get(case, {})
    path = {'short': '/short.tgz', 'missing': '/absent.bin'}.get(case, '/file.bin')
    with pytest.raises(DownloadError) as error:
      downloads.download(url + path, str(dest), **kwargs)
  message = str(error.value)
  assert {'short': 'got 100 of the 5000 bytes', 'size': 'got 10 bytes, expected 11',
          'sha256': 'expected ' + '00' * 32, 'missing': '404'}[case] in message
  assert str(dest) in message
  assert os.listdir(str(tmp_path / 'dl')) == []


def test_download_verifies_size_and_sha256(tmp_path):
  served = tmp_path / 'served'
  served.mkdir()
  (served / 'file.bin').write_bytes(b'0123456789')
  with sample_files.serve(str(served)) as url:
    path = downloads.download(url + '/file.bin', str(tmp_path / 'file.bin'), 10,
                              hashlib.sha256(b'0123456789').hexdigest())
  assert open(path, 'rb').read() == b'0123456789'


def test_damaged_existing_archive_is_downloaded_again(tmp_path):
  served = tmp_path / 'served'
  served.mkdir()
  sample_files.flowers_tarball(str(served / 'flower_photos.tgz'))
  good = (served / 'flower_photos.tgz').read_bytes()
  out = tmp_path / 'out'
  out.mkdir()
  (out / 'flower_photos.tgz').write_bytes(b'half a download')
  with sample_files.serve(str(served)) as url:
    downloads.download_and_extract(url + '/flower_photos.tgz', str(out),
                                   expected_size=len(good))
  assert (out / 'flower_photos.tgz').read_bytes() == good
  assert (out / 'flower_photos' / 'daisy' / '0.jpg').is_file()


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
  members = [('photos/good.txt', b'fine'), bad, ('photos/late.txt', b'y')]
  tar_path = sample_files.make_tarball(str(tmp_path / 'evil.tgz'), members)
  dest = tmp_path / 'dest'
  with pytest.raises(ArchiveError) as error:
    archives.safe_extract(tar_path, str(dest))
  message = str(error.value)
  name = bad.name if isinstance(bad, tarfile.TarInfo) else bad[0]
  assert tar_path in message and repr(name) in message and why in message
  # Every member is checked before anything is written: not even dest is created.
  assert sorted(os.listdir(str(tmp_path))) == ['evil.tgz']
  assert not (tmp_path / 'evil.txt').exists() and not (tmp_path / 'outside').exists()


def test_member_under_a_symlink_is_refused(tmp_path):
  tar_path = sample_files.make_tarball(str(tmp_path / 'evil.tgz'),
                                       [link('photos/inner', '.'), ('photos/inner/x.txt', b'x')])
  with pytest.raises(ArchiveError, match='under a link'):
    archives.safe_extract(tar_path, str(tmp_path / 'dest'))


def test_symlink_inside_the_target_is_allowed(tmp_path):
  members = [('photos/a/real.txt', b'x'), link('photos/b', 'a/real.txt')]
  tar_path = sample_files.make_tarball(str(tmp_path / 'ok.tgz'), members)
  archives.safe_extract(tar_path, str(tmp_path / 'dest'))
  assert (tmp_path / 'dest' / 'photos' / 'b').read_bytes() == b'x'


def test_truncated_archive_is_reported(tmp_path):
  whole = sample_files.make_tarball(str(tmp_path / 'whole.tgz'),
                                    [('a.bin', os.urandom(100000))])
  cut = tmp_path / 'cut.tgz'
  cut.write_bytes(open(whole, 'rb').read()[:20000])
  with pytest.raises(ArchiveError, match='cut.tgz is not a complete tar'):
    archives.safe_extract(str(cut), str(tmp_path / 'dest'))
  assert not (tmp_path / 'dest').exists()


def test_failure_while_extracting_removes_what_was_created(tmp_path, monkeypatch):
  tar_path = sample_files.make_tarball(str(tmp_path / 'a.tgz'),
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
    archives.safe_extract(tar_path, str(dest))
  assert sorted(os.listdir(str(dest / 'top'))) == ['mine.txt']


def test_progress_bar_prints_plain_lines_when_not_a_terminal():
  stream = io.StringIO()
  with ProgressBar(200, label='Converting', unit='images', stream=stream) as bar:
    for _ in range(200):
      bar.update()
  line, = stream.getvalue().splitlines()  # only the final line within 10 s
  assert line.startswith('Converting  [====') and '200/200' in line and '100%' in line
  assert 'images/s' in line
  stream = io.StringIO()
  with ProgressBar(None, unit='B', stream=stream, interval=0) as bar:
    bar.update(3 * 1024 * 1024)
  assert stream.getvalue().splitlines()[-1].startswith('3.0 MB')
