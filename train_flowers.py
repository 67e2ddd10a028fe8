# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Fine-tunes the pre-trained Inception-ResNet-V2 on the flowers TFRecords.

The narrative follows the classic tutorial: constants first (each one is also a
command-line flag of the same name), then `get_split` -> `load_batch` -> `run()`.

    python train_flowers.py                        # fine-tune from the 2016 checkpoint
    python train_flowers.py --download_checkpoint  # fetch that checkpoint first
    python train_flowers.py --from_scratch         # the un-restored "clean" baseline
    tensorboard --logdir log
"""
from __future__ import absolute_import, division, print_function

import argparse
import functools
import math
import os
import sys

import inception_preprocessing
from tf_compat import slim, tf
from transfer import averages, checkpoints, cli, flags, model, model_settings, runtime
from transfer.datasets import records
from transfer.deployment import clones, cluster
from transfer.deployment.config import DeploymentConfig, add_deployment_flags
from transfer.errors import BAD_LABEL_TAG, UsageError
from transfer.training import (control, head, head_first, learning_rate, loop, losses,
                               optimizers, schedule, start)

# ================ DATASET INFORMATION ================
# Where the TFRecord files (and the labels.txt the converter writes) are.
dataset_dir = '.'
# Where checkpoints and TensorBoard events go; created when missing.
log_dir = './log'
# The ImageNet checkpoint to fine-tune from (flag --imagenet_checkpoint_file, or
# the seed's --checkpoint_file).
checkpoint_file = './inception_resnet_v2_2016_08_30.ckpt'
# Input resolution: 299, the size the checkpoint was trained at.
image_size = model.DEFAULT_IMAGE_SIZE
# `index:name` per line; empty: DATASET_DIR/labels.txt, which the converter
# writes beside the shards. There is no fallback to ./labels.txt (the flowers
# list): another dataset would silently get a 5-class head. Read lazily, so
# that importing this module never fails.
labels_file = ''
# %s is the split name: train or validation.
file_pattern = 'flowers_%s_*.tfrecord'
items_to_descriptions = {
    'image': 'A 3-channel RGB image of a flower.',
    'label': 'An integer class id, as listed in labels.txt (0:daisy ... 4:tulips).',
}

# ================ TRAINING INFORMATION ================
num_epochs = 70
batch_size = 10
initial_learning_rate = 0.0002
learning_rate_decay_factor = 0.7
num_epochs_before_decay = 2
# TF-slim's knobs are flags too (the README's table); the seed's Adam by default.
optimizer = 'adam'
# New heads are trained from their initial values; everything else restores.
checkpoint_exclude_scopes = 'InceptionResnetV2/Logits,InceptionResnetV2/AuxLogits'
trainable_scopes = ''  # empty: train every variable
batch_norm_decay = 0.9997
summary_every_n_steps = 10
save_interval_secs = 600
# None: a new random seed each run (see the --seed help for what a seed fixes).
seed = None
# Also save after every this many steps (0: only by time). Saves also happen on
# Ctrl-C / SIGTERM and at the end.
save_every_n_steps = 0
# A progress line (step/total, loss, images/s, ETA) every this many steps.
log_every_n_steps = 10
# Where --download_checkpoint fetches the ImageNet checkpoint.
checkpoint_url = checkpoints.CHECKPOINT_URL

# ================ FAST TRANSFER ================
# Head first (0: the seed's recipe): epochs of the new Logits layer alone, on
# each image's cached bottleneck vector, before fine-tuning on images.
head_epochs = 0
# Adam at its default rate, as the Keras transfer-learning guide trains its new head.
head_learning_rate = 0.001
# TF Hub's retrain.py trains its final layer on batches of 100 cached vectors.
head_batch_size = 100
bottleneck_dir = ''  # empty: DATASET_DIR/bottlenecks
bottleneck_batch_size = 32  # images per forward pass of the cache pass
# Train only this end point's block and those above it ('': every layer).
fine_tune_from = ''


# ================ DATASET LOADING ================
def get_split(split_name, dataset_dir, file_pattern=file_pattern, labels_file=None):
  """Describes one split of the TFRecords as a `slim.dataset.Dataset`.

  Every record is read once here, checking its CRCs, so call it once a run.

  Args:
    split_name: 'train' or 'validation'.
    dataset_dir: the folder holding the TFRecord shards.
    file_pattern: shard names, with %s standing for the split name.
    labels_file: the label file; by default dataset_dir/labels.txt.

  Returns:
    A `slim.dataset.Dataset` with decoder, reader, `num_samples` (counted over
    all shards), `num_classes`, `labels_to_name` and `items_to_descriptions`.

  Raises:
    ValueError: for an unknown split name; UsageError (a ValueError) when no
      shard matches, a shard is damaged, the split is empty or the label file
      is missing or bad.
  """
  files, num_samples = records.find_shards(split_name, dataset_dir, file_pattern)
  _, labels_to_name = records.read_labels(dataset_dir, labels_file)

  return slim.dataset.Dataset(
      data_sources=files,
      decoder=records.tfexample_decoder(),
      reader=tf.TFRecordReader,
      num_readers=4,
      num_samples=num_samples,
      num_classes=len(labels_to_name),
      labels_to_name=labels_to_name,
      items_to_descriptions=items_to_descriptions)


def load_batch(dataset, batch_size, height=image_size, width=image_size, is_training=True,
               num_epochs=None, deterministic=False):
  """Reads, preprocesses and batches images of a dataset through input queues.

  Args:
    dataset: a `slim.dataset.Dataset` from `get_split`.
    batch_size: images per batch.
    height, width: the size images are preprocessed to.
    is_training: training (random distortions, shuffled reading) or evaluation
      (central crop, files read in order) preprocessing.
    num_epochs: read the records this many times, then end the input with
      OutOfRangeError; None cycles forever.
    deterministic: slower, but the same batches each run under tf.set_random_seed: one
      reader and thread, seeded picks from a full shuffle queue, no image summaries.

  Returns:
    images: float32 [batch, height, width, 3] in [-1, 1], for the model.
    raw_images: uint8 [batch, height, width, 3], undistorted, for pictures.
    labels: int64 [batch].
  """
  # Shuffled parallel reading for training; one reader in order for evaluation.
  data_provider = slim.dataset_data_provider.DatasetDataProvider(
      dataset,
      num_readers=dataset.num_readers if is_training and not deterministic else 1,
      shuffle=is_training,
      num_epochs=num_epochs,
      common_queue_capacity=24 + 3 * batch_size,
      common_queue_min=23 + 3 * batch_size if deterministic else 24)
  raw_image, label = data_provider.get(['image', 'label'])

  # A label the label file does not name would train a wrong head silently.
  with tf.control_dependencies([
      tf.debugging.assert_less(label, tf.constant(dataset.num_classes, tf.int64),
                               message='%s (%d classes)' % (BAD_LABEL_TAG, dataset.num_classes)),
      tf.debugging.assert_non_negative(label, message=BAD_LABEL_TAG)]):
    label = tf.identity(label)

  image = inception_preprocessing.preprocess_image(raw_image, height, width, is_training,
                                                   add_image_summaries=not deterministic)

  # The undistorted image, only resized, to show next to predictions.
  raw_image = tf.image.resize_nearest_neighbor(tf.expand_dims(raw_image, 0), [height, width])
  raw_image = tf.squeeze(raw_image, [0])

  images, raw_images, labels = tf.train.batch(
      [image, raw_image, label],
      batch_size=batch_size,
      num_threads=1 if deterministic else 4,
      capacity=4 * batch_size,
      allow_smaller_final_batch=True)
  return images, raw_images, labels


def steps_per_epoch(num_samples, batch_size):
  """Batches an epoch takes: the seed divided as floats, so a partial batch is a step."""
  return int(math.ceil(num_samples / float(batch_size)))


# ================ TRAINING ================
def _configure_learning_rate(args, epoch_steps, global_step):
  """--learning_rate_decay_type; by default the seed's staircase decay every N epochs."""
  decay_steps = int((args.num_epochs_before_decay or 0) * epoch_steps)
  return learning_rate.configure_learning_rate(args, decay_steps, global_step)


