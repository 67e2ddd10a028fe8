# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The learning rate of a global step: TF-slim's three decay types, the seed's by default.

- exponential: times --learning_rate_decay_factor every --num_epochs_before_decay
  epochs, in steps (staircase), the seed's schedule;
- polynomial: straight from --initial_learning_rate down to --end_learning_rate
  over --num_epochs_before_decay epochs, then flat (TF-slim's, power 1);
- fixed: --initial_learning_rate throughout.

A decay flag the chosen type does not read is refused rather than ignored.
"""
from __future__ import absolute_import, division, print_function

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
  """The learning-rate flags, with the command's defaults; the check fills them in."""
  p.add_argument('--initial_learning_rate', type=flags.non_negative_float,
                 default=initial_learning_rate)
  p.add_argument('--learning_rate_decay_type', choices=DECAY_TYPES, default='exponential',
                 help='default: %(default)s (staircase), the seed\'s')
  p.add_argument('--learning_rate_decay_factor', type=flags.non_negative_float, default=None,
                 help='for exponential (default: %g)' % learning_rate_decay_factor)
  p.add_argument('--num_epochs_before_decay', type=flags.non_negative_float, default=None,
                 help='epochs a decay step takes (exponential), or the whole decay '
                 '(polynomial) (default: %g)' % num_epochs_before_decay)
  p.add_argument('--end_learning_rate', type=flags.non_negative_float, default=None,
                 help='where polynomial decay ends (default: %g)' % END_LEARNING_RATE)
  defaults = dict(learning_rate_decay_factor=learning_rate_decay_factor,
                  num_epochs_before_decay=num_epochs_before_decay,
                  end_learning_rate=END_LEARNING_RATE)
  p.add_check(lambda args: check_flags(args, defaults))


def check_flags(args, defaults):
  """Refuses a decay flag the decay type does not read; fills in the ones it does."""
  used = DECAY_FLAGS[args.learning_rate_decay_type]
  for name in sorted(defaults):
    if getattr(args, name) is not None and name not in used:
      raise UsageError('--%s does nothing with --learning_rate_decay_type %s: drop it, or '
                       'pass a type that reads it (%s)'
                       % (name, args.learning_rate_decay_type,
                          ', '.join(t for t in DECAY_TYPES if name in DECAY_FLAGS[t])))
  for name in used:
    if getattr(args, name) is None:
      setattr(args, name, defaults[name])


def configure_learning_rate(args, decay_steps, global_step):
  """The learning-rate tensor of --learning_rate_decay_type.

  Args:
    args: the training flags, checked.
    decay_steps: global steps in --num_epochs_before_decay epochs.
    global_step: the step tensor.
  """
  if args.learning_rate_decay_type == 'fixed':
    return tf.constant(args.initial_learning_rate, tf.float32, name='fixed_learning_rate')
  if args.learning_rate_decay_type == 'polynomial':
    return tf.train.polynomial_decay(args.initial_learning_rate, global_step,
                                     max(decay_steps, 1), args.end_learning_rate, power=1.0,
                                     cycle=False, name='polynomial_decay_learning_rate')
  return tf.train.exponential_decay(
      learning_rate=args.initial_learning_rate,
      global_step=global_step,
      decay_steps=max(decay_steps, 1),
      decay_rate=args.learning_rate_decay_factor,
      staircase=True)
