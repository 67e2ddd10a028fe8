# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Bottlenecks: each image's PreLogitsFlatten vector under the restored network, cached.

TF Hub's retrain.py recipe: the pre-trained network runs over every image once,
in inference mode, and the new head then trains on the stored vectors in
seconds instead of running the whole network at every step.

A cache is one folder, BOTTLENECK_DIR/<key id>/, holding bottlenecks.npz and
key.json. The key is everything the vectors depend on: the checkpoint's
contents (not its path), the scopes left out of the restore, the image size,
the contents of the shards, the batch size and precision of the pass, and the
augmented views (--bottleneck_views) with their seed. Another key gets a folder
of its own, so caches are never mixed. A pass commits chunks as it goes and a
stopped one is resumed (`cached`); every file is written atomically, so nothing
half-written is read as whole, and two passes into one key take turns.
"""
from __future__ import absolute_import, division, print_function

import collections
import glob
import hashlib
import io
import json
import os

import numpy as np

from inception_resnet_v2 import NUM_FEATURES
from tf_compat import tf
from transfer import files, locks
from transfer.errors import UsageError

# The width of PreLogitsFlatten: the channels of Conv2d_7b_1x1, pooled.
VECTOR_SIZE = NUM_FEATURES
CACHE_FILENAME = 'bottlenecks.npz'
KEY_FILENAME = 'key.json'
# A pass commits its vectors in chunks of this many whole batches: a resumed pass
# batches its images as an uninterrupted one does, and loses at most a chunk (one
# batch: some 3 s at 299 here; flowers with 4 views makes ~530 files of 200 KB).
CHUNK_BATCHES = 1
CHUNK_SUFFIX = '.chunk.npz'
# The parts of a pass, in its order: the evaluation view of each training image,
# of each validation image, then the training images' augmented views.
VIEWS = 'train_views'
SEGMENTS = ('train', 'validation', VIEWS)
# `size` vectors of a segment from its `start`th on.
Chunk = collections.namedtuple('Chunk', ('segment', 'start', 'size'))


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


def cache_key(checkpoint, exclude_scopes, image_size, shards, batch_size, precision=None,
              views=0, views_seed=None):
  """What the vectors depend on, as stored in key.json.

  Args:
    checkpoint: the checkpoint the network is restored from.
    exclude_scopes: the scopes not restored from it.
    image_size: the size images are read at.
    shards: {split name: [TFRecord paths]}.
    batch_size: images a forward pass: oneDNN's results can depend on the batch's shape,
      and a resumed pass must batch as the pass it continues.
    precision: runtime.precision_mode, 'bfloat16', 'float16' or None (float32).
    views: augmented views of each training image (--bottleneck_views).
    views_seed: the seed they are drawn under (left out without views).
  """
  return {'checkpoint_sha256': _digest(checkpoint_files(checkpoint)),
          'checkpoint_exclude_scopes': sorted(exclude_scopes),
          'image_size': image_size,
          'shards_sha256': {split: _digest(sorted(paths)) for split, paths in shards.items()},
          'batch_size': batch_size, 'precision': precision or 'float32',
          'views': views, 'views_seed': views_seed if views else None}


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
  for field, name in (('batch_size', '--bottleneck_batch_size'), ('precision', 'precision'),
                      ('views', '--bottleneck_views'), ('views_seed', "the views' seed")):
    if old.get(field) != new.get(field):
      changes.append('%s %s -> %s' % (name, old.get(field), new.get(field)))
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




def segment_sizes(counts, views):
  """{segment: vectors} of a pass, in its order (SEGMENTS), for {split: images} and K views."""
  sizes = collections.OrderedDict()
  for segment in SEGMENTS:
    if segment == VIEWS:
      if views:
        sizes[segment] = counts['train'] * views
    elif segment in counts:
      sizes[segment] = counts[segment]
  return sizes


def plan(sizes, batch_size):
  """The chunks of a pass, in order: CHUNK_BATCHES batches each, a segment's last one shorter."""
  step = CHUNK_BATCHES * batch_size
  return [Chunk(segment, start, min(step, count - start))
          for segment, count in sizes.items() for start in range(0, count, step)]


