# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Checkpoints: finding one, fit checks, restoring, the ImageNet download, completion.

Every check reads only a checkpoint's index, so a wrong file is reported in one
line before any graph runs. The head phase's checkpoint holds the model alone:
complete_checkpoint adds the training graph's other variables before resuming.
"""
from __future__ import absolute_import, division, print_function

import os

from inception_resnet_v2 import LOGITS_WEIGHTS, inception_resnet_v2, inception_resnet_v2_arg_scope
from tf_compat import slim, tf
from transfer import averages, downloads, run_record
from transfer.datasets import records
from transfer.errors import UsageError

CHECKPOINT_URL = 'http://download.tensorflow.org/models/inception_resnet_v2_2016_08_30.tar.gz'


def checkpoint_present(path):
  """True for a V1 checkpoint file or a V2 checkpoint's index beside `path`."""
  return os.path.isfile(path) or os.path.isfile(path + '.index')


def find_checkpoint(checkpoint_file, log_dir):
  """The checkpoint a command uses: `checkpoint_file`, else the latest one in log_dir."""
  if checkpoint_file:
    if not checkpoint_present(checkpoint_file):
      raise UsageError('checkpoint %s not found: check --checkpoint_file' % checkpoint_file)
    return checkpoint_file
  path = tf.train.latest_checkpoint(log_dir) if tf.gfile.IsDirectory(log_dir) else None
  if not path:
    raise UsageError(
        'no checkpoint in %s: train first (`python train_flowers.py --log_dir %s`) or pass '
        '--checkpoint_file' % (log_dir, log_dir))
  return path


def checkpoint_step(path):
  """The global step a checkpoint holds, or None when it holds none."""
  reader = tf.train.load_checkpoint(path)
  if not reader.has_tensor('global_step'):
    return None
  return int(reader.get_tensor('global_step'))


def checkpoint_num_classes(path):
  """The class count of a fine-tuned checkpoint's head."""
  shapes = dict(tf.train.list_variables(path))
  if LOGITS_WEIGHTS not in shapes:
    raise UsageError('%s holds no %s: it is not an Inception-ResNet-V2 checkpoint'
                     % (path, LOGITS_WEIGHTS))
  return shapes[LOGITS_WEIGHTS][-1]


def class_names(checkpoint, dataset_dir, labels_file):
  """The names of a fine-tuned checkpoint's classes, from the label file it was trained with.

  Returns:
    (label file path, [name of class 0, name of class 1, ...]).

  Raises:
    UsageError: when the label file names another number of classes.
  """
  num_classes = checkpoint_num_classes(checkpoint)
  path, labels = records.read_labels(dataset_dir, labels_file)
  if sorted(labels) != list(range(num_classes)):
    raise UsageError(
        '%s names %d classes (ids %s) but checkpoint %s has %d: pass the --labels_file '
        '(or --dataset_dir) it was trained with'
        % (path, len(labels), ','.join(str(i) for i in sorted(labels)), checkpoint,
           num_classes))
  return path, [labels[i] for i in range(num_classes)]


def checkpoint_mismatches(checkpoint_path, variables):
  """Lists how `variables` fail to fit a checkpoint, reading only its index.

  Args:
    checkpoint_path: the checkpoint.
    variables: a list of variables, or {name in the checkpoint: variable}.

  Returns:
    A list of strings, e.g. 'missing X/Adam_1' or 'shape of X: checkpoint [5]
    vs model [7]'; empty when all fit.
  """
  stored = dict(tf.train.list_variables(checkpoint_path))
  problems = []
  named = variables.items() if isinstance(variables, dict) else [
      (var.op.name, var) for var in variables]
  for name, var in named:
    shape = var.shape.as_list()
    if name not in stored:
      problems.append('missing %s' % name)
    elif list(stored[name]) != shape:
      problems.append('shape of %s: checkpoint %s vs model %s' % (name, stored[name], shape))
  return problems


def describe_problems(problems, shown=3):
  """'a, b, c and 5 more' from a list of checkpoint_mismatches."""
  text = ', '.join(problems[:shown])
  if len(problems) > shown:
    text += ' and %d more' % (len(problems) - shown)
  return text


def init_fn(checkpoint, variables, fix):
  """A Supervisor init_fn restoring `variables` from `checkpoint`, checked first.

  Args:
    checkpoint: the checkpoint path; None restores nothing.
    variables: the variables to restore, or {name in the checkpoint: variable}.
    fix: what the user should do when they do not fit, for the error message.

  Returns:
    A function of a session, or None when `checkpoint` is None.

  Raises:
    UsageError: naming the checkpoint and the first mismatches.
  """
  if checkpoint is None:
    return None
  problems = checkpoint_mismatches(checkpoint, variables)
  if problems:
    raise UsageError('%s does not fit this model (%s): %s'
                     % (checkpoint, describe_problems(problems), fix))
  saver = tf.train.Saver(variables)
  tf.logging.info('Restoring %d variables from %s.', len(variables), checkpoint)
  return lambda sess: saver.restore(sess, checkpoint)


