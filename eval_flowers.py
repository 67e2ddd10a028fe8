# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Evaluates a fine-tuned Inception-ResNet-V2 on the flowers validation split.

    python eval_flowers.py                      # the best (else latest) checkpoint in ./log
    python eval_flowers.py --clean_baseline     # an un-restored model
    python eval_flowers.py --imagenet_baseline  # ImageNet weights, untrained new heads

Writes TensorBoard summaries, `predictions.png` (the first validation images with
predicted and true names) and `confusion_matrix.png` to log_eval. From Python,
`evaluate(**flags)` takes the flags as keywords: evaluate(log_dir='log').
"""
from __future__ import absolute_import, division, print_function

import collections
import os
import sys
import time

import numpy as np

import train_flowers
from tf_compat import slim, tf
from train_flowers import get_split, load_batch, steps_per_epoch
from transfer import (averages, best_checkpoint, checkpoints, cli, flags, metrics, model,
                      model_settings, pictures, runtime)
from transfer.training import control

# ================ EVALUATION INFORMATION ================
# The training log folder, whose best (else latest) checkpoint is evaluated.
log_dir = './log'
# Where evaluation summaries and pictures go.
log_eval = './log_eval'
# For a log dir that records no settings (see transfer/model_settings.py).
dataset_dir = train_flowers.dataset_dir
labels_file = train_flowers.labels_file
file_pattern = train_flowers.file_pattern
# Larger than the training batch: no gradients to keep.
batch_size = 36
# Passes over the validation images. The tutorial made 3, but in inference mode,
# with the evaluation crop, every pass sees the same images the same way: more
# passes change no figure. The report counts each image once however many.
num_epochs = 1
# Empty: --checkpoint best or latest in log_dir.
checkpoint_file = ''
image_size = train_flowers.image_size
summary_every_n_steps = control.summary_every_n_steps
# How many of the first validation images the picture shows.
num_images_shown = 10
# For --imagenet_baseline: the ImageNet checkpoint, and the new heads it lacks.
imagenet_checkpoint_file = train_flowers.checkpoint_file
checkpoint_exclude_scopes = train_flowers.checkpoint_exclude_scopes
# None: a new random seed each run; it matters only for weights that are not restored.
seed = None


def resolve_checkpoint(settings):
  """Picks the checkpoint to evaluate and the variables it must restore.

  Returns:
    (path or None, variables or {name in the checkpoint: variable}): None for
    the clean baseline.
  """
  s = settings
  if s.clean_baseline:
    tf.logging.info('Clean baseline: nothing is restored.')
    return None, []
  if s.imagenet_baseline:
    checkpoints.require_checkpoint(s.imagenet_checkpoint_file)
    # The new heads and the step are not in it: they keep their initial values.
    return s.imagenet_checkpoint_file, slim.get_variables_to_restore(
        exclude=flags.split_scopes(s.checkpoint_exclude_scopes) + ['global_step'])
  # Every variable, batch-norm moving statistics and the step included; each
  # weight from its moving average where there is one (see model_settings.take).
  checkpoint = checkpoints.find_checkpoint(s.checkpoint_file, s.log_dir)
  return checkpoint, averages.restore_names(checkpoint, slim.get_variables_to_restore(),
                                            s.moving_averages)


def build_eval_graph(settings):
  """Builds the evaluation graph; returns a dict of the tensors eval runs."""
  s = settings
  tf.set_random_seed(s.seed)  # the un-restored weights of the baselines
  dataset = get_split('validation', s.dataset_dir, s.file_pattern, s.labels_file)
  with tf.device(runtime.INPUT_DEVICE):
    # Deterministic: one reader and thread, so the passes come one after another,
    # each in file order; eval_loop counts the first one.
    images, raw_images, labels = load_batch(dataset, s.batch_size, s.image_size, s.image_size,
                                            is_training=False, num_epochs=s.num_epochs,
                                            deterministic=True)
  _, end_points = model.build_model(images, dataset.num_classes, is_training=False)
  # No optimizer here, so the step is advanced by hand; it is restored with the
  # rest, so evaluation summaries line up with the training step.
  global_step = tf.train.get_or_create_global_step()
  global_step_op = tf.assign_add(global_step, 1)
  checkpoint, variables_to_restore = resolve_checkpoint(s)

  probabilities = end_points['Predictions']
  predictions = tf.argmax(probabilities, 1)
  accuracy, accuracy_update = tf.metrics.accuracy(labels, predictions,
                                                  name='streaming_accuracy')
  k = min(5, dataset.num_classes)
  in_top_k = tf.nn.in_top_k(probabilities, labels, k)
  top_k, top_k_update = tf.metrics.mean(tf.cast(in_top_k, tf.float32))
  metrics_op = tf.group(accuracy_update, top_k_update)

  tf.summary.scalar('Validation_Accuracy', accuracy)
  tf.summary.scalar('Validation_Top_%d_Accuracy' % k, top_k)
  return dict(dataset=dataset, raw_images=raw_images, labels=labels, predictions=predictions,
              global_step=global_step, in_top_k=in_top_k,
              accuracy=accuracy, top_k=top_k, k=k, metrics_op=metrics_op,
              global_step_op=global_step_op, summary_op=tf.summary.merge_all(),
              checkpoint=checkpoint, variables_to_restore=variables_to_restore)


def eval_loop(sess, sv, g, settings):
  """Runs every validation batch of every pass; returns what the report counts.

  The passes reach the loop one after another, so the first num_samples images
  are the validation set, each once; the streaming accuracy it logs and
  summarises runs over every pass.

  Returns:
    {'labels', 'predictions', 'in_top_k'} of each validation image once, in file
    order, and 'shown': the first settings.num_images_shown of them, undistorted.
  """
  num_epochs, batch_size = settings.num_epochs, settings.batch_size
  num_samples = g['dataset'].num_samples
  num_steps = steps_per_epoch(num_epochs * num_samples, batch_size)
  epoch_steps = steps_per_epoch(num_samples, batch_size)
  first = collections.defaultdict(list)
  counted = 0
  for step in range(num_steps):
    if step % epoch_steps == 0:
      tf.logging.info('Epoch: %d/%d', step // epoch_steps + 1, num_epochs)
      if step:  # before any step it would only say 0
        tf.logging.info('Current Streaming Accuracy: %.4f', sess.run(g['accuracy']))
    start = time.time()
    _, step_count, raw, labels, predictions, in_top_k = sess.run(
        [g['metrics_op'], g['global_step_op'], g['raw_images'], g['labels'], g['predictions'],
         g['in_top_k']])
    accuracy = sess.run(g['accuracy'])
    tf.logging.info('Global Step %d: Streaming Accuracy: %.4f (%.2f sec/step)',
                    step_count, accuracy, time.time() - start)
    new = min(len(labels), num_samples - counted)  # images of the first pass in this batch
    for name, values in (('labels', labels), ('predictions', predictions),
                         ('in_top_k', in_top_k)):
      first[name].append(values[:new])
    first['shown'].append(raw[:max(0, min(new, settings.num_images_shown - counted))])
    counted += new
    if step_count % settings.summary_every_n_steps == 0 or step == num_steps - 1:
      sv.summary_computed(sess, sess.run(g['summary_op']), global_step=step_count)
  return {name: np.concatenate(values) for name, values in first.items()}


def report_classes(confusion, names):
  """Logs each class's recall, precision and F1, balanced accuracy and macro F1.

  Returns:
    {'balanced_accuracy', 'macro_f1', 'per_class': {name: {'recall',
    'precision', 'f1', 'count'}}, 'summary': their tf.Summary}.
  """
  figures = metrics.class_figures(confusion)
  summary = tf.Summary()
  for name, f in zip(names, figures):
    tf.logging.info('Accuracy of %s: %s', name, 'no images' if not f.count else
                    '%.4f (%d images); precision %.4f, F1 %.4f' % (f.recall, f.count,
                                                                     f.precision, f.f1))
    for figure in ('recall', 'precision', 'f1'):
      summary.value.add(tag='Validation_Per_Class/%s/%s' % (name, figure),
                        simple_value=getattr(f, figure))
  unseen = metrics.never_predicted(confusion)
  if unseen:
    tf.logging.info('No image was predicted as %s: precision 0.',
                    ', '.join(names[i] for i in unseen))
  result = {'balanced_accuracy': metrics.balanced_accuracy(confusion),
            'macro_f1': metrics.macro_f1(confusion),
            'per_class': {name: dict(f._asdict()) for name, f in zip(names, figures)}}
  tf.logging.info('Balanced accuracy: %.4f', result['balanced_accuracy'])
  tf.logging.info('Macro F1: %.4f', result['macro_f1'])
  summary.value.add(tag='Validation_Balanced_Accuracy', simple_value=result['balanced_accuracy'])
  summary.value.add(tag='Validation_Macro_F1', simple_value=result['macro_f1'])
  return dict(result, summary=summary)


def report(sess, sv, g, first, settings):
  """Logs the final figures over each validation image once, writes the pictures.

  Returns:
    {'accuracy', 'top_k_accuracy', 'balanced_accuracy', 'macro_f1', 'per_class',
    'confusion', 'pictures'}.
  """
  num_classes = g['dataset'].num_classes
  names = [g['dataset'].labels_to_name[i] for i in range(num_classes)]
  confusion = metrics.confusion_matrix(first['labels'], first['predictions'], num_classes)
  total = len(first['labels'])
  accuracy = np.trace(confusion) / float(max(total, 1))
  top_k = np.mean(first['in_top_k']) if total else 0.0
  tf.logging.info('%d validation images%s.', total, ', each counted once over %d passes'
                  % settings.num_epochs if settings.num_epochs > 1 else '')
  tf.logging.info('Top-%d Accuracy: %.4f', g['k'], top_k)
  figures = report_classes(confusion, names)
  sv.summary_computed(sess, figures.pop('summary'), global_step=sess.run(g['global_step']))
  shown, log_eval = len(first['shown']), settings.log_eval
  grid = pictures.save_predictions(
      os.path.join(log_eval, 'predictions.png'), first['shown'],
      [names[i] for i in first['labels'][:shown]],
      [names[i] for i in first['predictions'][:shown]])
  matrix = pictures.save_confusion_matrix(
      os.path.join(log_eval, 'confusion_matrix.png'), confusion, names)
  tf.logging.info('Pictures: %s, %s', grid, matrix)
  if settings.show:
    pictures.show_pictures([grid, matrix])
  # Last, so that scripts can read it off the final line.
  print('Final Streaming Accuracy: %.4f' % accuracy)
  sys.stdout.flush()
  return dict(figures, accuracy=float(accuracy), top_k_accuracy=float(top_k),
              confusion=confusion, pictures=[grid, matrix])


def take_settings(settings):
  """The settings with the checkpoint chosen (as --checkpoint_file), and --image_size,
  --dataset_dir and labels filled from the trained log dir."""
  s = settings
  if s.clean_baseline or s.imagenet_baseline:
    # No fine-tuned checkpoint to read them from: the constants above.
    return s._replace(image_size=s.image_size or image_size,
                      dataset_dir=s.dataset_dir or dataset_dir, moving_averages=False)
  checkpoint, line = best_checkpoint.choose(s.checkpoint_file, s.log_dir, s.checkpoint)
  choice, _ = model_settings.take(checkpoint, s.image_size, s.dataset_dir, s.labels_file,
                                  s.no_moving_average, (image_size, dataset_dir),
                                  use_dataset=True, told=[line])
  return s._replace(checkpoint_file=checkpoint, **choice._asdict())


def run_evaluation(settings):
  """Evaluates under a Supervisor that restores but never saves.

  Args:
    settings: eval's settings (settings_from_flags); the unset image size,
      dataset dir and labels are taken from the trained log dir.

  Returns:
    {'accuracy', 'top_k_accuracy', 'balanced_accuracy', 'macro_f1', 'per_class',
    'confusion', 'pictures'}, as `evaluate`.
  """
  tf.logging.set_verbosity(tf.logging.INFO)
  config = runtime.session_config(settings.runtime)  # first: a missing GPU fails at once
  tf.logging.info('Running on %s.', runtime.describe(settings.runtime))
  settings = take_settings(settings)
  with tf.Graph().as_default():
    g = build_eval_graph(settings)
    init_fn = checkpoints.init_fn(
        g['checkpoint'], g['variables_to_restore'],
        'evaluate with the --image_size, --dataset_dir and labels it was trained with')
    tf.gfile.MakeDirs(settings.log_eval)
    sv = runtime.Supervisor(logdir=settings.log_eval, summary_op=None, saver=None,
                            init_fn=init_fn, stop_grace_secs=runtime.STOP_GRACE_SECS,
                            **runtime.ALONE)
    with sv.managed_session(config=config) as sess:
      result = report(sess, sv, g, eval_loop(sess, sv, g, settings), settings)
      tf.logging.info('Model evaluation has completed! Visit TensorBoard for more '
                      'information regarding your evaluation.')
  return result


def evaluate(**flags):
  """Evaluates as `python eval_flowers.py` would, with the flags as keywords.

  Returns:
    {'accuracy', 'top_k_accuracy', 'balanced_accuracy' (the mean recall over
    the classes with images), 'macro_f1' (their mean F1), 'per_class' ({name:
    {'recall', 'precision', 'f1', 'count'}}), 'confusion' (a [classes, classes]
    array, true by predicted), 'pictures' (the two PNG paths)}.

  Raises:
    TypeError: for a keyword that is no flag.
    UsageError: (a ValueError) with the line the command prints after `error: `.
  """
  return cli.call('evaluate', run_evaluation, build_parser(), flags, settings_from_flags)


def run(settings):
  """The command: evaluates, then returns the exit code."""
  run_evaluation(settings)
  return 0


# ================ COMMAND LINE ================
def build_parser():
  """Every constant at the top of this file is a flag of the same name."""
  p = cli.new_parser(__doc__.split('\n\n')[0])
  flags.add_trained_dataset_flags(p, dataset_dir, labels_file, image_size)
  p.add_argument('--file_pattern', default=file_pattern, help='%%s is the split name')
  flags.add_trained_model_flags(p, log_dir, checkpoint_file, 'evaluated')
  averages.add_use_flag(p)
  p.add_argument('--log_eval', default=log_eval, help='evaluation summaries and pictures')
  p.add_argument('--batch_size', type=flags.positive_int, default=batch_size)
  p.add_argument('--num_epochs', type=flags.positive_int, default=num_epochs,
                 help='passes over the validation images; the report counts each image once')
  p.add_argument('--summary_every_n_steps', type=flags.positive_int,
                 default=summary_every_n_steps)
  baselines = p.add_mutually_exclusive_group()
  baselines.add_argument('--clean_baseline', action='store_true',
                         help='evaluate an un-restored model')
  baselines.add_argument('--imagenet_baseline', action='store_true',
                         help='ImageNet weights with the new heads at their initial values')
  flags.add_imagenet_flags(p, imagenet_checkpoint_file, checkpoint_exclude_scopes,
                           ', for --imagenet_baseline')
  p.add_argument('--seed', type=int, default=seed,
                 help='the same seed gives the same initial weights for --clean_baseline and '
                      "for --imagenet_baseline's new heads (default: a new seed each run)")
  p.add_argument('--num_images_shown', type=flags.positive_int, default=num_images_shown,
                 help='how many of the first validation images predictions.png shows')
  p.add_argument('--show', action='store_true',
                 help='also show the pictures on screen, when there is a display')
  runtime.add_runtime_flags(p)
  return p


def settings_from_flags(args):
  """Eval's immutable settings: the flags, the runtime ones as a RuntimeSettings, and
  `moving_averages` (whether the averages are used; take_settings decides)."""
  return cli.frozen(args, 'EvalSettings', {'runtime': runtime.RuntimeSettings},
                    moving_averages=False)


def main(argv=None):
  return cli.main(run, build_parser(), argv, settings_from_flags)


if __name__ == '__main__':
  sys.exit(main())
