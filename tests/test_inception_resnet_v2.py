# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Inception-ResNet-V2: checkpoint layout, shapes, train/eval behaviour, limits.

Real TF graphs. Building one network takes a few seconds, so the graphs are
module fixtures shared by the tests that read them, and only one is 299x299.
"""
import os
import re
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import inception_resnet_v2 as irv2  # noqa: E402
from inception_resnet_v2 import inception_resnet_v2  # noqa: E402
from inception_resnet_v2 import inception_resnet_v2_arg_scope  # noqa: E402
from tf_compat import slim, tf  # noqa: E402

# Its tests share module fixtures: pytest-xdist runs them in one worker.
pytestmark = pytest.mark.xdist_group('inception_resnet_v2')

SPEC = os.path.join(REPO, 'tests', 'data',
                    'inception_resnet_v2_2016_08_30.variables.txt')
SMALL = 107  # the smallest input with the auxiliary head
SMALLEST = 75  # the smallest input without it
NUM_CLASSES = 5
BATCH = 2


def read_spec():
  """{name: shape} of the official checkpoint."""
  spec = {}
  with open(SPEC) as f:
    for line in f:
      line = line.strip()
      if line and not line.startswith('#'):
        name, dims = line.split()
        spec[name] = [int(d) for d in dims.split('x')]
  return spec


def var_shapes(variables):
  return {v.op.name: v.shape.as_list() for v in variables}


class Net(object):
  """A graph holding one built network and what the tests read from it."""

  def __init__(self, **entries):
    self.__dict__.update(entries)

  def session(self):
    sess = tf.Session(graph=self.graph)
    with self.graph.as_default():
      sess.run(tf.global_variables_initializer())
    return sess


@pytest.fixture(scope='module')
def net_299():
  """The checkpoint's network: 1001 classes, 299x299, eval mode."""
  graph = tf.Graph()
  with graph.as_default():
    images = tf.placeholder(tf.float32, [1, 299, 299, 3])
    with slim.arg_scope(inception_resnet_v2_arg_scope()):
      logits, end_points = inception_resnet_v2(images, num_classes=1001,
                                               is_training=False)
  return Net(graph=graph, logits=logits, end_points=end_points)


@pytest.fixture(scope='module')
def towers():
  """A training tower at the smallest aux size, then an eval tower reusing it.

  Non-default weight decay, batch norm decay and keep probability so that
  their effects can be measured.
  """
  graph = tf.Graph()
  with graph.as_default():
    tf.set_random_seed(0)
    images = tf.placeholder(tf.float32, [BATCH, SMALL, SMALL, 3])
    with slim.arg_scope(inception_resnet_v2_arg_scope(
        weight_decay=0.001, batch_norm_decay=0.5)):
      train_logits, train = inception_resnet_v2(
          images, num_classes=NUM_CLASSES, is_training=True,
          dropout_keep_prob=0.5)
      variables_one_tower = tf.global_variables()
      update_ops_one_tower = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
      eval_logits, evaluate = inception_resnet_v2(
          images, num_classes=NUM_CLASSES, is_training=False,
          dropout_keep_prob=0.5, reuse=True)
    with tf.variable_scope('InceptionResnetV2', reuse=True):
      conv1_weights = tf.get_variable('Conv2d_1a_3x3/weights')
    # Conv2d_1a_3x3 before its batch norm, to check the normalisation.
    conv1_raw = tf.nn.conv2d(images, conv1_weights, [1, 2, 2, 1], 'VALID')
  return Net(graph=graph, images=images, train_logits=train_logits,
             train=train, eval_logits=eval_logits, evaluate=evaluate,
             variables_one_tower=variables_one_tower,
             update_ops_one_tower=update_ops_one_tower, conv1_raw=conv1_raw)


