# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Checkpoints: presence and fit checks, the ImageNet download, and restoring.

Every check reads only a checkpoint's index, so a wrong file is reported in one
line before any graph runs.
"""
from __future__ import absolute_import, division, print_function

import os

import tf_compat  # noqa: F401  (before TensorFlow: runs the code on TF 2.x too)
import tensorflow.compat.v1 as tf
import tf_slim as slim

import downloads
from cli import UsageError
from inception_resnet_v2 import inception_resnet_v2, inception_resnet_v2_arg_scope

CHECKPOINT_URL = 'http://download.tensorflow.org/models/inception_resnet_v2_2016_08_30.tar.gz'


def checkpoint_present(path):
  """True for a V1 checkpoint file or a V2 checkpoint's index beside `path`."""
  return os.path.isfile(path) or os.path.isfile(path + '.index')


def checkpoint_mismatches(checkpoint_path, variables):
  """Lists how `variables` fail to fit a checkpoint, reading only its index.

  Returns:
    A list of strings, e.g. 'missing InceptionResnetV2/Logits/weights/Adam_1'
    or 'shape of X: checkpoint [5] vs model [7]'; empty when all fit.
  """
  stored = dict(tf.train.list_variables(checkpoint_path))
  problems = []
  for var in variables:
    name = var.op.name
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


def restore_fn(checkpoint, variables, fix):
  """A Supervisor init_fn restoring `variables` from `checkpoint`, checked first.

  Args:
    checkpoint: the checkpoint path.
    variables: the variables to restore.
    fix: what the user should do when they do not fit, for the error message.

  Returns:
    A function of a session.

  Raises:
    UsageError: naming the checkpoint and the first mismatches.
  """
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
