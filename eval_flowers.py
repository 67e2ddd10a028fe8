# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Evaluates a fine-tuned Inception-ResNet-V2 on the flowers validation split.

    python eval_flowers.py                      # latest checkpoint in ./log
    python eval_flowers.py --clean_baseline     # an un-restored model
    python eval_flowers.py --imagenet_baseline  # ImageNet weights, untrained new heads

Writes TensorBoard summaries, `predictions.png` (the last batch with predicted
and true names) and `confusion_matrix.png` to log_eval.
"""
from __future__ import absolute_import, division, print_function

import math
import os
import sys
import time

import numpy as np
import cli  # before TensorFlow: it quiets TensorFlow's start-up logs
import tf_compat  # noqa: F401  (before TensorFlow: runs the code on TF 2.x too)
import tensorflow.compat.v1 as tf
import tf_slim as slim

import atomic_files
import checkpoints
import runtime
import train_flowers
from cli import UsageError
from train_flowers import get_split, load_batch

# ================ EVALUATION INFORMATION ================
# The training log folder, whose latest checkpoint is evaluated.
log_dir = './log'
# Where evaluation summaries and pictures go.
log_eval = './log_eval'
dataset_dir = train_flowers.dataset_dir
# Larger than the training batch: no gradients to keep.
batch_size = 36
# Each validation image is seen num_epochs times (the seed's streaming average).
num_epochs = 3
# Empty: the latest checkpoint in log_dir.
checkpoint_file = ''
image_size = train_flowers.image_size
# How many images of the last batch the picture shows.
num_images_shown = 10
# None: a new random seed each run; it matters only for weights that are not restored.
seed = None


def resolve_checkpoint(args):
  """Picks the checkpoint to evaluate and the variables it must restore.

  Returns:
    (path or None, variables): None for the clean baseline.
  """
  if args.clean_baseline:
    return None, []
  if args.imagenet_baseline:
    checkpoints.require_checkpoint(args.imagenet_checkpoint_file)
    # The new heads and the step are not in it: they keep their initial values.
    return args.imagenet_checkpoint_file, slim.get_variables_to_restore(
        exclude=train_flowers.split_scopes(args.checkpoint_exclude_scopes) + ['global_step'])
  path = args.checkpoint_file
  if not path:
    path = tf.train.latest_checkpoint(args.log_dir) if tf.gfile.IsDirectory(args.log_dir) else None
    if not path:
      raise UsageError(
          'no checkpoint in %s: train first (`python train_flowers.py --log_dir %s`) or '
          'pass --checkpoint_file' % (args.log_dir, args.log_dir))
  elif not checkpoints.checkpoint_present(path):
    raise UsageError('checkpoint %s not found: check --checkpoint_file' % path)
  # Every variable, batch-norm moving statistics and the step included.
  return path, slim.get_variables_to_restore()


def build_eval_graph(args):
  """Builds the evaluation graph; returns a dict of the tensors eval runs."""
  tf.set_random_seed(args.seed)  # the un-restored weights of the baselines
  dataset = get_split('validation', args.dataset_dir, args.file_pattern, args.labels_file)
  with tf.device(runtime.INPUT_DEVICE):
    images, raw_images, labels = load_batch(dataset, args.batch_size, args.image_size,
                                            args.image_size, is_training=False,
                                            num_epochs=args.num_epochs)
  _, end_points = train_flowers.build_model(images, dataset.num_classes, False)
  # No optimizer here, so the step is advanced by hand; it is restored with the
  # rest, so evaluation summaries line up with the training step.
  global_step = tf.train.get_or_create_global_step()
  global_step_op = tf.assign_add(global_step, 1)
  checkpoint, variables_to_restore = resolve_checkpoint(args)

  probabilities = end_points['Predictions']
  predictions = tf.argmax(probabilities, 1)
  accuracy, accuracy_update = tf.metrics.accuracy(labels, predictions,
                                                  name='streaming_accuracy')
  k = min(5, dataset.num_classes)
  top_k, top_k_update = tf.metrics.mean(
      tf.cast(tf.nn.in_top_k(probabilities, labels, k), tf.float32))
  metrics_op = tf.group(accuracy_update, top_k_update)

  tf.summary.scalar('Validation_Accuracy', accuracy)
  tf.summary.scalar('Validation_Top_%d_Accuracy' % k, top_k)
  return dict(dataset=dataset, raw_images=raw_images, labels=labels, predictions=predictions,
              accuracy=accuracy, top_k=top_k, k=k, metrics_op=metrics_op,
              global_step_op=global_step_op, summary_op=tf.summary.merge_all(),
              checkpoint=checkpoint, variables_to_restore=variables_to_restore)


def make_init_fn(checkpoint, variables):
  """Restores `variables` from `checkpoint` after checking that they fit."""
  if checkpoint is None:
    tf.logging.info('Clean baseline: nothing is restored.')
    return None
  return checkpoints.restore_fn(
      checkpoint, variables,
      'evaluate with the --image_size, --dataset_dir and labels it was trained with')


def eval_loop(sess, sv, g, args):
  """Runs every validation batch; returns the confusion matrix and the last batch."""
  num_classes = g['dataset'].num_classes
  num_steps = train_flowers.steps_per_epoch(args.num_epochs * g['dataset'].num_samples,
                                            args.batch_size)
  steps_per_epoch = train_flowers.steps_per_epoch(g['dataset'].num_samples, args.batch_size)
  confusion = np.zeros((num_classes, num_classes), np.int64)
  last = None
  for step in range(num_steps):
    if step % steps_per_epoch == 0:
      tf.logging.info('Epoch: %d/%d', step // steps_per_epoch + 1, args.num_epochs)
      tf.logging.info('Current Streaming Accuracy: %.4f', sess.run(g['accuracy']))
    start = time.time()
    _, step_count, raw, labels, predictions = sess.run(
        [g['metrics_op'], g['global_step_op'], g['raw_images'], g['labels'], g['predictions']])
    accuracy = sess.run(g['accuracy'])
    tf.logging.info('Global Step %d: Streaming Accuracy: %.4f (%.2f sec/step)',
                    step_count, accuracy, time.time() - start)
    np.add.at(confusion, (labels, predictions), 1)
    last = (raw, labels, predictions)
    if step_count % args.summary_every_n_steps == 0 or step == num_steps - 1:
      sv.summary_computed(sess, sess.run(g['summary_op']), global_step=step_count)
  return confusion, last


def report(sess, g, confusion, last, args):
  """Logs the final figures, writes the pictures and returns the results."""
  names = [g['dataset'].labels_to_name[i] for i in range(g['dataset'].num_classes)]
  accuracy, top_k = sess.run([g['accuracy'], g['top_k']])
  tf.logging.info('Top-%d Accuracy: %.4f', g['k'], top_k)
  for i, name in enumerate(names):
    seen = confusion[i].sum()
    tf.logging.info('Accuracy of %s: %s', name,
                    '%.4f (%d images)' % (confusion[i, i] / seen, seen) if seen else 'no images')
  grid = save_predictions(
      os.path.join(args.log_eval, 'predictions.png'), last[0][:num_images_shown],
      [names[i] for i in last[1][:num_images_shown]],
      [names[i] for i in last[2][:num_images_shown]])
  matrix = save_confusion_matrix(
      os.path.join(args.log_eval, 'confusion_matrix.png'), confusion, names)
  tf.logging.info('Pictures: %s, %s', grid, matrix)
  if args.show:
    show_pictures([grid, matrix])
  # Last, so that scripts can read it off the final line.
  print('Final Streaming Accuracy: %.4f' % accuracy)
  sys.stdout.flush()
  return {'accuracy': float(accuracy), 'top_k_accuracy': float(top_k),
          'confusion': confusion, 'pictures': [grid, matrix]}


# ================ PICTURES ================
def _pyplot():
  """pyplot on a file-only backend unless a display is there to show on."""
  import matplotlib
  if not os.environ.get('DISPLAY'):
    matplotlib.use('Agg')
  import matplotlib.pyplot as plt
  return plt


def save_predictions(path, images, true_names, predicted_names):
  """Saves a grid of images titled 'Prediction: ... / Ground Truth: ...'.

  Titles are green where the prediction is right and red where it is wrong.

  Returns:
    path.
  """
  plt = _pyplot()
  cols = min(5, len(images))
  rows = int(math.ceil(len(images) / float(cols)))
  fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.6 * rows), squeeze=False)
  for ax in axes.flat:
    ax.axis('off')
  for ax, image, truth, guess in zip(axes.flat, images, true_names, predicted_names):
    ax.imshow(np.squeeze(image), cmap='gray' if image.shape[-1] == 1 else None)
    ax.set_title('Prediction: %s\nGround Truth: %s' % (guess, truth), fontsize=10,
                 color='green' if guess == truth else 'red')
  fig.tight_layout()
  atomic_files.save_figure(fig, path, dpi=80)  # no half-written picture
  plt.close(fig)
  return path


def save_confusion_matrix(path, confusion, names):
  """Saves the confusion matrix (rows: truth, columns: prediction) as a picture.

  Returns:
    path.
  """
  plt = _pyplot()
  size = 1.2 + 0.9 * len(names)
  fig, ax = plt.subplots(figsize=(size + 1.5, size))
  shown = ax.imshow(confusion, cmap='Blues')
  fig.colorbar(shown, ax=ax)
  ax.set_xticks(range(len(names)))
  ax.set_xticklabels(names, rotation=45, ha='right')
  ax.set_yticks(range(len(names)))
  ax.set_yticklabels(names)
  ax.set_xlabel('Prediction')
  ax.set_ylabel('Ground Truth')
  total = confusion.sum()
  ax.set_title('Accuracy %.1f%% of %d' % (100.0 * np.trace(confusion) / max(total, 1), total))
  for (i, j), count in np.ndenumerate(confusion):
    ax.text(j, i, str(count), ha='center', va='center',
            color='white' if count > confusion.max() / 2.0 else 'black')
  fig.tight_layout()
  atomic_files.save_figure(fig, path, dpi=80)  # no half-written picture
  plt.close(fig)
  return path


def show_pictures(paths):
  """Shows saved pictures when a display exists; says so otherwise."""
  if not os.environ.get('DISPLAY'):
    tf.logging.warning('--show: no display, pictures are only saved.')
    return
  plt = _pyplot()
  for path in paths:
    plt.figure()
    plt.imshow(plt.imread(path))
    plt.axis('off')
  plt.show()


def evaluate(args):
  """Evaluates under a Supervisor that restores but never saves.

  Returns:
    {'accuracy', 'top_k_accuracy', 'confusion', 'pictures'}.
  """
  tf.logging.set_verbosity(tf.logging.INFO)
  config = runtime.session_config(args)  # first: a missing GPU fails before any work
  tf.logging.info('Running on %s.', runtime.describe(args))
  with tf.Graph().as_default():
    g = build_eval_graph(args)
    init_fn = make_init_fn(g['checkpoint'], g['variables_to_restore'])
    tf.gfile.MakeDirs(args.log_eval)
    sv = tf.train.Supervisor(logdir=args.log_eval, summary_op=None, saver=None,
                             init_fn=init_fn)
    with sv.managed_session(config=config) as sess:
      confusion, last = eval_loop(sess, sv, g, args)
      result = report(sess, g, confusion, last, args)
      tf.logging.info('Model evaluation has completed! Visit TensorBoard for more '
                      'information regarding your evaluation.')
  return result


def run(args):
  """The command: evaluates, then returns the exit code."""
  evaluate(args)
  return 0


def build_parser():
  """Every constant at the top of this file is a flag of the same name."""
  p = cli.new_parser(__doc__.split('\n\n')[0])
  train_flowers.add_dataset_flags(p)
  p.add_argument('--log_dir', default=log_dir, help='training log folder to evaluate')
  p.add_argument('--log_eval', default=log_eval, help='evaluation summaries and pictures')
  p.add_argument('--checkpoint_file', default=checkpoint_file,
                 help='checkpoint to evaluate (default: latest in LOG_DIR)')
  p.add_argument('--batch_size', type=cli.positive_int, default=batch_size)
  p.add_argument('--num_epochs', type=cli.positive_int, default=num_epochs)
  p.add_argument('--summary_every_n_steps', type=cli.positive_int,
                 default=train_flowers.summary_every_n_steps)
  baselines = p.add_mutually_exclusive_group()
  baselines.add_argument('--clean_baseline', action='store_true',
                         help='evaluate an un-restored model')
  baselines.add_argument('--imagenet_baseline', action='store_true',
                         help='ImageNet weights with the new heads at their initial values')
  train_flowers.add_imagenet_flags(p, ', for --imagenet_baseline')
  p.add_argument('--seed', type=int, default=seed,
                 help='the same seed gives the same initial weights for --clean_baseline and '
                      "for --imagenet_baseline's new heads; the batching threads still vary "
                      'the batch order, and so the images predictions.png shows '
                      '(default: a new seed each run)')
  p.add_argument('--show', action='store_true',
                 help='also show the pictures on screen, when there is a display')
  runtime.add_runtime_flags(p)
  return p


def main(argv=None):
  return cli.main(run, build_parser(), argv)


if __name__ == '__main__':
  sys.exit(main())
