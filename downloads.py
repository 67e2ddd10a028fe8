# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Downloads with a progress bar and verification, and safe tar extraction.

`download` writes through a temporary file and checks size and SHA-256;
`safe_extract` refuses members that would land outside the target folder;
`ProgressBar` is the progress line every long-running step prints.
"""
from __future__ import absolute_import, division, print_function

import hashlib
import http.client
import os
import posixpath
import shutil
import socket
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

import atomic_files

DOWNLOAD_TIMEOUT = 60
# Network failures worth a "download it by hand" hint (HTTPError is a URLError).
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError,
                   socket.timeout)


class DownloadError(RuntimeError):
  """A download that failed or did not verify; the message says what to do by hand."""


class ArchiveError(DownloadError):
  """An archive that is damaged or holds members that would land outside its folder."""


# ================ PROGRESS ================
def format_duration(seconds):
  """Seconds as m:ss, or h:mm:ss from an hour on."""
  minutes, seconds = divmod(int(seconds), 60)
  hours, minutes = divmod(minutes, 60)
  return '%d:%02d:%02d' % (hours, minutes, seconds) if hours else '%d:%02d' % (minutes, seconds)


def _format_bytes(count):
  for unit in ('B', 'KB', 'MB', 'GB'):
    if count < 1024 or unit == 'GB':
      return ('%d %s' if unit == 'B' else '%.1f %s') % (count, unit)
    count /= 1024.0


class ProgressBar(object):
  """A progress line on stderr: count/total, percent, rate and time left.

  On a terminal the line is redrawn in place a few times a second. Elsewhere
  (a log file, CI) a plain line is printed every `interval` seconds and once at
  the end, so logs stay short.

      with ProgressBar(total=len(paths), label='Converting', unit='images') as bar:
        for path in paths:
          ...
          bar.update()
  """

  def __init__(self, total=None, label='', unit='', stream=None, interval=None, width=25):
    """Creates the bar; nothing is printed until the first update.

    Args:
      total: the count at completion; None or 0 when unknown (no bar, no ETA).
      label: text in front of the line.
      unit: 'B' shows counts as bytes (KB, MB); any other text is appended to rates.
      stream: where to write; sys.stderr (looked up now) by default.
      interval: seconds between lines; 0.2 on a terminal, 10 elsewhere.
      width: characters of the bar itself.
    """
    self.total = total or None
    self.label = label
    self.unit = unit
    self.stream = stream if stream is not None else sys.stderr
    isatty = getattr(self.stream, 'isatty', None)
    self.tty = bool(isatty and isatty())
    self.interval = interval if interval is not None else (0.2 if self.tty else 10.0)
    self.width = width
    self.count = 0
    self.start = time.time()
    self._last_line = self.start if not self.tty else 0.0
    self._drawn_chars = 0
    self._closed = False

  def update(self, amount=1):
    """Adds `amount` to the count and redraws when it is time to."""
    self.count += amount
    now = time.time()
    if now - self._last_line >= self.interval:
      self._draw(now)

  def close(self):
    """Draws the final line (once)."""
    if not self._closed:
      self._closed = True
      self._draw(time.time(), final=True)

  def __enter__(self):
    return self

  def __exit__(self, *unused_exc_info):
    self.close()

  def _amount(self, count):
    return _format_bytes(count) if self.unit == 'B' else '{:,}'.format(count)

  def format_line(self, now=None):
    """The current text, e.g. `Converting  [===   ]  120/200   60%  80.1 images/s  ETA 0:01`."""
    elapsed = max((now or time.time()) - self.start, 1e-6)
    rate = self.count / elapsed
    if self.unit == 'B':
      rate_text = '%s/s' % _format_bytes(rate)
    else:
      rate_text = '%.1f %s/s' % (rate, self.unit) if self.unit else '%.1f/s' % rate
    parts = [self.label] if self.label else []
    if self.total:
      fraction = min(self.count / self.total, 1.0)
      filled = int(fraction * self.width)
      parts.append('[%s%s]' % ('=' * filled, ' ' * (self.width - filled)))
      parts.append('%s/%s' % (self._amount(self.count), self._amount(self.total)))
      parts.append('%3d%%' % (100 * fraction))
    else:
      parts.append(self._amount(self.count))
    parts.append(rate_text)
    if self._closed:
      parts.append('in %s' % format_duration(elapsed))
    elif self.total and rate > 0:
      parts.append('ETA %s' % format_duration(max(self.total - self.count, 0) / rate))
    return '  '.join(parts)

  def _draw(self, now, final=False):
    line = self.format_line(now)
    if self.tty:
      # Pad over the remains of a longer previous line.
      self.stream.write('\r' + line.ljust(self._drawn_chars) + ('\n' if final else ''))
      self._drawn_chars = len(line)
    else:
      self.stream.write(line + '\n')
    self.stream.flush()
    self._last_line = now


# ================ DOWNLOADS ================
def _by_hand(dest_path):
  return 'download it by hand and save it as %s' % os.path.abspath(dest_path)


def _verify_download(path, received, announced, expected_size, sha256, digest, url):
  """Raises DownloadError when the downloaded bytes do not match what was promised."""
  problem = None
  if announced is not None and received != announced:
    problem = 'got %d of the %d bytes announced (cut short)' % (received, announced)
  elif expected_size is not None and received != expected_size:
    problem = 'got %d bytes, expected %d' % (received, expected_size)
  elif sha256 and digest != sha256.lower():
    problem = 'SHA-256 is %s, expected %s' % (digest, sha256.lower())
  if problem:
    raise DownloadError('download of %s failed verification: %s; run again, or %s'
                        % (url, problem, _by_hand(path)))


def download(url, dest_path, expected_size=None, sha256=None, timeout=DOWNLOAD_TIMEOUT):
  """Downloads `url` to `dest_path` with a progress bar, through a temporary file.

  The file appears under its name only once it is complete and verified: its
  size against Content-Length and `expected_size`, its SHA-256 against `sha256`.

  Args:
    url: http(s):// or file:// URL.
    dest_path: the file to create (its folder is created when missing).
    expected_size: size in bytes, when known.
    sha256: hex SHA-256, when known.
    timeout: seconds to wait for the server at each step.

  Returns:
    dest_path.

  Raises:
    DownloadError: in one line, what failed and what to download by hand to where.
  """
  os.makedirs(os.path.dirname(os.path.abspath(dest_path)), exist_ok=True)
  temp = atomic_files.temp_name(dest_path)
  digest = hashlib.sha256()
  received = 0
  try:
    with urllib.request.urlopen(url, timeout=timeout) as response, open(temp, 'wb') as out:
      length = response.headers.get('Content-Length')
      announced = int(length) if length and length.strip().isdigit() else None
      with ProgressBar(announced or expected_size, label='Downloading %s'
                       % os.path.basename(dest_path), unit='B') as bar:
        while True:
          chunk = response.read(1 << 20)
          if not chunk:
            break
          out.write(chunk)
          digest.update(chunk)
          received += len(chunk)
          bar.update(len(chunk))
    _verify_download(dest_path, received, announced, expected_size, sha256,
                     digest.hexdigest(), url)
    os.replace(temp, dest_path)
  except _NETWORK_ERRORS as e:
    # A plain URLError wraps the socket error; HTTPError's own text has the status.
    plain_url_error = isinstance(e, urllib.error.URLError) and not hasattr(e, 'code')
    reason = e.reason if plain_url_error else e
    raise DownloadError('could not download %s (%s): %s'
                        % (url, reason, _by_hand(dest_path)))
  finally:
    atomic_files.remove_quietly(temp)
  return dest_path


def _file_problem(path, expected_size=None, sha256=None):
  """Why an existing download cannot be used, or None."""
  size = os.path.getsize(path)
  if expected_size is not None and size != expected_size:
    return 'it is %d bytes, not %d' % (size, expected_size)
  if sha256:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
      for chunk in iter(lambda: f.read(1 << 20), b''):
        digest.update(chunk)
    if digest.hexdigest() != sha256.lower():
      return 'its SHA-256 is %s, not %s' % (digest.hexdigest(), sha256.lower())
  if not tarfile.is_tarfile(path):
    return 'it is not a tar archive'
  return None


def _normalise(name):
  """An archive member name as a clean relative posix path ('' for the top)."""
  parts = name.replace('\\', '/').split('/')
  return '/'.join(p for p in parts if p not in ('', '.'))


def _escapes(path):
  return path == '..' or path.startswith('../')


def _member_problem(member, links):
  """Why a tar member must not be extracted, or None. `links` are the archive's links."""
  name = member.name.replace('\\', '/')
  if name.startswith('/'):
    return 'is an absolute path'
  if '..' in name.split('/'):
    return "climbs out with '..'"
  clean = _normalise(name)
  parents = clean.split('/')[:-1]
  if any('/'.join(parents[:i]) in links for i in range(1, len(parents) + 1)):
    return 'lies under a link of the archive'
  if member.ischr() or member.isblk():
    return 'is a device file'
  if member.isfifo():
    return 'is a FIFO'
  if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
    return 'is a special file'
  if member.issym() or member.islnk():
    target = member.linkname.replace('\\', '/')
    if target.startswith('/'):
      return 'is a link to the absolute path %s' % member.linkname
    # Symlinks resolve from their own folder, hard links from the archive's top.
    base = posixpath.dirname(clean) if member.issym() else ''
    resolved = posixpath.normpath(posixpath.join(base, target))
    if _escapes(resolved):
      return 'is a link pointing outside the target folder (to %s)' % member.linkname
    # A chain through another link could hide a '..' from this lexical check.
    hops = resolved.split('/')
    if any('/'.join(hops[:i]) in links for i in range(1, len(hops) + 1)):
      return 'is a link through another link (%s)' % member.linkname
  return None