def _configure_optimizer(args, lr, config, moving_averages):
  """--optimizer (the seed's Adam), loss-scaled for float16, synchronised if asked."""
  optimizer = runtime.wrap_optimizer(optimizers.configure_optimizer(args, lr), args)
  return cluster.sync_optimizer(config, optimizer, moving_averages)


def _get_trained_scopes(args):
  """The scopes of --fine_tune_from, whose batch norm alone trains; None: all layers."""
  return model.fine_tune_scopes(args.fine_tune_from) if args.fine_tune_from else None


def _get_variables_to_train(args):
  """The variables of --fine_tune_from or --trainable_scopes; None trains them all.

  Only these get gradients: the backward pass stops at the lowest of them.
  """
  trained_scopes = _get_trained_scopes(args)
  if trained_scopes:
    return [v for v in tf.trainable_variables() if model.in_scopes(v.op.name, trained_scopes)]
  scopes = flags.split_scopes(args.trainable_scopes)
  if not scopes:
    return None
  variables = [v for s in scopes for v in tf.trainable_variables(s)]
  if not variables:
    raise UsageError('--trainable_scopes %s matches no variable' % args.trainable_scopes)
  return variables


def _get_init_fn(args, variables_to_restore, resume_from):
  """What initialises the variables the Supervisor does not restore from log_dir.

  Returns:
    A function of a session restoring the ImageNet weights, or None when
    training resumes from log_dir or starts from scratch.
  """
  if resume_from:
    if head.missing_training_variables(resume_from, tf.global_variables()):
      head.complete_checkpoint(resume_from, tf.global_variables())
    problems = checkpoints.checkpoint_mismatches(resume_from, tf.global_variables())
    if problems:
      raise UsageError('log_dir %s holds a checkpoint of another model or settings (%s): '
                       'remove that folder or choose another --log_dir'
                       % (args.log_dir, checkpoints.describe_problems(problems)))
    tf.logging.info('Resuming from %s; the ImageNet checkpoint is not used.', resume_from)
    return None
  if args.from_scratch:
    tf.logging.info('Training from scratch: no variable is restored.')
    return None
  return checkpoints.init_fn(
      args.imagenet_checkpoint_file, variables_to_restore,
      'check --imagenet_checkpoint_file and --checkpoint_exclude_scopes')


