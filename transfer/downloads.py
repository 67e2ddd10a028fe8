# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Downloads with a progress bar and verification.

`download` writes through a temporary file and checks size and SHA-256;
`download_and_extract` keeps a good earlier copy and unpacks it safely.
"""
from __future__ import absolute_import, division, print_function

import hashlib
import http.client
import os
import posixpath
import socket
import tarfile
import urllib.error
import urllib.parse
import urllib.request

from transfer import archives, files
from transfer.errors import DownloadError
from transfer.progress import ProgressBar

DOWNLOAD_TIMEOUT = 60
# Network failures worth a "download it by hand" hint (HTTPError is a URLError).
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError,
                   socket.timeout)


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
  temp = files.temp_name(dest_path)
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
    files.remove_quietly(temp)
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
  archives.safe_extract(archive, dest_dir)
  return archive