@pytest.fixture(scope='module')
def gray_any_size():
  """Grayscale, height and width unknown, no auxiliary head, 1001 classes."""
  graph = tf.Graph()
  with graph.as_default():
    images = tf.placeholder(tf.float32, [None, None, None, 1])
    with slim.arg_scope(inception_resnet_v2_arg_scope()):
      logits, end_points = inception_resnet_v2(
          images, num_classes=1001, is_training=False, create_aux_logits=False)
  return Net(graph=graph, images=images, logits=logits, end_points=end_points)


@pytest.fixture(scope='module')
def bare_smallest():
  """No arg_scope, the smallest input, no auxiliary head."""
  graph = tf.Graph()
  with graph.as_default():
    images = tf.placeholder(tf.float32, [BATCH, SMALLEST, SMALLEST, 3])
    logits, end_points = inception_resnet_v2(images, num_classes=NUM_CLASSES,
                                             create_aux_logits=False)
  return Net(graph=graph, images=images, logits=logits, end_points=end_points)


def seeded_weights(variables, seed=0):
  """{variable: value} drawn from a fixed seed, in name order.

  Moving statistics are non-trivial too, so eval mode really uses them.
  """
  rng = np.random.RandomState(seed)
  values = {}
  for var in sorted(variables, key=lambda v: v.op.name):
    name, shape = var.op.name, var.shape.as_list()
    if name.endswith('moving_variance'):
      value = rng.uniform(0.5, 2.0, shape)
    elif name.endswith(('moving_mean', 'beta', 'biases')):
      value = rng.normal(0, 0.1, shape)
    else:  # weights: He-style scale keeps the activations in range
      value = rng.normal(0, np.sqrt(2.0 / np.prod(shape[:-1])), shape)
    values[var] = value.astype(np.float32)
  return values


def load(sess, values):
  """Sets {variable: value} in one run (one Variable.load a variable is slow)."""
  sess.run([var.initializer for var in values],
           {var.initializer.inputs[1]: value for var, value in values.items()})


def random_images(size, channels=3, seed=0):
  return np.random.RandomState(seed).uniform(
      -1, 1, (BATCH, size, size, channels)).astype(np.float32)


# ------------------------------------------------------- checkpoint layout
def test_variables_are_exactly_the_checkpoints(net_299):
  spec = read_spec()
  assert len(spec) == 908
  with net_299.graph.as_default():
    built = var_shapes(tf.global_variables())
  assert sorted(set(built) - set(spec)) == []
  assert sorted(set(spec) - set(built)) == []
  assert {name: shape for name, shape in built.items()
          if spec[name] != shape} == {}


def test_end_point_shapes_at_299(net_299):
  expected = {
      'Conv2d_1a_3x3': [1, 149, 149, 32],
      'Conv2d_2a_3x3': [1, 147, 147, 32],
      'Conv2d_2b_3x3': [1, 147, 147, 64],
      'MaxPool_3a_3x3': [1, 73, 73, 64],
      'Conv2d_3b_1x1': [1, 73, 73, 80],
      'Conv2d_4a_3x3': [1, 71, 71, 192],
      'MaxPool_5a_3x3': [1, 35, 35, 192],
      'Mixed_5b': [1, 35, 35, 320],
      'Mixed_6a': [1, 17, 17, 1088],
      'PreAuxLogits': [1, 17, 17, 1088],
      'AuxLogits': [1, 1001],
      'Mixed_7a': [1, 8, 8, 2080],
      'Conv2d_7b_1x1': [1, 8, 8, 1536],
      'global_pool': [1, 1, 1, 1536],
      'PreLogitsFlatten': [1, 1536],
      'Logits': [1, 1001],
      'Predictions': [1, 1001],
  }
  shapes = {name: t.shape.as_list() for name, t in net_299.end_points.items()}
  assert shapes == expected
  assert net_299.logits is net_299.end_points['Logits']
  assert net_299.end_points['Predictions'].op.type == 'Softmax'
  assert inception_resnet_v2.default_image_size == 299