def build_training_graph(args, dataset, config):
  """Builds the seed's training graph in the default graph.

  Args:
    args: the training flags.
    dataset: the training split, from get_split.
    config: the run's DeploymentConfig.

  Returns:
    A training.loop.TrainGraph.
  """
  tf.set_random_seed(args.seed)  # initial weights and distortions; None: random
  # Data: one shuffled, distorted batch per step (and clone).
  with tf.device(runtime.INPUT_DEVICE):
    images, _, labels = load_batch(dataset, args.batch_size * config.num_clones, args.image_size,
                                   args.image_size, deterministic=args.deterministic_input)
  epoch_steps = steps_per_epoch(dataset.num_samples, config.images_per_update(args.batch_size))

  def tower(images, labels):
    logits, end_points = model.build_model(images, dataset.num_classes, True,
                                           trained_scopes=_get_trained_scopes(args),
                                           batch_norm_decay=args.batch_norm_decay,
                                           weight_decay=args.weight_decay)
    # Cross-entropy on the main head (and AuxLogits, if weighted); the
    # arg_scope adds the weight decay.
    losses.classification_loss(logits, end_points, labels, dataset.num_classes,
                               args.label_smoothing, args.aux_loss_weight)
    return end_points

  towers = clones.create_clones(config, tower, images, labels)
  # Chosen right after the model, so optimizer slots and the step are left out.
  variables_to_restore = slim.get_variables_to_restore(
      exclude=flags.split_scopes(args.checkpoint_exclude_scopes))

  # The learning rate decays by steps; an update takes every clone's batch.
  global_step = tf.train.get_or_create_global_step()
  lr = _configure_learning_rate(args, epoch_steps, global_step)
  moving_averages = averages.for_training(args.moving_average_decay, global_step)
  optimizer = _configure_optimizer(args, lr, config, moving_averages)
  # create_train_op also runs the batch-norm moving-average updates, and the
  # weights' moving averages unless the sync chief keeps them.
  train_op, total_loss = clones.create_train_op(
      towers, optimizer, _get_variables_to_train(args),
      losses.gradient_clipper(args.clip_gradient_norm),
      None if config.sync_replicas else moving_averages)

  # The streaming accuracy, named apart from the summary tag (else accuracy_1).
  probabilities = clones.merged_end_points(towers)['Predictions']
  predictions = tf.argmax(probabilities, 1)
  accuracy, accuracy_update = tf.metrics.accuracy(labels, predictions,
                                                  name='streaming_accuracy')
  metrics_op = tf.group(accuracy_update, probabilities)

  # Merged with the preprocessing image and input-queue summaries.
  tf.summary.scalar('losses/Total_Loss', total_loss)
  tf.summary.scalar('accuracy', accuracy)
  tf.summary.scalar('learning_rate', lr)
  return loop.TrainGraph(
      dataset=dataset, steps_per_epoch=epoch_steps, train_op=train_op,
      global_step=global_step, lr=lr, accuracy=accuracy, metrics_op=metrics_op,
      summary_op=tf.summary.merge_all(), variables_to_restore=variables_to_restore,
      sync=cluster.sync_replicas(config, optimizer))


