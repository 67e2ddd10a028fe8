# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The optimizers of TF-slim's train_image_classifier.py, under its flag names and defaults.

Each optimizer's own flags default to None on the command line, so a flag of
another optimizer is seen and refused; `check_flags` then fills in the
chosen optimizer's defaults. The one departure from TF-slim: with adam,
--opt_epsilon defaults to 1e-8, the seed's AdamOptimizer, not TF-slim's 1.0.
"""
from __future__ import absolute_import, division, print_function

from tf_compat import tf
from transfer.errors import UsageError

# The flags each optimizer reads, in TF-slim's order.
OPTIMIZER_FLAGS = {
    'adadelta': ('adadelta_rho', 'opt_epsilon'),
    'adagrad': ('adagrad_initial_accumulator_value',),
    'adam': ('adam_beta1', 'adam_beta2', 'opt_epsilon'),
    'ftrl': ('ftrl_learning_rate_power', 'ftrl_initial_accumulator_value', 'ftrl_l1',
             'ftrl_l2'),
    'momentum': ('momentum',),
    'rmsprop': ('rmsprop_momentum', 'rmsprop_decay', 'opt_epsilon'),
    'sgd': (),
}
OPTIMIZERS = tuple(sorted(OPTIMIZER_FLAGS))
# TF-slim's defaults.
DEFAULTS = {
    'adadelta_rho': 0.95, 'adagrad_initial_accumulator_value': 0.1, 'adam_beta1': 0.9,
    'adam_beta2': 0.999, 'opt_epsilon': 1.0, 'ftrl_learning_rate_power': -0.5,
    'ftrl_initial_accumulator_value': 0.1, 'ftrl_l1': 0.0, 'ftrl_l2': 0.0, 'momentum': 0.9,
    'rmsprop_momentum': 0.9, 'rmsprop_decay': 0.9,
}
FLAG_NAMES = tuple(sorted(DEFAULTS))
# The seed trains with tf.train.AdamOptimizer's own epsilon.
SEED_ADAM_EPSILON = 1e-8


def add_flags(p, optimizer):
  """--optimizer and every optimizer's flags."""
  p.add_argument('--optimizer', choices=OPTIMIZERS, default=optimizer,
                 help='the optimizer of every phase (default: %(default)s, the seed\'s)')
  for name in FLAG_NAMES:
    owners = [o for o in OPTIMIZERS if name in OPTIMIZER_FLAGS[o]]
    default = DEFAULTS[name]
    if name == 'opt_epsilon':
      default = '%g; %g with adam, the seed\'s' % (default, SEED_ADAM_EPSILON)
    p.add_argument('--' + name, type=float, default=None,
                   help='for --optimizer %s (default: %s)' % (' or '.join(owners), default))
  p.add_check(check_flags)


def check_flags(args):
  """Refuses a flag of another optimizer; fills in the chosen one's defaults.

  Raises:
    UsageError: naming the flag, the optimizers it belongs to and the fix.
  """
  own = OPTIMIZER_FLAGS[args.optimizer]
  for name in FLAG_NAMES:
    if getattr(args, name) is not None and name not in own:
      owners = [o for o in OPTIMIZERS if name in OPTIMIZER_FLAGS[o]]
      raise UsageError('--%s is a flag of --optimizer %s, not of %s: drop it or pass '
                       '--optimizer %s' % (name, ' or '.join(owners), args.optimizer,
                                           owners[0]))
  for name in own:
    if getattr(args, name) is None:
      default = DEFAULTS[name]
      if name == 'opt_epsilon' and args.optimizer == 'adam':
        default = SEED_ADAM_EPSILON
      setattr(args, name, default)


def configure_optimizer(args, learning_rate):
  """The tf.train optimizer --optimizer names, with its flags (see check_flags).

  Its slot variables get TensorFlow's names, as in TF-slim's checkpoints:
  VAR/Adam and VAR/Adam_1, VAR/Momentum, VAR/RMSProp and VAR/RMSProp_1, ...
  """
  name = args.optimizer
  if name == 'adadelta':
    return tf.train.AdadeltaOptimizer(learning_rate, rho=args.adadelta_rho,
                                      epsilon=args.opt_epsilon)
  if name == 'adagrad':
    return tf.train.AdagradOptimizer(
        learning_rate, initial_accumulator_value=args.adagrad_initial_accumulator_value)
  if name == 'adam':
    return tf.train.AdamOptimizer(learning_rate, beta1=args.adam_beta1, beta2=args.adam_beta2,
                                  epsilon=args.opt_epsilon)
  if name == 'ftrl':
    return tf.train.FtrlOptimizer(
        learning_rate, learning_rate_power=args.ftrl_learning_rate_power,
        initial_accumulator_value=args.ftrl_initial_accumulator_value,
        l1_regularization_strength=args.ftrl_l1, l2_regularization_strength=args.ftrl_l2)
  if name == 'momentum':
    return tf.train.MomentumOptimizer(learning_rate, momentum=args.momentum, name='Momentum')
  if name == 'rmsprop':
    return tf.train.RMSPropOptimizer(learning_rate, decay=args.rmsprop_decay,
                                     momentum=args.rmsprop_momentum, epsilon=args.opt_epsilon)
  if name == 'sgd':
    return tf.train.GradientDescentOptimizer(learning_rate)
  raise UsageError('--optimizer %s is not one of %s' % (name, ', '.join(OPTIMIZERS)))