def test_global_pool_is_an_8x8_average_pool_at_299(net_299):
  pool = net_299.end_points['global_pool'].op
  assert pool.type == 'AvgPool'
  assert pool.name == 'InceptionResnetV2/Logits/AvgPool_1a_8x8/AvgPool'
  assert list(pool.get_attr('ksize')) == [1, 8, 8, 1]
  assert pool.get_attr('padding') == b'VALID'


def _block_ops(graph, block):
  """{name within `block`: op} for the ops directly in `block`.

  The trunk's name scope nests (InceptionResnetV2/InceptionResnetV2/...), so
  blocks are found by the end of their scope name.
  """
  ops = {}
  for op in graph.get_operations():
    head, _, tail = op.name.rpartition('/')
    if head.endswith('/' + block):
      ops[tail] = op
  return ops


def _residual_scale(graph, block):
  """The constant the residual branch of `block` is multiplied by."""
  mul = _block_ops(graph, block)['mul']
  return float(tf.make_ndarray(mul.inputs[1].op.get_attr('value')))


def _has_output_relu(graph, block):
  """Whether `block` applies an activation after its residual sum."""
  return 'Relu' in _block_ops(graph, block)


def test_residual_blocks_scales_and_final_linear_block(net_299):
  graph = net_299.graph
  stacks = [('Repeat/block35_%d', 10, 0.17), ('Repeat_1/block17_%d', 20, 0.10),
            ('Repeat_2/block8_%d', 9, 0.20)]
  for pattern, count, scale in stacks:
    for i in range(1, count + 1):
      assert _residual_scale(graph, pattern % i) == pytest.approx(scale)
      assert _has_output_relu(graph, pattern % i)
  assert _block_ops(graph, 'Repeat/block35_11') == {}
  assert _residual_scale(graph, 'Block8') == 1.0
  assert not _has_output_relu(graph, 'Block8')


def test_relu6_clips_the_residual():
  graph = tf.Graph()
  with graph.as_default():
    net = tf.placeholder(tf.float32, [1, 5, 5, 320])
    out6 = irv2.block35(net, scale=0.17, activation_fn=tf.nn.relu6,
                        scope='six')
    out = irv2.block35(net, scale=0.17, scope='plain')
  assert out6.shape.as_list() == out.shape.as_list() == [1, 5, 5, 320]
  types = {op.name: op.type for op in graph.get_operations()}
  assert types.get('six/clip_by_value') == 'Maximum'
  assert types.get('six/Relu6') == 'Relu6'
  assert not [name for name in types if name.startswith('plain/clip')]


# Outputs of TF-slim's own nets/inception_resnet_v2.py, built like the
# `towers` fixture and loaded with seeded_weights(), on random_images(SMALL).
# Shapes cannot tell a swapped branch or a misplaced activation; these can.
SLIM_EVAL_LOGITS = [
    [-2.0702980, 1.4634628, -5.4962411, 2.2035022, -1.1465737],
    [-2.0115099, 1.5247519, -5.5731120, 2.1886828, -1.0237560]]
SLIM_EVAL_AUX_LOGITS = [
    [-2.78336883, -1.83393228, 1.32225037, -4.00727940, 0.33232912],
    [-2.78041840, -1.89869344, 1.27441919, -3.91849065, 0.33300537]]
SLIM_TRAIN_AUX_LOGITS = [  # batch statistics, no dropout on this head
    [-1.75383592, -0.65283567, 0.70378351, -0.32078490, -0.86271262],
    [0.12589289, -1.02350152, 0.41524157, -0.22098321, 0.12223236]]


def test_outputs_match_tf_slim_for_the_same_weights(towers):
  with towers.graph.as_default():
    weights = seeded_weights(tf.global_variables())
  with towers.session() as sess:
    load(sess, weights)
    got = sess.run([towers.evaluate['Logits'], towers.evaluate['AuxLogits'],
                    towers.train['AuxLogits']],
                   {towers.images: random_images(SMALL)})
  np.testing.assert_allclose(got[0], SLIM_EVAL_LOGITS, rtol=1e-4, atol=1e-4)
  np.testing.assert_allclose(got[1], SLIM_EVAL_AUX_LOGITS, rtol=1e-4, atol=1e-4)
  # Batch statistics of two images amplify rounding: TF 2.x kernels, which sum
  # in another order, land up to 3e-4 away. A wrong branch would be ~0.1 off.
  np.testing.assert_allclose(got[2], SLIM_TRAIN_AUX_LOGITS, rtol=1e-3, atol=1e-3)


