# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The network as every command builds it: Inception-ResNet-V2 under its arg_scope."""
from __future__ import absolute_import, division, print_function

from inception_resnet_v2 import (inception_resnet_v2, inception_resnet_v2_arg_scope,
                                 smallest_input_size)
from tf_compat import slim, tf
from transfer import checkpoints
from transfer.errors import UsageError

# 299: the size the ImageNet checkpoint was trained at.
DEFAULT_IMAGE_SIZE = inception_resnet_v2.default_image_size
# The name slim's export_inference_graph gives the model's input, and its output's.
INPUT_NAME = 'input'
OUTPUT_NAME = 'InceptionResnetV2/Logits/Predictions'


def build_model(images, num_classes, is_training, **scope_args):
  """Inception-ResNet-V2 on `images` under its arg_scope.

  Args:
    images: float32 [batch, size, size, 3] in [-1, 1].
    num_classes: outputs of the new heads.
    is_training: training mode (batch statistics, dropout) or inference.
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
    return inception_resnet_v2(images, num_classes=num_classes, is_training=is_training)


def build_classifier(num_classes, size):
  """The inference model on a placeholder of preprocessed images.

  Returns:
    (input placeholder float32 [None, size, size, 3] named `input`,
     probabilities [None, num_classes] named InceptionResnetV2/Logits/Predictions).
  """
  images = tf.placeholder(tf.float32, [None, size, size, 3], name=INPUT_NAME)
  _, end_points = build_model(images, num_classes, is_training=False)
  return images, end_points['Predictions']


def restore_model(sess, checkpoint):
  """Restores every model variable of the default graph from a fine-tuned `checkpoint`."""
  checkpoints.init_fn(checkpoint, slim.get_variables_to_restore(),
                      'pass the checkpoint of a fine-tuned Inception-ResNet-V2')(sess)