def imagenet_variables():
  """{name: shape} of the model built for the 1001 ImageNet classes at 299."""
  with tf.Graph().as_default():
    with slim.arg_scope(inception_resnet_v2_arg_scope()):
      inception_resnet_v2(tf.placeholder(tf.float32, [1, 299, 299, 3]), 1001,
                          is_training=False)
    return {v.op.name: v.shape.as_list() for v in tf.global_variables()}


def verify_imagenet_checkpoint(path):
  """Raises UsageError unless `path` holds exactly the official IRv2 variables."""
  expected = imagenet_variables()
  stored = {name: list(shape) for name, shape in tf.train.list_variables(path)}
  if stored != expected:
    missing = sorted(set(expected) - set(stored))
    extra = sorted(set(stored) - set(expected))
    raise UsageError(
        '%s is not the inception_resnet_v2_2016_08_30 checkpoint (%d variables, %d '
        'expected; missing e.g. %s; unexpected e.g. %s): delete it and download %s again'
        % (path, len(stored), len(expected), missing[:1], extra[:1], CHECKPOINT_URL))


def fetch_checkpoint(path, url=CHECKPOINT_URL):
  """Downloads and unpacks the ImageNet checkpoint next to `path`, then checks it."""
  downloads.download_and_extract(url, os.path.dirname(path) or '.')
  if not checkpoint_present(path):
    raise UsageError('%s did not contain %s: pass its real name with '
                     '--imagenet_checkpoint_file' % (url, os.path.basename(path)))
  verify_imagenet_checkpoint(path)
  tf.logging.info('Checkpoint %s downloaded and verified.', path)


def require_checkpoint(path, download=False, url=CHECKPOINT_URL):
  """Makes sure the ImageNet checkpoint is there, fetching it when asked to."""
  if checkpoint_present(path):
    return
  if download:
    fetch_checkpoint(path, url)
    return
  raise UsageError('checkpoint %s not found: run `python train_flowers.py '
                   '--download_checkpoint` (or fetch %s and unpack it there), or pass '
                   '--from_scratch' % (path, url))


def is_head_checkpoint(checkpoint):
  """Whether `checkpoint` is the one the head phase wrote, as its run record says."""
  try:
    recorded, _ = run_record.read_section(os.path.dirname(checkpoint), 'schedule')
  except ValueError:
    recorded = None  # damaged: the schedule check names it
  recorded = recorded or {}
  return (recorded.get('head_checkpoint') == os.path.basename(checkpoint) and
          checkpoint_step(checkpoint) == 0)


def missing_training_variables(checkpoint, variables):
  """The variables a head checkpoint lacks when only training state is missing, else None.

  The head phase's checkpoint (bottleneck_head.save_checkpoint) holds the model and
  the step; a training graph adds optimizer slots and the like, which start from
  their initial values. Any other checkpoint lacking them is another run's, and gets None.
  """
  if not is_head_checkpoint(checkpoint):
    return None
  stored = dict(tf.train.list_variables(checkpoint))
  model_names = {v.op.name for v in slim.get_model_variables()}
  missing = [v for v in variables if v.op.name not in stored]
  if not missing or any(v.op.name in model_names for v in missing):
    return None
  return missing


def complete_checkpoint(checkpoint, variables):
  """Saves a head checkpoint again with every one of `variables` (the training graph's).

  Those it lacks, optimizer slots and the like, keep their initial values, so
  the Supervisor can resume from it like from any other step. The work runs
  on a copy of the default graph without its devices: a cluster chief's
  variables live on ps tasks, which a local session cannot reach.
  """
  stored = {name for name, _ in tf.train.list_variables(checkpoint)}
  names = {v.op.name for v in variables}
  meta_graph = tf.train.export_meta_graph(clear_devices=True)
  with tf.Graph().as_default():
    tf.train.import_meta_graph(meta_graph, clear_devices=True)
    copies = [v for v in tf.global_variables() if v.op.name in names]
    by_name = {v.op.name: v for v in copies}
    # Moving averages start from the weights they average, not from their initialisers.
    seeds = [by_name[n].assign(by_name[n[:-len(averages.SUFFIX)]]) for n in by_name
             if n.endswith(averages.SUFFIX) and n not in stored and
             n[:-len(averages.SUFFIX)] in stored]
    with tf.Session() as sess:
      sess.run(tf.variables_initializer(copies))
      tf.train.Saver([v for v in copies if v.op.name in stored]).restore(sess, checkpoint)
      sess.run(seeds)
      tf.train.Saver(copies).save(sess, checkpoint, write_meta_graph=False)
  tf.logging.info('Fine-tuning starts from the head checkpoint %s.', checkpoint)