def _extract_or_roll_back(tar, members, dest_dir):
  """Extracts `members`; on failure removes the paths that did not exist before."""
  new_paths = set()
  for member in members:
    parts = _normalise(member.name).split('/')
    for i in range(1, len(parts) + 1):
      path = os.path.join(dest_dir, *parts[:i])
      if parts[0] and not os.path.lexists(path):
        new_paths.add(path)
  try:
    tar.extractall(dest_dir, members=members)
  except BaseException:
    for path in sorted(new_paths, key=len, reverse=True):  # children before parents
      if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
      else:
        atomic_files.remove_quietly(path)
    raise


def safe_extract(tar_path, dest_dir):
  """Extracts a tar archive after checking every member, so nothing lands outside dest_dir.

  Refused: absolute paths, '..' components, links pointing outside dest_dir or
  through other links, members under links, device files and FIFOs. All members
  are checked before anything is written, so a refused archive extracts
  nothing; a failure while writing removes what this call created. Set-user-id
  and group/other write bits are dropped.

  Args:
    tar_path: a tar file (any compression tarfile reads).
    dest_dir: the folder to extract into (created when missing).

  Returns:
    The member names extracted.

  Raises:
    ArchiveError: naming the archive and the refused member, or saying the
      archive is damaged.
  """
  try:
    with tarfile.open(tar_path) as tar:
      members = tar.getmembers()  # reads the whole archive: damage shows up here
      links = {_normalise(m.name) for m in members if m.issym() or m.islnk()}
      for member in members:
        problem = _member_problem(member, links)
        if problem:
          raise ArchiveError('refusing to extract %s: member %r %s'
                             % (tar_path, member.name, problem))
        member.mode = (member.mode & 0o755) | (0o700 if member.isdir() else 0o600)
      os.makedirs(dest_dir, exist_ok=True)
      _extract_or_roll_back(tar, members, dest_dir)
  except (tarfile.TarError, EOFError, zlib.error) as e:
    raise ArchiveError('%s is not a complete tar archive (%s): delete it and download it '
                       'again' % (tar_path, e))
  return [m.name for m in members]


