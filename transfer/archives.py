# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Safe tar extraction: nothing lands outside the target folder.

Every member is checked before anything is written (absolute paths, '..',
links out of the folder or through other links, device files, FIFOs), and a
failure while writing removes what the extraction created.
"""
from __future__ import absolute_import, division, print_function

import os
import posixpath
import shutil
import tarfile
import zlib

from transfer import files
from transfer.errors import ArchiveError


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
        files.remove_quietly(path)
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
