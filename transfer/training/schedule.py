# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""What a training step does, kept in the run record; resuming with other values is refused.

The learning rate of a global step follows from the flags below and from how
many global steps an epoch takes: training images / (batch size x clones x
aggregated replicas); the optimizer, loss and averaging flags set what the
step does with it. A resumed run that changed any of them would silently
follow another schedule from the saved step on.
"""
from __future__ import absolute_import, division, print_function

from tf_compat import tf
from transfer import run_record
from transfer.errors import UsageError
from transfer.training import learning_rate, losses, optimizers

# Its section of the log dir's run.json (transfer/run_record.py).
SECTION = 'schedule'
# TF-slim's knobs: the optimizer and its flags, the decay type, the loss, the
# clipping and the moving averages (each optimizer's flags None unless chosen).
KNOB_KEYS = (('optimizer',) + optimizers.FLAG_NAMES + learning_rate.FLAG_NAMES +
             losses.FLAG_NAMES + ('moving_average_decay',))
# The flags the learning rate of a global step depends on, those of the head
# phase, the layers fine-tuned and the knobs.
FLAG_KEYS = ('batch_size', 'initial_learning_rate', 'learning_rate_decay_factor',
             'num_epochs_before_decay', 'head_epochs', 'head_learning_rate', 'head_batch_size',
             'bottleneck_views', 'fine_tune_from', 'fine_tune_batch_norm') + KNOB_KEYS
# With what sets the steps of an epoch. num_epochs is left out on purpose: it
# only moves the last step, so raising it extends a run on the same schedule.
# So is fine_tune_from: choosing the layers after a head-only run is the
# two-phase recipe (a changed choice mid-run fails the checkpoint's fit check).
# For the same reason the knobs may change after a head-only run: fine-tuning
# may use another optimizer than the head did. --fine_tune_batch_norm is compared:
# it changes what a step does to the moving statistics.
HEAD_KEYS = ('head_epochs', 'head_learning_rate', 'head_batch_size', 'bottleneck_views')
SCHEDULE_KEYS = ('batch_size', 'train_images', 'num_clones', 'replicas_to_aggregate',
                 'initial_learning_rate', 'learning_rate_decay_factor',
                 'num_epochs_before_decay', 'class_weights',
                 'fine_tune_batch_norm') + HEAD_KEYS + KNOB_KEYS


def schedule_of(settings, train_images, class_weights=None):
  """The schedule-defining settings of a run, as stored in the run record.

  Args:
    settings: the run's TrainSettings; its deployment's clones and aggregated
      replicas set how many images a global step takes.
    train_images: the size of the training split.
    class_weights: {class name: weight} of the loss, None for unweighted.
  """
  flags = settings.flag_values()
  schedule = {key: flags[key] for key in FLAG_KEYS}
  schedule.update(train_images=train_images, num_clones=settings.deployment.num_clones,
                  replicas_to_aggregate=settings.deployment.replicas,
                  num_epochs=settings.num_epochs, class_weights=class_weights)
  return schedule


# What the head phase adds to the schedule; a resumed run keeps it.
# The accuracies and loss are those of the head's epoch kept, head_best_epoch; the
# seed the cached views were drawn under, when --bottleneck_views had no --seed.
# With --head_folds, its cross-validation (transfer/training/head_folds.py) too.
HEAD_RESULTS = ('head_checkpoint', 'head_best_epoch', 'head_train_accuracy',
                'head_validation_accuracy', 'head_validation_loss', 'bottleneck_views_seed',
                'head_folds', 'head_folds_accuracy', 'head_folds_interval_95',
                'head_folds_seconds')


def schedule_changes(old, new, keys=SCHEDULE_KEYS):
  """['batch_size 8 -> 4', ...] for the schedule keys that differ."""
  return ['%s %s -> %s' % (key, old[key], new[key]) for key in keys
          if key in old and old[key] != new[key]]


def check_schedule(log_dir, schedule, resuming, allow_changed, head_only=False):
  """Compares a resumed run's schedule with the one stored in log_dir.

  Args:
    log_dir: the folder of the checkpoints and their run record.
    schedule: this run's `schedule_of`.
    resuming: whether log_dir holds a checkpoint this run continues.
    allow_changed: only log the changes instead of refusing them.
    head_only: the checkpoint is the head phase's (step 0): fine-tuning has
      not started, so only the head phase's settings are compared.

  Raises:
    UsageError: naming every changed setting, old -> new.
  """
  if not resuming:
    return
  try:
    old, _ = run_record.read_section(log_dir, SECTION)
  except ValueError as e:
    raise UsageError('%s: delete it to resume without the schedule check' % e)
  if old is None:
    return  # a log_dir from before schedules were stored
  changes = schedule_changes(old, schedule, HEAD_KEYS if head_only else SCHEDULE_KEYS)
  if changes and not allow_changed:
    raise UsageError('log_dir %s was trained with another schedule or training knobs (%s): '
                     'pass the old values, or --allow_changed_schedule to go on with the '
                     'new ones from the saved step, or choose another --log_dir'
                     % (log_dir, ', '.join(changes)))
  if changes:
    tf.logging.warning('Schedule changed (%s): the learning rate follows the new one from '
                       'the saved step on.', ', '.join(changes))
  # After a head-only run any --num_epochs is the fine-tuning's, not a moved end.
  if old.get('num_epochs') != schedule['num_epochs'] and not head_only:
    tf.logging.info('num_epochs %s -> %s: the same schedule, only the last step moves.',
                    old.get('num_epochs'), schedule['num_epochs'])


def keep_head_results(log_dir, schedule):
  """Copies into `schedule` the head phase's results stored in log_dir, if any."""
  old = load_schedule(log_dir) or {}
  schedule.update((key, old[key]) for key in HEAD_RESULTS if key in old)


def load_schedule(log_dir):
  """The schedule stored in log_dir, or None when there is none or it is not valid JSON."""
  try:
    return run_record.read_section(log_dir, SECTION)[0]
  except (IOError, OSError, ValueError):
    return None


def save_schedule(log_dir, schedule):
  """Writes the schedule into log_dir's run record (made when missing), all or nothing."""
  run_record.write_section(log_dir, SECTION, schedule)
