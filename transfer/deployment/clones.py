# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Model clones: towers sharing one set of variables, their losses and gradients.

As TF-slim's model_deploy: `create_clones` builds the model once per clone on
its own share of the batch; `optimize_clones` averages the clones' losses and
sums their gradients; `create_train_op` applies them with the batch-norm
updates of the first clone. Each returns plain values or namedtuples.
"""
from __future__ import absolute_import, division, print_function

import collections

from tf_compat import slim, tf
from transfer import averages as moving_averages
from transfer.errors import NAN_LOSS_TAG

# outputs: what model_fn returned; scope: the clone's name scope ('' for a
# single tower); device: where its ops run ('' lets TensorFlow place them).
Clone = collections.namedtuple('Clone', ['outputs', 'scope', 'device'])


def create_clones(config, model_fn, images, labels):
  """Builds model_fn on every clone's share of the batch; the variables are shared.

  Args:
    config: a DeploymentConfig.
    model_fn: f(images, labels) adding the clone's losses to tf.losses and
      returning its end_points.
    images, labels: the batch of all clones, split among them in order.

  Returns:
    A list of Clone, one a tower.
  """
  if not config.cloned:
    return [Clone(model_fn(images, labels), '', '')]
  shares = zip(tf.split(images, config.num_clones), tf.split(labels, config.num_clones))
  clones = []
  with slim.arg_scope([slim.model_variable, slim.variable], device=config.variables_device()):
    for i, (clone_images, clone_labels) in enumerate(shares):
      device = config.clone_device(i)
      with tf.name_scope('clone_%d' % i) as scope, tf.device(device):
        with tf.variable_scope(tf.get_variable_scope(), reuse=True if i else None):
          clones.append(Clone(model_fn(clone_images, clone_labels), scope, device))
  return clones


def merged_end_points(clones):
  """The first clone's end_points, with 'Predictions' of all clones in batch order."""
  end_points = dict(clones[0].outputs)
  if len(clones) > 1:
    end_points['Predictions'] = tf.concat([c.outputs['Predictions'] for c in clones], 0)
  return end_points


def _clone_loss(clone, num_clones, with_regularization):
  """One clone's loss: its mean loss / N, the regularization on the first clone only."""
  with tf.device(clone.device):
    loss = tf.add_n(tf.losses.get_losses(clone.scope), name='clone_loss')
    if num_clones > 1:
      loss = tf.div(loss, float(num_clones), name='scaled_clone_loss')
    if with_regularization and tf.losses.get_regularization_losses():
      loss = tf.add(loss, tf.losses.get_regularization_loss(), name='clone_loss_with_reg')
  return loss


def optimize_clones(clones, optimizer, var_list=None):
  """Each clone's gradients on its own device, summed over clones.

  Returns:
    (total_loss, [(summed gradient, variable)]).
  """
  losses, summed = [], collections.OrderedDict()
  for i, clone in enumerate(clones):
    loss = _clone_loss(clone, len(clones), with_regularization=i == 0)
    losses.append(loss)
    with tf.name_scope(clone.scope or None), tf.device(clone.device):
      for grad, var in optimizer.compute_gradients(loss, var_list=var_list):
        if grad is not None:
          summed.setdefault(var, []).append(grad)
  grads = []
  with tf.name_scope('summed_gradients'):
    for var, parts in summed.items():
      grads.append((tf.add_n(parts) if len(parts) > 1 else parts[0], var))
  return tf.add_n(losses, name='total_loss'), grads


def create_train_op(clones, optimizer, variables_to_train=None, clip_gradients=None,
                    averages=None):
  """The op of one training step, which returns the total loss.

  One tower: TF-slim's create_train_op, as the script always did. More: the
  summed clone gradients, with the batch-norm updates of the first clone only.

  Args:
    clones: create_clones's.
    optimizer: what applies the gradients.
    variables_to_train: None trains every trainable variable.
    clip_gradients: f([(gradient, variable)]) applied to the summed gradients, or None.
    averages: (ExponentialMovingAverage, variables) to update after each step, or None.

  Returns:
    (train_op, total_loss): the loss averaged over clones, weight decay included.
  """
  global_step = tf.train.get_or_create_global_step()
  if len(clones) == 1:
    total_loss = tf.losses.get_total_loss()
    train_op = slim.training.create_train_op(total_loss, optimizer,
                                              variables_to_train=variables_to_train,
                                              transform_grads_fn=clip_gradients)
  else:
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS, clones[0].scope)
    total_loss, grads = optimize_clones(clones, optimizer, variables_to_train)
    if clip_gradients:
      grads = clip_gradients(grads)
    apply_op = optimizer.apply_gradients(grads, global_step=global_step)
    with tf.control_dependencies([apply_op] + update_ops):
      train_op = tf.check_numerics(tf.identity(total_loss), NAN_LOSS_TAG, name='train_op')
  if averages:
    train_op = moving_averages.after(train_op, *averages)  # once, whatever the clones
  return train_op, total_loss
