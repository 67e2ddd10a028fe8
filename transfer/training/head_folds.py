# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""--head_folds K: K-fold cross-validation of the head on the cached vectors.

The head trains in seconds on cached bottlenecks, so K more heads cost little
and measure it on every training and validation image instead of the
validation split alone. The images (never their views: an image and its
augmented views stay in one fold) are dealt into K folds, stratified by class
under --seed; each fold is predicted, on its evaluation views, by a head
trained as the head phase trains one (its flags, --head_epochs) on the other
folds' images, their evaluation views and their cached augmented views.
Each fold's head is the one after its last epoch: a fold has no separate
validation split to choose an epoch on, and choosing on the test fold would
flatter the estimate.

The accuracy of the pooled out-of-fold predictions comes with its Wilson score
95% interval, which treats the N predictions as N independent trials (it leaves
out the variation between the K heads). --report_suspects N then lists the
photos whose given label gets the lowest out-of-fold probability
(transfer/suspects.py).
"""
from __future__ import absolute_import, division, print_function

import argparse
import collections
import math
import time

import numpy as np

from tf_compat import tf
from transfer import flags, suspects
from transfer.datasets import records
from transfer.errors import UsageError
from transfer.training import bottleneck_head

# ================ DEFAULTS (each one is also a flag of train_flowers.py) ================
head_folds = 0  # 0: no cross-validation
report_suspects = 0  # photos listed in LOG_DIR/suspects.tsv and .png (needs --head_folds)
# The two-sided 95% quantile of the standard normal distribution.
Z_95 = 1.959963984540054

# The out-of-fold probabilities [images, classes] of the training then the validation
# images (cache order), their given labels, the pooled accuracy, its 95% interval
# (low, high), the fold count and the seconds the folds took.
FoldsResult = collections.namedtuple('FoldsResult', [
    'probabilities', 'labels', 'accuracy', 'interval', 'folds', 'seconds'])


def fold_count(text):
  """An argparse type: 0 (off) or at least 2 folds."""
  value = int(text)
  if value == 1 or value < 0:
    raise argparse.ArgumentTypeError(
        '%s fold%s leaves no image to train or to test on: pass 0 (off) or at least 2'
        % (text, '' if value == 1 else 's'))
  return value


def add_flags(p):
  p.add_argument('--head_folds', type=fold_count, default=head_folds,
                 help='K-fold cross-validation of the head on the cached training and '
                 'validation images: the out-of-fold accuracy and its 95%% interval (0: off)')
  p.add_argument('--report_suspects', type=flags.non_negative_int, default=report_suspects,
                 help='with --head_folds: write the N photos whose given label the folds doubt '
                 'most to LOG_DIR/suspects.tsv and suspects.png')


class FoldSettings(collections.namedtuple('FoldSettings', ('head_folds', 'report_suspects'),
                                          defaults=(head_folds, report_suspects))):
  """--head_folds and --report_suspects; 0 turns each off."""
  __slots__ = ()

  def check(self, head_epochs):
    """Refuses the flags that cannot go with the others (TrainSettings._check)."""
    if self.report_suspects and not self.head_folds:
      raise UsageError('--report_suspects ranks the photos by their out-of-fold predictions: '
                       'pass --head_folds K too')
    if self.head_folds and not head_epochs:
      raise UsageError('--head_folds cross-validates the head on cached bottlenecks: pass '
                       '--head_epochs N too (each fold trains the head for N epochs)')


def check_sizes(settings, splits):
  """Refuses more folds than the smallest class has photos, or more suspects than photos,
  before the cache pass (counting the records' labels).

  Args:
    settings: a FoldSettings.
    splits: {'train': dataset, 'validation': dataset (optional)}, from get_split.
  """
  if not settings.head_folds:
    return
  counts = collections.Counter()
  for split in splits.values():
    counts.update(records.count_labels(split.data_sources))
  names = splits['train'].labels_to_name
  smallest = min(range(len(names)), key=lambda label: (counts[label], label))
  fewest = counts[smallest]
  if fewest < settings.head_folds:
    raise UsageError('--head_folds %d: class %s has only %d photo%s (training and validation), '
                     'too few for a test fold each: %sadd photos'
                     % (settings.head_folds, names[smallest], fewest, '' if fewest == 1 else 's',
                        'pass --head_folds %d or less, or ' % fewest if fewest >= 2 else ''))
  total = sum(counts.values())
  if settings.report_suspects > total:
    raise UsageError('--report_suspects %d: the set has only %d photos (training and '
                     'validation): pass %d or less' % (settings.report_suspects, total, total))


def assign_folds(labels, folds, seed):
  """The fold of each image: every class's images shuffled and dealt round the folds.

  Each class starts where the previous one stopped, so the folds' sizes differ by
  at most one image.
  """
  rng = np.random.RandomState(seed)
  fold = np.zeros(len(labels), np.int64)
  dealt = 0
  for label in np.unique(labels):
    members = rng.permutation(np.flatnonzero(labels == label))
    fold[members] = (dealt + np.arange(len(members))) % folds
    dealt += len(members)
  return fold


def wilson_interval(correct, total, z=Z_95):
  """The Wilson score interval (low, high) of a proportion correct / total."""
  if not total:
    return float('nan'), float('nan')
  p = correct / float(total)
  centre = (p + z * z / (2 * total)) / (1 + z * z / total)
  half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
  return max(0.0, centre - half), min(1.0, centre + half)


def _evaluation_views(cache):
  """(vectors, labels) of every image: the training split's, then the validation's."""
  parts = [cache['train']] + ([cache['validation']] if 'validation' in cache else [])
  return (np.concatenate([vectors for vectors, _ in parts]),
          np.concatenate([labels for _, labels in parts]))


def _fold_training_set(cache, vectors, labels, in_fold):
  """The vectors and labels a fold's head trains on: the evaluation views of the images
  `in_fold` marks, then the cached augmented views of those among the training images."""
  chosen_vectors, chosen_labels = [vectors[in_fold]], [labels[in_fold]]
  if 'train_views' in cache:
    view_vectors, view_labels, images = cache['train_views']
    of_fold = in_fold[images]  # images index cache['train'], the first images here
    chosen_vectors.append(view_vectors[of_fold])
    chosen_labels.append(view_labels[of_fold])
  return np.concatenate(chosen_vectors), np.concatenate(chosen_labels)


def _probabilities(sess, head, probabilities, vectors):
  return np.concatenate([
      sess.run(probabilities, {head.vectors: vectors[start:start + bottleneck_head._EVAL_CHUNK]})
      for start in range(0, len(vectors), bottleneck_head._EVAL_CHUNK)])


def cross_validate(cache, num_classes, folds, settings, optimizer_settings, loss_settings,
                   seed, class_weights=None):
  """Trains a head a fold and predicts each fold with the head that never saw it.

  Args:
    cache: as bottlenecks.cached: 'train', 'validation' (optional) and
      'train_views' (optional, with the training image of each view).
    num_classes: the classes of the head.
    folds: K, at least 2.
    settings, optimizer_settings, loss_settings, class_weights: as for
      bottleneck_head.train_head (head_epochs, head_batch_size, head_learning_rate...).
    seed: the folds, the heads' initial weights, the vectors' order and the dropout.

  Returns:
    A FoldsResult.
  """
  started = time.time()
  vectors, labels = _evaluation_views(cache)
  fold = assign_folds(labels, folds, seed)
  result = np.zeros((len(labels), num_classes), np.float32)
  order = np.random.RandomState(seed)
  with tf.Graph().as_default():
    tf.set_random_seed(seed)
    head = bottleneck_head._build_head(num_classes, settings.head_learning_rate,
                                       optimizer_settings, loss_settings, class_weights)
    probabilities = tf.nn.softmax(head.logits)
    initialise = tf.global_variables_initializer()
    with tf.Session() as sess:
      for k in range(folds):
        sess.run(initialise)  # a new head: new weights, new optimizer slots
        train_vectors, train_labels = _fold_training_set(cache, vectors, labels, fold != k)
        for _ in range(settings.head_epochs):
          bottleneck_head._train_epoch(sess, head, train_vectors, train_labels,
                                       order.permutation(len(train_labels)),
                                       settings.head_batch_size)
        result[fold == k] = _probabilities(sess, head, probabilities, vectors[fold == k])
  correct = int(np.sum(np.argmax(result, 1) == labels))
  return FoldsResult(result, labels, correct / float(len(labels)),
                     wilson_interval(correct, len(labels)), folds, time.time() - started)


def run(settings, splits, cache, class_weights=None):
  """--head_folds and --report_suspects after the cache pass: logs, writes the report.

  Args:
    settings: the run's TrainSettings (its folds, head, optimizer and loss groups,
      seed and log_dir).
    splits: {'train': dataset, 'validation': dataset (optional)}, from get_split.
    cache: as bottlenecks.cached.
    class_weights: as for bottleneck_head.train_head.

  Returns:
    {name: value} for the run record's schedule section ({} when off).
  """
  s = settings
  if not s.folds.head_folds:
    return {}
  result = cross_validate(cache, splits['train'].num_classes, s.folds.head_folds, s.head,
                          s.optimizer, s.loss, s.seed, class_weights)
  low, high = result.interval
  tf.logging.info(
      'Head folds: %d-fold cross-validation on %d images (training and validation), '
      'out-of-fold accuracy %.4f, 95%% interval %.4f-%.4f (Wilson score on the %d pooled '
      'out-of-fold predictions); each fold\'s head after its last epoch (%d), %.1f s.',
      result.folds, len(result.labels), result.accuracy, low, high, len(result.labels),
      s.head.head_epochs, result.seconds)
  if s.folds.report_suspects:
    sources = splits['train'].data_sources + (
        splits['validation'].data_sources if 'validation' in splits else [])
    suspects.report(s.log_dir, result.probabilities, result.labels, sources,
                    splits['train'].labels_to_name, s.folds.report_suspects)
  return {'head_folds': result.folds, 'head_folds_accuracy': result.accuracy,
          'head_folds_interval_95': [low, high], 'head_folds_seconds': round(result.seconds, 1)}