# ----------------------------------------------------- training and eval
def test_dropout_drops_in_training_only(towers):
  feed = {towers.images: random_images(SMALL)}
  with towers.session() as sess:
    pool, dropped = sess.run([towers.train['global_pool'],
                              towers.train['PreLogitsFlatten']], feed)
    train_once, train_again = [sess.run(towers.train_logits, feed)
                               for _ in range(2)]
    eval_pool, kept = sess.run([towers.evaluate['global_pool'],
                                towers.evaluate['PreLogitsFlatten']], feed)
    eval_once, eval_again = [sess.run(towers.eval_logits, feed)
                             for _ in range(2)]
  pool = pool.reshape(BATCH, -1)
  # Training: kept units are scaled by 1 / keep_prob = 2, the others zeroed,
  # a fresh draw each run.
  live = pool != 0  # ReLU features can be 0 before any dropout
  zeroed = dropped == 0
  assert 0.3 < zeroed[live].mean() < 0.7
  np.testing.assert_allclose(dropped[~zeroed], 2 * pool[~zeroed], rtol=1e-6)
  assert not np.array_equal(train_once, train_again)
  # Eval: dropout is the identity, so runs repeat exactly.
  np.testing.assert_array_equal(kept, eval_pool.reshape(BATCH, -1))
  np.testing.assert_array_equal(eval_once, eval_again)


def test_batch_norm_uses_batch_statistics_in_training_only(towers):
  images = random_images(SMALL)
  feed = {towers.images: images}
  rng = np.random.RandomState(1)
  with towers.graph.as_default():
    with tf.variable_scope('InceptionResnetV2/Conv2d_1a_3x3/BatchNorm',
                           reuse=True):
      mean_var = tf.get_variable('moving_mean')
      var_var = tf.get_variable('moving_variance')
      beta_var = tf.get_variable('beta')
  with towers.session() as sess:
    moving_mean = rng.normal(0, 0.5, 32).astype(np.float32)
    moving_var = rng.uniform(0.5, 2, 32).astype(np.float32)
    beta = rng.normal(0, 0.1, 32).astype(np.float32)
    load(sess, {mean_var: moving_mean, var_var: moving_var, beta_var: beta})
    raw, train_out, eval_out = sess.run(
        [towers.conv1_raw, towers.train['Conv2d_1a_3x3'],
         towers.evaluate['Conv2d_1a_3x3']], feed)
  eps = 0.001
  # No gamma: the checkpoint's batch norm only shifts.
  batch_mean, batch_var = raw.mean(axis=(0, 1, 2)), raw.var(axis=(0, 1, 2))
  expect_train = np.maximum((raw - batch_mean) / np.sqrt(batch_var + eps)
                            + beta, 0)
  expect_eval = np.maximum((raw - moving_mean) / np.sqrt(moving_var + eps)
                           + beta, 0)
  np.testing.assert_allclose(train_out, expect_train, atol=2e-4)
  np.testing.assert_allclose(eval_out, expect_eval, atol=2e-4)
  assert np.abs(train_out - eval_out).max() > 0.1


