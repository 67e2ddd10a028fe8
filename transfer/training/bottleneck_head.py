# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Head-first training: the new Logits layer alone, on cached bottleneck vectors.

The layer is the network's own, built by its logits_layer (dropout, then the
fully connected layer) in the same scope and under the same arg_scope (so the
same variables, initialiser and weight decay), trained on the same
cross-entropy, with the run's --optimizer and its flags, --label_smoothing,
--weight_decay and --clip_gradient_norm at the fixed --head_learning_rate.
(No decay: the phase is a few hundred steps. No moving averages: fine-tuning
starts them from the trained head.) The epoch of the best validation accuracy
is kept. Then `save_checkpoint` writes a normal checkpoint of the whole network:
the restored base as it was, that epoch's Logits, AuxLogits as initialised,
global step 0.
"""
from __future__ import absolute_import, division, print_function

import collections
import os

import numpy as np

from inception_resnet_v2 import (LOGITS_LAYER_SCOPE, LOGITS_SCOPE, SCOPE,
                                 inception_resnet_v2_arg_scope, logits_layer)
from tf_compat import slim, tf
from transfer import bottlenecks, checkpoints, metrics, model
from transfer.training import losses, optimizers

# Accuracy is measured in chunks of this many vectors.
_EVAL_CHUNK = 1024
# The sub-run of log_dir the head's summaries go to (TensorBoard shows it as the run
# `head`): fine-tuning restarts at step 0 in log_dir itself, and TensorBoard drops the
# events of a run whose steps start again.
SUMMARY_RUN = 'head'

# weights [VECTOR_SIZE, classes], biases [classes] of the epoch kept (1-based), its
# accuracies, validation loss (plain cross-entropy) and mean training loss.
HeadResult = collections.namedtuple('HeadResult', [
    'weights', 'biases', 'epoch', 'train_accuracy', 'validation_accuracy',
    'validation_balanced_accuracy', 'validation_loss', 'loss'])
_HeadGraph = collections.namedtuple('_HeadGraph', [
    'vectors', 'labels', 'is_training', 'logits', 'train_op', 'loss', 'predicted',
    'cross_entropy', 'weights', 'biases'])


def _build_head(num_classes, learning_rate, optimizer_settings, loss_settings,
                class_weights=None):
  vectors = tf.placeholder(tf.float32, [None, bottlenecks.VECTOR_SIZE], name='bottlenecks')
  labels = tf.placeholder(tf.int64, [None], name='labels')
  is_training = tf.placeholder_with_default(False, [], name='is_training')
  with slim.arg_scope(inception_resnet_v2_arg_scope(weight_decay=loss_settings.weight_decay)):
    with tf.variable_scope(SCOPE), tf.variable_scope(LOGITS_SCOPE):
      _, logits = logits_layer(vectors, num_classes, is_training)
  losses.classification_loss(logits, {}, labels, num_classes, loss_settings.label_smoothing,
                             class_weights=class_weights)
  loss = tf.losses.get_total_loss()  # with the layer's weight decay
  optimizer = optimizers.configure_optimizer(optimizer_settings, learning_rate)
  grads = optimizer.compute_gradients(loss)
  clip = losses.gradient_clipper(loss_settings.clip_gradient_norm)
  train_op = optimizer.apply_gradients(clip(grads) if clip else grads)
  predicted = tf.argmax(logits, 1)
  # Plain (no smoothing, class weights or weight decay), so that runs with other flags compare.
  cross_entropy = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(
      labels=labels, logits=logits))
  weights, biases = slim.get_model_variables(LOGITS_LAYER_SCOPE)
  return _HeadGraph(vectors, labels, is_training, logits, train_op, loss, predicted,
                    cross_entropy, weights, biases)


def _evaluate(sess, head, vectors, labels, num_classes):
  """(accuracy, balanced accuracy, mean plain cross-entropy) of the head in inference
  mode; NaNs for no vector."""
  if not len(labels):
    return float('nan'), float('nan'), float('nan')
  predicted, cross_entropy = [], 0.0
  for start in range(0, len(labels), _EVAL_CHUNK):
    chunk = {head.vectors: vectors[start:start + _EVAL_CHUNK],
             head.labels: labels[start:start + _EVAL_CHUNK]}
    chunk_predicted, summed = sess.run([head.predicted, head.cross_entropy], chunk)
    predicted.append(chunk_predicted)
    cross_entropy += float(summed)  # a Python float: numpy 2 keeps float32, not JSON's
  confusion = metrics.confusion_matrix(labels, np.concatenate(predicted), num_classes)
  return (np.trace(confusion) / float(len(labels)), metrics.balanced_accuracy(confusion),
          cross_entropy / len(labels))


def _train_epoch(sess, head, vectors, labels, permutation, batch_size):
  """One pass over the training vectors in `permutation`'s order; the mean loss."""
  losses = []
  for start in range(0, len(permutation), batch_size):
    batch = permutation[start:start + batch_size]
    losses.append(sess.run([head.train_op, head.loss], {
        head.vectors: vectors[batch], head.labels: labels[batch], head.is_training: True})[1])
  return float(np.mean(losses))


