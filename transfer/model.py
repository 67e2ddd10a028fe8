# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The network as every command builds it: Inception-ResNet-V2 under its arg_scope."""
from __future__ import absolute_import, division, print_function

from inception_resnet_v2 import (AUX_LOGITS_SCOPE, LOGITS_SCOPE, PREDICTIONS, SCOPE,
                                 TRUNK_BLOCKS, TRUNK_END_POINTS, inception_resnet_v2,
                                 inception_resnet_v2_arg_scope, smallest_input_size)
from tf_compat import slim, tf
from transfer import averages, checkpoints
from transfer.errors import UsageError

# 299: the size the ImageNet checkpoint was trained at.
DEFAULT_IMAGE_SIZE = inception_resnet_v2.default_image_size
# The name slim's export_inference_graph gives the model's input, and its output's.
INPUT_NAME = 'input'
OUTPUT_NAME = PREDICTIONS


def fine_tune_scopes(end_point):
  """The variable scopes `--fine_tune_from end_point` trains.

  They are the block of that end point, every block above it and the heads;
  AuxLogits only when its input, PreAuxLogits, is trained too.

  Raises:
    UsageError: for a name that is not a trunk end point, listing those.
  """
  if end_point not in TRUNK_END_POINTS:
    raise UsageError('--fine_tune_from %s is not an end point of Inception-ResNet-V2: pass '
                     'one of %s' % (end_point, ', '.join(TRUNK_END_POINTS)))
  start = TRUNK_END_POINTS.index(end_point)
  blocks = [scope for _, scopes in TRUNK_BLOCKS[start:] for scope in scopes]
  if start <= TRUNK_END_POINTS.index('PreAuxLogits'):
    blocks.append(AUX_LOGITS_SCOPE)
  return ['%s/%s' % (SCOPE, scope) for scope in blocks + [LOGITS_SCOPE]]


def in_scopes(name, scopes):
  """Whether a variable or op name lies in one of `scopes` (not just shares a prefix)."""
  return any(name == s or name.startswith(s + '/') for s in scopes)


def _batch_norm_frozen_outside(batch_norm_scopes):
  """slim.batch_norm, in inference mode outside `batch_norm_scopes` (everywhere for []).

  Frozen layers then keep the checkpoint's moving statistics and normalise
  with them, as they did when it was trained, instead of with the statistics
  of each small batch. Their beta still gets gradients.
  """
  def batch_norm(inputs, **params):
    if not in_scopes(tf.get_variable_scope().name, batch_norm_scopes):
      params['is_training'] = False  # an explicit argument beats the network's arg_scope
    return slim.batch_norm(inputs, **params)
  return batch_norm


def build_model(images, num_classes, is_training, batch_norm_scopes=None, **scope_args):
  """Inception-ResNet-V2 on `images` under its arg_scope.

  Args:
    images: float32 [batch, size, size, 3] in [-1, 1].
    num_classes: outputs of the new heads.
    is_training: training mode (batch statistics, dropout) or inference.
    batch_norm_scopes: when given, batch norm outside these variable scopes
      runs in inference mode even in training (see fine_tune_scopes); [] freezes
      every batch-norm layer, while dropout still follows is_training.
    **scope_args: inception_resnet_v2_arg_scope's, e.g. batch_norm_decay.

  Returns:
    (logits, end_points).

  Raises:
    UsageError: when the images are smaller than the network takes.
  """
  smallest = smallest_input_size(create_aux_logits=True)
  if min(images.shape.as_list()[1:3]) < smallest:
    raise UsageError('--image_size %d is below %d, the smallest input Inception-ResNet-V2 '
                     '(with its auxiliary head) takes: pass --image_size %d or more'
                     % (min(images.shape.as_list()[1:3]), smallest, smallest))
  with slim.arg_scope(inception_resnet_v2_arg_scope(**scope_args)):
    if batch_norm_scopes is None:
      return inception_resnet_v2(images, num_classes=num_classes, is_training=is_training)
    with slim.arg_scope([slim.conv2d],
                        normalizer_fn=_batch_norm_frozen_outside(batch_norm_scopes)):
      return inception_resnet_v2(images, num_classes=num_classes, is_training=is_training)


def build_classifier(num_classes, size):
  """The inference model on a placeholder of preprocessed images.

  Returns:
    (input placeholder float32 [None, size, size, 3] named `input`,
     probabilities [None, num_classes] named OUTPUT_NAME).
  """
  images = tf.placeholder(tf.float32, [None, size, size, 3], name=INPUT_NAME)
  _, end_points = build_model(images, num_classes, is_training=False)
  return images, end_points['Predictions']


def restore_model(sess, checkpoint, moving_averages=False):
  """Restores every model variable of the default graph from a fine-tuned `checkpoint`.

  moving_averages: restore each weight from its moving average where the
  checkpoint holds one (see transfer.averages).
  """
  names = averages.restore_names(checkpoint, slim.get_variables_to_restore(), moving_averages)
  checkpoints.init_fn(checkpoint, names,
                      'pass the checkpoint of a fine-tuned Inception-ResNet-V2')(sess)
