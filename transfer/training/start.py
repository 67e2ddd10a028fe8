# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Where a training run starts: checks made before any graph is built, and what is restored.

A run resumes from log_dir's latest checkpoint, or starts from the ImageNet
checkpoint, or from scratch. Whatever can be refused is refused here, at once,
before minutes of graph building.
"""
from __future__ import absolute_import, division, print_function

import argparse
import contextlib
import math

from tf_compat import tf
from transfer import checkpoints, flags, locks, model
from transfer.deployment import cluster
from transfer.errors import UsageError
from transfer.training import class_weighting, schedule


def add_flags(p):
  """The flags of where a run starts: resuming, the ImageNet checkpoint or nothing."""
  p.add_argument('--allow_changed_schedule', action='store_true',
                 help='resume even though a flag that changes what a step does (batch, '
                 'learning rate, optimizer, loss, averages, clones) or the number of '
                 'training images differs from the saved run')
  p.add_argument('--from_scratch', action='store_true',
                 help='restore nothing: the "clean" baseline')
  p.add_argument('--download_checkpoint', action='store_true',
                 help='fetch the ImageNet checkpoint when it is missing')
  p.add_argument('--checkpoint_url', default=checkpoints.CHECKPOINT_URL, help=argparse.SUPPRESS)


def run_task(settings, train_fn):
  """cluster.run_task(train_fn) under the lock on log_dir: one writer per log dir.

  A lone run and a cluster's chief hold it from before any work until they
  return (a second training there is refused at once, naming this one); other
  workers and ps tasks write nothing there and take no lock.
  """
  writes = settings.deployment.is_chief
  with locks.hold(settings.log_dir, 'a training', '--log_dir') if writes else \
      contextlib.nullcontext():
    return cluster.run_task(settings.deployment, train_fn)


def check_start(settings, dataset):
  """Refuses what cannot train, and finds the checkpoint to resume.

  Args:
    settings: the run's TrainSettings.
    dataset: the training split (get_split).

  Returns:
    (checkpoint to resume from or None, this run's schedule).
  """
  s, config, num_samples = settings, settings.deployment, dataset.num_samples
  if s.batch_size > num_samples:
    raise UsageError('--batch_size %d is larger than the %d training images: pass '
                     '--batch_size %d or less' % (s.batch_size, num_samples, num_samples))
  # In a cluster only the chief reads and writes log_dir and restores.
  resume_from = None
  if config.is_chief and tf.gfile.IsDirectory(s.log_dir):
    resume_from = tf.train.latest_checkpoint(s.log_dir)
  if config.is_chief and not resume_from and not s.from_scratch:
    checkpoints.require_checkpoint(s.imagenet_checkpoint_file, s.download_checkpoint,
                                   s.checkpoint_url)
  weights = class_weighting.resolve(s.loss.class_weights, dataset)
  class_weighting.log(s.loss.class_weights, weights, dataset)
  run_schedule = schedule.schedule_of(s, num_samples, class_weighting.as_map(weights, dataset))
  if config.is_chief:
    head_only = bool(resume_from) and checkpoints.is_head_checkpoint(resume_from)
    schedule.check_schedule(s.log_dir, run_schedule, bool(resume_from),
                            s.allow_changed_schedule, head_only=head_only)
    if resume_from:
      schedule.keep_head_results(s.log_dir, run_schedule)
  return resume_from, run_schedule


def steps_already_done(config, total_steps, resume_from, head_just_trained=False):
  """The step of a resumed run that has nothing left to train, else None.

  Alone, such a run needs no graph; a cluster's workers wait for their chief.
  Right after this run's head phase, which said what comes next, it logs nothing.
  """
  if not resume_from or config.cluster:
    return None
  step = checkpoints.checkpoint_step(resume_from)
  if step is None or step < total_steps:
    return None
  if not total_steps and not head_just_trained:
    tf.logging.info('log_dir holds the head checkpoint %s and --num_epochs 0 fine-tunes '
                    'nothing: nothing to train.', resume_from)
  elif total_steps:
    tf.logging.info('log_dir already holds %d of %d steps: nothing to train.', step,
                    total_steps)
  return step


def warn_slow_batch_norm(batch_norm_decay, from_scratch, total_steps):
  """Moving averages that cannot settle make is_training=False eval useless."""
  # A decay of 1 never moves the statistics: an endless horizon.
  horizon = 1.0 / (1.0 - batch_norm_decay) if batch_norm_decay < 1 else float('inf')
  if from_scratch and total_steps < 3 * horizon - 1e-6:  # 0.9 is 10 steps, not 10.000002
    # A decay whose averages span a third of the run, else: more steps.
    fitting = math.floor(100 * (1 - 3.0 / total_steps) + 1e-6) / 100 if total_steps else 0
    fix = ('pass --batch_norm_decay %g or less, or train more epochs' % fitting
           if 0.5 <= fitting < batch_norm_decay else 'train more epochs')
    tf.logging.warning(
        'batch_norm_decay %g averages over ~%.0f steps but training runs %d from '
        'scratch: evaluation will suffer; %s', batch_norm_decay, horizon, total_steps, fix)


def variables_to_train(trained_scopes, trainable_scopes):
  """The variables of --fine_tune_from's scopes or --trainable_scopes; None trains them all.

  Only these get gradients: the backward pass stops at the lowest of them.

  Args:
    trained_scopes: model.fine_tune_scopes of --fine_tune_from, or None.
    trainable_scopes: --trainable_scopes, comma-separated.
  """
  if trained_scopes:
    return [v for v in tf.trainable_variables() if model.in_scopes(v.op.name, trained_scopes)]
  scopes = flags.split_scopes(trainable_scopes)
  if not scopes:
    return None
  variables = [v for s in scopes for v in tf.trainable_variables(s)]
  if not variables:
    raise UsageError('--trainable_scopes %s matches no variable' % trainable_scopes)
  return variables


def init_fn(settings, variables_to_restore, resume_from):
  """What initialises the variables the Supervisor does not restore from log_dir.

  Args:
    settings: the run's TrainSettings (log_dir, from_scratch, the ImageNet checkpoint).
    variables_to_restore: what the ImageNet checkpoint provides.
    resume_from: the checkpoint in log_dir this run resumes, or None.

  Returns:
    A function of a session restoring the ImageNet weights, or None when
    training resumes from log_dir or starts from scratch.
  """
  if resume_from:
    if checkpoints.missing_training_variables(resume_from, tf.global_variables()):
      checkpoints.complete_checkpoint(resume_from, tf.global_variables())
    problems = checkpoints.checkpoint_mismatches(resume_from, tf.global_variables())
    if problems:
      raise UsageError('log_dir %s holds a checkpoint of another model or settings (%s): '
                       'remove that folder or choose another --log_dir'
                       % (settings.log_dir, checkpoints.describe_problems(problems)))
    tf.logging.info('Resuming from %s; the ImageNet checkpoint is not used.', resume_from)
    return None
  if settings.from_scratch:
    tf.logging.info('Training from scratch: no variable is restored.')
    return None
  return checkpoints.init_fn(
      settings.imagenet_checkpoint_file, variables_to_restore,
      'check --imagenet_checkpoint_file and --checkpoint_exclude_scopes')
