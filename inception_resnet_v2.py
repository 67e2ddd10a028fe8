# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Inception-ResNet-V2, written against TF-slim.

The network of Szegedy, Ioffe, Vanhoucke and Alemi, "Inception-v4,
Inception-ResNet and the Impact of Residual Connections on Learning"
(http://arxiv.org/abs/1602.07261), laid out so that its variable names and
shapes are those of Google's `inception_resnet_v2_2016_08_30.ckpt` and its
arithmetic is that of the TF-slim model the checkpoint was trained with.

Usage:

  with slim.arg_scope(inception_resnet_v2_arg_scope()):
    logits, end_points = inception_resnet_v2(images, num_classes=1001,
                                             is_training=False)

The trunk pads most of its strided layers VALID, so inputs must be at least
75x75 (107x107 while the auxiliary head is built: it average-pools 5x5 over
the 17x17 stage). Smaller inputs raise a ValueError naming the size.
"""
from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import tf_compat  # noqa: F401  (before TensorFlow: runs the code on TF 2.x too)
import tensorflow.compat.v1 as tf
import tf_slim as slim


# The network's variable scope: the first part of every variable name.
SCOPE = 'InceptionResnetV2'

# The trunk's end points, in the order they are built, each with the variable
# scopes (under SCOPE) of the blocks from the previous end point up to it; a
# max pool has none. The residual stacks are slim.repeat's Repeat, Repeat_1
# and Repeat_2.
TRUNK_BLOCKS = (
    ('Conv2d_1a_3x3', ('Conv2d_1a_3x3',)), ('Conv2d_2a_3x3', ('Conv2d_2a_3x3',)),
    ('Conv2d_2b_3x3', ('Conv2d_2b_3x3',)), ('MaxPool_3a_3x3', ()),
    ('Conv2d_3b_1x1', ('Conv2d_3b_1x1',)), ('Conv2d_4a_3x3', ('Conv2d_4a_3x3',)),
    ('MaxPool_5a_3x3', ()), ('Mixed_5b', ('Mixed_5b',)),
    ('Mixed_6a', ('Repeat', 'Mixed_6a')), ('PreAuxLogits', ('Repeat_1',)),
    ('Mixed_7a', ('Mixed_7a',)),
    ('Conv2d_7b_1x1', ('Repeat_2', 'Block8', 'Conv2d_7b_1x1')))
TRUNK_END_POINTS = tuple(name for name, _ in TRUNK_BLOCKS)

# The heads' variable scopes under SCOPE: the classifier on the trunk's global
# pool, and the auxiliary classifier on PreAuxLogits.
LOGITS_SCOPE = 'Logits'
AUX_LOGITS_SCOPE = 'AuxLogits'
# The depth of Conv2d_7b_1x1, so the width of the pooled vector the Logits
# layer takes (the end point PreLogitsFlatten).
NUM_FEATURES = 1536
# The fraction of that vector the Logits layer's dropout keeps in training.
DROPOUT_KEEP_PROB = 0.8
# The Logits layer's fully connected scope, inside LOGITS_SCOPE.
_LOGITS_LAYER = 'Logits'
# The auxiliary head's last convolution: its kernel spans the map left at the
# input size (see aux_logits_kernel_size).
_AUX_KERNEL_LAYER = 'Conv2d_2a_5x5'

# Full names in a checkpoint or graph of the network built once in SCOPE: the
# Logits layer's scope; its weights, [NUM_FEATURES, num_classes], which tell a
# checkpoint's class count; the auxiliary kernel, which tells the image sizes
# it was trained at; the softmax, the output slim's export_inference_graph
# names.
LOGITS_LAYER_SCOPE = '/'.join((SCOPE, LOGITS_SCOPE, _LOGITS_LAYER))
LOGITS_WEIGHTS = LOGITS_LAYER_SCOPE + '/weights'
AUX_KERNEL = '/'.join((SCOPE, AUX_LOGITS_SCOPE, _AUX_KERNEL_LAYER, 'weights'))
PREDICTIONS = '/'.join((SCOPE, LOGITS_SCOPE, 'Predictions'))

# The trunk layers that can shrink the feature map: (end point, kernel,
# stride). Each pads with the trunk's `padding` (VALID unless the maps are
# aligned); every other layer pads SAME at stride 1 and keeps the size.
_SHRINKING_LAYERS = (
    ('Conv2d_1a_3x3', 3, 2),
    ('Conv2d_2a_3x3', 3, 1),
    ('MaxPool_3a_3x3', 3, 2),
    ('Conv2d_4a_3x3', 3, 1),
    ('MaxPool_5a_3x3', 3, 2),
    ('Mixed_6a', 3, 2),  # stride 1 when output_stride == 8
    ('Mixed_7a', 3, 2),
)

# The auxiliary head opens with a 5x5 VALID average pool, stride 3, over PreAuxLogits.
_AUX_POOL_SIZE = 5
_AUX_POOL_STRIDE = 3


def _residual(net, towers, scale, activation_fn):
  """Adds the scaled, projected concatenation of `towers` to `net`.

  Args:
    net: the block input, [batch, height, width, depth].
    towers: the branch outputs, concatenated in this order along depth.
    scale: factor on the residual before the sum; small factors keep very
      deep stacks of these blocks stable in training.
    activation_fn: applied to the sum, or None for a linear block.

  Returns:
    A tensor shaped like `net`.
  """
  mixed = tf.concat(axis=3, values=towers)
  # A linear 1x1 projection (bias, no batch norm) back to the input depth.
  up = slim.conv2d(mixed, net.get_shape()[3], 1, normalizer_fn=None,
                   activation_fn=None, scope='Conv2d_1x1')
  scaled_up = up * scale
  if activation_fn == tf.nn.relu6:
    # relu6 saturates at 6, so keep the residual within its band too.
    scaled_up = tf.clip_by_value(scaled_up, -6.0, 6.0)
  net += scaled_up
  if activation_fn:
    net = activation_fn(net)
  return net


def block35(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
  """Inception-ResNet-A: the residual block of the 35x35 stage.

  Args:
    net: input tensor, [batch, height, width, 320] in the standard network.
    scale: factor on the residual branch.
    activation_fn: applied after the residual sum; None leaves it linear.
    scope: optional variable scope; 'Block35' by default.
    reuse: whether to reuse the scope's variables.

  Returns:
    A tensor shaped like `net`.
  """
  with tf.variable_scope(scope, 'Block35', [net], reuse=reuse):
    with tf.variable_scope('Branch_0'):
      tower_0 = slim.conv2d(net, 32, 1, scope='Conv2d_1x1')
    with tf.variable_scope('Branch_1'):
      tower_1 = slim.conv2d(net, 32, 1, scope='Conv2d_0a_1x1')
      tower_1 = slim.conv2d(tower_1, 32, 3, scope='Conv2d_0b_3x3')
    with tf.variable_scope('Branch_2'):
      tower_2 = slim.conv2d(net, 32, 1, scope='Conv2d_0a_1x1')
      tower_2 = slim.conv2d(tower_2, 48, 3, scope='Conv2d_0b_3x3')
      tower_2 = slim.conv2d(tower_2, 64, 3, scope='Conv2d_0c_3x3')
    return _residual(net, [tower_0, tower_1, tower_2], scale, activation_fn)


def block17(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
  """Inception-ResNet-B: the residual block of the 17x17 stage.

  Args:
    net: input tensor, [batch, height, width, 1088] in the standard network.
    scale: factor on the residual branch.
    activation_fn: applied after the residual sum; None leaves it linear.
    scope: optional variable scope; 'Block17' by default.
    reuse: whether to reuse the scope's variables.

  Returns:
    A tensor shaped like `net`.
  """
  with tf.variable_scope(scope, 'Block17', [net], reuse=reuse):
    with tf.variable_scope('Branch_0'):
      tower_0 = slim.conv2d(net, 192, 1, scope='Conv2d_1x1')
    with tf.variable_scope('Branch_1'):
      # A 7x7 receptive field factorised into 1x7 then 7x1.
      tower_1 = slim.conv2d(net, 128, 1, scope='Conv2d_0a_1x1')
      tower_1 = slim.conv2d(tower_1, 160, [1, 7], scope='Conv2d_0b_1x7')
      tower_1 = slim.conv2d(tower_1, 192, [7, 1], scope='Conv2d_0c_7x1')
    return _residual(net, [tower_0, tower_1], scale, activation_fn)


def block8(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
  """Inception-ResNet-C: the residual block of the 8x8 stage.

  Args:
    net: input tensor, [batch, height, width, 2080] in the standard network.
    scale: factor on the residual branch.
    activation_fn: applied after the residual sum; None leaves it linear.
    scope: optional variable scope; 'Block8' by default.
    reuse: whether to reuse the scope's variables.

  Returns:
    A tensor shaped like `net`.
  """
  with tf.variable_scope(scope, 'Block8', [net], reuse=reuse):
    with tf.variable_scope('Branch_0'):
      tower_0 = slim.conv2d(net, 192, 1, scope='Conv2d_1x1')
    with tf.variable_scope('Branch_1'):
      tower_1 = slim.conv2d(net, 192, 1, scope='Conv2d_0a_1x1')
      tower_1 = slim.conv2d(tower_1, 224, [1, 3], scope='Conv2d_0b_1x3')
      tower_1 = slim.conv2d(tower_1, 256, [3, 1], scope='Conv2d_0c_3x1')
    return _residual(net, [tower_0, tower_1], scale, activation_fn)


def _mixed_5b(net):
  """The 35x35 Inception block that widens the stem to 320 channels."""
  with tf.variable_scope('Mixed_5b'):
    with tf.variable_scope('Branch_0'):
      tower_0 = slim.conv2d(net, 96, 1, scope='Conv2d_1x1')
    with tf.variable_scope('Branch_1'):
      tower_1 = slim.conv2d(net, 48, 1, scope='Conv2d_0a_1x1')
      tower_1 = slim.conv2d(tower_1, 64, 5, scope='Conv2d_0b_5x5')
    with tf.variable_scope('Branch_2'):
      tower_2 = slim.conv2d(net, 64, 1, scope='Conv2d_0a_1x1')
      tower_2 = slim.conv2d(tower_2, 96, 3, scope='Conv2d_0b_3x3')
      tower_2 = slim.conv2d(tower_2, 96, 3, scope='Conv2d_0c_3x3')
    with tf.variable_scope('Branch_3'):
      tower_3 = slim.avg_pool2d(net, 3, stride=1, padding='SAME',
                                scope='AvgPool_0a_3x3')
      tower_3 = slim.conv2d(tower_3, 64, 1, scope='Conv2d_0b_1x1')
    return tf.concat([tower_0, tower_1, tower_2, tower_3], 3)


def _mixed_6a(net, stride, padding):
  """Reduction-A: 35x35x320 to 17x17x1088 (stride 1 keeps 33x33, atrous)."""
  with tf.variable_scope('Mixed_6a'):
    with tf.variable_scope('Branch_0'):
      tower_0 = slim.conv2d(net, 384, 3, stride=stride, padding=padding,
                            scope='Conv2d_1a_3x3')
    with tf.variable_scope('Branch_1'):
      tower_1 = slim.conv2d(net, 256, 1, scope='Conv2d_0a_1x1')
      tower_1 = slim.conv2d(tower_1, 256, 3, scope='Conv2d_0b_3x3')
      tower_1 = slim.conv2d(tower_1, 384, 3, stride=stride, padding=padding,
                            scope='Conv2d_1a_3x3')
    with tf.variable_scope('Branch_2'):
      tower_2 = slim.max_pool2d(net, 3, stride=stride, padding=padding,
                                scope='MaxPool_1a_3x3')
    return tf.concat([tower_0, tower_1, tower_2], 3)


def _mixed_7a(net, padding):
  """Reduction-B: 17x17x1088 to 8x8x2080."""
  with tf.variable_scope('Mixed_7a'):
    with tf.variable_scope('Branch_0'):
      tower_0 = slim.conv2d(net, 256, 1, scope='Conv2d_0a_1x1')
      tower_0 = slim.conv2d(tower_0, 384, 3, stride=2, padding=padding,
                            scope='Conv2d_1a_3x3')
    with tf.variable_scope('Branch_1'):
      tower_1 = slim.conv2d(net, 256, 1, scope='Conv2d_0a_1x1')
      tower_1 = slim.conv2d(tower_1, 288, 3, stride=2, padding=padding,
                            scope='Conv2d_1a_3x3')
    with tf.variable_scope('Branch_2'):
      tower_2 = slim.conv2d(net, 256, 1, scope='Conv2d_0a_1x1')
      tower_2 = slim.conv2d(tower_2, 288, 3, scope='Conv2d_0b_3x3')
      tower_2 = slim.conv2d(tower_2, 320, 3, stride=2, padding=padding,
                            scope='Conv2d_1a_3x3')
    with tf.variable_scope('Branch_3'):
      tower_3 = slim.max_pool2d(net, 3, stride=2, padding=padding,
                                scope='MaxPool_1a_3x3')
    return tf.concat([tower_0, tower_1, tower_2, tower_3], 3)


def smallest_input_size(final_endpoint='Conv2d_7b_1x1', output_stride=16,
                        align_feature_maps=False, create_aux_logits=False):
  """Returns the smallest input side that builds up to `final_endpoint`.

  Walks the shrinking layers backwards from a 1x1 output (or, for the
  auxiliary head, from the 5x5 its average pool needs at PreAuxLogits).

  Args:
    final_endpoint: the last trunk end point to be built.
    output_stride: 16, or 8 for an atrous (stride 1) Mixed_6a.
    align_feature_maps: whether the trunk pads SAME instead of VALID.
    create_aux_logits: whether the auxiliary head is built too.

  Returns:
    The smallest height (and width) in pixels, an int.
  """
  def side_needed(end_point, side_out):
    last = TRUNK_END_POINTS.index(end_point)
    for name, kernel, stride in reversed(_SHRINKING_LAYERS):
      if TRUNK_END_POINTS.index(name) > last:
        continue
      if name == 'Mixed_6a' and output_stride == 8:
        stride = 1
      # VALID reads `kernel` pixels for its first output, SAME only one.
      side_out = (side_out - 1) * stride + (1 if align_feature_maps else kernel)
    return side_out

  side = side_needed(final_endpoint, 1)
  if create_aux_logits:
    side = max(side, side_needed('PreAuxLogits', _AUX_POOL_SIZE))
  return side


def aux_logits_kernel_size(image_size):
  """The side of the auxiliary head's Conv2d_2a_5x5 kernel at this input side.

  The kernel covers the whole map its pool leaves (5 at 299, 1 at 128), so
  it tells what range of sizes a checkpoint was trained at. For the default
  trunk: VALID padding, output_stride 16.

  Args:
    image_size: the input height (and width), at least smallest_input_size(
      create_aux_logits=True).

  Returns:
    The kernel's height (and width), an int.
  """
  side = image_size
  last = TRUNK_END_POINTS.index('PreAuxLogits')
  for name, kernel, stride in _SHRINKING_LAYERS:
    if TRUNK_END_POINTS.index(name) <= last:
      side = (side - kernel) // stride + 1
  return (side - _AUX_POOL_SIZE) // _AUX_POOL_STRIDE + 1


def _check_input_size(inputs, smallest, note=''):
  """Raises ValueError if a known spatial dimension is below `smallest`."""
  shape = inputs.get_shape()
  if shape.ndims != 4:
    raise ValueError('Inception-ResNet-V2 takes 4-D inputs [batch, height, '
                     'width, channels], not of shape %s' % shape)
  height, width = shape.as_list()[1:3]
  if any(side is not None and side < smallest for side in (height, width)):
    raise ValueError(
        'inputs of %sx%s are too small for Inception-ResNet-V2: the smallest '
        'is %dx%d%s' % ('?' if height is None else height,
                        '?' if width is None else width,
                        smallest, smallest, note))


def inception_resnet_v2_base(inputs,
                             final_endpoint='Conv2d_7b_1x1',
                             output_stride=16,
                             align_feature_maps=False,
                             scope=None,
                             activation_fn=tf.nn.relu):
  """Builds the Inception-ResNet-V2 trunk, from inputs to `final_endpoint`.

  The residual stages are slim.repeat stacks, so their blocks are named
  Repeat/block35_1..10, Repeat_1/block17_1..20 and Repeat_2/block8_1..9,
  followed by a last, linear Block8 before Conv2d_7b_1x1.

  Args:
    inputs: a tensor [batch_size, height, width, channels].
    final_endpoint: the end point to stop after; one of 'Conv2d_1a_3x3',
      'Conv2d_2a_3x3', 'Conv2d_2b_3x3', 'MaxPool_3a_3x3', 'Conv2d_3b_1x1',
      'Conv2d_4a_3x3', 'MaxPool_5a_3x3', 'Mixed_5b', 'Mixed_6a',
      'PreAuxLogits', 'Mixed_7a' or 'Conv2d_7b_1x1'.
    output_stride: ratio of input to output resolution at the 17x17 stage:
      16, or 8, which makes Mixed_6a stride 1 and the block17 stack atrous
      (rate 2). 8 only goes as far as 'PreAuxLogits'.
    align_feature_maps: pad the trunk SAME instead of VALID so that feature
      maps stay aligned with the input (e.g. for dense prediction).
    scope: optional variable scope (or VariableScope object).
    activation_fn: activation after each residual sum.

  Returns:
    net: the tensor at `final_endpoint`.
    end_points: dict from end point name to tensor, for every end point built.

  Raises:
    ValueError: if `final_endpoint` is unknown, `output_stride` is neither 8
      nor 16, output_stride 8 is asked for beyond 'PreAuxLogits', or the
      inputs are too small for `final_endpoint`.
  """
  if output_stride not in (8, 16):
    raise ValueError('output_stride must be 8 or 16, not %r' % output_stride)
  if final_endpoint not in TRUNK_END_POINTS:
    raise ValueError('final_endpoint %r is not one of %s'
                     % (final_endpoint, ', '.join(TRUNK_END_POINTS)))
  if (output_stride == 8 and TRUNK_END_POINTS.index(final_endpoint) >
      TRUNK_END_POINTS.index('PreAuxLogits')):
    raise ValueError('output_stride 8 only goes as far as PreAuxLogits, not '
                     'to %s' % final_endpoint)
  _check_input_size(inputs, smallest_input_size(
      final_endpoint, output_stride, align_feature_maps))

  padding = 'SAME' if align_feature_maps else 'VALID'
  use_atrous = output_stride == 8

  def stack_17x17(net):
    with slim.arg_scope([slim.conv2d], rate=2 if use_atrous else 1):
      return slim.repeat(net, 20, block17, scale=0.10,
                         activation_fn=activation_fn)

  def stack_8x8(net):
    net = slim.repeat(net, 9, block8, scale=0.20, activation_fn=activation_fn)
    # The last block stays linear, straight into the 1x1 convolution.
    net = block8(net, activation_fn=None)
    return slim.conv2d(net, NUM_FEATURES, 1, scope='Conv2d_7b_1x1')

  # Each stage maps the previous end point to the one it is named after;
  # the residual stacks come with the reduction (or end point) that follows.
  stages = (
      ('Conv2d_1a_3x3', lambda net: slim.conv2d(
          net, 32, 3, stride=2, padding=padding, scope='Conv2d_1a_3x3')),
      ('Conv2d_2a_3x3', lambda net: slim.conv2d(
          net, 32, 3, padding=padding, scope='Conv2d_2a_3x3')),
      ('Conv2d_2b_3x3', lambda net: slim.conv2d(
          net, 64, 3, scope='Conv2d_2b_3x3')),
      ('MaxPool_3a_3x3', lambda net: slim.max_pool2d(
          net, 3, stride=2, padding=padding, scope='MaxPool_3a_3x3')),
      ('Conv2d_3b_1x1', lambda net: slim.conv2d(
          net, 80, 1, padding=padding, scope='Conv2d_3b_1x1')),
      ('Conv2d_4a_3x3', lambda net: slim.conv2d(
          net, 192, 3, padding=padding, scope='Conv2d_4a_3x3')),
      ('MaxPool_5a_3x3', lambda net: slim.max_pool2d(
          net, 3, stride=2, padding=padding, scope='MaxPool_5a_3x3')),
      ('Mixed_5b', _mixed_5b),
      ('Mixed_6a', lambda net: _mixed_6a(
          slim.repeat(net, 10, block35, scale=0.17,
                      activation_fn=activation_fn),
          stride=1 if use_atrous else 2, padding=padding)),
      ('PreAuxLogits', stack_17x17),
      ('Mixed_7a', lambda net: _mixed_7a(net, padding)),
      ('Conv2d_7b_1x1', stack_8x8),
  )

  end_points = {}
  with tf.variable_scope(scope, SCOPE, [inputs]):
    # Layers pad SAME at stride 1 unless told otherwise.
    with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d],
                        stride=1, padding='SAME'):
      net = inputs
      # final_endpoint was checked against these names above.
      last = [name for name, _ in stages].index(final_endpoint)
      for name, build in stages[:last + 1]:
        net = build(net)
        end_points[name] = net
  return net, end_points


def logits_layer(net, num_classes, is_training=True,
                 dropout_keep_prob=DROPOUT_KEEP_PROB):
  """Builds the Logits layer: dropout, then a fully connected layer.

  inception_resnet_v2 builds it in SCOPE/LOGITS_SCOPE on the flattened global
  pool. Built alone in the same scope and arg_scope (say on cached pooled
  vectors), it has the same variables and computes the same scores.

  Args:
    net: the pooled features, [batch_size, NUM_FEATURES].
    num_classes: number of classes.
    is_training: whether dropout drops; a bool or a boolean tensor.
    dropout_keep_prob: fraction of the features dropout keeps.

  Returns:
    pre_logits: the features after dropout (the end point PreLogitsFlatten).
    logits: [batch_size, num_classes] pre-softmax scores, from the variables
      of the scope 'Logits' (LOGITS_LAYER_SCOPE in the network).
  """
  net = slim.dropout(net, dropout_keep_prob, is_training=is_training,
                     scope='Dropout')
  logits = slim.fully_connected(net, num_classes, activation_fn=None,
                                scope=_LOGITS_LAYER)
  return net, logits


def inception_resnet_v2(inputs, num_classes=1001, is_training=True,
                        dropout_keep_prob=DROPOUT_KEEP_PROB,
                        reuse=None,
                        scope=SCOPE,
                        create_aux_logits=True,
                        activation_fn=tf.nn.relu):
  """Builds Inception-ResNet-V2 with its classifier (and auxiliary) heads.

  Args:
    inputs: a tensor [batch_size, height, width, channels], at least 107x107
      with the auxiliary head and 75x75 without. Any channel count works
      (1 for grayscale: Conv2d_1a_3x3 then has 3x3x1x32 weights). The batch
      size may be unknown; height and width only if create_aux_logits is
      False, as the auxiliary head's kernel spans its whole input.
    num_classes: number of classes. If 0 or None, no logits layers are
      built and the global pool [batch, 1, 1, 1536] is returned instead.
    is_training: whether batch norm uses batch statistics (and queues moving
      average updates) and dropout drops.
    dropout_keep_prob: fraction of pre-logits features kept by dropout.
    reuse: whether to reuse the variables of `scope`.
    scope: variable scope of the whole network.
    create_aux_logits: whether to build the auxiliary head on PreAuxLogits.
    activation_fn: activation after each residual sum (the convolutions take
      theirs from the arg_scope).

  Returns:
    logits: [batch_size, num_classes] pre-softmax scores, or the global pool
      when num_classes is 0 or None.
    end_points: dict from end point name to tensor: the trunk's end points
      plus 'AuxLogits', 'global_pool', 'PreLogitsFlatten', 'Logits' and
      'Predictions' (softmax of the logits).

  Raises:
    ValueError: if the inputs are too small, or their height or width is
      unknown while the auxiliary head is asked for.
  """
  if create_aux_logits and num_classes:
    _check_input_size(inputs, smallest_input_size(create_aux_logits=True),
                      ' with create_aux_logits=True (%dx%d without)'
                      % ((smallest_input_size(),) * 2))
    if not inputs.get_shape()[1:3].is_fully_defined():
      raise ValueError('the auxiliary logits need a known input height and '
                       'width, not %s: pass create_aux_logits=False for '
                       'inputs of unknown size' % inputs.get_shape())

  with tf.variable_scope(scope, SCOPE, [inputs],
                         reuse=reuse) as scope:
    with slim.arg_scope([slim.batch_norm, slim.dropout],
                        is_training=is_training):
      # Re-enter the same scope object so the trunk's variables sit directly
      # under it, as in the checkpoint.
      net, end_points = inception_resnet_v2_base(inputs, scope=scope,
                                                 activation_fn=activation_fn)

      if create_aux_logits and num_classes:
        with tf.variable_scope(AUX_LOGITS_SCOPE):
          aux = slim.avg_pool2d(end_points['PreAuxLogits'], _AUX_POOL_SIZE,
                                stride=_AUX_POOL_STRIDE, padding='VALID',
                                scope='Conv2d_1a_3x3')
          aux = slim.conv2d(aux, 128, 1, scope='Conv2d_1b_1x1')
          # The kernel covers the whole remaining map (5x5 at 299x299).
          aux = slim.conv2d(aux, 768, aux.get_shape()[1:3], padding='VALID',
                            scope=_AUX_KERNEL_LAYER)
          aux = slim.flatten(aux)
          aux = slim.fully_connected(aux, num_classes, activation_fn=None,
                                     scope='Logits')
          end_points['AuxLogits'] = aux

      with tf.variable_scope(LOGITS_SCOPE):
        pool_size = net.get_shape()[1:3]
        if pool_size.is_fully_defined():
          net = slim.avg_pool2d(net, pool_size, padding='VALID',
                                scope='AvgPool_1a_8x8')
        else:
          # Size known only at run time: a mean does the same job.
          net = tf.reduce_mean(net, axis=[1, 2], keepdims=True,
                               name='global_pool')
        end_points['global_pool'] = net
        if not num_classes:
          return net, end_points
        net, logits = logits_layer(slim.flatten(net), num_classes, is_training,
                                   dropout_keep_prob)
        end_points['PreLogitsFlatten'] = net
        end_points['Logits'] = logits
        end_points['Predictions'] = tf.nn.softmax(logits, name='Predictions')
  return logits, end_points
inception_resnet_v2.default_image_size = 299


def inception_resnet_v2_arg_scope(
    weight_decay=0.00004,
    batch_norm_decay=0.9997,
    batch_norm_epsilon=0.001,
    activation_fn=tf.nn.relu,
    batch_norm_updates_collections=tf.GraphKeys.UPDATE_OPS,
    batch_norm_scale=False):
  """Returns the arg_scope the network was trained under.

  Args:
    weight_decay: L2 factor on the weights and biases of every convolution
      and fully connected layer (0 adds no regularisation loss).
    batch_norm_decay: decay of the batch norm moving averages.
    batch_norm_epsilon: added to the variance before dividing by it.
    activation_fn: activation of every convolution.
    batch_norm_updates_collections: collection the moving average updates
      go to (run them with the train op), or None to update in place.
    batch_norm_scale: whether batch norm learns a gamma; the checkpoint has
      none.

  Returns:
    An arg_scope for slim.arg_scope.
  """
  regularizer = slim.l2_regularizer(weight_decay)
  batch_norm_params = {
      'decay': batch_norm_decay,
      'epsilon': batch_norm_epsilon,
      'updates_collections': batch_norm_updates_collections,
      'fused': None,  # fused kernels wherever the input allows them
      'scale': batch_norm_scale,
  }
  with slim.arg_scope([slim.conv2d, slim.fully_connected],
                      weights_regularizer=regularizer,
                      biases_regularizer=regularizer):
    # Convolutions are batch-normalised, so they carry no biases.
    with slim.arg_scope([slim.conv2d], activation_fn=activation_fn,
                        normalizer_fn=slim.batch_norm,
                        normalizer_params=batch_norm_params) as scope:
      return scope