# ================ HEAD FIRST ================
def _bottleneck_splits(args, train_split):
  """The splits the head phase caches: train, and validation when converted."""
  splits = {'train': train_split}
  if tf.gfile.Glob(os.path.join(args.dataset_dir, args.file_pattern % 'validation')):
    splits['validation'] = get_split('validation', args.dataset_dir, args.file_pattern,
                                     args.labels_file)
  return splits


def _head_first(args, train_split, session_config, run_schedule):
  """--head_epochs: caches the bottlenecks, trains the Logits on them, saves the network."""
  splits = _bottleneck_splits(args, train_split)

  def input_fn(split):
    # Read once, in order, with evaluation preprocessing: what eval_flowers sees.
    images, _, labels = load_batch(split, args.bottleneck_batch_size, args.image_size,
                                   args.image_size, is_training=False, num_epochs=1)
    return images, labels
  return head_first.run(args, splits, input_fn, session_config, run_schedule)


def _save_model_settings(args):
  """Records in log_dir what using the model needs: image size, labels, dataset."""
  labels_path, labels = records.read_labels(args.dataset_dir, args.labels_file)
  model_settings.save(args.log_dir, args.image_size, labels_path, labels, args.dataset_dir,
                      args.moving_average_decay)


def train(args, config=None, master=''):
  """Builds the graph and fine-tunes under a Supervisor.

  Args:
    args: the training flags.
    config: the run's DeploymentConfig; by default made from the flags.
    master: the session target, a cluster server's (see cluster.run_task).

  Returns:
    {'loss', 'accuracy', 'global_step'} at the end: the last step's loss and
    the streaming training accuracy of this run.
  """
  tf.logging.set_verbosity(tf.logging.INFO)
  session_config = runtime.session_config(args)  # first: a missing GPU fails before any work
  tf.logging.info('Running on %s.', runtime.describe(args))
  config = config or DeploymentConfig.from_flags(args)
  head_first.check_flags(args, config)
  dataset = get_split('train', args.dataset_dir, args.file_pattern, args.labels_file)
  resume_from, run_schedule = start.check_start(args, config, dataset.num_samples)
  if args.head_epochs and not resume_from:  # a finished head phase left a checkpoint
    resume_from = _head_first(args, dataset, session_config, run_schedule)
    _save_model_settings(args)
  total_steps = args.num_epochs * steps_per_epoch(dataset.num_samples,
                                                  config.images_per_update(args.batch_size))
  done = start.steps_already_done(config, total_steps, resume_from)
  if done is not None:
    return {'loss': float('nan'), 'accuracy': float('nan'), 'global_step': done}

  with tf.Graph().as_default(), cluster.device_scope(config):
    graph = build_training_graph(args, dataset, config)
    init_fn = None
    if config.is_chief:
      init_fn = _get_init_fn(args, graph.variables_to_restore, resume_from)
      schedule.save_schedule(args.log_dir, run_schedule)
      _save_model_settings(args)
    start.warn_slow_batch_norm(args, total_steps)
    tf.logging.info('%d training images, %d steps an epoch, %d epochs.',
                    dataset.num_samples, graph.steps_per_epoch, args.num_epochs)
    # summary_op=None: the loop writes summaries itself, every few steps; and it
    # saves between steps (control.Checkpointer), so the Supervisor never does.
    sv = runtime.Supervisor(logdir=args.log_dir, summary_op=None, init_fn=init_fn,
                            save_model_secs=0, stop_grace_secs=runtime.STOP_GRACE_SECS,
                            **cluster.supervisor_args(config))
    ctl = control.TrainingControl(
        args, config.images_per_update(args.batch_size),
        functools.partial(cluster.unanswered_ps, config) if config.cluster else None)
    with ctl.signals, control.input_failures_reported(args.dataset_dir, ctl), \
        sv.managed_session(master, config=cluster.session_config(config, session_config)) as sess:
      loss = loop.train_loop(sess, sv, graph, args, ctl, config)
      accuracy, step = sess.run([graph.accuracy, graph.global_step])
      tf.logging.info('Final Loss: %s', loss)
      tf.logging.info('Final Accuracy: %s', accuracy)
      if config.is_chief:
        # The Supervisor's saver holds every variable: new heads, Adam slots, step.
        tf.logging.info('Finished training! Saving model to disk now.')
        sv.saver.save(sess, sv.save_path, global_step=graph.global_step)
  return {'loss': float(loss), 'accuracy': float(accuracy), 'global_step': int(step)}


