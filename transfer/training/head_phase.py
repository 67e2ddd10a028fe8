# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The head-first phase of train_flowers.py (--head_epochs) and its flags.

Cache each image's bottleneck once, train the new Logits layer on the cache,
write a checkpoint of the whole network, with the head's best epoch, into
log_dir. With --head_folds, K-fold cross-validation of the head on the same
cache comes first (head_folds.py). Fine-tuning (if --num_epochs asks for any)
then resumes from that checkpoint; a rerun finds it and never redoes the phase.
"""
from __future__ import absolute_import, division, print_function

import collections
import math
import os
import random

from tf_compat import tf
from transfer import bottleneck_pass, bottlenecks, flags, model_settings, runtime
from transfer.training import bottleneck_head, class_weighting, head_folds, schedule


# ================ DEFAULTS (each one is also a flag of train_flowers.py) ================
# Head first (0: the tutorial's recipe): epochs of the new Logits layer alone, on
# each image's cached bottleneck vector, before fine-tuning on images.
head_epochs = 0
# Adam at its default rate, as the Keras transfer-learning guide trains its new head.
head_learning_rate = 0.001
# TF Hub's retrain.py trains its final layer on batches of 100 cached vectors.
head_batch_size = 100
bottleneck_dir = ''  # empty: DATASET_DIR/bottlenecks
bottleneck_batch_size = 32  # images per forward pass of the cache pass
# Augmented views of each training image cached besides its evaluation view (0: none).
bottleneck_views = 0
# Train only this end point's block and those above it ('': every layer).
fine_tune_from = ''
# Batch norm while fine-tuning: 'frozen' runs every batch-norm layer in inference mode
# (moving statistics kept as restored, beta still learns); 'train' is the tutorial's.
# None: frozen after a head phase or with --fine_tune_from, else train.
fine_tune_batch_norm = None
BATCH_NORM_MODES = ('frozen', 'train')


def add_flags(p):
  """The fast-transfer flags."""
  p.add_argument('--head_epochs', type=flags.non_negative_int, default=head_epochs,
                 help='first train only the new Logits on cached bottlenecks for N epochs')
  p.add_argument('--head_learning_rate', type=float, default=head_learning_rate)
  p.add_argument('--head_batch_size', type=flags.positive_int, default=head_batch_size)
  p.add_argument('--bottleneck_dir', default=bottleneck_dir,
                 help='the bottleneck caches (default: DATASET_DIR/bottlenecks)')
  p.add_argument('--bottleneck_batch_size', type=flags.positive_int,
                 default=bottleneck_batch_size)
  p.add_argument('--bottleneck_views', type=flags.non_negative_int, default=bottleneck_views,
                 help='also cache K views of each training image under the training '
                 "preprocessing (random crop, flip, colour; under --seed), for the head's "
                 'training (needs --head_epochs)')
  p.add_argument('--fine_tune_from', default=fine_tune_from,
                 help='train this end point (e.g. Mixed_7a), the blocks above it and the '
                 'heads; the layers below keep their weights and batch-norm statistics')
  p.add_argument('--fine_tune_batch_norm', choices=BATCH_NORM_MODES,
                 default=fine_tune_batch_norm,
                 help='frozen: every batch-norm layer in inference mode, its moving statistics '
                 'kept as restored; train: the tutorial\'s batch statistics (default: frozen '
                 'with --head_epochs or --fine_tune_from, else train)')
  head_folds.add_flags(p)


def batch_norm_mode(mode, head_epochs, fine_tune_from):
  """--fine_tune_batch_norm, its default filled in: frozen when fine-tuning a trained head
  or a top, where batches of a few images would drag the checkpoint's statistics away."""
  if mode:
    return mode
  return 'frozen' if head_epochs or fine_tune_from else 'train'


class HeadSettings(collections.namedtuple(
    'HeadSettings', ('head_epochs', 'head_learning_rate', 'head_batch_size', 'bottleneck_dir',
                     'bottleneck_batch_size', 'bottleneck_views'),
    defaults=(head_epochs, head_learning_rate, head_batch_size, bottleneck_dir,
              bottleneck_batch_size, bottleneck_views))):
  """The head phase's flags, by name; head_epochs 0 turns the phase off."""
  __slots__ = ()


def _kept(result, epochs):
  """Which epoch of the head the checkpoint holds, and why."""
  if math.isnan(result.validation_accuracy):
    return 'no validation split, so the last epoch (%d) is kept' % epochs
  return ('kept epoch %d of %d, the best validation accuracy %.4f (balanced %.4f, loss %.4f)'
          % (result.epoch, epochs, result.validation_accuracy,
             result.validation_balanced_accuracy, result.validation_loss))