def download_and_extract(url, dest_dir, filename=None, expected_size=None, sha256=None,
                         timeout=DOWNLOAD_TIMEOUT):
  """Downloads a tar archive into dest_dir (unless a good copy is there) and extracts it.

  Args:
    url: the archive's URL.
    dest_dir: where the archive is saved and extracted (created when missing).
    filename: the archive's file name; by default the last part of the URL.
    expected_size: size in bytes, when known.
    sha256: hex SHA-256, when known.
    timeout: seconds to wait for the server at each step.

  Returns:
    The archive's path.

  Raises:
    DownloadError: download failed or did not verify (says what to fetch by hand).
    ArchiveError: the archive is damaged or unsafe.
  """
  filename = filename or posixpath.basename(urllib.parse.urlparse(url).path) or 'download'
  archive = os.path.join(dest_dir, filename)
  problem = _file_problem(archive, expected_size, sha256) if os.path.isfile(archive) else None
  if os.path.isfile(archive) and not problem:
    print('Using %s, downloaded before.' % archive)
  else:
    if problem:
      print('%s cannot be used (%s): downloading it again.' % (archive, problem))
    try:
      download(url, archive, expected_size, sha256, timeout)
    except DownloadError as e:
      note = ' (the existing file is not usable: %s)' % problem if problem else ''
      raise DownloadError(str(e) + note)
  print('Extracting %s into %s' % (archive, dest_dir))
  safe_extract(archive, dest_dir)
  return archive
