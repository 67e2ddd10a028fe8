# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Photos -> TFRecords in the TF-slim format.

A folder holding one sub-folder of photos per class becomes sharded TFRecord
files named and laid out like those of TF-slim's flowers converter, and a
labels.txt (`0:daisy` ...) next to them. Every photo is decoded once on the
way in, so a broken file is reported here (and skipped) rather than stopping
a training run hours later. The set is published as a whole (see
transfer.datasets.publish): a crash leaves either the old set or the new one.
"""
from __future__ import absolute_import, division, print_function

import collections
import glob
import os
import random
import shutil
import tempfile

import dataset_utils
from dataset_utils import LABELS_FILENAME, DatasetError
from tf_compat import tf
from transfer import files
from transfer.datasets import photos, publish
from transfer.datasets.records import SPLITS
from transfer.progress import ProgressBar

# TF-slim holds 350 of the 3,670 flowers out for validation, in 5 shards a split.
VALIDATION_SIZE = 350
NUM_SHARDS = 5
RANDOM_SEED = 0
FILE_PREFIX = 'flowers'
# Decoding is most of the work; Pillow releases the GIL while it decodes.
NUM_THREADS = min(8, os.cpu_count() or 1)


def shard_path(output_dir, file_prefix, split_name, shard_id, num_shards):
  """The slim-style shard name, e.g. flowers_train_00000-of-00005.tfrecord."""
  return os.path.join(output_dir, '%s_%s_%05d-of-%05d.tfrecord'
                      % (file_prefix, split_name, shard_id, num_shards))


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


def _write_records(photo_list, num_photos_to_validate, writers, jpeg_quality, num_threads):
  """Decodes and writes every photo; returns (skipped [(path, reason)], counts, reencoded)."""
  skipped = []
  counts = collections.Counter()  # (split, class_id) -> records
  reencoded = 0
  used = 0
  paths = [path for path, _ in photo_list]
  with ProgressBar(len(photo_list), label='Converting', unit='images') as bar:
    for (path, class_id), (loaded, reason) in zip(
        photo_list, photos.load_in_order(paths, jpeg_quality, num_threads)):
      bar.update()
      if loaded is None:
        skipped.append((path, reason))
        continue
      data, height, width, was_reencoded = loaded
      reencoded += was_reencoded
      # The first readable photos of the shuffled list are the validation set.
      split = 'validation' if used < num_photos_to_validate else 'train'
      index = used if split == 'validation' else used - num_photos_to_validate
      # The photo's path as found, for reports that name a record's photo (suspects.tsv).
      example = dataset_utils.image_to_tfexample(data, b'jpg', height, width, class_id,
                                                 filename=path)
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


def _write_staged_set(photo_list, staging, class_names, labels_data, validation_size,
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
    skipped, counts, reencoded = _write_records(photo_list, validation_size, writers,
                                                jpeg_quality, num_threads)
  finally:
    for writer in writers['train'] + writers['validation']:
      writer.close()
  _check_classes(class_names, counts, photo_dir)
  _check_sizes(len(photo_list) - len(skipped), validation_size, num_shards)
  files.write_atomically(os.path.join(staging, LABELS_FILENAME), labels_data)
  names = [os.path.basename(p) for split in SPLITS for p in finals[split]]
  return skipped, counts, reencoded, names + [LABELS_FILENAME]


def convert_dataset(photo_dir, output_dir, validation_size=VALIDATION_SIZE,
                    num_shards=NUM_SHARDS, random_seed=RANDOM_SEED, file_prefix=FILE_PREFIX,
                    overwrite=False, jpeg_quality=photos.JPEG_QUALITY, num_threads=NUM_THREADS,
                    verbose=True):
  """Converts a folder of class sub-folders into train/validation TFRecord shards.

  Class ids follow the sorted folder names. The photo list is sorted, shuffled
  with `random_seed` and the first `validation_size` readable photos become the
  validation split (as in TF-slim); records go round-robin over each split's
  shards. Unreadable files are skipped and listed at the end. Shards and
  labels.txt appear in `output_dir` together, once all of them are complete
  (see transfer.datasets.publish). A publish an earlier crash left unfinished is completed first.

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
      validation_size that leaves no training photos, or outputs that exist.
    locks.FolderBusy: (a ValueError too) another converter is writing to
      output_dir; the message names it.
  """
  class_names, photo_list, ignored = photos.list_photos(photo_dir)
  _check_sizes(len(photo_list), validation_size, num_shards)
  labels_data = dataset_utils.label_file_bytes(dict(enumerate(class_names)))
  os.makedirs(output_dir, exist_ok=True)
  with publish.output_lock(output_dir):
    if publish.finish_publish(output_dir) and verbose:
      print('Finished publishing the set an interrupted run left in %s.' % output_dir)
    publish.remove_stale_staging(output_dir)
    stale = _check_outputs(output_dir, file_prefix, labels_data, overwrite)
    random.Random(random_seed).shuffle(photo_list)
    # mkdtemp: a name unique beyond the process id.
    staging = tempfile.mkdtemp(prefix='%s%d-' % (publish.STAGING_PREFIX, os.getpid()),
                               dir=output_dir)
    try:
      skipped, counts, reencoded, names = _write_staged_set(
          photo_list, staging, class_names, labels_data, validation_size, num_shards,
          file_prefix, jpeg_quality, num_threads, photo_dir)
      publish.publish(output_dir, staging, names, stale)
    except BaseException:
      if not os.path.exists(os.path.join(output_dir, publish.PUBLISH_JOURNAL)):
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
