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
import contextlib
import math
import os
import sys

import cli  # before TensorFlow: it quiets TensorFlow's start-up logs
import tf_compat  # noqa: F401  (before TensorFlow: runs the code on TF 2.x too)
import tensorflow.compat.v1 as tf
import tf_slim as slim

import checkpoints
import dataset_utils
import distributed
import inception_preprocessing
import runtime
import run_control
from cli import UsageError
from dataset_utils import SPLITS
from inception_resnet_v2 import (inception_resnet_v2, inception_resnet_v2_arg_scope,
                                 smallest_input_size)

# ================ DATASET INFORMATION ================
# Where the TFRecord files (and the labels.txt the converter writes) are.
dataset_dir = '.'
# Where checkpoints and TensorBoard events go; created when missing.
log_dir = './log'
# The ImageNet checkpoint to fine-tune from (flag --imagenet_checkpoint_file, or
# the seed's --checkpoint_file).
checkpoint_file = './inception_resnet_v2_2016_08_30.ckpt'
# Input resolution; 299 is the size the checkpoint was trained at.
image_size = 299
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


# ================ DATASET LOADING ================
def read_labels(dataset_dir, labels_file=None):
  """Reads the `index:name` label file.

  Args:
    dataset_dir: the TFRecord folder (local or a tf.gfile URL like gs://); its
      labels.txt is used unless `labels_file` is given.
    labels_file: an explicit label file.

  Returns:
    (path, {int: name}) of the label file used.
  """
  path = labels_file or os.path.join(dataset_dir, dataset_utils.LABELS_FILENAME)
  if not tf.io.gfile.exists(path):
    if labels_file:
      raise UsageError('--labels_file %s not found: check the path' % labels_file)
    raise UsageError('no label file %s: convert the photos with `python create_tfrecord.py '
                     '--photo_dir PHOTOS --output_dir %s`, which writes it, or pass '
                     '--labels_file (for TF-slim\'s flowers shards: --labels_file labels.txt)'
                     % (path, dataset_dir))
  folder, name = os.path.split(path)
  return path, dataset_utils.read_label_file(folder or '.', name)


