# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The cache pass: the restored network once over every image and view, in inference mode.

One graph serves the whole pass, both splits and the views: a tf.data pipeline
reads each segment's records in order (the shards sorted by name, each one's
records in turn), decodes and preprocesses them as load_batch does
(evaluation preprocessing for the evaluation views; training's random crop,
flip and colour for the augmented ones, K passes over the training records),
batches each segment on its own and feeds the network. A resumed pass skips
the records of the chunks already committed, which end on whole batches, so
it batches the same images in the same shapes as an uninterrupted pass, and
its evaluation views come out bitwise the same.
"""
from __future__ import absolute_import, division, print_function

import numpy as np

import inception_preprocessing
from tf_compat import slim, tf
from transfer import bottlenecks, checkpoints, model, progress
from transfer.datasets import records
from transfer.errors import UsageError


def _parser(split, image_size, is_training):
  """f(serialized record) -> (preprocessed image, label), as load_batch prepares them."""
  def parse(serialized):
    image, label = split.decoder.decode(serialized, ['image', 'label'])
    image = inception_preprocessing.preprocess_image(image, image_size, image_size,
                                                     is_training=is_training,
                                                     add_image_summaries=False)
    return image, records.checked_label(label, split.num_classes)
  return parse


def _segment(split, image_size, batch_size, is_training, repeat, start, count):
  """The batches of `count` images of a segment from its `start`th on."""
  data = tf.data.TFRecordDataset(sorted(split.data_sources)).repeat(repeat)
  # Sequential preprocessing: the views' random draws follow the seed in order.
  data = data.skip(start).take(count).map(_parser(split, image_size, is_training))
  return data.batch(batch_size)


def _input(splits, todo, image_size, batch_size, views):
  """(images, labels) batches of the chunks `todo`, in order, in one pipeline."""
  data = None
  for segment in bottlenecks.SEGMENTS:
    chunks = [c for c in todo if c.segment == segment]
    if not chunks:
      continue
    is_views = segment == bottlenecks.VIEWS
    part = _segment(splits['train' if is_views else segment], image_size, batch_size,
                    is_views, views if is_views else 1, chunks[0].start,
                    sum(c.size for c in chunks))
    data = part if data is None else data.concatenate(part)
  return tf.data.make_one_shot_iterator(data.prefetch(1)).get_next()


def run_pass(splits, todo, commit, checkpoint, exclude_scopes, image_size, batch_size,
             views=0, seed=None, session_config=None):
  """Computes the vectors of the chunks `todo` and commits each as it is done.

  Args:
    splits: {'train': dataset, 'validation': dataset (optional)}, from get_split.
    todo: the bottlenecks.Chunk's still to compute, in the pass's order (a suffix
      of bottlenecks.plan).
    commit: f(chunk, vectors float32 [size, 1536], labels int64 [size]).
    checkpoint: the checkpoint restored, but for `exclude_scopes`.
    exclude_scopes: scopes not restored (their values do not reach the vectors).
    image_size, batch_size: the images' size and how many a forward pass takes.
    views: augmented views of each training image (K passes over its records).
    seed: the graph seed the views are drawn under.
    session_config: a tf.ConfigProto (--mixed_precision's rewrite included).

  Raises:
    UsageError: the shards hold fewer images than counted.
  """
  with tf.Graph().as_default():
    tf.set_random_seed(seed)
    images, labels = _input(splits, todo, image_size, batch_size, views)
    _, end_points = model.build_model(images, splits['train'].num_classes, is_training=False)
    restored = slim.get_variables_to_restore(exclude=exclude_scopes)
    restore = checkpoints.init_fn(checkpoint, restored, 'check --imagenet_checkpoint_file and '
                                  '--checkpoint_exclude_scopes')
    others = tf.variables_initializer(list(set(tf.global_variables()) - set(restored)))
    fetch = [end_points['PreLogitsFlatten'], labels]
    with tf.Session(config=session_config) as sess, progress.ProgressBar(
        total=sum(c.size for c in todo), label='Bottlenecks', unit='vectors') as bar:
      sess.run(others)  # the excluded scopes' (their values do not reach the vectors)
      restore(sess)
      for chunk in todo:
        commit(chunk, *_run_chunk(sess, fetch, chunk))
        bar.update(chunk.size)


def _run_chunk(sess, fetch, chunk):
  """(vectors, labels) of one chunk's batches."""
  vectors, labels = [], []
  while sum(len(batch) for batch in labels) < chunk.size:
    try:
      batch_vectors, batch_labels = sess.run(fetch)
    except tf.errors.OutOfRangeError:
      raise UsageError('the %s records ended before their count (%d): convert the photos '
                       'again' % (chunk.segment, chunk.start + chunk.size))
    vectors.append(batch_vectors)
    labels.append(batch_labels)
  return np.concatenate(vectors).astype(np.float32), np.concatenate(labels).astype(np.int64)
