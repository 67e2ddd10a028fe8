# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Bottlenecks: each image's PreLogitsFlatten vector under the restored network, cached.

TF Hub's retrain.py recipe: the pre-trained network runs over every image once,
in inference mode, and the new head then trains on the stored vectors in
seconds instead of running the whole network at every step.

A cache is one folder, BOTTLENECK_DIR/<key id>/, holding bottlenecks.npz and
key.json. The key is everything the vectors depend on: the checkpoint's
contents (not its path), the scopes left out of the restore, the image size
and the contents of the shards. Another key gets a folder of its own, so caches
are never mixed; both files are written atomically, so a failed write leaves
the cache there before it whole, and two passes into one key take turns (`cached`).
"""
from __future__ import absolute_import, division, print_function

import glob
import hashlib
import io
import json
import os

import numpy as np

from inception_resnet_v2 import NUM_FEATURES
from tf_compat import slim, tf
from transfer import checkpoints, files, locks, model, progress, runtime
from transfer.errors import UsageError

# The width of PreLogitsFlatten: the channels of Conv2d_7b_1x1, pooled.
VECTOR_SIZE = NUM_FEATURES
CACHE_FILENAME = 'bottlenecks.npz'
KEY_FILENAME = 'key.json'


def _digest(paths):
  """The SHA-256 of the files' contents, in order."""
  sha = hashlib.sha256()
  for path in paths:
    with open(path, 'rb') as f:
      for chunk in iter(lambda: f.read(1 << 20), b''):
        sha.update(chunk)
  return sha.hexdigest()


def checkpoint_files(path):
  """The files holding a checkpoint's values: a V1 file, or a V2 index and data shards."""
  if os.path.isfile(path):
    return [path]
  return [path + '.index'] + sorted(glob.glob(path + '.data-*'))


def cache_key(checkpoint, exclude_scopes, image_size, shards):
  """What the vectors depend on, as stored in key.json.

  Args:
    checkpoint: the checkpoint the network is restored from.
    exclude_scopes: the scopes not restored from it.
    image_size: the size images are read at.
    shards: {split name: [TFRecord paths]}.
  """
  return {'checkpoint_sha256': _digest(checkpoint_files(checkpoint)),
          'checkpoint_exclude_scopes': sorted(exclude_scopes),
          'image_size': image_size,
          'shards_sha256': {split: _digest(sorted(paths)) for split, paths in shards.items()}}


def key_id(key):
  return hashlib.sha256(json.dumps(key, sort_keys=True).encode('utf-8')).hexdigest()[:16]


def _key_changes(old, new):
  """Why `new` is not the cache `old` is the key of, e.g. ['image size 128 -> 160']."""
  changes = []
  if old.get('checkpoint_sha256') != new['checkpoint_sha256']:
    changes.append('another checkpoint')
  if old.get('checkpoint_exclude_scopes') != new['checkpoint_exclude_scopes']:
    changes.append('other --checkpoint_exclude_scopes')
  if old.get('image_size') != new['image_size']:
    changes.append('image size %s -> %s' % (old.get('image_size'), new['image_size']))
  old_shards = old.get('shards_sha256') or {}
  for split in sorted(new['shards_sha256']):
    if old_shards.get(split) != new['shards_sha256'][split]:
      changes.append('other %s shards' % split)
  return changes


def _why_new(bottleneck_dir, key):
  """One line on why no cache fits: what differs from the newest cache there."""
  keys = glob.glob(os.path.join(bottleneck_dir, '*', KEY_FILENAME))
  for path in sorted(keys, key=os.path.getmtime, reverse=True):
    try:
      with open(path) as f:
        old = json.load(f)
    except (IOError, ValueError):
      continue
    return 'the newest cache there, %s, has %s' % (
        os.path.dirname(path), ', '.join(_key_changes(old, key)) or 'the same key')
  return 'none is there yet'


def _load(folder, counts):
  """The cache in `folder` as {split: (vectors, labels)}, or None with the reason why not."""
  path = os.path.join(folder, CACHE_FILENAME)
  if not os.path.isfile(path):
    return None, None
  try:
    with np.load(path) as stored:
      cache = {split: (stored[split + '_vectors'], stored[split + '_labels']) for split in counts}
  except Exception as e:  # numpy raises many kinds for a damaged archive
    return None, '%s is damaged (%s)' % (path, str(e).splitlines()[0] if str(e) else type(e))
  for split, count in counts.items():
    vectors, labels = cache[split]
    if vectors.shape != (count, VECTOR_SIZE) or labels.shape != (count,):
      return None, '%s holds %s vectors of %s, not the %d images of the %s split' % (
          path, vectors.shape[0], vectors.shape[1:], count, split)
  return cache, None