def _parts(segment):
  return ('vectors', 'labels', 'images') if segment == VIEWS else ('vectors', 'labels')


def _load(folder, sizes):
  """The finished cache in `folder` as cached returns it, or None with the reason why not."""
  path = os.path.join(folder, CACHE_FILENAME)
  if not os.path.isfile(path):
    return None, None
  try:
    with np.load(path) as stored:
      cache = {segment: tuple(stored['%s_%s' % (segment, part)] for part in _parts(segment))
               for segment in sizes}
  except Exception as e:  # numpy raises many kinds for a damaged archive
    return None, '%s is damaged (%s)' % (path, str(e).splitlines()[0] if str(e) else type(e))
  for segment, count in sizes.items():
    vectors, labels = cache[segment][:2]
    if vectors.shape != (count, VECTOR_SIZE) or labels.shape != (count,):
      return None, '%s holds %s vectors of %s, not the %d of %s' % (
          path, vectors.shape[0], vectors.shape[1:], count, segment)
  return cache, None


def _write(folder, name, data):
  """Writes one file of the cache atomically; a full disk is the user's to fix."""
  try:
    if not os.path.isdir(folder):
      os.makedirs(folder)
    files.write_atomically(os.path.join(folder, name), data)
  except OSError as e:
    raise UsageError('cannot write the bottleneck cache in %s (%s): free some space or pass '
                     'another --bottleneck_dir' % (folder, e.strerror or e))


def _npz(**arrays):
  buffer = io.BytesIO()
  np.savez(buffer, **arrays)
  return buffer.getvalue()


def _chunk_name(chunk):
  return '%s.%09d%s' % (chunk.segment, chunk.start, CHUNK_SUFFIX)


def _read_chunk(folder, chunk):
  """A committed chunk's (vectors, labels); None when it is missing or does not fit."""
  try:
    with np.load(os.path.join(folder, _chunk_name(chunk))) as stored:
      vectors, labels = stored['vectors'], stored['labels']
  except Exception:  # missing, or not an archive of these arrays: computed again
    return None
  if vectors.shape != (chunk.size, VECTOR_SIZE) or labels.shape != (chunk.size,):
    return None
  return vectors, labels


def _committed(folder, chunks):
  """The arrays of the chunks committed before the first missing one: the pass's progress."""
  done = []
  for chunk in chunks:
    arrays = _read_chunk(folder, chunk)
    if arrays is None:
      break
    done.append(arrays)
  return done


def _assemble(sizes, chunks, done):
  """{segment: (vectors, labels[, images])} of the chunks' arrays, in pass order."""
  cache = {}
  for segment in sizes:
    pieces = [arrays for chunk, arrays in zip(chunks, done) if chunk.segment == segment]
    vectors = [v for v, _ in pieces] or [np.zeros((0, VECTOR_SIZE), np.float32)]
    labels = [l for _, l in pieces] or [np.zeros((0,), np.int64)]
    cache[segment] = (np.concatenate(vectors).astype(np.float32),
                      np.concatenate(labels).astype(np.int64))
  if VIEWS in cache:  # view v of training image i sits at v * n + i
    cache[VIEWS] += (np.arange(sizes[VIEWS], dtype=np.int64) % sizes['train'],)
  return cache


