# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Fine-tunes the pre-trained Inception-ResNet-V2 on the flowers TFRecords.

The narrative follows the classic tutorial: constants first (each one is also a
command-line flag of the same name), then `get_split` -> `load_batch` -> `run()`.

    python train_flowers.py                        # fine-tune from the 2016 checkpoint
    python train_flowers.py --download_checkpoint  # fetch that checkpoint first
    python train_flowers.py --from_scratch         # the un-restored "clean" baseline
    tensorboard --logdir log

From Python, `train(**flags)` takes the flags as keywords: train(num_epochs=2).
"""
from __future__ import absolute_import, division, print_function

import functools
import math
import sys

import inception_preprocessing
from tf_compat import slim, tf
from transfer import averages, cli, flags, model, model_settings, runtime
from transfer.datasets import records
from transfer.deployment import clones, cluster
from transfer.deployment.config import add_deployment_flags
from transfer.training import (class_weighting, control, head_phase, learning_rate, loop, losses,
                               model_selection, optimizers, schedule, start, validation)
from transfer.training.settings import TrainSettings

# ================ DATASET INFORMATION ================
# Where the TFRecord files (and the labels.txt the converter writes) are.
dataset_dir = '.'
# Where checkpoints and TensorBoard events go; created when missing.
log_dir = './log'
# The ImageNet checkpoint (--imagenet_checkpoint_file, or the tutorial's --checkpoint_file).
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
# New heads are trained from their initial values; everything else restores.
checkpoint_exclude_scopes = 'InceptionResnetV2/Logits,InceptionResnetV2/AuxLogits'
trainable_scopes = ''  # empty: train every variable
batch_norm_decay = 0.9997
# None: a new random seed each run (see the --seed help for what a seed fixes).
seed = None
# Later flags (TF-slim's knobs, saving and progress, the fast transfer, devices)
# keep their defaults beside their settings: transfer/training/, transfer/runtime.py.


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
      reader and thread, seeded picks from a full shuffle queue, image summary of the batch.

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
  label = records.checked_label(label, dataset.num_classes)

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
  if deterministic and is_training:  # of the batch a step takes: fetching it reads no image
    tf.summary.image('final_distorted_image', (images[:1] + 1) / 2)
  return images, raw_images, labels


def steps_per_epoch(num_samples, batch_size):
  """Batches an epoch takes: a partial batch is a step (the tutorial divides as floats)."""
  return int(math.ceil(num_samples / float(batch_size)))


# ================ TRAINING ================
def build_training_graph(settings, dataset):
  """Builds the tutorial's training graph in the default graph.

  Args:
    settings: the run's TrainSettings.
    dataset: the training split, from get_split.

  Returns:
    A training.loop.TrainGraph.
  """
  s, config = settings, settings.deployment
  tf.set_random_seed(s.seed)  # initial weights and distortions; None: random
  with tf.device(runtime.INPUT_DEVICE):
    images, _, labels = load_batch(dataset, s.batch_size * config.num_clones, s.image_size,
                                   s.image_size, deterministic=s.deterministic_input)
  epoch_steps = steps_per_epoch(dataset.num_samples, s.images_per_update)
  weights = class_weighting.resolve(s.loss.class_weights, dataset)

  def tower(images, labels):
    logits, end_points = model.build_model(images, dataset.num_classes, True,
                                           batch_norm_scopes=s.batch_norm_scopes,
                                           batch_norm_decay=s.batch_norm_decay,
                                           weight_decay=s.loss.weight_decay)
    # Cross-entropy of the heads (AuxLogits if weighted); the arg_scope adds weight decay.
    losses.classification_loss(logits, end_points, labels, dataset.num_classes,
                               s.loss.label_smoothing, s.loss.aux_loss_weight, weights)
    return end_points

  towers = clones.create_clones(config, tower, images, labels)
  # Chosen right after the model, so optimizer slots and the step are left out.
  variables_to_restore = slim.get_variables_to_restore(exclude=s.exclude_scopes)

  # The learning rate decays by steps; an update takes every clone's batch.
  global_step = tf.train.get_or_create_global_step()
  lr = learning_rate.configure_learning_rate(
      s.learning_rate, int((s.learning_rate.num_epochs_before_decay or 0) * epoch_steps),
      global_step)
  moving_averages = averages.for_training(s.moving_average_decay, global_step)
  optimizer = cluster.sync_optimizer(config, runtime.wrap_optimizer(
      optimizers.configure_optimizer(s.optimizer, lr), s.runtime), moving_averages)
  # create_train_op also runs the batch-norm moving-average updates, and the
  # weights' moving averages unless the sync chief keeps them.
  train_op, total_loss = clones.create_train_op(
      towers, optimizer, start.variables_to_train(s.trained_scopes, s.trainable_scopes),
      losses.gradient_clipper(s.loss.clip_gradient_norm),
      None if config.sync_replicas else moving_averages)

  # The streaming accuracy, named apart from the summary tag (else accuracy_1).
  probabilities = clones.merged_end_points(towers)['Predictions']
  predictions = tf.argmax(probabilities, 1)
  accuracy, accuracy_update = tf.metrics.accuracy(labels, predictions, name='streaming_accuracy')
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
def _head_first(settings, train_split, validation_split, session_config, run_schedule):
  """--head_epochs: caches the bottlenecks, trains the Logits on them, saves the network."""
  s = settings
  splits = {'train': train_split}  # and validation, when converted
  if validation_split is not None:
    splits['validation'] = validation_split

  def input_fn(split):
    # Read once, in record order (one batching thread), with evaluation preprocessing.
    images, _, labels = load_batch(split, s.head.bottleneck_batch_size, s.image_size,
                                   s.image_size, is_training=False, num_epochs=1,
                                   deterministic=True)
    return images, labels
  return head_phase.run(s, splits, input_fn, session_config, run_schedule)


def run_training(settings, master=''):
  """Builds the graph and fine-tunes under a Supervisor.

  Args:
    settings: the run's TrainSettings.
    master: the session target, a cluster server's (see cluster.run_task).

  Returns:
    {'loss', 'accuracy', 'global_step'} at the end: the last step's loss and
    the streaming training accuracy of this run; NaN for both when log_dir
    already held every step (global_step is then the one it holds).
  """
  s, config = settings, settings.deployment
  tf.logging.set_verbosity(tf.logging.INFO)
  session_config = runtime.session_config(s.runtime)  # first: a missing GPU fails at once
  tf.logging.info('Running on %s.', runtime.describe(s.runtime))
  dataset = get_split('train', s.dataset_dir, s.file_pattern, s.labels_file)
  resume_from, run_schedule = start.check_start(s, dataset)
  validation_split, validates = validation.find_split(s, get_split)
  selected = model_selection.resume(s.log_dir, resume_from)
  if selected.stops(s.validation.early_stopping_patience):
    return model_selection.already_stopped(selected, s.log_dir, resume_from)
  head_now = bool(s.head.head_epochs and not resume_from)  # else its checkpoint is there
  if head_now:
    resume_from = _head_first(s, dataset, validation_split, session_config, run_schedule)
  total_steps = s.num_epochs * steps_per_epoch(dataset.num_samples, s.images_per_update)
  done = start.steps_already_done(config, total_steps, resume_from, head_now)
  if done is not None:
    return {'loss': float('nan'), 'accuracy': float('nan'), 'global_step': done}

  with tf.Graph().as_default(), cluster.device_scope(config):
    graph = build_training_graph(s, dataset)
    selection = model_selection.build(s, validation_split if validates else None,
                                      graph.steps_per_epoch, resume_from, selected)
    init_fn = None
    if config.is_chief:
      init_fn = start.init_fn(s, graph.variables_to_restore, resume_from)
      schedule.save_schedule(s.log_dir, run_schedule)
      model_settings.save(s.log_dir, s.image_size, s.dataset_dir, s.labels_file,
                        s.moving_average_decay)
    start.warn_slow_batch_norm(s.batch_norm_decay, s.from_scratch, total_steps)
    tf.logging.info('%d training images, %d steps an epoch, %d epochs.',
                    dataset.num_samples, graph.steps_per_epoch, s.num_epochs)
    # summary_op=None: the loop writes summaries itself, every few steps; and it
    # saves between steps (control.Checkpointer), so the Supervisor never does.
    sv = runtime.Supervisor(logdir=s.log_dir, summary_op=None, init_fn=init_fn,
                            save_model_secs=0, stop_grace_secs=runtime.STOP_GRACE_SECS,
                            **cluster.supervisor_args(config))
    ctl = control.TrainingControl(
        s.control, s.images_per_update,
        functools.partial(cluster.unanswered_ps, config) if config.cluster else None)
    with ctl.signals, control.input_failures_reported(s.dataset_dir, ctl), \
        sv.managed_session(master, config=cluster.session_config(config, session_config)) as sess:
      loss = loop.train_loop(sess, sv, graph, s.num_epochs, ctl, config, selection)
      accuracy, step = sess.run([graph.accuracy, graph.global_step])
      tf.logging.info('Final Loss: %s', loss)
      tf.logging.info('Final Accuracy: %s', accuracy)
      if config.is_chief:
        # The Supervisor's saver holds every variable: new heads, Adam slots, step.
        tf.logging.info('Finished training! Saving model to disk now.')
        sv.saver.save(sess, sv.save_path, global_step=graph.global_step)
  return {'loss': float(loss), 'accuracy': float(accuracy), 'global_step': int(step)}


def _run_task(settings):
  """This process's part (training alone or as a worker, or a ps task), holding log_dir."""
  return start.run_task(settings, lambda master: run_training(settings, master))


