# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""A converted set appears in its folder as a whole, or not at all.

The converter stages a new set in a hidden folder beside the old one, then
commits it with a journal (see `publish`); readers refuse a folder whose
journal is there (`check_published`), and `finish_publish` completes it.
"""
from __future__ import absolute_import, division, print_function

import glob
import json
import os
import shutil

from dataset_utils import LABELS_FILENAME, DatasetError
from tf_compat import tf
from transfer import files, locks

# Present in a dataset folder while (or when a crash interrupted) publishing a
# converted set; readers refuse the folder meanwhile.
PUBLISH_JOURNAL = '.publishing.json'
# Hidden folders inside the dataset folder where a conversion is written before it is published.
STAGING_PREFIX = '.staging-'


def check_published(dataset_dir):
  """Raises DatasetError while dataset_dir holds a half-published set."""
  if tf.io.gfile.exists(os.path.join(dataset_dir, PUBLISH_JOURNAL)):
    raise DatasetError('%s holds a converted set whose publishing was interrupted: run '
                       '`python create_tfrecord.py --finish_publish --output_dir %s` to '
                       'complete it' % (dataset_dir, dataset_dir))


def publish(output_dir, staging, names, stale):
  """Moves a converted set from its staging folder into output_dir, as a whole.

  Readers glob the shards in output_dir and read its labels.txt, and a rename
  replaces one file at a time, so a set is published in steps:

  1. The converter writes every file into a hidden staging folder inside
     output_dir (no reader looks there; same file system, so renames are atomic).
  2. Commit: the journal PUBLISH_JOURNAL, listing the old shards to remove and
     the staged files to move, appears atomically. Before it exists the old set
     is untouched; from then on the new set is decided.
  3. Old shards the new set does not replace are removed; the staged files are
     renamed into place, labels.txt last.
  4. The journal goes, then the staging folder.

  A crash before step 2 leaves the old set (and a staging folder the next run
  deletes). A crash after it leaves the journal: readers (`check_published`) refuse
  the folder, and the next converter run on it, or `--finish_publish`, redoes
  steps 3-4 (`finish_publish`), which are safe to repeat.

  Args:
    output_dir: the dataset folder.
    staging: the staging folder inside it, holding `names`.
    names: the file names of the new set.
    stale: paths of old files to remove that `names` does not replace.
  """
  journal = {'staging': os.path.basename(staging),
             'remove': sorted(set(os.path.basename(p) for p in stale) - set(names)),
             'move': sorted(names, key=lambda n: n == LABELS_FILENAME)}
  files.write_json(os.path.join(output_dir, PUBLISH_JOURNAL), journal)
  apply_journal(output_dir, journal)


def apply_journal(output_dir, journal):
  """Steps 3-4 of `publish`; every step can be repeated after a crash."""
  staging = os.path.join(output_dir, journal['staging'])
  for name in journal['remove']:
    try:
      os.remove(os.path.join(output_dir, name))
    except FileNotFoundError:
      pass  # removed before a crash
  for name in journal['move']:
    staged, final = os.path.join(staging, name), os.path.join(output_dir, name)
    if os.path.exists(staged):
      os.replace(staged, final)
    elif not os.path.exists(final):
      raise DatasetError('%s is missing from both %s and %s: the set cannot be completed; '
                         'convert the photos again with --overwrite' % (name, staging, output_dir))
  os.remove(os.path.join(output_dir, PUBLISH_JOURNAL))
  shutil.rmtree(staging)


def finish_publish(output_dir):
  """Completes a publish a crash interrupted (see `publish`); True when there was one."""
  path = os.path.join(output_dir, PUBLISH_JOURNAL)
  if not os.path.exists(path):
    return False
  try:
    with open(path, 'rb') as f:
      journal = json.loads(f.read().decode('utf-8'))
    journal = {key: journal[key] for key in ('staging', 'remove', 'move')}
  except (ValueError, KeyError, TypeError):
    raise DatasetError('%s is damaged: delete it and convert the photos again with '
                       '--overwrite' % path)
  apply_journal(output_dir, journal)
  return True


def remove_stale_staging(output_dir):
  """Deletes the staging folders of runs that crashed before committing."""
  for path in glob.glob(os.path.join(glob.escape(output_dir), STAGING_PREFIX + '*')):
    shutil.rmtree(path, ignore_errors=True)


def output_lock(output_dir):
  """Holds the exclusive lock on output_dir, so that two converters cannot race.

  transfer.locks names the holder in a refusal and goes with its process, even
  after kill -9. The lock file is inside the folder: it is often `.`, whose
  parent may not be writable, and nothing deletes or replaces it.
  """
  return locks.hold(output_dir, 'create_tfrecord.py', '--output_dir',
                    lock_file=locks.inside(output_dir, 'create_tfrecord'))