def run(settings, splits, session_config, run_schedule):
  """Caches the bottlenecks, trains the Logits on them and saves the whole network.

  Args:
    settings: the run's TrainSettings: the head phase's, optimizer and loss
      groups; the ImageNet checkpoint, image size, seed, runtime, dataset and log dirs.
    splits: {'train': dataset, 'validation': dataset (optional)}, from get_split.
    session_config: a tf.ConfigProto for the cache pass (runtime.session_config).
    run_schedule: this run's schedule; the head's results are added to it, then it is
      written.

  Returns:
    The checkpoint written in log_dir, at global step 0: the head's epoch of the
    best validation accuracy (bottleneck_head.train_head), beside the run's
    record (run.json), which names that epoch.
  """
  s = settings
  head_folds.check_sizes(s.folds, splits)  # before any work
  exclude = s.exclude_scopes
  num_classes = splits['train'].num_classes
  views = s.head.bottleneck_views
  seed = _views_seed(s, run_schedule) if views else None
  key = bottlenecks.cache_key(s.imagenet_checkpoint_file, exclude, s.image_size,
                              {name: split.data_sources for name, split in splits.items()},
                              s.head.bottleneck_batch_size, runtime.precision_mode(s.runtime),
                              views, seed)
  counts = {name: split.num_samples for name, split in splits.items()}

  def compute(todo, commit):
    bottleneck_pass.run_pass(splits, todo, commit, s.imagenet_checkpoint_file, exclude,
                             s.image_size, s.head.bottleneck_batch_size, views, seed,
                             session_config)

  cache = bottlenecks.cached(s.head.bottleneck_dir or os.path.join(s.dataset_dir, 'bottlenecks'),
                             key, counts, compute)
  weights = class_weighting.resolve(s.loss.class_weights, splits['train'])
  folds = head_folds.run(s, splits, cache, weights)  # {} without --head_folds
  result = bottleneck_head.train_head(cache, num_classes, s.head, s.optimizer, s.loss, s.seed,
                                      s.log_dir, weights)
  path = bottleneck_head.save_checkpoint(s.log_dir, result, num_classes, s.image_size,
                                         s.imagenet_checkpoint_file, exclude, s.seed)
  tf.logging.info('Head trained: %s; saved as %s.', _kept(result, s.head.head_epochs), path)
  tf.logging.info(next_step(s))
  # In place: the fine-tuning phase saves this schedule again and keeps the head's record.
  run_schedule.update(head_checkpoint=os.path.basename(path), head_best_epoch=result.epoch,
                      head_train_accuracy=result.train_accuracy,
                      head_validation_accuracy=result.validation_accuracy,
                      head_validation_loss=result.validation_loss, **folds)
  schedule.save_schedule(s.log_dir, run_schedule)
  model_settings.save(s.log_dir, s.image_size, s.dataset_dir, s.labels_file,
                      s.moving_average_decay)
  return path


def _views_seed(settings, run_schedule):
  """The seed the views are drawn under: --seed; unset, the one a stopped pass in this
  log dir drew (so that a rerun resumes its cache), else a new one, recorded at once."""
  seed = settings.seed
  if seed is None:
    seed = (schedule.load_schedule(settings.log_dir) or {}).get('bottleneck_views_seed')
  if seed is None:
    seed = random.SystemRandom().randint(0, 2 ** 31 - 1)
    tf.logging.info('--bottleneck_views without --seed: the views are drawn under seed %d '
                    '(kept in the run record).', seed)
  run_schedule['bottleneck_views_seed'] = seed
  if settings.seed is None:  # before the pass: a rerun after a stop resumes its cache
    schedule.save_schedule(settings.log_dir, run_schedule)
  return seed


def next_step(settings):
  """The line after the head phase: what the run does next."""
  s = settings
  if not s.num_epochs:
    return ('--num_epochs 0: the run ends with the head. To fine-tune it, run again with the '
            'same --log_dir and --num_epochs N (--fine_tune_from END_POINT trains only the top).')
  layers = ('%s and the blocks above it' % s.fine_tune_from if s.fine_tune_from
            else s.trainable_scopes or 'every layer')
  return 'Next: fine-tuning %s on the images for %d epoch%s, from this checkpoint.' % (
      layers, s.num_epochs, '' if s.num_epochs == 1 else 's')