def cached(bottleneck_dir, key, counts, compute):
  """The bottlenecks of every split and view: read from the cache of `key`, else computed.

  A pass commits its vectors chunk by chunk (CHUNK_BATCHES batches, each an
  atomically written file in the key's folder); a pass stopped in any way is
  resumed by the next one at its first missing chunk, which logs `resuming the
  cache pass at N of M vectors`. Once every chunk is there they make one
  bottlenecks.npz, and the chunks are removed. One pass computes a key at a
  time: a second one waits for it (the lock on the key's folder), then reads
  what it wrote; a finished cache is read without waiting, as its files are
  written whole.

  Args:
    bottleneck_dir: the folder of the caches.
    key: a cache_key (its batch_size and views set the chunks).
    counts: {split: number of images}.
    compute: f(todo, commit): runs the network over the chunks `todo` (the rest of
      the pass, in order, as Chunk(segment, start, size)) and calls
      commit(chunk, vectors, labels) as each one is done (bottleneck_pass.run_pass).

  Returns:
    {'train': (vectors float32 [n, 1536], labels int64 [n]), 'validation': the
    same}: the evaluation views, in record order. With key['views'] K > 0 also
    'train_views': (vectors [n*K, 1536], labels [n*K], images int64 [n*K]),
    images[j] the index into 'train' of the image view j was made from.
  """
  folder = os.path.join(bottleneck_dir, key_id(key))
  sizes = segment_sizes(counts, key.get('views', 0))
  cache, _ = _load(folder, sizes)
  if cache is None:
    with locks.hold(folder, 'a bottleneck cache pass', '--bottleneck_dir', wait=True):
      cache = _computed(bottleneck_dir, folder, key, sizes, compute)
  else:
    _say_read(folder, sizes)
  return cache


def _say_read(folder, sizes):
  tf.logging.info('Read the bottlenecks of %s images and views from %s.',
                  ' + '.join(str(n) for n in sizes.values()), folder)


def _computed(bottleneck_dir, folder, key, sizes, compute):
  """cached's work under the key's lock: the cache another pass just wrote, or a new one."""
  cache, damage = _load(folder, sizes)
  if cache is not None:
    _say_read(folder, sizes)
    return cache
  chunks = plan(sizes, key['batch_size'])
  done = _committed(folder, chunks)
  if done or (os.path.isfile(os.path.join(folder, KEY_FILENAME)) and not damage):
    tf.logging.info('Bottleneck cache %s: resuming the cache pass at %d of %d vectors.', folder,
                    sum(c.size for c in chunks[:len(done)]), sum(sizes.values()))
  elif damage:
    tf.logging.warning('Rebuilding the bottleneck cache: %s.', damage)
  else:
    tf.logging.info('Computing the bottleneck cache %s: %s.', folder,
                    _why_new(bottleneck_dir, key))
  # First: a stopped pass leaves its key, for the next one to resume and to compare with.
  _write(folder, KEY_FILENAME, (json.dumps(key, indent=2, sort_keys=True) + '\n').encode())

  def commit(chunk, vectors, labels):
    if chunk != chunks[len(done)] or vectors.shape != (chunk.size, VECTOR_SIZE):
      raise ValueError('chunk %s of shape %s out of order or size' % (chunk, vectors.shape))
    arrays = vectors.astype(np.float32), labels.astype(np.int64)
    _write(folder, _chunk_name(chunk), _npz(vectors=arrays[0], labels=arrays[1]))
    done.append(arrays)
  if len(done) < len(chunks):
    compute(chunks[len(done):], commit)
  if len(done) < len(chunks):
    raise ValueError('the cache pass ended at chunk %d of %d' % (len(done), len(chunks)))
  cache = _assemble(sizes, chunks, done)
  _write(folder, CACHE_FILENAME, _npz(**{'%s_%s' % (segment, part): array
                                        for segment, arrays in cache.items()
                                        for part, array in zip(_parts(segment), arrays)}))
  # The chunks, and the temporary files of passes killed while writing (under the lock,
  # no other pass writes here).
  for path in glob.glob(os.path.join(folder, '*' + CHUNK_SUFFIX + '*')):
    files.remove_quietly(path)
  tf.logging.info('Cached the bottlenecks in %s.', folder)
  return cache
