# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The learning rate of a global step: TF-slim's three decay types, the tutorial's by default.

- exponential: times --learning_rate_decay_factor every --num_epochs_before_decay
  epochs, in steps (staircase), the tutorial's schedule;
- polynomial: straight from --initial_learning_rate down to --end_learning_rate
  over --num_epochs_before_decay epochs, then flat (TF-slim's, power 1);
- fixed: --initial_learning_rate throughout.

A decay flag the chosen type does not read is refused rather than ignored.
"""
from __future__ import absolute_import, division, print_function

import collections

from tf_compat import tf
from transfer import flags
from transfer.errors import UsageError

DECAY_TYPES = ('exponential', 'fixed', 'polynomial')
# The flags each type reads, beside --initial_learning_rate.
DECAY_FLAGS = {
    'exponential': ('learning_rate_decay_factor', 'num_epochs_before_decay'),
    'fixed': (),
    'polynomial': ('num_epochs_before_decay', 'end_learning_rate'),
}
# TF-slim's end of the polynomial decay.
END_LEARNING_RATE = 0.0001
FLAG_NAMES = ('learning_rate_decay_type', 'end_learning_rate')


def add_flags(p, initial_learning_rate, learning_rate_decay_factor, num_epochs_before_decay):
  """The learning-rate flags; the decay flags default to None: see LearningRateSettings."""
  p.add_argument('--initial_learning_rate', type=flags.non_negative_float,
                 default=initial_learning_rate)
  p.add_argument('--learning_rate_decay_type', choices=DECAY_TYPES, default='exponential',
                 help='default: %(default)s (staircase), the tutorial\'s')
  p.add_argument('--learning_rate_decay_factor', type=flags.non_negative_float, default=None,
                 help='for exponential (default: %g)' % learning_rate_decay_factor)
  p.add_argument('--num_epochs_before_decay', type=flags.non_negative_float, default=None,
                 help='epochs a decay step takes (exponential), or the whole decay '
                 '(polynomial) (default: %g)' % num_epochs_before_decay)
  p.add_argument('--end_learning_rate', type=flags.non_negative_float, default=None,
                 help='where polynomial decay ends (default: %g)' % END_LEARNING_RATE)


class LearningRateSettings(collections.namedtuple('LearningRateSettings', (
    'initial_learning_rate', 'learning_rate_decay_type', 'learning_rate_decay_factor',
    'num_epochs_before_decay', 'end_learning_rate'))):
  """The learning-rate flags, checked and completed when made.

  A decay flag the type does not read is refused rather than ignored; those it
  reads, left None, take `defaults` ({flag name: value}, the command's; TF-slim's
  end_learning_rate unless given).

  Raises:
    UsageError: naming the flag and the decay types that read it.
  """
  __slots__ = ()

  def __new__(cls, initial_learning_rate, learning_rate_decay_type='exponential',
              learning_rate_decay_factor=None, num_epochs_before_decay=None,
              end_learning_rate=None, defaults=None):
    if learning_rate_decay_type not in DECAY_TYPES:
      raise UsageError('--learning_rate_decay_type %s is not one of %s'
                       % (learning_rate_decay_type, ', '.join(DECAY_TYPES)))
    defaults = dict(dict(end_learning_rate=END_LEARNING_RATE), **(defaults or {}))
    given = dict(learning_rate_decay_factor=learning_rate_decay_factor,
                 num_epochs_before_decay=num_epochs_before_decay,
                 end_learning_rate=end_learning_rate)
    used = DECAY_FLAGS[learning_rate_decay_type]
    for name in sorted(given):
      if given[name] is not None and name not in used:
        raise UsageError('--%s does nothing with --learning_rate_decay_type %s: drop it, or '
                         'pass a type that reads it (%s)'
                         % (name, learning_rate_decay_type,
                            ', '.join(t for t in DECAY_TYPES if name in DECAY_FLAGS[t])))
      if given[name] is None and name in used:
        given[name] = defaults[name]
    return super(LearningRateSettings, cls).__new__(cls, initial_learning_rate,
                                                    learning_rate_decay_type, **given)


def configure_learning_rate(settings, decay_steps, global_step):
  """The learning-rate tensor of a LearningRateSettings.

  Args:
    settings: a LearningRateSettings.
    decay_steps: global steps in --num_epochs_before_decay epochs.
    global_step: the step tensor.
  """
  s = settings
  if s.learning_rate_decay_type == 'fixed':
    return tf.constant(s.initial_learning_rate, tf.float32, name='fixed_learning_rate')
  if s.learning_rate_decay_type == 'polynomial':
    return tf.train.polynomial_decay(s.initial_learning_rate, global_step,
                                     max(decay_steps, 1), s.end_learning_rate, power=1.0,
                                     cycle=False, name='polynomial_decay_learning_rate')
  return tf.train.exponential_decay(
      learning_rate=s.initial_learning_rate,
      global_step=global_step,
      decay_steps=max(decay_steps, 1),
      decay_rate=s.learning_rate_decay_factor,
      staircase=True)