def _save(folder, key, cache):
  """Writes the cache, then its key; a failure leaves any cache there before whole."""
  buffer = io.BytesIO()
  arrays = {}
  for split, (vectors, labels) in cache.items():
    arrays[split + '_vectors'], arrays[split + '_labels'] = vectors, labels
  np.savez(buffer, **arrays)
  try:
    if not os.path.isdir(folder):
      os.makedirs(folder)
    files.write_atomically(os.path.join(folder, CACHE_FILENAME), buffer.getvalue())
    files.write_json(os.path.join(folder, KEY_FILENAME), key)
  except OSError as e:
    raise UsageError('cannot write the bottleneck cache in %s (%s): free some space or pass '
                     'another --bottleneck_dir' % (folder, e.strerror or e))


def compute_vectors(input_fns, counts, num_classes, checkpoint, exclude_scopes,
                    session_config=None):
  """Runs the restored network once over each split, in inference mode.

  One graph serves every split: each split's batches are fed to the same
  network, so it is built, optimised and restored once, not once a split.

  Args:
    input_fns: {split: f() -> (images, labels) tensors reading it once, in order}.
    counts: {split: number of images}.
    num_classes: the class count the network is built with (its heads are unused).
    checkpoint: the checkpoint restored, but for `exclude_scopes`.
    exclude_scopes: scopes not restored (their values do not reach the vectors).
    session_config: a tf.ConfigProto.

  Returns:
    {split: (vectors float32 [count, 1536], labels int64 [count])}.

  Raises:
    UsageError: a split holds another number of images than its count.
  """
  with tf.Graph().as_default():
    pipelines = {split: input_fn() for split, input_fn in input_fns.items()}
    image_shape = next(iter(pipelines.values()))[0].shape[1:].as_list()
    images = tf.placeholder(tf.float32, [None] + image_shape, name='images')
    _, end_points = model.build_model(images, num_classes, is_training=False)
    restore = checkpoints.init_fn(checkpoint, slim.get_variables_to_restore(exclude=exclude_scopes),
                                  'check --imagenet_checkpoint_file and '
                                  '--checkpoint_exclude_scopes')
    with runtime.queue_session(session_config) as sess:
      restore(sess)
      return {split: _read_split(sess, pipelines[split], images, end_points['PreLogitsFlatten'],
                                 counts[split], 'Bottlenecks (%s)' % split)
              for split in input_fns}


def _read_split(sess, pipeline, images, vectors, count, label):
  """The vectors and labels of one split's batches, read until its input ends."""
  all_vectors, all_labels = [], []
  with progress.ProgressBar(total=count, label=label, unit='images') as bar:
    while True:
      try:
        batch_images, batch_labels = sess.run(pipeline)
      except tf.errors.OutOfRangeError:
        break  # the split was read once
      all_vectors.append(sess.run(vectors, {images: batch_images}))
      all_labels.append(batch_labels)
      bar.update(len(batch_labels))
  read = sum(len(labels) for labels in all_labels)
  if read != count:
    raise UsageError('read %d images where the shards hold %d: convert the photos again'
                     % (read, count))
  if not read:
    return np.zeros((0, VECTOR_SIZE), np.float32), np.zeros((0,), np.int64)
  return (np.concatenate(all_vectors).astype(np.float32),
          np.concatenate(all_labels).astype(np.int64))


def cached(bottleneck_dir, key, counts, compute):
  """The bottlenecks of every split: read from the cache of `key`, else computed and cached.

  One pass computes a key at a time: a second one waits for it (the lock on
  the key's folder), then reads what it wrote; a finished cache is read without
  waiting, as its files are written whole.

  Args:
    bottleneck_dir: the folder of the caches.
    key: a cache_key.
    counts: {split: number of images}.
    compute: f() -> {split: (vectors, labels)}, e.g. compute_vectors over the splits.

  Returns:
    {split: (vectors [n, 1536], labels [n])}.
  """
  folder = os.path.join(bottleneck_dir, key_id(key))
  cache, _ = _load(folder, counts)
  if cache is None:
    with locks.hold(folder, 'a bottleneck cache pass', '--bottleneck_dir', wait=True):
      cache = _computed(bottleneck_dir, folder, key, counts, compute)
  else:
    _say_read(folder, counts)
  return cache


def _say_read(folder, counts):
  tf.logging.info('Read the bottlenecks of %s images from %s.',
                  ' + '.join(str(n) for n in counts.values()), folder)


def _computed(bottleneck_dir, folder, key, counts, compute):
  """cached's work under the key's lock: the cache another pass just wrote, or a new one."""
  cache, damage = _load(folder, counts)
  if cache is not None:
    _say_read(folder, counts)
    return cache
  if damage:
    tf.logging.warning('Rebuilding the bottleneck cache: %s.', damage)
  else:
    tf.logging.info('Computing the bottleneck cache %s: %s.', folder,
                    _why_new(bottleneck_dir, key))
  cache = compute()
  _save(folder, key, cache)
  tf.logging.info('Cached the bottlenecks in %s.', folder)
  return cache
