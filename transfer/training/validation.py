# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Validation while training: the whole validation split, measured in the training graph.

The network is built a second time on a validation input, with reuse=True:
it reads the training graph's variables (no second copy of the weights), in
inference mode, from images preprocessed as eval_flowers.py preprocesses
them, and from the weights eval would restore: each variable's moving average
when --moving_average_decay keeps them, the raw weights otherwise. The loss is
the plain cross-entropy (no weight decay, smoothing or AuxLogits), so that
runs with other knobs compare.

The input is a tf.data pipeline of the split's shards in order, started anew
by its initializer for each pass, so every image counts once a pass.
"""
from __future__ import absolute_import, division, print_function

import collections
import contextlib
import os
import time

import numpy as np

import inception_preprocessing
from tf_compat import slim, tf
from transfer import averages, best_checkpoint, flags, metrics, model, runtime
from transfer.datasets import records
from transfer.errors import UsageError

# ================ DEFAULTS (each one is also a flag of train_flowers.py) ================
# Validate every this many epochs (and after the last one); 0: never.
# TRANSFER_VALIDATION_EVERY_N_EPOCHS in the environment sets the default (the
# test suite sets 0: tests of validation ask for it).
_EVERY = os.environ.get('TRANSFER_VALIDATION_EVERY_N_EPOCHS', '')
validation_every_n_epochs = int(_EVERY) if _EVERY.isdigit() else 1
# None: --batch_size, so that validation needs no more memory than a training step.
validation_batch_size = None
# Stop after this many validations without a better one; 0: never.
early_stopping_patience = 0


def add_flags(p):
  """Validation while training, the best checkpoint and early stopping."""
  p.add_argument('--validation_every_n_epochs', type=flags.non_negative_int,
                 default=validation_every_n_epochs,
                 help='measure the whole validation split every N epochs and after the last '
                 'one, keeping the best checkpoint in LOG_DIR/best (0: never)')
  p.add_argument('--validation_batch_size', type=flags.positive_int,
                 default=validation_batch_size, help='default: --batch_size')
  p.add_argument('--early_stopping_patience', type=flags.non_negative_int,
                 default=early_stopping_patience,
                 help='stop after N validations without a better one (0: never)')


class ValidationSettings(collections.namedtuple(
    'ValidationSettings', ('validation_every_n_epochs', 'validation_batch_size',
                           'early_stopping_patience'),
    defaults=(validation_every_n_epochs, validation_batch_size, early_stopping_patience))):
  """The validation flags, by name; validation_batch_size None means --batch_size."""
  __slots__ = ()

  def check(self, cluster):
    """Refuses early stopping without validation, or in a cluster."""
    if self.early_stopping_patience and not self.validation_every_n_epochs:
      raise UsageError('--early_stopping_patience counts validations, and '
                       '--validation_every_n_epochs 0 runs none: pass '
                       '--validation_every_n_epochs N or drop --early_stopping_patience')
    if self.early_stopping_patience and cluster:
      raise UsageError('--early_stopping_patience stops one process, and the other workers of '
                       'a cluster would train on: drop it, or stop the cluster by hand when '
                       "the chief's validation stops improving")


def find_split(settings, get_split):
  """The validation split the chief reads, and whether it validates on it.

  Args:
    settings: the run's TrainSettings.
    get_split: train_flowers.get_split.

  Returns:
    (the split, or None when it has no records (no shards, or the empty ones an
    older converter wrote) or neither validation nor the head phase reads it;
    True when the run validates).

  Raises:
    UsageError: when early stopping is asked for and there is no validation split.
  """
  s, every = settings, settings.validation.validation_every_n_epochs
  if not s.deployment.is_chief or not (every or s.head.head_epochs):
    return None, False
  shards = tf.gfile.Glob(os.path.join(s.dataset_dir, s.file_pattern % 'validation'))
  if any(tf.io.gfile.stat(path).length for path in shards):  # a shard of no record is empty
    return get_split('validation', s.dataset_dir, s.file_pattern, s.labels_file), bool(every)
  if s.validation.early_stopping_patience:
    raise UsageError('--early_stopping_patience needs the validation split, and %s has no '
                     'validation records: convert the photos with --validation_size N, or drop '
                     '--early_stopping_patience' % s.dataset_dir)
  if every:
    tf.logging.info('No validation records in %s: no validation while training, and no best '
                    'checkpoint.', s.dataset_dir)
  return None, False


# initializer starts a pass; confusion (true x predicted), loss_sum and count
# are a batch's; saver writes the best checkpoint.
ValidationGraph = collections.namedtuple('ValidationGraph', [
    'initializer', 'confusion', 'loss_sum', 'count', 'num_samples', 'saver'])
# balanced_accuracy: the mean recall of the classes with images (metrics.py).
Result = collections.namedtuple('Result', ['accuracy', 'loss', 'images', 'seconds',
                                           'balanced_accuracy'], defaults=(None,))


def _input(split, image_size, batch_size):
  """(initializer, images, labels): the split's records in order, once, as eval preprocesses them."""
  decoder = split.decoder

  def parse(serialized):
    image, label = decoder.decode(serialized, ['image', 'label'])
    image = inception_preprocessing.preprocess_image(image, image_size, image_size,
                                                     is_training=False,
                                                     add_image_summaries=False)
    return image, records.checked_label(label, split.num_classes)

  data = tf.data.TFRecordDataset(split.data_sources).map(parse).batch(batch_size)
  iterator = tf.data.make_initializable_iterator(data)
  images, labels = iterator.get_next()
  return iterator.initializer, images, labels