def _better(values, best, measure):
  """Whether an epoch beats the best so far: a higher `measure`, then a lower loss."""
  return best is None or ((values[measure], -values['validation_loss']) >
                          (best[measure], -best['validation_loss']))


def _write_summaries(writer, epoch, values):
  writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag='head/' + tag, simple_value=value)
                                       for tag, value in sorted(values.items())]), epoch)


def training_set(cache):
  """(vectors, labels) the head trains on: each training image's evaluation view and its
  augmented views (cache['train_views'], when cached), every one in each epoch's shuffled pass.

  All of them, not one view an image an epoch: every image still weighs the same
  (1 + K vectors each), an epoch still shows the undistorted view that eval and
  predict see, and the head's steps stay cheap (an epoch is K + 1 times longer).
  """
  vectors, labels = cache['train']
  if 'train_views' not in cache:
    return vectors, labels
  views, view_labels = cache['train_views'][:2]
  return np.concatenate([vectors, views]), np.concatenate([labels, view_labels])


def train_head(cache, num_classes, settings, optimizer_settings, loss_settings, seed, log_dir,
               class_weights=None):
  """Trains the Logits layer on cached vectors; keeps its best epoch; logs and summarises.

  The epoch kept is the one of the best validation accuracy, balanced when
  the classes are weighted (ties: the lower validation loss, then the earlier
  epoch); without validation vectors, the last.

  Args:
    cache: {'train': (vectors, labels), 'validation': ...}, as bottlenecks.cached.
    num_classes: the classes of the head.
    settings: a HeadSettings: head_epochs (passes over the training vectors),
      head_batch_size (vectors a step), head_learning_rate.
    optimizer_settings, loss_settings: the run's OptimizerSettings and LossSettings.
    seed: the initial weights, the order of the vectors and the dropout; None: random.
    log_dir: its sub-run SUMMARY_RUN gets the TensorBoard summaries (head/...).
    class_weights: a weight a class for the loss (class_weights.resolve), or None.

  Returns:
    A HeadResult of the epoch kept.
  """
  train_vectors, train_labels = training_set(cache)
  validation = cache.get('validation', (np.zeros((0, bottlenecks.VECTOR_SIZE)), np.zeros(0)))
  epochs = settings.head_epochs
  order = np.random.RandomState(seed)
  best = None
  measure = 'validation_accuracy' if class_weights is None else 'validation_balanced_accuracy'
  with tf.Graph().as_default():
    tf.set_random_seed(seed)
    head = _build_head(num_classes, settings.head_learning_rate, optimizer_settings,
                       loss_settings, class_weights)
    writer = tf.summary.FileWriter(os.path.join(log_dir, SUMMARY_RUN))
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      for epoch in range(1, epochs + 1):
        values = {'loss': _train_epoch(sess, head, train_vectors, train_labels,
                                       order.permutation(len(train_labels)),
                                       settings.head_batch_size),
                  'train_accuracy': _evaluate(sess, head, train_vectors, train_labels,
                                              num_classes)[0]}
        (values['validation_accuracy'], values['validation_balanced_accuracy'],
         values['validation_loss']) = _evaluate(sess, head, validation[0], validation[1],
                                                num_classes)
        tf.logging.info('head epoch %d/%d: loss %.4f, train accuracy %.4f, validation '
                        'accuracy %.4f (balanced %.4f), validation loss %.4f', epoch, epochs,
                        values['loss'], values['train_accuracy'],
                        values['validation_accuracy'], values['validation_balanced_accuracy'],
                        values['validation_loss'])
        _write_summaries(writer, epoch, values)
        if not len(validation[1]) or _better(values, best, measure):
          best = dict(values, epoch=epoch, weights_and_biases=sess.run(
              [head.weights, head.biases]))
    writer.close()
  return HeadResult(*best.pop('weights_and_biases'), **best)


def save_checkpoint(log_dir, result, num_classes, image_size, checkpoint, exclude_scopes, seed):
  """Writes log_dir/model.ckpt-0: the restored network with the trained Logits.

  Args:
    log_dir: the training log folder.
    result: train_head's HeadResult.
    num_classes, image_size: the network's (the AuxLogits kernel depends on the size).
    checkpoint, exclude_scopes: what the base is restored from, as for training.
    seed: the initial values of whatever is not restored (AuxLogits).

  Returns:
    The path of the checkpoint written.
  """
  with tf.Graph().as_default():
    tf.set_random_seed(seed)
    model.build_model(tf.placeholder(tf.float32, [1, image_size, image_size, 3]), num_classes,
                      is_training=False)
    restore = checkpoints.init_fn(checkpoint, slim.get_variables_to_restore(exclude=exclude_scopes),
                                  'check --imagenet_checkpoint_file and '
                                  '--checkpoint_exclude_scopes')
    tf.train.get_or_create_global_step()  # after the choice: the checkpoint has no step
    weights, biases = slim.get_model_variables(LOGITS_LAYER_SCOPE)
    assign = tf.group(weights.assign(result.weights), biases.assign(result.biases))
    saver = tf.train.Saver()
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      restore(sess)
      sess.run(assign)
      if not os.path.isdir(log_dir):
        os.makedirs(log_dir)
      return saver.save(sess, os.path.join(log_dir, 'model.ckpt'), global_step=0)