def train(**flags):
  """Trains as `python train_flowers.py` would, with the flags as keywords.

  Returns:
    run_training's {'loss', 'accuracy', 'global_step'}; None for a ps task.

  Raises:
    TypeError: for a keyword that is no flag.
    UsageError: (a ValueError) for a bad value or input, with the line the
      command prints after `error: `.
    KeyboardInterrupt: on Ctrl-C, after saving the last finished step.
  """
  return cli.call('train', _run_task, build_parser(), flags, settings_from_flags)


def make_settings(**flags):
  """The TrainSettings `train(**flags)` would run with, checked; for a look before a run."""
  return settings_from_flags(cli.flags_from_keywords(build_parser(), flags, 'make_settings'))


def run(settings):
  """The command: trains (alone, or as a worker or ps task of a cluster); exit code 0."""
  _run_task(settings)
  return 0


# ================ COMMAND LINE ================
def settings_from_flags(args):
  """The run's TrainSettings from the parsed flags, the tutorial's decay defaults filled in."""
  flags = {k: v for k, v in vars(args).items() if k not in ('debug', 'verbose')}
  return TrainSettings.from_flags(dict(learning_rate_decay_factor=learning_rate_decay_factor,
                                       num_epochs_before_decay=num_epochs_before_decay), **flags)


