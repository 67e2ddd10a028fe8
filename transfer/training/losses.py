# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""What a training step minimises, and how far one step may go.

The seed's loss is the cross-entropy of the main head plus the network's
weight decay. TF-slim adds the auxiliary head's cross-entropy at weight 0.4,
both with optional label smoothing; timm clips the gradients' global norm.
Each is a flag here, the seed's loss the default.
"""
from __future__ import absolute_import, division, print_function

import collections

from tf_compat import slim, tf
from transfer import flags
from transfer.training import class_weighting

# The network arg_scope's weight decay, which the seed trains with.
WEIGHT_DECAY = 0.00004
FLAG_NAMES = ('label_smoothing', 'weight_decay', 'aux_loss_weight', 'clip_gradient_norm')


def add_flags(p):
  p.add_argument('--label_smoothing', type=flags.fraction, default=0.0,
                 help='mix the one-hot targets with this much of the uniform one (0: off)')
  p.add_argument('--weight_decay', type=flags.fraction, default=WEIGHT_DECAY,
                 help='L2 factor of the weights (default: %(default)s, the network\'s)')
  p.add_argument('--aux_loss_weight', type=flags.non_negative_float, default=0.0,
                 help='weight of the AuxLogits cross-entropy (default: 0, the seed\'s loss; '
                 'TF-slim trains with 0.4)')
  p.add_argument('--clip_gradient_norm', type=flags.non_negative_float, default=0.0,
                 help='scale the gradients down to this global norm when above it (0: off)')
  class_weighting.add_flags(p)


class LossSettings(collections.namedtuple('LossSettings', FLAG_NAMES + ('class_weights',),
                                          defaults=(0.0, WEIGHT_DECAY, 0.0, 0.0,
                                                    class_weighting.NONE))):
  """What a step minimises and how far it may go; the fields are the flags of the same name.

  class_weights is the flag's text; class_weights.resolve turns it into
  weights once the training split is known (the run record keeps those).
  """
  __slots__ = ()


def classification_loss(logits, end_points, labels, num_classes, label_smoothing=0.0,
                        aux_loss_weight=0.0, class_weights=None):
  """Adds the cross-entropies to tf.losses (weight decay comes from the arg_scope).

  Args:
    logits: the main head's [batch, num_classes].
    end_points: the network's; 'AuxLogits' is used when aux_loss_weight > 0.
    labels: int [batch].
    num_classes: the classes.
    label_smoothing: epsilon of the smoothed targets (1 - eps) * one_hot + eps / classes.
    aux_loss_weight: the auxiliary head's weight; 0 leaves it out.
    class_weights: a weight a class (class_weights.resolve), or None: each
      example's loss is multiplied by its true class's, the batch mean taken
      over examples. None is the unweighted loss, op for op.

  Returns:
    The main head's cross-entropy.
  """
  one_hot_labels = slim.one_hot_encoding(labels, num_classes)
  weights = 1.0
  if class_weights is not None:
    weights = tf.gather(tf.constant(class_weights, tf.float32, name='class_weights'), labels)
  if aux_loss_weight:
    tf.losses.softmax_cross_entropy(one_hot_labels, end_points['AuxLogits'],
                                    weights=aux_loss_weight * weights,
                                    label_smoothing=label_smoothing, scope='aux_loss')
  return tf.losses.softmax_cross_entropy(one_hot_labels, logits, weights=weights,
                                         label_smoothing=label_smoothing)


def gradient_clipper(clip_norm):
  """f([(gradient, variable)]) scaling the gradients to at most `clip_norm` global norm.

  None when clip_norm is 0: the gradients go to the optimizer as they are.
  """
  if not clip_norm:
    return None

  def clip(grads_and_vars):
    grads_and_vars = [(g, v) for g, v in grads_and_vars if g is not None]
    grads, variables = zip(*grads_and_vars)
    with tf.name_scope('clip_gradients'):
      clipped, _ = tf.clip_by_global_norm(grads, clip_norm)
    return list(zip(clipped, variables))
  return clip
