# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The optimizers of TF-slim's train_image_classifier.py, under its flag names and defaults.

Each optimizer's own flags default to None on the command line, so a flag of
another optimizer is seen and refused; `OptimizerSettings` then fills in the
chosen optimizer's defaults. The one departure from TF-slim: with adam,
--opt_epsilon defaults to 1e-8, the tutorial's AdamOptimizer, not TF-slim's 1.0.
"""
from __future__ import absolute_import, division, print_function

import collections

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
# The tutorial trains with tf.train.AdamOptimizer's own epsilon.
TUTORIAL_ADAM_EPSILON = 1e-8


def _owners(name):
  """The optimizers that read the flag `name`."""
  return [o for o in OPTIMIZERS if name in OPTIMIZER_FLAGS[o]]


# The tutorial's Adam; also a flag of train_flowers.py.
optimizer = 'adam'


def add_flags(p):
  """--optimizer and every optimizer's flags."""
  p.add_argument('--optimizer', choices=OPTIMIZERS, default=optimizer,
                 help='the optimizer of every phase (default: %(default)s, the tutorial\'s)')
  for name in FLAG_NAMES:
    default = DEFAULTS[name]
    if name == 'opt_epsilon':
      default = '%g; %g with adam, the tutorial\'s' % (default, TUTORIAL_ADAM_EPSILON)
    p.add_argument('--' + name, type=float, default=None,
                   help='for --optimizer %s (default: %s)' % (' or '.join(_owners(name)), default))


class OptimizerSettings(collections.namedtuple('OptimizerSettings',
                                               ('optimizer',) + FLAG_NAMES)):
  """--optimizer and its flags, checked and completed when made.

  Args (of the constructor): the flags of the same names; an optimizer's own
  flags left None take its default, and a flag of another optimizer is refused.

  Raises:
    UsageError: naming the flag, the optimizers it belongs to and the fix.
  """
  __slots__ = ()

  def __new__(cls, optimizer=optimizer, **options):
    if optimizer not in OPTIMIZERS:
      raise UsageError('--optimizer %s is not one of %s' % (optimizer, ', '.join(OPTIMIZERS)))
    unknown = sorted(set(options) - set(FLAG_NAMES))
    if unknown:
      raise TypeError('OptimizerSettings got an unexpected keyword argument %r' % unknown[0])
    own = OPTIMIZER_FLAGS[optimizer]
    values = dict.fromkeys(FLAG_NAMES)
    for name in FLAG_NAMES:
      value = options.get(name)
      if value is not None and name not in own:
        owners = _owners(name)
        raise UsageError('--%s is a flag of --optimizer %s, not of %s: drop it or pass '
                         '--optimizer %s' % (name, ' or '.join(owners), optimizer, owners[0]))
      if value is None and name in own:
        value = TUTORIAL_ADAM_EPSILON if (name, optimizer) == ('opt_epsilon', 'adam') \
            else DEFAULTS[name]
      values[name] = value
    return super(OptimizerSettings, cls).__new__(cls, optimizer,
                                                 *(values[n] for n in FLAG_NAMES))


def configure_optimizer(settings, learning_rate):
  """The tf.train optimizer of an OptimizerSettings, at `learning_rate`.

  Its slot variables get TensorFlow's names, as in TF-slim's checkpoints:
  VAR/Adam and VAR/Adam_1, VAR/Momentum, VAR/RMSProp and VAR/RMSProp_1, ...
  """
  s = settings
  name = s.optimizer
  if name == 'adadelta':
    return tf.train.AdadeltaOptimizer(learning_rate, rho=s.adadelta_rho, epsilon=s.opt_epsilon)
  if name == 'adagrad':
    return tf.train.AdagradOptimizer(
        learning_rate, initial_accumulator_value=s.adagrad_initial_accumulator_value)
  if name == 'adam':
    return tf.train.AdamOptimizer(learning_rate, beta1=s.adam_beta1, beta2=s.adam_beta2,
                                  epsilon=s.opt_epsilon)
  if name == 'ftrl':
    return tf.train.FtrlOptimizer(
        learning_rate, learning_rate_power=s.ftrl_learning_rate_power,
        initial_accumulator_value=s.ftrl_initial_accumulator_value,
        l1_regularization_strength=s.ftrl_l1, l2_regularization_strength=s.ftrl_l2)
  if name == 'momentum':
    return tf.train.MomentumOptimizer(learning_rate, momentum=s.momentum, name='Momentum')
  if name == 'rmsprop':
    return tf.train.RMSPropOptimizer(learning_rate, decay=s.rmsprop_decay,
                                     momentum=s.rmsprop_momentum, epsilon=s.opt_epsilon)
  return tf.train.GradientDescentOptimizer(learning_rate)  # sgd
