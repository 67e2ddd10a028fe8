# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Where a training run starts: checks made before any graph is built.

A run resumes from log_dir's latest checkpoint, or starts from the ImageNet
checkpoint, or from scratch. Whatever can be refused is refused here, at once,
before minutes of graph building.
"""
from __future__ import absolute_import, division, print_function

from tf_compat import tf
from transfer import checkpoints
from transfer.errors import UsageError
from transfer.training import schedule


def check_start(args, config, num_samples):
  """Refuses what cannot train, and finds the checkpoint to resume.

  Args:
    args: the training flags.
    config: the run's DeploymentConfig.
    num_samples: the training images.

  Returns:
    (checkpoint to resume from or None, this run's schedule).
  """
  if args.batch_size > num_samples:
    raise UsageError('--batch_size %d is larger than the %d training images: pass '
                     '--batch_size %d or less' % (args.batch_size, num_samples, num_samples))
  # In a cluster only the chief reads and writes log_dir and restores.
  resume_from = None
  if config.is_chief and tf.gfile.IsDirectory(args.log_dir):
    resume_from = tf.train.latest_checkpoint(args.log_dir)
  if config.is_chief and not resume_from and not args.from_scratch:
    checkpoints.require_checkpoint(args.imagenet_checkpoint_file, args.download_checkpoint,
                                   args.checkpoint_url)
  run_schedule = schedule.schedule_of(args, num_samples, config)
  if config.is_chief:
    head_only = bool(resume_from) and checkpoints.is_head_checkpoint(resume_from)
    schedule.check_schedule(args.log_dir, run_schedule, bool(resume_from),
                            args.allow_changed_schedule, head_only=head_only)
    if resume_from:
      schedule.keep_head_results(args.log_dir, run_schedule)
  return resume_from, run_schedule


def steps_already_done(config, total_steps, resume_from):
  """The step of a resumed run that has nothing left to train, else None.

  Alone, such a run needs no graph; a cluster's workers wait for their chief.
  """
  if not resume_from or config.cluster:
    return None
  step = checkpoints.checkpoint_step(resume_from)
  if step is None or step < total_steps:
    return None
  tf.logging.info('log_dir already holds %d of %d steps: nothing to train.', step, total_steps)
  return step


def warn_slow_batch_norm(args, total_steps):
  """Moving averages that cannot settle make is_training=False eval useless."""
  horizon = 1.0 / (1.0 - args.batch_norm_decay)
  if args.from_scratch and total_steps < 3 * horizon:
    tf.logging.warning(
        'batch_norm_decay %g averages over ~%d steps but training runs %d from '
        'scratch: evaluation will suffer; consider --batch_norm_decay 0.9',
        args.batch_norm_decay, horizon, total_steps)