def test_training_queues_moving_average_updates(towers):
  with towers.graph.as_default():
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    moving = [v for v in tf.global_variables() if 'moving_' in v.op.name]
    with tf.variable_scope('InceptionResnetV2/Conv2d_1a_3x3/BatchNorm',
                           reuse=True):
      moving_mean = tf.get_variable('moving_mean')
  # One update per moving statistic, all from the training tower.
  assert len(update_ops) == len(moving) == 2 * 206
  assert update_ops == towers.update_ops_one_tower
  feed = {towers.images: random_images(SMALL)}
  with towers.session() as sess:
    before, raw = sess.run([moving_mean, towers.conv1_raw], feed)
    sess.run(update_ops, feed)
    after = sess.run(moving_mean)
  # batch_norm_decay=0.5 in the fixture's arg_scope.
  np.testing.assert_allclose(
      after, 0.5 * before + 0.5 * raw.mean(axis=(0, 1, 2)), atol=1e-5)


def test_reuse_shares_every_variable(towers):
  with towers.graph.as_default():
    assert tf.global_variables() == towers.variables_one_tower
  assert len(towers.variables_one_tower) == 908
  train_op = towers.train['Conv2d_1a_3x3'].op.name
  eval_op = towers.evaluate['Conv2d_1a_3x3'].op.name
  assert train_op.split('/')[0] != eval_op.split('/')[0]  # two towers


def test_num_classes_sets_both_heads(towers):
  for end_points in (towers.train, towers.evaluate):
    assert end_points['Logits'].shape.as_list() == [BATCH, NUM_CLASSES]
    assert end_points['AuxLogits'].shape.as_list() == [BATCH, NUM_CLASSES]
  shapes = var_shapes(towers.variables_one_tower)
  assert shapes['InceptionResnetV2/Logits/Logits/weights'] == [1536, 5]
  assert shapes['InceptionResnetV2/AuxLogits/Logits/weights'] == [768, 5]
  assert shapes['InceptionResnetV2/AuxLogits/Logits/biases'] == [5]
  # At the smallest aux size the auxiliary kernel shrinks to 1x1.
  assert shapes['InceptionResnetV2/AuxLogits/Conv2d_2a_5x5/weights'] == [
      1, 1, 128, 768]
  # All 908 otherwise agree with the checkpoint outside the two heads.
  spec = read_spec()
  heads = ('InceptionResnetV2/Logits/', 'InceptionResnetV2/AuxLogits/')
  assert {n: s for n, s in shapes.items() if not n.startswith(heads)} == {
      n: s for n, s in spec.items() if not n.startswith(heads)}
  with towers.session() as sess:
    probs, logits = sess.run([towers.evaluate['Predictions'], towers.evaluate['Logits']],
                             {towers.images: random_images(SMALL)})
  # Predictions are the softmax of the main head's logits (not the auxiliary head's).
  exp = np.exp(logits - logits.max(axis=1, keepdims=True))
  np.testing.assert_allclose(probs, exp / exp.sum(axis=1, keepdims=True), rtol=1e-4, atol=1e-6)


# ------------------------------------------------------- regularisation
def test_regularisation_losses_come_from_the_arg_scope(net_299, bare_smallest):
  with net_299.graph.as_default():
    losses = tf.losses.get_regularization_losses()
    regularised = [v for v in tf.global_variables()
                   if v.op.name.endswith(('/weights', '/biases'))]
  # Every convolution and fully connected weight and bias, nothing else.
  assert len(regularised) == 248 + 42
  assert len(losses) == len(regularised)
  with bare_smallest.graph.as_default():
    assert tf.losses.get_regularization_losses() == []
    assert tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES) == []
    # Without the arg_scope there is no batch norm either: convs get biases.
    names = [v.op.name for v in tf.global_variables()]
  assert 'InceptionResnetV2/Conv2d_1a_3x3/biases' in names
  assert not [n for n in names if 'BatchNorm' in n]


def test_weight_decay_sets_the_loss(towers):
  with towers.graph.as_default():
    total = tf.add_n(tf.losses.get_regularization_losses())
    regularised = [v for v in tf.global_variables()
                   if v.op.name.endswith(('/weights', '/biases'))]
  with towers.session() as sess:
    total, values = sess.run([total, regularised])
  # weight_decay=0.001 in the fixture's arg_scope; L2 loss is sum(v^2) / 2.
  expected = 0.001 * sum(float(np.sum(np.square(v, dtype=np.float64))) / 2
                         for v in values)
  assert total == pytest.approx(expected, rel=1e-4)


