# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Photos -> TFRecords in the TF-slim format: the converter command.

A folder holding one sub-folder of photos per class becomes sharded TFRecord
files named and laid out like those of TF-slim's flowers converter, and a
labels.txt (`0:daisy` ...) next to them:

    python create_tfrecord.py --photo_dir flower_photos --output_dir data
    python create_tfrecord.py --download_flowers --output_dir data   # fetch them first
    python create_tfrecord.py --make_demo --output_dir data   # offline: draw a demo set

(`python dataset_utils.py ...` runs this too.) Every photo is decoded once on
the way in, so a broken file is reported here (and skipped) rather than
stopping a training run hours later. A converted set is published as a whole
(see `publish`): a crash leaves either the old set or the new one.
"""
from __future__ import absolute_import, division, print_function

import collections
import contextlib
import fcntl
import glob
import json
import os
import random
import shutil
import sys
import tempfile
from concurrent import futures

import cli  # before TensorFlow: it quiets TensorFlow's start-up logs
import tf_compat  # noqa: F401  (before TensorFlow: runs the code on TF 2.x too)
import tensorflow.compat.v1 as tf

import atomic_files
import dataset_utils
from dataset_utils import (IMAGE_EXTENSIONS, JPEG_QUALITY, LABELS_FILENAME, PUBLISH_JOURNAL,
                           SPLITS, DatasetError, image_to_tfexample, load_photo, shard_path)
from demo_photos import DEMO_IMAGES_PER_CLASS, DEMO_VALIDATION_SIZE, make_demo_photos
from downloads import (DOWNLOAD_TIMEOUT, ArchiveError, DownloadError, ProgressBar,
                       download_and_extract)

# ================ DEFAULTS (each one is also a command-line flag) ================
FLOWERS_URL = 'http://download.tensorflow.org/example_images/flower_photos.tgz'
# Size of the official archive, so that a cut-short or hand-copied file is caught.
FLOWERS_SIZE = 228813984
# TF-slim holds 350 of the 3,670 flowers out for validation, in 5 shards a split.
VALIDATION_SIZE = 350
NUM_SHARDS = 5
RANDOM_SEED = 0
FILE_PREFIX = 'flowers'
# Decoding is most of the work; Pillow releases the GIL while it decodes.
NUM_THREADS = min(8, os.cpu_count() or 1)
# Hidden folders inside --output_dir where a conversion is written before it is published.
STAGING_PREFIX = '.staging-'


# ================ LISTING PHOTOS ================
def list_photos(photo_dir):
  """Finds the photos of a folder with one sub-folder per class.

  Hidden files and folders (.DS_Store, .ipynb_checkpoints) are ignored; other
  files without an image extension are listed as ignored.

  Args:
    photo_dir: the folder of class sub-folders.

  Returns:
    (class_names sorted, [(path, class_id)], [ignored paths]).

  Raises:
    DatasetError: no such folder, no class sub-folder, or a class sub-folder
      without image files.
  """
  if not os.path.isdir(photo_dir):
    raise DatasetError('photo folder %s does not exist' % photo_dir)
  class_names = sorted(n for n in os.listdir(photo_dir)
                       if not n.startswith('.') and os.path.isdir(os.path.join(photo_dir, n)))
  if not class_names:
    raise DatasetError('%s has no class sub-folders: put the photos of each class in a '
                       'sub-folder named after the class, e.g. %s'
                       % (photo_dir, os.path.join(photo_dir, 'daisy', '*.jpg')))
  if len(class_names) < 2:
    raise DatasetError('%s has only one class sub-folder, %s: a classifier needs at least '
                       'two classes (one sub-folder each)' % (photo_dir, class_names[0]))
  photos, ignored = [], []
  for class_id, name in enumerate(class_names):
    folder = os.path.join(photo_dir, name)
    found = 0
    for filename in sorted(os.listdir(folder)):
      path = os.path.join(folder, filename)
      if filename.startswith('.'):
        continue
      if (os.path.splitext(filename)[1].lower() in IMAGE_EXTENSIONS
          and os.path.isfile(path)):
        photos.append((path, class_id))
        found += 1
      else:
        ignored.append(path)
    if not found:
      raise DatasetError('class folder %s holds no image files (%s)'
                         % (folder, ' '.join(IMAGE_EXTENSIONS)))
  return class_names, photos, ignored


def _try_load_photo(path, jpeg_quality):
  """load_photo, returning (None, reason) instead of raising for a bad file."""
  try:
    return load_photo(path, jpeg_quality), None
  except dataset_utils.BAD_PHOTO_ERRORS as e:
    # Pillow raises many types for bad data; each one just means "unreadable".
    return None, str(e) or type(e).__name__


def _load_in_order(paths, jpeg_quality, num_threads):
  """Yields _try_load_photo results in order, decoding a few files ahead on threads."""
  if num_threads <= 1:
    for path in paths:
      yield _try_load_photo(path, jpeg_quality)
    return
  # A bounded window, so that stopping early only waits for a few files.
  with futures.ThreadPoolExecutor(num_threads) as pool:
    window = collections.deque()
    for path in paths:
      window.append(pool.submit(_try_load_photo, path, jpeg_quality))
      if len(window) >= 4 * num_threads:
        yield window.popleft().result()
    while window:
      yield window.popleft().result()


# ================ WRITING TFRECORDS ================
def _existing_shards(output_dir, file_prefix):
  """Shards of any shard count that `<prefix>_<split>_*.tfrecord` readers would pick up."""
  found = []
  for split in SPLITS:
    pattern = '%s_%s_*.tfrecord' % (glob.escape(file_prefix), split)
    found += sorted(glob.glob(os.path.join(glob.escape(output_dir), pattern)))
  return found


def _check_outputs(output_dir, file_prefix, labels_data, overwrite):
  """Refuses to replace earlier results unless `overwrite`; returns shards to delete."""
  existing = _existing_shards(output_dir, file_prefix)
  labels_path = os.path.join(output_dir, LABELS_FILENAME)
  if os.path.isfile(labels_path):
    with open(labels_path, 'rb') as f:
      if f.read() != labels_data:  # the same labels are no conflict
        existing.append(labels_path)
  if existing and not overwrite:
    more = ' (and %d more)' % (len(existing) - 1) if len(existing) > 1 else ''
    raise DatasetError('%s already exists%s: pass --overwrite (overwrite=True) to replace '
                       'it, or choose another --output_dir or --file_prefix'
                       % (existing[0], more))
  return [path for path in existing if path != labels_path]


def _check_sizes(num_photos, validation_size, num_shards):
  if num_shards < 1:
    raise DatasetError('--num_shards must be at least 1, not %d' % num_shards)
  if validation_size < 1:
    # An empty validation split would only fail later, in eval_flowers.py.
    raise DatasetError('--validation_size must be at least 1 (eval_flowers.py evaluates '
                       'on the validation photos), not %d' % validation_size)
  if validation_size >= num_photos:
    raise DatasetError('validation_size %d leaves no training images: there are only %d '
                       'readable photos; pass a smaller --validation_size'
                       % (validation_size, num_photos))


def _write_records(photos, num_photos_to_validate, writers, jpeg_quality, num_threads):
  """Decodes and writes every photo; returns (skipped [(path, reason)], counts, reencoded)."""
  skipped = []
  counts = collections.Counter()  # (split, class_id) -> records
  reencoded = 0
  used = 0
  paths = [path for path, _ in photos]
  with ProgressBar(len(photos), label='Converting', unit='images') as bar:
    for (path, class_id), (loaded, reason) in zip(
        photos, _load_in_order(paths, jpeg_quality, num_threads)):
      bar.update()
      if loaded is None:
        skipped.append((path, reason))
        continue
      data, height, width, was_reencoded = loaded
      reencoded += was_reencoded
      # The first readable photos of the shuffled list are the validation set.
      split = 'validation' if used < num_photos_to_validate else 'train'
      index = used if split == 'validation' else used - num_photos_to_validate
      example = image_to_tfexample(data, b'jpg', height, width, class_id)
      writers[split][index % len(writers[split])].write(example.SerializeToString())
      counts[split, class_id] += 1
      used += 1
  return skipped, counts, reencoded


def _check_classes(class_names, counts, photo_dir):
  for class_id, name in enumerate(class_names):
    if not any(counts[split, class_id] for split in SPLITS):
      raise DatasetError('class folder %s holds no readable image'
                         % os.path.join(photo_dir, name))


def _print_summary(summary, photo_dir, output_dir, num_shards, max_listed=50):
  print('Converted %s: %d training and %d validation records of %d classes, %d+%d shards '
        'in %s (%d photos re-encoded as JPEG).'
        % (photo_dir, summary['train'], summary['validation'], len(summary['class_names']),
           num_shards, num_shards, output_dir, summary['reencoded']))
  for title, rows in (('Skipped %d unreadable file(s):', summary['skipped']),
                      ('Ignored %d file(s) that are not images:',
                       [(path, None) for path in summary['ignored']])):
    if rows:
      print(title % len(rows))
      for path, reason in rows[:max_listed]:
        name = os.path.relpath(path, photo_dir)
        print('  %s%s' % (name, ': %s' % reason if reason else ''))
      if len(rows) > max_listed:
        print('  ... and %d more' % (len(rows) - max_listed))


# ================ PUBLISHING ================
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
  deletes). A crash after it leaves the journal: readers (`get_split`) refuse
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
  atomic_files.write_atomically(os.path.join(output_dir, PUBLISH_JOURNAL),
                                json.dumps(journal, indent=1).encode('utf-8'))
  _apply_journal(output_dir, journal)


def _apply_journal(output_dir, journal):
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
  _apply_journal(output_dir, journal)
  return True


def _remove_stale_staging(output_dir):
  """Deletes the staging folders of runs that crashed before committing."""
  for path in glob.glob(os.path.join(glob.escape(output_dir), STAGING_PREFIX + '*')):
    shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _output_lock(output_dir):
  """Holds an exclusive lock on output_dir, so that two converters cannot race.

  The lock (flock on the folder itself) goes with the process, even after kill -9.
  """
  fd = os.open(output_dir, os.O_RDONLY)
  try:
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      raise DatasetError('another create_tfrecord.py is writing to %s: wait for it to '
                         'finish, or choose another --output_dir' % output_dir)
    yield
  finally:
    os.close(fd)


def _write_staged_set(photos, staging, class_names, labels_data, validation_size,
                      num_shards, file_prefix, jpeg_quality, num_threads, photo_dir):
  """Writes the shards and labels.txt into the staging folder and checks them.

  Returns:
    (skipped, counts, reencoded, file names), as `_write_records` plus the names.
  """
  finals = {split: [shard_path(staging, file_prefix, split, i, num_shards)
                    for i in range(num_shards)] for split in SPLITS}
  writers = {split: [] for split in SPLITS}
  try:
    for split in SPLITS:
      writers[split] = [tf.io.TFRecordWriter(path) for path in finals[split]]
    skipped, counts, reencoded = _write_records(photos, validation_size, writers,
                                                jpeg_quality, num_threads)
  finally:
    for writer in writers['train'] + writers['validation']:
      writer.close()
  _check_classes(class_names, counts, photo_dir)
  _check_sizes(len(photos) - len(skipped), validation_size, num_shards)
  atomic_files.write_atomically(os.path.join(staging, LABELS_FILENAME), labels_data)
  names = [os.path.basename(p) for split in SPLITS for p in finals[split]]
  return skipped, counts, reencoded, names + [LABELS_FILENAME]


def convert_dataset(photo_dir, output_dir, validation_size=VALIDATION_SIZE,
                    num_shards=NUM_SHARDS, random_seed=RANDOM_SEED, file_prefix=FILE_PREFIX,
                    overwrite=False, jpeg_quality=JPEG_QUALITY, num_threads=NUM_THREADS,
                    verbose=True):
  """Converts a folder of class sub-folders into train/validation TFRecord shards.

  Class ids follow the sorted folder names. The photo list is sorted, shuffled
  with `random_seed` and the first `validation_size` readable photos become the
  validation split (as in TF-slim); records go round-robin over each split's
  shards. Unreadable files are skipped and listed at the end. Shards and
  labels.txt appear in `output_dir` together, once all of them are complete
  (see `publish`). A publish an earlier crash left unfinished is completed first.

  Args:
    photo_dir: folder with one sub-folder of photos per class.
    output_dir: where `<prefix>_<split>_NNNNN-of-MMMMM.tfrecord` and labels.txt go.
    validation_size: photos held out for validation.
    num_shards: files per split.
    random_seed: seed of the shuffle that decides the split.
    file_prefix: the first part of the shard names.
    overwrite: replace earlier shards and a different labels.txt.
    jpeg_quality: quality of photos re-encoded as JPEG.
    num_threads: threads decoding photos.
    verbose: print the summary to stdout (the progress bar goes to stderr).

  Returns:
    A dict: class_names, train and validation (record counts), files (shard
    paths), skipped [(path, reason)], ignored [paths], reencoded (count).

  Raises:
    DatasetError: bad folder layout, a class without a readable photo, a
      validation_size that leaves no training photos, outputs that exist, or
      another converter writing to output_dir.
  """
  class_names, photos, ignored = list_photos(photo_dir)
  _check_sizes(len(photos), validation_size, num_shards)
  labels_data = dataset_utils.label_file_bytes(dict(enumerate(class_names)))
  os.makedirs(output_dir, exist_ok=True)
  with _output_lock(output_dir):
    if finish_publish(output_dir) and verbose:
      print('Finished publishing the set an interrupted run left in %s.' % output_dir)
    _remove_stale_staging(output_dir)
    stale = _check_outputs(output_dir, file_prefix, labels_data, overwrite)
    random.Random(random_seed).shuffle(photos)
    # mkdtemp: a name unique beyond the process id.
    staging = tempfile.mkdtemp(prefix='%s%d-' % (STAGING_PREFIX, os.getpid()), dir=output_dir)
    try:
      skipped, counts, reencoded, names = _write_staged_set(
          photos, staging, class_names, labels_data, validation_size, num_shards,
          file_prefix, jpeg_quality, num_threads, photo_dir)
      publish(output_dir, staging, names, stale)
    except BaseException:
      if not os.path.exists(os.path.join(output_dir, PUBLISH_JOURNAL)):
        shutil.rmtree(staging, ignore_errors=True)  # not committed: the old set stands
      raise

  summary = {
      'class_names': class_names,
      'train': sum(counts['train', c] for c in range(len(class_names))),
      'validation': sum(counts['validation', c] for c in range(len(class_names))),
      'files': [os.path.join(output_dir, n) for n in names if n != LABELS_FILENAME],
      'skipped': skipped,
      'ignored': ignored,
      'reencoded': reencoded,
  }
  if verbose:
    _print_summary(summary, photo_dir, output_dir, num_shards)
  return summary


# ================ THE FLOWERS DOWNLOAD ================
def download_flowers(download_dir, url=FLOWERS_URL, timeout=DOWNLOAD_TIMEOUT):
  """Fetches and extracts the flowers photos; returns the flower_photos folder.

  Args:
    download_dir: where flower_photos.tgz is saved and extracted.
    url: where to fetch it; the size is checked for the official URL.
    timeout: seconds to wait for the server at each step.

  Returns:
    The path of the extracted flower_photos folder.
  """
  photo_dir = os.path.join(download_dir, 'flower_photos')
  try:
    download_and_extract(url, download_dir, filename='flower_photos.tgz',
                         expected_size=FLOWERS_SIZE if url == FLOWERS_URL else None,
                         timeout=timeout)
  except ArchiveError:
    raise
  except DownloadError as e:
    raise DownloadError('%s, then run this again; or extract it yourself and run again '
                        'with --photo_dir %s' % (e, os.path.abspath(photo_dir)))
  if not os.path.isdir(photo_dir):
    raise DatasetError('%s held no flower_photos folder' % url)
  return photo_dir


# ================ COMMAND LINE ================
def build_parser():
  p = cli.new_parser(__doc__.split('\n\n')[0])
  p.add_argument('--photo_dir', default='',
                 help='folder with one sub-folder of photos per class (with --make_demo: '
                      'where the demo photos are drawn; default OUTPUT_DIR/demo_photos)')
  p.add_argument('--output_dir', default='.',
                 help='where the TFRecord shards and labels.txt go (default: %(default)s)')
  p.add_argument('--validation_size', type=int, default=None,
                 help='photos held out for validation (default: %d as in TF-slim; %d with '
                      '--make_demo)' % (VALIDATION_SIZE, DEMO_VALIDATION_SIZE))
  p.add_argument('--num_shards', type=int, default=NUM_SHARDS,
                 help='TFRecord files per split (default: %(default)s)')
  p.add_argument('--random_seed', '--seed', type=int, default=RANDOM_SEED,
                 help='seed of the shuffle that picks the validation photos: the same '
                      'seed and photos give the same split and shards (default: %(default)s)')
  p.add_argument('--file_prefix', default=FILE_PREFIX,
                 help='shards are PREFIX_train_00000-of-00005.tfrecord ... '
                      '(default: %(default)s)')
  p.add_argument('--overwrite', action='store_true',
                 help='replace existing shards and a different labels.txt')
  p.add_argument('--jpeg_quality', type=int, default=JPEG_QUALITY,
                 help='quality of photos re-encoded as JPEG (default: %(default)s)')
  p.add_argument('--num_threads', type=int, default=NUM_THREADS,
                 help='threads decoding photos (default: %(default)s)')
  p.add_argument('--download_flowers', action='store_true',
                 help='fetch and extract the 3,670 flowers photos, then convert them')
  p.add_argument('--flowers_url', default=FLOWERS_URL,
                 help='where --download_flowers fetches from (default: %(default)s)')
  p.add_argument('--download_dir', default='',
                 help='where --download_flowers saves and extracts the archive '
                      '(default: OUTPUT_DIR)')
  p.add_argument('--download_timeout', type=float, default=DOWNLOAD_TIMEOUT,
                 help='seconds to wait for the server (default: %(default)s)')
  p.add_argument('--finish_publish', action='store_true',
                 help='only complete the publishing of a set that a crash interrupted in '
                      'OUTPUT_DIR (any conversion into OUTPUT_DIR does that first)')
  p.add_argument('--make_demo', action='store_true',
                 help='draw the embedded demo photo set into --photo_dir, then convert it')
  p.add_argument('--demo_images_per_class', type=int, default=DEMO_IMAGES_PER_CLASS,
                 help='demo photos per class (default: %(default)s)')
  return p


def convert_from_flags(args):
  """Converts the photos the flags ask for; returns convert_dataset's summary."""
  if args.finish_publish:
    if not os.path.isdir(args.output_dir):
      raise DatasetError('--output_dir %s does not exist' % args.output_dir)
    with _output_lock(args.output_dir):
      done = finish_publish(args.output_dir)
    print('Finished publishing the set in %s.' % args.output_dir if done else
          'Nothing to finish: %s holds no interrupted publish.' % args.output_dir)
    return None
  if args.make_demo and args.download_flowers:
    raise DatasetError('pass either --make_demo or --download_flowers, not both')
  validation_size = args.validation_size
  if args.make_demo:
    photo_dir = args.photo_dir or os.path.join(args.output_dir, 'demo_photos')
    print('Drawing %d demo photos a class into %s' % (args.demo_images_per_class, photo_dir))
    make_demo_photos(photo_dir, images_per_class=args.demo_images_per_class)
    if validation_size is None:
      validation_size = DEMO_VALIDATION_SIZE
  elif args.download_flowers:
    if args.photo_dir:
      raise DatasetError('--download_flowers makes its own photo folder: drop --photo_dir, '
                         'or drop --download_flowers to convert %s' % args.photo_dir)
    photo_dir = download_flowers(args.download_dir or args.output_dir, args.flowers_url,
                                 args.download_timeout)
  elif args.photo_dir:
    photo_dir = args.photo_dir
  else:
    raise DatasetError('nothing to convert: pass --photo_dir PHOTOS, --download_flowers or '
                       '--make_demo (see --help)')
  if validation_size is None:
    validation_size = VALIDATION_SIZE
  return convert_dataset(photo_dir, args.output_dir, validation_size=validation_size,
                         num_shards=args.num_shards, random_seed=args.random_seed,
                         file_prefix=args.file_prefix, overwrite=args.overwrite,
                         jpeg_quality=args.jpeg_quality, num_threads=args.num_threads)


def run(args):
  """The command: converts, then returns the exit code."""
  convert_from_flags(args)
  return 0


def main(argv=None):
  return cli.main(run, build_parser(), argv)


if __name__ == '__main__':
  sys.exit(main())