def run(args):
  """The command: trains (alone, or as a worker or ps task of a cluster), then
  returns the exit code (128 + signal when stopped by one)."""
  config = DeploymentConfig.from_flags(args)
  head_first.check_flags(args, config)  # before a cluster task starts its server
  return cluster.run_task(config, lambda master: train(args, config, master))


# ================ COMMAND LINE ================
def build_parser():
  """Every constant at the top of this file is a flag of the same name."""
  p = cli.new_parser(__doc__.split('\n\n')[0])
  flags.add_dataset_flags(p, dataset_dir, labels_file, image_size)
  p.add_argument('--file_pattern', default=file_pattern, help='%%s is the split name')
  p.add_argument('--log_dir', default=log_dir, help='checkpoints and TensorBoard events')
  flags.add_imagenet_flags(p, checkpoint_file, checkpoint_exclude_scopes)
  # The seed's name for the ImageNet checkpoint; in eval it names the trained one.
  p.add_argument('--checkpoint_file', dest='imagenet_checkpoint_file',
                 help="the seed's name of --imagenet_checkpoint_file")
  p.add_argument('--num_epochs', type=flags.non_negative_int, default=num_epochs,
                 help='epochs of training on images (0 with --head_epochs: the head alone)')
  p.add_argument('--batch_size', type=flags.positive_int, default=batch_size)
  learning_rate.add_flags(p, initial_learning_rate, learning_rate_decay_factor,
                          num_epochs_before_decay)
  optimizers.add_flags(p, optimizer)
  losses.add_flags(p)
  averages.add_training_flag(p)
  p.add_argument('--trainable_scopes', default=trainable_scopes,
                 help='comma-separated scopes to train (default: all)')
  p.add_argument('--batch_norm_decay', type=float, default=batch_norm_decay)
  control.add_flags(p, summary_every_n_steps, save_interval_secs, save_every_n_steps,
                    log_every_n_steps)
  flags.add_seed_flags(p, seed)
  p.add_argument('--allow_changed_schedule', action='store_true',
                 help='resume even though a flag that changes what a step does (batch, '
                 'learning rate, optimizer, loss, averages, clones) or the number of '
                 'training images differs from the saved run')
  p.add_argument('--from_scratch', action='store_true',
                 help='restore nothing: the "clean" baseline')
  p.add_argument('--download_checkpoint', action='store_true',
                 help='fetch the ImageNet checkpoint when it is missing')
  p.add_argument('--checkpoint_url', default=checkpoint_url, help=argparse.SUPPRESS)
  head_first.add_flags(p, head_epochs, head_learning_rate, head_batch_size, bottleneck_dir,
                       bottleneck_batch_size, fine_tune_from)
  runtime.add_runtime_flags(p)
  add_deployment_flags(p)
  return p


def main(argv=None):
  return cli.main(run, build_parser(), argv)


if __name__ == '__main__':
  sys.exit(main())