# ------------------------------------------------------ sizes and inputs
def test_smallest_sizes():
  assert irv2.smallest_input_size() == SMALLEST
  assert irv2.smallest_input_size(create_aux_logits=True) == SMALL
  assert irv2.smallest_input_size('PreAuxLogits') == 43
  assert irv2.smallest_input_size(align_feature_maps=True) == 1


def test_smallest_input_without_aux_head_builds(bare_smallest):
  shapes = {n: t.shape.as_list() for n, t in bare_smallest.end_points.items()}
  assert shapes['PreAuxLogits'] == [BATCH, 3, 3, 1088]
  assert shapes['Conv2d_7b_1x1'] == [BATCH, 1, 1, 1536]
  assert shapes['Logits'] == [BATCH, NUM_CLASSES]
  assert 'AuxLogits' not in shapes
  with bare_smallest.graph.as_default():
    names = [v.op.name for v in tf.global_variables()]
  assert not [n for n in names if 'AuxLogits' in n]
  with bare_smallest.session() as sess:
    logits = sess.run(bare_smallest.logits,
                      {bare_smallest.images: random_images(SMALLEST)})
  assert logits.shape == (BATCH, NUM_CLASSES)
  assert np.all(np.isfinite(logits))


@pytest.mark.parametrize('height, width, aux, smallest', [
    (SMALL - 1, SMALL - 1, True, SMALL),
    (SMALL, SMALL - 1, True, SMALL),
    (SMALLEST, SMALLEST, True, SMALL),
    (SMALLEST - 1, SMALLEST - 1, False, SMALLEST),
    (299, SMALLEST - 1, False, SMALLEST),
    (None, 60, False, SMALLEST),
])
def test_too_small_inputs_raise(height, width, aux, smallest):
  graph = tf.Graph()
  with graph.as_default():
    images = tf.placeholder(tf.float32, [1, height, width, 3])
    size = '%sx%s' % ('?' if height is None else height, width)
    with pytest.raises(ValueError, match=re.escape(
        'inputs of %s are too small for Inception-ResNet-V2: the smallest is '
        '%dx%d' % (size, smallest, smallest))):
      inception_resnet_v2(images, create_aux_logits=aux)
    assert tf.global_variables() == []  # refused before building anything


def test_aux_head_needs_a_known_size():
  with tf.Graph().as_default():
    images = tf.placeholder(tf.float32, [1, None, None, 3])
    with pytest.raises(ValueError, match='create_aux_logits=False'):
      inception_resnet_v2(images)


def test_unknown_size_pools_with_a_mean(gray_any_size):
  pool = gray_any_size.end_points['global_pool']
  assert pool.op.type == 'Mean'
  assert pool.shape.as_list() == [None, 1, 1, 1536]
  with gray_any_size.session() as sess:
    for size in (SMALLEST, 90):
      logits = sess.run(gray_any_size.logits,
                        {gray_any_size.images: random_images(size, 1)})
      assert logits.shape == (BATCH, 1001)


def test_grayscale_restores_all_but_the_first_convolution(gray_any_size):
  with gray_any_size.graph.as_default():
    built = var_shapes(tf.global_variables())
    to_restore = var_shapes(slim.get_variables_to_restore(
        exclude=['InceptionResnetV2/Conv2d_1a_3x3']))
  assert built['InceptionResnetV2/Conv2d_1a_3x3/weights'] == [3, 3, 1, 32]
  spec = read_spec()
  # Everything but the first convolution (and the aux head, not built here)
  # restores from the checkpoint with the checkpoint's shape.
  assert to_restore == {
      n: s for n, s in spec.items()
      if not n.startswith(('InceptionResnetV2/Conv2d_1a_3x3/',
                           'InceptionResnetV2/AuxLogits/'))}