def get_split(split_name, dataset_dir, file_pattern=file_pattern, labels_file=None):
  """Describes one split of the TFRecords as a `slim.dataset.Dataset`.

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
  if split_name not in SPLITS:
    raise ValueError('split_name %r is not recognised: use train or validation'
                     % (split_name,))
  if '%s' not in file_pattern:
    raise UsageError('--file_pattern %s has no %%s for the split name: e.g. flowers_%%s_*.tfrecord'
                     % file_pattern)
  if not tf.io.gfile.isdir(dataset_dir):
    raise UsageError('--dataset_dir %s does not exist: create the TFRecords with `python '
                     'create_tfrecord.py --photo_dir PHOTOS --output_dir %s` (or '
                     '--download_flowers)' % (dataset_dir, dataset_dir))
  dataset_utils.check_published(dataset_dir)
  pattern = os.path.join(dataset_dir, file_pattern % split_name)
  files = sorted(tf.gfile.Glob(pattern))
  if not files:
    raise UsageError('no TFRecord file matches %s in %s: create them with '
                     '`python create_tfrecord.py --photo_dir PHOTOS --output_dir %s` '
                     '(or --download_flowers)'
                     % (file_pattern % split_name, os.path.abspath(dataset_dir), dataset_dir))
  num_samples = sum(dataset_utils.count_records(f) for f in files)
  if not num_samples:
    raise UsageError('the %s shards in %s hold no records: convert the photos again%s'
                     % (split_name, dataset_dir, ' with --validation_size 1 or more'
                        if split_name == 'validation' else ''))
  _, labels_to_name = read_labels(dataset_dir, labels_file)

  return slim.dataset.Dataset(
      data_sources=files,
      decoder=dataset_utils.tfexample_decoder(),
      reader=tf.TFRecordReader,
      num_readers=4,
      num_samples=num_samples,
      num_classes=len(labels_to_name),
      labels_to_name=labels_to_name,
      items_to_descriptions=items_to_descriptions)


def load_batch(dataset, batch_size, height=image_size, width=image_size, is_training=True,
               num_epochs=None):
  """Reads, preprocesses and batches images of a dataset through input queues.

  Args:
    dataset: a `slim.dataset.Dataset` from `get_split`.
    batch_size: images per batch.
    height, width: the size images are preprocessed to.
    is_training: training (random distortions, shuffled reading) or evaluation
      (central crop, files read in order) preprocessing.
    num_epochs: read the records this many times, then end the input with
      OutOfRangeError; None cycles forever.

  Returns:
    images: float32 [batch, height, width, 3] in [-1, 1], for the model.
    raw_images: uint8 [batch, height, width, 3], undistorted, for pictures.
    labels: int64 [batch].
  """
  # Shuffled parallel reading for training; one reader in order for evaluation.
  data_provider = slim.dataset_data_provider.DatasetDataProvider(
      dataset,
      num_readers=dataset.num_readers if is_training else 1,
      shuffle=is_training,
      num_epochs=num_epochs,
      common_queue_capacity=24 + 3 * batch_size,
      common_queue_min=24)
  raw_image, label = data_provider.get(['image', 'label'])

  # A label the label file does not name would train a wrong head silently.
  tag = dataset_utils.BAD_LABEL_TAG
  with tf.control_dependencies([
      tf.debugging.assert_less(label, tf.constant(dataset.num_classes, tf.int64),
                               message='%s (%d classes)' % (tag, dataset.num_classes)),
      tf.debugging.assert_non_negative(label, message=tag)]):
    label = tf.identity(label)

  image = inception_preprocessing.preprocess_image(raw_image, height, width, is_training)

  # The undistorted image, only resized, to show next to predictions.
  raw_image = tf.image.resize_nearest_neighbor(tf.expand_dims(raw_image, 0), [height, width])
  raw_image = tf.squeeze(raw_image, [0])

  images, raw_images, labels = tf.train.batch(
      [image, raw_image, label],
      batch_size=batch_size,
      num_threads=4,
      capacity=4 * batch_size,
      allow_smaller_final_batch=True)
  return images, raw_images, labels


def steps_per_epoch(num_samples, batch_size):
  """Batches an epoch takes: the seed divided as floats, so a partial batch is a step."""
  return int(math.ceil(num_samples / float(batch_size)))


# ================ MODEL ================
def build_model(images, num_classes, is_training, batch_norm_decay=batch_norm_decay):
  """Inception-ResNet-V2 under its arg_scope; returns (logits, end_points)."""
  smallest = smallest_input_size(create_aux_logits=True)
  if min(images.shape.as_list()[1:3]) < smallest:
    raise UsageError('--image_size %d is below %d, the smallest input Inception-ResNet-V2 '
                     '(with its auxiliary head) takes: pass --image_size %d or more'
                     % (min(images.shape.as_list()[1:3]), smallest, smallest))
  with slim.arg_scope(inception_resnet_v2_arg_scope(batch_norm_decay=batch_norm_decay)):
    return inception_resnet_v2(images, num_classes=num_classes, is_training=is_training)


def split_scopes(scopes):
  """'a, b' -> ['a', 'b']; an empty string gives []."""
  return [s.strip() for s in scopes.split(',') if s.strip()]


# Device, threads and mixed precision from the flags (or the defaults).
session_config = runtime.session_config


@contextlib.contextmanager
def queue_session(config=None):
  """A plain session with initialised variables and running input queues.

  For work outside the Supervisor (benchmarks, tests); the queue threads are
  stopped and joined on exit.
  """
  with tf.Session(config=config) as sess:
    sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess, coord)
    try:
      yield sess
    finally:
      coord.request_stop()
      coord.join(threads, stop_grace_period_secs=5)


# ================ TRAINING ================
class TrainGraph(object):
  """The tensors and ops the training loop runs."""

  def __init__(self, **tensors):
    self.__dict__.update(tensors)


def build_training_graph(args):
  """Builds the seed's training graph in the default graph.

  Returns:
    A TrainGraph with dataset, steps_per_epoch, train_op, global_step, lr,
    accuracy, metrics_op, summary_op, variables_to_restore and deploy (the
    distributed.Deployment of the clones and the cluster).
  """
  tf.set_random_seed(args.seed)  # initial weights and distortions; None: random
  # One process and one tower unless the clone or cluster flags say otherwise.
  deploy = distributed.Deployment.from_flags(args)
  # Data: one shuffled, distorted batch per step (and clone).
  dataset = get_split('train', args.dataset_dir, args.file_pattern, args.labels_file)
  with tf.device(runtime.INPUT_DEVICE):
    images, _, labels = load_batch(dataset, args.batch_size * deploy.num_clones,
                                   args.image_size, args.image_size)
  if args.batch_size > dataset.num_samples:
    raise UsageError('--batch_size %d is larger than the %d training images: pass '
                     '--batch_size %d or less' % (args.batch_size, dataset.num_samples,
                                                   dataset.num_samples))
  epoch_steps = steps_per_epoch(dataset.num_samples, deploy.images_per_update(args.batch_size))
  decay_steps = int(args.num_epochs_before_decay * epoch_steps)

  def tower(images, labels):
    logits, end_points = build_model(images, dataset.num_classes, True, args.batch_norm_decay)
    # Cross-entropy on the main head (the arg_scope adds the weight decay).
    one_hot_labels = slim.one_hot_encoding(labels, dataset.num_classes)
    tf.losses.softmax_cross_entropy(one_hot_labels, logits)
    return end_points

  end_points = deploy.create_clones(tower, images, labels)
  # Chosen right after the model, so optimizer slots and the step are left out.
  variables_to_restore = slim.get_variables_to_restore(
      exclude=split_scopes(args.checkpoint_exclude_scopes))
  total_loss = deploy.total_loss()

  global_step = tf.train.get_or_create_global_step()
  lr = tf.train.exponential_decay(
      learning_rate=args.initial_learning_rate,
      global_step=global_step,
      decay_steps=max(decay_steps, 1),
      decay_rate=args.learning_rate_decay_factor,
      staircase=True)
  optimizer = deploy.wrap_optimizer(
      runtime.wrap_optimizer(tf.train.AdamOptimizer(learning_rate=lr), args))
  scopes = split_scopes(args.trainable_scopes)
  variables_to_train = None
  if scopes:
    variables_to_train = [v for s in scopes for v in tf.trainable_variables(s)]
    if not variables_to_train:
      raise UsageError('--trainable_scopes %s matches no variable' % args.trainable_scopes)
  # create_train_op also runs the batch-norm moving-average updates.
  train_op = deploy.create_train_op(total_loss, optimizer, variables_to_train)

  predictions = tf.argmax(end_points['Predictions'], 1)
  probabilities = end_points['Predictions']
  # Named apart from the summary tag, which would otherwise become accuracy_1.
  accuracy, accuracy_update = tf.metrics.accuracy(labels, predictions,
                                                  name='streaming_accuracy')
  metrics_op = tf.group(accuracy_update, probabilities)

  # Merged with the preprocessing image and input-queue summaries.
  tf.summary.scalar('losses/Total_Loss', total_loss)
  tf.summary.scalar('accuracy', accuracy)
  tf.summary.scalar('learning_rate', lr)
  return TrainGraph(dataset=dataset, steps_per_epoch=epoch_steps, train_op=train_op,
                    global_step=global_step, lr=lr, accuracy=accuracy,
                    metrics_op=metrics_op, summary_op=tf.summary.merge_all(),
                    variables_to_restore=variables_to_restore, deploy=deploy)


def make_init_fn(args, graph, resume_from):
  """Chooses what initialises the variables the Supervisor does not restore.

  Returns:
    A function of a session restoring the ImageNet weights, or None when
    training resumes from log_dir or starts from scratch.
  """
  if resume_from:
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
  return checkpoints.restore_fn(
      args.imagenet_checkpoint_file, graph.variables_to_restore,
      'check --imagenet_checkpoint_file and --checkpoint_exclude_scopes')


def warn_slow_batch_norm(args, total_steps):
  """Moving averages that cannot settle make is_training=False eval useless."""
  horizon = 1.0 / (1.0 - args.batch_norm_decay)
  if args.from_scratch and total_steps < 3 * horizon:
    tf.logging.warning(
        'batch_norm_decay %g averages over ~%d steps but training runs %d from '
        'scratch: evaluation will suffer; consider --batch_norm_decay 0.9',
        args.batch_norm_decay, horizon, total_steps)


def train_loop(sess, sv, graph, args, control=None):
  """Runs the remaining steps: epoch and progress logs, summaries, saves. Returns the last loss.

  `control` is a run_control.TrainingControl; by default a new one, which saves
  only by time or step count (not on signals, which it does not catch).

  Raises:
    run_control.Interrupted: after saving, on SIGINT/SIGTERM.
    run_control.InputStopped: when the input ends before the last step.
  """
  g = graph
  control = control or run_control.TrainingControl(args)
  total_steps = g.steps_per_epoch * args.num_epochs
  step = control.begin(sess, sv, g.global_step, total_steps)
  if step >= total_steps:
    tf.logging.info('log_dir already holds %d of %d steps: nothing to train.', step, total_steps)
  loss = float('nan')
  while step < total_steps and not sv.should_stop():
    control.check_signal(sess)
    if step % g.steps_per_epoch == 0:
      lr_value, accuracy_value = sess.run([g.lr, g.accuracy])
      tf.logging.info('Epoch %d/%d', step // g.steps_per_epoch + 1, args.num_epochs)
      tf.logging.info('Current Learning Rate: %s', lr_value)
      tf.logging.info('Current Streaming Accuracy: %s', accuracy_value)
    fetches = [g.train_op, g.metrics_op]
    with_summary = (step + 1) % args.summary_every_n_steps == 0
    if with_summary:  # same run as the step: no extra batch is consumed
      fetches.append(g.summary_op)
    try:
      results = sess.run(fetches)
    except (tf.errors.OutOfRangeError, tf.errors.CancelledError):
      control.input_stopped(step)  # the Supervisor would take it for a clean stop
    step += 1
    loss = results[0]
    if with_summary:
      sv.summary_computed(sess, results[-1], global_step=step)
    control.step_done(sess, step, loss)
  if step < total_steps:  # an input thread failed and asked the Supervisor to stop
    control.input_stopped(step)
  return loss


def train(args):
  """Builds the graph and fine-tunes under a Supervisor.

  Returns:
    {'loss', 'accuracy', 'global_step'} at the end: the last step's loss and
    the streaming training accuracy of this run.
  """
  tf.logging.set_verbosity(tf.logging.INFO)
  config = session_config(args)  # first: a missing GPU fails before any work
  tf.logging.info('Running on %s.', runtime.describe(args))
  # In a cluster only the chief reads and writes log_dir and restores.
  is_chief = distributed.is_chief(args)
  resume_from = None
  if is_chief and tf.gfile.IsDirectory(args.log_dir):
    resume_from = tf.train.latest_checkpoint(args.log_dir)
  if is_chief and not resume_from and not args.from_scratch:
    checkpoints.require_checkpoint(args.imagenet_checkpoint_file, args.download_checkpoint,
                                   args.checkpoint_url)

  # Checked before the graph is built, so that a refusal comes at once.
  if is_chief:
    schedule = run_control.schedule_of(args, get_split(
        'train', args.dataset_dir, args.file_pattern, args.labels_file).num_samples)
    run_control.check_schedule(args.log_dir, schedule, bool(resume_from),
                               args.allow_changed_schedule)
  with tf.Graph().as_default(), distributed.Deployment.from_flags(args).device_scope():
    graph = build_training_graph(args)
    init_fn = None
    if is_chief:
      init_fn = make_init_fn(args, graph, resume_from)
      run_control.save_schedule(args.log_dir, schedule)
    warn_slow_batch_norm(args, graph.steps_per_epoch * args.num_epochs)
    tf.logging.info('%d training images, %d steps an epoch, %d epochs.',
                    graph.dataset.num_samples, graph.steps_per_epoch, args.num_epochs)
    # summary_op=None: the loop writes summaries itself, every few steps.
    # Alone, the loop saves between steps (run_control.Checkpointer); a cluster's
    # chief keeps the Supervisor's timed saves.
    sv = tf.train.Supervisor(logdir=args.log_dir, summary_op=None, init_fn=init_fn,
                             save_model_secs=graph.deploy.save_model_secs(args),
                             **graph.deploy.supervisor_args())
    control = run_control.TrainingControl(args)
    with control.signals, run_control.input_failures_reported(args.dataset_dir, control), \
        sv.managed_session(graph.deploy.master,
                           config=graph.deploy.session_config(config)) as sess:
      if graph.deploy.cluster:
        loss = distributed.train_loop(sess, sv, graph, args)
      else:
        loss = train_loop(sess, sv, graph, args, control)
      accuracy, step = sess.run([graph.accuracy, graph.global_step])
      tf.logging.info('Final Loss: %s', loss)
      tf.logging.info('Final Accuracy: %s', accuracy)
      if is_chief:
        # The Supervisor's saver holds every variable: new heads, Adam slots, step.
        tf.logging.info('Finished training! Saving model to disk now.')
        sv.saver.save(sess, sv.save_path, global_step=graph.global_step)
  return {'loss': float(loss), 'accuracy': float(accuracy), 'global_step': int(step)}


def run(args):
  """The command: trains (alone, or as a worker or ps task of a cluster), then
  returns the exit code (128 + signal when stopped by one)."""
  return distributed.run(args, train)


# ================ COMMAND LINE ================
def add_dataset_flags(p):
  """The flags that say where the data is and how it is read; shared by every command."""
  p.add_argument('--dataset_dir', default=dataset_dir, help='folder of the TFRecords')
  p.add_argument('--labels_file', default=labels_file,
                 help='index:name per line (default: DATASET_DIR/labels.txt)')
  p.add_argument('--file_pattern', default=file_pattern, help='%%s is the split name')
  p.add_argument('--image_size', type=cli.positive_int, default=image_size)


def add_imagenet_flags(p, help_suffix=''):
  """The ImageNet checkpoint and the scopes it does not provide."""
  p.add_argument('--imagenet_checkpoint_file', default=checkpoint_file,
                 help='the ImageNet checkpoint%s' % help_suffix)
  p.add_argument('--checkpoint_exclude_scopes', default=checkpoint_exclude_scopes,
                 help='comma-separated scopes left at their initial values')


def build_parser():
  """Every constant at the top of this file is a flag of the same name."""
  p = cli.new_parser(__doc__.split('\n\n')[0])
  add_dataset_flags(p)
  p.add_argument('--log_dir', default=log_dir, help='checkpoints and TensorBoard events')
  add_imagenet_flags(p)
  # The seed's name for the ImageNet checkpoint; in eval it names the trained one.
  p.add_argument('--checkpoint_file', dest='imagenet_checkpoint_file',
                 help="the seed's name of --imagenet_checkpoint_file")
  p.add_argument('--num_epochs', type=cli.positive_int, default=num_epochs)
  p.add_argument('--batch_size', type=cli.positive_int, default=batch_size)
  p.add_argument('--initial_learning_rate', type=float, default=initial_learning_rate)
  p.add_argument('--learning_rate_decay_factor', type=float, default=learning_rate_decay_factor)
  p.add_argument('--num_epochs_before_decay', type=float, default=num_epochs_before_decay)
  p.add_argument('--trainable_scopes', default=trainable_scopes,
                 help='comma-separated scopes to train (default: all)')
  p.add_argument('--batch_norm_decay', type=float, default=batch_norm_decay)
  p.add_argument('--summary_every_n_steps', type=cli.positive_int, default=summary_every_n_steps)
  p.add_argument('--save_interval_secs', type=cli.positive_int, default=save_interval_secs)
  p.add_argument('--seed', type=int, default=seed,
                 help='the same seed gives the same initial weights and the same sequence '
                      'of random distortions; the input queues still read and batch on '
                      'several threads, so which photo meets which distortion and the '
                      'batch order vary from run to run (default: a new seed each run)')
  p.add_argument('--save_every_n_steps', type=cli.non_negative_int, default=save_every_n_steps,
                 help='also save after every N steps (0: off)')
  p.add_argument('--log_every_n_steps', type=cli.positive_int, default=log_every_n_steps,
                 help='a progress line (step/total, loss, images/s, ETA) every N steps')
  p.add_argument('--allow_changed_schedule', action='store_true',
                 help='resume even though --batch_size, the learning-rate flags or the '
                 'number of training images differ from the saved run')
  p.add_argument('--from_scratch', action='store_true',
                 help='restore nothing: the "clean" baseline')
  p.add_argument('--download_checkpoint', action='store_true',
                 help='fetch the ImageNet checkpoint when it is missing')
  p.add_argument('--checkpoint_url', default=checkpoints.CHECKPOINT_URL, help=argparse.SUPPRESS)
  runtime.add_runtime_flags(p)
  distributed.add_distributed_flags(p)
  return p


def main(argv=None):
  return cli.main(run, build_parser(), argv)


if __name__ == '__main__':
  sys.exit(main())
