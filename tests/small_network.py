# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""A small stand-in for the network, for tests of mechanics the network does not change.

Its variables carry the network's names: the first convolution with the
checkpoint's shapes (so an ImageNet checkpoint restores into it), the auxiliary
head's last layer and the Logits layer, built by the network's own
logits_layer on NUM_FEATURES features. Its graph builds in a fraction of a
second; the whole network's takes seconds, a third of a suite's time.

In a test: the `small_network` fixture (conftest.py), or `with installed():`
in a fixture of wider scope. For a command in a subprocess:

    python tests/small_network.py [--step_seconds S] SCRIPT.py ARGS...

--step_seconds makes each pass through it sleep S seconds, for tests whose
signals, kills or cluster workers must land while a run still goes on.
"""
import contextlib
import os
import runpy
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Seconds each pass through the network sleeps (set by --step_seconds).
step_seconds = 0.0


def build_model(images, num_classes, is_training, batch_norm_scopes=None, **scope_args):
  """transfer.model.build_model's stand-in: the same arguments, outputs and end points."""
  from inception_resnet_v2 import (AUX_LOGITS_SCOPE, LOGITS_SCOPE, NUM_FEATURES, SCOPE,
                                   inception_resnet_v2_arg_scope, logits_layer)
  from tf_compat import slim, tf
  from transfer import model
  first = 'Conv2d_1a_3x3'
  if step_seconds:
    images = _after_a_pause(images)
  batch_norm_trains = is_training and (
      batch_norm_scopes is None or model.in_scopes('%s/%s' % (SCOPE, first), batch_norm_scopes))
  with slim.arg_scope(inception_resnet_v2_arg_scope(**scope_args)), tf.variable_scope(SCOPE):
    with slim.arg_scope([slim.batch_norm], is_training=batch_norm_trains):
      net = slim.conv2d(images, 32, 3, stride=2, padding='VALID', scope=first)
    pooled = tf.reduce_mean(net, [1, 2])
    end_points = {first: net}
    with tf.variable_scope(AUX_LOGITS_SCOPE):
      end_points['AuxLogits'] = slim.fully_connected(pooled, num_classes, activation_fn=None,
                                                     scope='Logits')
    with tf.variable_scope(LOGITS_SCOPE):
      features = tf.tile(pooled, [1, NUM_FEATURES // 32])
      end_points['PreLogitsFlatten'], logits = logits_layer(features, num_classes, is_training)
      end_points['Logits'] = logits
      end_points['Predictions'] = tf.nn.softmax(logits, name='Predictions')
  return logits, end_points


def model_variable_names():
  """The names of the stand-in's model variables, those a checkpoint of it holds for eval."""
  from tf_compat import slim, tf
  from tiny_data import IMAGE_SIZE
  with tf.Graph().as_default():
    build_model(tf.placeholder(tf.float32, [1, IMAGE_SIZE, IMAGE_SIZE, 3]), 2, is_training=True)
    return {v.op.name for v in slim.get_model_variables()}


def _after_a_pause(images):
  """`images`, passed on once a sleep of step_seconds (in the graph: every run) is over."""
  import numpy as np
  from tf_compat import tf
  pause = tf.py_func(lambda: np.float32(time.sleep(step_seconds) or 0), [], tf.float32,
                     stateful=True)
  with tf.control_dependencies([pause]):
    return tf.identity(images)


@contextlib.contextmanager
def installed():
  """Inside the block every command of this process builds the stand-in."""
  from transfer import model
  real, model.build_model = model.build_model, build_model
  try:
    yield
  finally:
    model.build_model = real


def main(argv):
  """Runs the script of argv (after --step_seconds S, if given) with the stand-in."""
  global step_seconds
  if argv[0] == '--step_seconds':
    step_seconds, argv = float(argv[1]), argv[2:]
  sys.path.insert(0, REPO)
  from transfer import model
  model.build_model = build_model
  sys.argv = argv
  runpy.run_path(argv[0], run_name='__main__')


if __name__ == '__main__':
  main(sys.argv[1:])
