# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The head-first phase of train_flowers.py (--head_epochs) and its flags.

Cache each image's bottleneck once, train the new Logits layer on the cache,
write a checkpoint of the whole network into log_dir. Fine-tuning (if
--num_epochs asks for any) then resumes from that checkpoint; a rerun finds it
and never redoes the phase.
"""
from __future__ import absolute_import, division, print_function

import os

from tf_compat import tf
from transfer import bottlenecks, flags, model
from transfer.errors import UsageError
from transfer.training import bottleneck_head, schedule


def add_flags(p, head_epochs, head_learning_rate, head_batch_size, bottleneck_dir,
              bottleneck_batch_size, fine_tune_from):
  """The fast-transfer flags, with the defaults the command passes in."""
  p.add_argument('--head_epochs', type=flags.non_negative_int, default=head_epochs,
                 help='first train only the new Logits on cached bottlenecks for N epochs')
  p.add_argument('--head_learning_rate', type=float, default=head_learning_rate)
  p.add_argument('--head_batch_size', type=flags.positive_int, default=head_batch_size)
  p.add_argument('--bottleneck_dir', default=bottleneck_dir,
                 help='the bottleneck caches (default: DATASET_DIR/bottlenecks)')
  p.add_argument('--bottleneck_batch_size', type=flags.positive_int,
                 default=bottleneck_batch_size)
  p.add_argument('--fine_tune_from', default=fine_tune_from,
                 help='train this end point (e.g. Mixed_7a), the blocks above it and the '
                 'heads; the layers below keep their weights and batch-norm statistics')


def check_flags(args, config):
  """Refuses the fast-transfer flags that cannot go together, before any work."""
  if args.fine_tune_from:
    if args.trainable_scopes:
      raise UsageError('--fine_tune_from and --trainable_scopes both choose the layers to '
                       'train: pass one of them')
    model.fine_tune_scopes(args.fine_tune_from)  # an unknown end point
  if not args.num_epochs and not args.head_epochs:
    raise UsageError('--num_epochs 0 trains nothing: pass more epochs, or --head_epochs N '
                     'to train only the head')
  if args.head_epochs and args.from_scratch:
    raise UsageError('--head_epochs trains a head on a restored network and --from_scratch '
                     'restores none: drop one of them')
  if args.head_epochs and config.cluster:
    raise UsageError('--head_epochs runs in one process: train the head alone first '
                     '(--num_epochs 0), then start the cluster on that --log_dir')


def run(args, splits, input_fn, session_config, run_schedule):
  """Caches the bottlenecks, trains the Logits on them and saves the whole network.

  Args:
    args: the training flags.
    splits: {'train': dataset, 'validation': dataset (optional)}, from get_split.
    input_fn: f(dataset) -> (images, labels), reading it once, in order, with
      evaluation preprocessing at --image_size.
    session_config: a tf.ConfigProto for the cache pass.
    run_schedule: this run's schedule; the head's results are added to it, then it is
      written.

  Returns:
    The checkpoint written in log_dir, at global step 0.
  """
  exclude = flags.split_scopes(args.checkpoint_exclude_scopes)
  num_classes = splits['train'].num_classes
  key = bottlenecks.cache_key(args.imagenet_checkpoint_file, exclude, args.image_size,
                              {name: split.data_sources for name, split in splits.items()})

  def compute(name):
    return bottlenecks.compute_vectors(
        lambda: input_fn(splits[name]), splits[name].num_samples, num_classes,
        args.imagenet_checkpoint_file, exclude, 'Bottlenecks (%s)' % name, session_config)

  cache = bottlenecks.cached(args.bottleneck_dir or os.path.join(args.dataset_dir, 'bottlenecks'),
                             key, {name: split.num_samples for name, split in splits.items()},
                             compute)
  result = bottleneck_head.train_head(cache, num_classes, args, args.log_dir)
  path = bottleneck_head.save_checkpoint(args.log_dir, result, num_classes, args.image_size,
                                         args.imagenet_checkpoint_file, exclude, args.seed)
  tf.logging.info('Head trained: validation accuracy %.4f; saved %s.',
                  result.validation_accuracy, path)
  # In place: the fine-tuning phase saves this schedule again and keeps the head's record.
  run_schedule.update(head_checkpoint=os.path.basename(path),
                      head_train_accuracy=result.train_accuracy,
                      head_validation_accuracy=result.validation_accuracy)
  schedule.save_schedule(args.log_dir, run_schedule)
  return path