def build_parser():
  """Every constant at the top of this file is a flag of the same name."""
  p = cli.new_parser(__doc__.split('\n\n')[0])
  flags.add_dataset_flags(p, dataset_dir, labels_file, image_size)
  p.add_argument('--file_pattern', default=file_pattern, help='%%s is the split name')
  p.add_argument('--log_dir', default=log_dir, help='checkpoints and TensorBoard events')
  flags.add_imagenet_flags(p, checkpoint_file, checkpoint_exclude_scopes)
  # The tutorial's name for the ImageNet checkpoint; in eval it names the trained one.
  p.add_argument('--checkpoint_file', dest='imagenet_checkpoint_file',
                 help="the tutorial's name of --imagenet_checkpoint_file")
  p.add_argument('--num_epochs', type=flags.non_negative_int, default=num_epochs,
                 help='epochs of training on images (0 with --head_epochs: the head alone)')
  p.add_argument('--batch_size', type=flags.positive_int, default=batch_size)
  learning_rate.add_flags(p, initial_learning_rate, learning_rate_decay_factor,
                          num_epochs_before_decay)
  optimizers.add_flags(p)
  losses.add_flags(p)
  averages.add_training_flag(p)
  p.add_argument('--trainable_scopes', default=trainable_scopes,
                 help='comma-separated scopes to train (default: all)')
  p.add_argument('--batch_norm_decay', type=float, default=batch_norm_decay)
  control.add_flags(p)
  validation.add_flags(p)
  flags.add_seed_flags(p, seed)
  start.add_flags(p)
  head_phase.add_flags(p)
  runtime.add_runtime_flags(p)
  add_deployment_flags(p)
  return p


def main(argv=None):
  return cli.main(run, build_parser(), argv, settings_from_flags)


if __name__ == '__main__':
  sys.exit(main())
