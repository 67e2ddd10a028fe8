# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Moving-average weights: kept by training, preferred by eval, predict and export.

As TF-slim's train_image_classifier.py, --moving_average_decay D keeps an
exponential moving average of every model variable (batch-norm statistics
included), with the decay min(D, (1 + step) / (10 + step)) so that early
averages are not dominated by the initial weights. Each average is saved as
VAR/ExponentialMovingAverage beside VAR; the commands that use a checkpoint
restore VAR from it when it is there, unless --no_moving_average.
"""
from __future__ import absolute_import, division, print_function

from tf_compat import slim, tf
from transfer import flags

SUFFIX = '/ExponentialMovingAverage'


def add_training_flag(p):
  p.add_argument('--moving_average_decay', type=flags.open_fraction, default=None,
                 help='keep moving averages of the weights with this decay, e.g. 0.9999, '
                 'and save them (default: off); eval, predict and export then use them')


def add_use_flag(p):
  """--no_moving_average; what is used is model_settings.take's ModelChoice.moving_averages."""
  p.add_argument('--no_moving_average', action='store_true',
                 help='use the raw weights even where the checkpoint holds moving averages')


def for_training(decay, global_step):
  """(ExponentialMovingAverage, the variables it averages) of a decay, or None when off.

  TF-slim's: by global step, over the model variables.
  """
  if not decay:
    return None
  return tf.train.ExponentialMovingAverage(decay, num_updates=global_step), \
      slim.get_model_variables()


def after(train_op, ema, variables):
  """`train_op` followed by the averages' update of `variables`; the same value.

  The averages follow the weights a step has just written.
  """
  with tf.control_dependencies([train_op]):
    # apply() makes its variables in an init scope: their initialisers do not wait for a step.
    update = ema.apply(variables)
  with tf.control_dependencies([update]):
    return tf.identity(train_op, name='train_op_with_averages')


def shadow_name(name):
  return name + SUFFIX


def holds_averages(checkpoint):
  """Whether `checkpoint` holds moving averages of its weights."""
  return any(name.endswith(SUFFIX) for name, _ in tf.train.list_variables(checkpoint))


def restore_names(checkpoint, variables, use_averages):
  """{name in checkpoint: variable}: each variable's average where stored and wanted."""
  stored = {name for name, _ in tf.train.list_variables(checkpoint)} if use_averages else ()
  names = {}
  for var in variables:
    name = var.op.name
    names[shadow_name(name) if shadow_name(name) in stored else name] = var
  return names


def choose(checkpoint, no_moving_average, recorded_decay):
  """Whether a command restores the averages, and the line that tells the user, if any.

  Args:
    checkpoint: the checkpoint the command uses.
    no_moving_average: the command's --no_moving_average.
    recorded_decay: the decay the log dir's run record keeps, or None.

  Returns:
    (use the averages, one line or None).
  """
  if holds_averages(checkpoint):
    if no_moving_average:
      return False, 'Using the raw weights of %s (--no_moving_average).' % checkpoint
    return True, ('Using the moving averages of the weights in %s (--no_moving_average: '
                  'the raw weights).' % checkpoint)
  if recorded_decay:
    return False, ('%s holds no moving averages although its run keeps them '
                   '(--moving_average_decay %g): using its raw weights.'
                   % (checkpoint, recorded_decay))
  return False, None