def _averaged_getter():
  """A custom getter giving each variable's moving average where the graph keeps one."""
  shadows = {v.op.name: v for v in tf.global_variables()
             if v.op.name.endswith(averages.SUFFIX)}

  def averaged(getter, name, *args, **kwargs):  # TensorFlow passes `getter` by name
    var = getter(name, *args, **kwargs)
    return shadows.get(averages.shadow_name(var.op.name), var)
  return averaged


def best_variables(moving_averages):
  """{name: variable} a best checkpoint holds: what eval restores, no optimizer slot.

  The model's variables (batch-norm statistics included), their moving averages
  when kept, and the global step.
  """
  by_name = {v.op.name: v for v in tf.global_variables()}
  chosen = {v.op.name: v for v in slim.get_model_variables()}
  if moving_averages:
    chosen.update((averages.shadow_name(name), by_name[averages.shadow_name(name)])
                  for name in list(chosen) if averages.shadow_name(name) in by_name)
  chosen['global_step'] = tf.train.get_global_step()
  return chosen


def build(split, image_size, batch_size, device, moving_averages):
  """Adds the validation pass to the training graph, after the train op.

  Args:
    split: the validation split, from get_split.
    image_size: the size training reads images at.
    batch_size: images a validation batch.
    device: where the network runs (the first clone's device; '' lets TF place it).
    moving_averages: read the weights' moving averages (the graph keeps them).

  Returns:
    A ValidationGraph.
  """
  with tf.name_scope('validation'):
    with tf.device(runtime.INPUT_DEVICE):
      initializer, images, labels = _input(split, image_size, batch_size)
    getter = _averaged_getter() if moving_averages else None
    placed = tf.device(device) if device else contextlib.nullcontext()
    with placed, tf.variable_scope(tf.get_variable_scope(), reuse=True, custom_getter=getter):
      logits, _ = model.build_model(images, split.num_classes, is_training=False)
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    confusion = tf.math.confusion_matrix(labels, tf.argmax(logits, 1), split.num_classes,
                                         dtype=tf.int64)
    loss_sum = tf.reduce_sum(tf.cast(losses, tf.float64))
    count = tf.size(labels)
  return ValidationGraph(initializer, confusion, loss_sum, count, split.num_samples,
                         best_checkpoint.saver_of(best_variables(moving_averages)))


def run_pass(sess, graph, should_stop=None):
  """Measures the whole split once.

  Args:
    sess: a session of the training graph.
    graph: a ValidationGraph.
    should_stop: f() -> True to give up between batches (a stop signal came).

  Returns:
    A Result (accuracy and mean loss over every image), or None when given up.
  """
  start = time.time()
  sess.run(graph.initializer)
  confusion, loss, images = 0, 0.0, 0
  while True:
    if should_stop and should_stop():
      return None
    try:
      batch = sess.run([graph.confusion, graph.loss_sum, graph.count])
    except tf.errors.OutOfRangeError:  # the pass is over
      break
    confusion, loss, images = confusion + batch[0], loss + batch[1], images + batch[2]
  if not images:
    raise UsageError('the validation split yielded no image (%d counted): convert the '
                     'photos again' % graph.num_samples)
  return Result(float(np.trace(confusion)) / images, float(loss) / images, int(images),
                time.time() - start, metrics.balanced_accuracy(confusion))
