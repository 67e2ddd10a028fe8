# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""TF-slim's training knobs: optimizers, decay types, the loss, clipping, moving averages."""
import json
import math
import os
import shutil

import numpy as np
import pytest

import eval_flowers
import export_flowers
import predict_flowers
import small_network as stand_in
import train_flowers
from inception_resnet_v2 import LOGITS_LAYER_SCOPE
from test_export_flowers import PHOTOS, load_in_fresh_process
from test_predict_flowers import write_mixed_photos
from tf_compat import slim, tf
from tiny_data import HEADS_ONLY, IMAGE_SIZE, command_settings, read_record, train_flags
from transfer import averages, checkpoints, model, model_settings, run_record
from transfer.deployment import clones
from transfer.deployment.config import DeploymentConfig
from transfer.errors import UsageError
from transfer.training import bottleneck_head, learning_rate, losses, optimizers, schedule

# The fixtures below are shared by the module's tests: one xdist worker runs them all.
pytestmark = pytest.mark.xdist_group('knobs')

# The slots TensorFlow's optimizers make, the names TF-slim's checkpoints hold.
SLOTS = {'adadelta': ('Adadelta', 'Adadelta_1'), 'adagrad': ('Adagrad',),
         'adam': ('Adam', 'Adam_1'), 'ftrl': ('Ftrl', 'Ftrl_1'), 'momentum': ('Momentum',),
         'rmsprop': ('RMSProp', 'RMSProp_1'), 'sgd': ()}
LOGITS = 'InceptionResnetV2/Logits/Logits/weights'
AUX_WEIGHTS = 'InceptionResnetV2/AuxLogits/Logits/weights'
DECAY = 0.5
# A run that moves the weights far in few steps, so that averages and raw weights differ,
# on the same batches under any load (the small network's weights moved 1e-3 at rate 0.01).
KNOBS = dict(optimizer='rmsprop', learning_rate_decay_type='fixed', initial_learning_rate=0.1,
             moving_average_decay=DECAY, aux_loss_weight=0.4, label_smoothing=0.1,
             clip_gradient_norm=100, seed=7, deterministic_input=True)


def settings(**flags):
  """The TrainSettings of the flags (the others at their defaults), checked and completed."""
  return train_flowers.make_settings(**flags)


# ---------------------------------------------------------------- optimizers
@pytest.mark.parametrize('name', sorted(SLOTS))
def test_each_optimizer_trains_two_steps_and_saves_tf_slims_slot_names(name, tmp_path):
  optimizer_settings = settings(optimizer=name).optimizer
  with tf.Graph().as_default():
    images = tf.constant(np.random.RandomState(0).uniform(-1, 1, (4, 8, 8, 3)), tf.float32)
    labels = tf.constant([0, 1, 2, 1])

    def tower(images, labels):
      net = slim.conv2d(images, 4, 3, scope='conv')
      logits = slim.fully_connected(slim.flatten(net), 3, activation_fn=None, scope='fc')
      losses.classification_loss(logits, {}, labels, 3)
      return {}
    towers = clones.create_clones(DeploymentConfig(), tower, images, labels)
    optimizer = optimizers.configure_optimizer(optimizer_settings, 0.1)
    train_op, _ = clones.create_train_op(towers, optimizer)
    weights = slim.get_model_variables('fc')[0]
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      before = sess.run(weights)
      for _ in range(2):
        sess.run(train_op)
      assert np.abs(sess.run(weights) - before).max() > 0
      path = tf.train.Saver().save(sess, str(tmp_path / 'model.ckpt'))
  stored = {n for n, _ in tf.train.list_variables(path)}
  expected = {'fc/weights/' + slot for slot in SLOTS[name]}
  assert {n for n in stored if n.startswith('fc/weights/')} == expected
  assert tf.train.load_checkpoint(path).get_tensor('global_step') == 2


def test_the_defaults_are_the_seeds_adam_and_tf_slims_values():
  s = settings()
  o, lr, loss = s.optimizer, s.learning_rate, s.loss
  assert (o.optimizer, o.adam_beta1, o.adam_beta2, o.opt_epsilon) == ('adam', 0.9, 0.999, 1e-8)
  assert o.momentum is None and o.rmsprop_decay is None  # not this optimizer's
  assert (lr.learning_rate_decay_type, lr.learning_rate_decay_factor,
          lr.num_epochs_before_decay) == ('exponential', 0.7, 2)
  assert (loss.label_smoothing, loss.weight_decay, loss.aux_loss_weight,
          loss.clip_gradient_norm, s.moving_average_decay) == (0, 0.00004, 0, 0, None)
  rms = settings(optimizer='rmsprop').optimizer
  assert (rms.rmsprop_momentum, rms.rmsprop_decay, rms.opt_epsilon) == (0.9, 0.9, 1.0)


def test_the_head_phase_trains_with_the_runs_optimizer():
  with tf.Graph().as_default():
    s = settings(optimizer='momentum', head_epochs=1)
    bottleneck_head._build_head(3, s.head.head_learning_rate, s.optimizer, s.loss)
    names = {v.op.name for v in tf.global_variables()}
  assert LOGITS_LAYER_SCOPE + '/weights/Momentum' in names
  assert not [n for n in names if n.endswith('/Adam')]


# ---------------------------------------------------------------- learning rate
@pytest.mark.parametrize('flags, formula', [
    ({}, lambda s: 0.1 * 0.7 ** (s // 4)),
    (dict(learning_rate_decay_type='polynomial', end_learning_rate=0.02),
     lambda s: (0.1 - 0.02) * (1 - min(s, 4) / 4.0) + 0.02),
    (dict(learning_rate_decay_type='fixed'), lambda s: 0.1),
])
def test_each_decay_type_follows_its_formula(flags, formula):
  # Two steps an epoch, a decay every two epochs: the rate changes every 4 steps.
  lr_settings = settings(initial_learning_rate=0.1, **flags).learning_rate
  epoch_steps = 2
  with tf.Graph().as_default():
    step = tf.train.get_or_create_global_step()
    lr = learning_rate.configure_learning_rate(
        lr_settings, int((lr_settings.num_epochs_before_decay or 0) * epoch_steps), step)
    with tf.Session() as sess:
      for s in (0, 5, 13):
        sess.run(step.assign(s))
        assert sess.run(lr) == pytest.approx(formula(s), rel=1e-6), (flags, s)


# ---------------------------------------------------------------- loss and gradients
def test_label_smoothing_changes_the_loss_by_the_formula():
  rng = np.random.RandomState(1)
  logits = rng.normal(0, 2, (6, 5)).astype(np.float32)
  labels = rng.randint(0, 5, 6)
  eps = 0.2
  with tf.Graph().as_default():
    plain = losses.classification_loss(tf.constant(logits), {}, tf.constant(labels), 5)
    smoothed = losses.classification_loss(tf.constant(logits), {}, tf.constant(labels), 5,
                                          label_smoothing=eps)
    with tf.Session() as sess:
      plain, smoothed = sess.run([plain, smoothed])
  log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
  # Targets (1 - eps) one_hot + eps / K: the loss moves by eps (mean -log p - (-log p_y)).
  expected = eps * np.mean(-log_p.mean(1) + log_p[np.arange(6), labels])
  assert smoothed - plain == pytest.approx(expected, rel=1e-4)
  assert abs(expected) > 1e-2


@pytest.fixture(scope='module')
def network():
  """The small network at IMAGE_SIZE in inference mode (no dropout), weight decay 0.01, on
  a fixed batch: its losses at three aux loss weights, and one clipped SGD step."""
  clip = 1e-3
  with tf.Graph().as_default(), stand_in.installed():
    tf.set_random_seed(5)
    images = tf.constant(np.random.RandomState(2).uniform(-1, 1, (2, IMAGE_SIZE, IMAGE_SIZE, 3)),
                         tf.float32)
    labels = tf.constant([0, 2])
    scopes = {0.0: 'aux_0', 0.4: 'aux_4', 0.8: 'aux_8'}

    def tower(images, labels):
      logits, end_points = model.build_model(images, 3, is_training=False, weight_decay=0.01)
      for weight, scope in scopes.items():
        with tf.name_scope(scope):  # each call adds its own losses, under its scope
          losses.classification_loss(logits, end_points, labels, 3, aux_loss_weight=weight)
      return end_points
    towers = clones.create_clones(DeploymentConfig(), tower, images, labels)
    aux = [v for v in tf.global_variables() if v.op.name == AUX_WEIGHTS]
    gradients = {w: tf.gradients(tf.add_n(tf.losses.get_losses(s)), aux)[0]
                 for w, s in scopes.items()}
    weights = [v for v in tf.trainable_variables() if v.op.name.endswith('/weights')]
    fetch = dict(total=tf.losses.get_total_loss(), data=tf.add_n(tf.losses.get_losses()),
                 l2=tf.add_n([tf.nn.l2_loss(w) for w in weights]),
                 gradients={w: g for w, g in gradients.items() if g is not None})
    top = [v for v in tf.trainable_variables() if v.op.name.startswith(
        ('InceptionResnetV2/Conv2d_1a_3x3', 'InceptionResnetV2/Logits'))]
    unclipped = tf.global_norm(tf.gradients(tf.losses.get_total_loss(), top))
    # Plain SGD at rate 1: the update is minus the (clipped) gradient.
    train_op, _ = clones.create_train_op(towers, tf.train.GradientDescentOptimizer(1.0), top,
                                         losses.gradient_clipper(clip))
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      values = sess.run(fetch)
      before, norm = sess.run([top, unclipped])
      sess.run(train_op)
      after = sess.run(top)
  moved = math.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(after, before)))
  return dict(values, aux_without_weight=gradients[0.0], clip=clip, unclipped=norm,
              moved=moved)


def test_the_aux_loss_weight_scales_the_gradient_of_the_auxlogits_weights(network):
  assert network['aux_without_weight'] is None  # the tutorial's loss: AuxLogits get no gradient
  light, heavy = network['gradients'][0.4], network['gradients'][0.8]
  assert np.abs(light).max() > 0
  np.testing.assert_allclose(heavy, 2 * light, rtol=1e-4, atol=1e-9)


def test_weight_decay_appears_in_the_total_loss(network):
  # The regularisers add weight_decay * sum(w^2) / 2 over every weight tensor.
  assert network['total'] - network['data'] == pytest.approx(0.01 * network['l2'], rel=1e-4)
  assert 0.01 * network['l2'] > 1e-3 * network['total']


def test_clipping_bounds_the_global_norm_of_the_update(network):
  assert network['unclipped'] > 10 * network['clip']
  assert network['moved'] == pytest.approx(network['clip'], rel=1e-3)


# ---------------------------------------------------------------- moving averages
# Of the small network (tests/small_network.py): each test that builds a graph from
# this run's checkpoints takes the fixture small_network.
@pytest.fixture(scope='module')
def knob_run(records, tmp_path_factory):
  """RMSProp with moving averages, the aux loss, smoothing and clipping for 8 steps; then
  one more step at learning rate 0, resumed."""
  log_dir = str(tmp_path_factory.mktemp('knobs') / 'log')
  with stand_in.installed():
    train_flowers.train(**train_flags(records, log_dir, from_scratch=True, num_epochs=1,
                                      batch_size=4, **dict(KNOBS, **HEADS_ONLY)))
    first = tf.train.latest_checkpoint(log_dir)
    first_values = {name: tf.train.load_checkpoint(first).get_tensor(name)
                    for name in (LOGITS, averages.shadow_name(LOGITS))}
    # SGD: RMSProp's momentum would still move the weights. One step a batch of 32.
    resumed = train_flowers.train(**train_flags(
        records, log_dir, num_epochs=9, batch_size=32, allow_changed_schedule=True,
        **dict(KNOBS, optimizer='sgd', initial_learning_rate=0, **HEADS_ONLY)))
  checkpoint = tf.train.latest_checkpoint(log_dir)
  return dict(log_dir=log_dir, first=first, first_values=first_values, resumed=resumed,
              checkpoint=checkpoint, reader=tf.train.load_checkpoint(checkpoint))


def test_the_run_saves_every_average_and_the_optimizers_slots(knob_run):
  stored = dict(tf.train.list_variables(knob_run['first']))
  # Every model variable's, the batch-norm moving statistics' too.
  assert all(averages.shadow_name(n) in stored for n in stand_in.model_variable_names())
  assert {LOGITS + '/RMSProp', LOGITS + '/RMSProp_1'} <= set(stored)
  assert AUX_WEIGHTS + '/RMSProp' in stored  # the aux loss gives AuxLogits a gradient
  raw, average = (knob_run['first_values'][n] for n in (LOGITS, averages.shadow_name(LOGITS)))
  assert np.abs(raw - average).max() > 1e-3


def test_resuming_keeps_the_averages(knob_run):
  # At learning rate 0 the weights stay, and the step takes each average
  # DECAY of the way it still had to go to them.
  assert knob_run['resumed']['global_step'] == 9
  weights = knob_run['reader'].get_tensor(LOGITS)
  np.testing.assert_array_equal(weights, knob_run['first_values'][LOGITS])
  before = knob_run['first_values'][averages.shadow_name(LOGITS)]
  np.testing.assert_allclose(knob_run['reader'].get_tensor(averages.shadow_name(LOGITS)) -
                             weights, (before - weights) * DECAY, atol=1e-7)


def test_the_knobs_are_recorded_and_a_changed_one_is_refused(knob_run, records, small_network):
  stored = read_record(knob_run['log_dir'], 'schedule')
  # The resumed run's: SGD, at rate 0.
  assert (stored['optimizer'], stored['rmsprop_decay'], stored['initial_learning_rate']) == (
      'sgd', None, 0)
  assert (stored['learning_rate_decay_type'], stored['learning_rate_decay_factor']) == (
      'fixed', None)
  assert (stored['label_smoothing'], stored['aux_loss_weight'], stored['clip_gradient_norm'],
          stored['moving_average_decay'], stored['weight_decay']) == (0.1, 0.4, 100, DECAY,
                                                                      0.00004)
  assert model_settings.load(knob_run['log_dir'])['moving_average_decay'] == DECAY
  for flag, old, new in (('label_smoothing', '0.1', '0.2'), ('optimizer', 'sgd', 'adam')):
    flags = dict(KNOBS, num_epochs=10, batch_size=32, initial_learning_rate=0, optimizer='sgd',
                 **HEADS_ONLY)
    flags[flag] = new
    with pytest.raises(UsageError, match='%s %s -> %s' % (flag, old, new)):
      train_flowers.train(**train_flags(records, knob_run['log_dir'], **flags))


def test_eval_restores_the_averages_by_default(knob_run, capsys, small_network):
  # (--no_moving_average: through predict, below.)
  eval_settings = eval_flowers.take_settings(
      command_settings(eval_flowers, log_dir=knob_run['log_dir']))
  assert eval_settings.moving_averages
  assert ('Using the moving averages of the weights in %s' % knob_run['checkpoint']
          in capsys.readouterr().err)
  with tf.Graph().as_default():
    restored = eval_flowers.build_eval_graph(eval_settings)['variables_to_restore']
  assert restored[averages.shadow_name(LOGITS)].op.name == LOGITS
  assert restored['global_step'].op.name == 'global_step'
  assert LOGITS not in restored


def averaged_copy(checkpoint, folder):
  """The checkpoint's moving averages saved under the raw names, with the log dir's settings."""
  reader = tf.train.load_checkpoint(checkpoint)
  os.makedirs(folder)
  for name in (run_record.FILENAME, model_settings.LABELS_COPY):
    shutil.copy(os.path.join(os.path.dirname(checkpoint), name), folder)
  with tf.Graph().as_default():
    feed, copies = {}, []
    for name, shape in tf.train.list_variables(checkpoint):
      if name.endswith(averages.SUFFIX) or '/RMSProp' in name:
        continue
      source = averages.shadow_name(name)
      value = reader.get_tensor(source if reader.has_tensor(source) else name)
      placeholder = tf.placeholder(tf.as_dtype(value.dtype), shape)
      feed[placeholder] = value
      copies.append(tf.Variable(placeholder, name=name))
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer(), feed)
      return tf.train.Saver(copies).save(sess, os.path.join(folder, 'model.ckpt'))


@pytest.fixture(scope='module')
def predictions(knob_run, tmp_path_factory):
  """predict_flowers' probabilities: by default, with --no_moving_average, and of a copy
  holding the averages as its raw weights."""
  root = tmp_path_factory.mktemp('knob_predictions')
  write_mixed_photos(str(root / 'photos'))
  photos = [str(root / 'photos' / name) for name in PHOTOS]  # what the SavedModel decodes
  copy = averaged_copy(knob_run['checkpoint'], str(root / 'averaged'))

  def predict(name, *argv):
    json_path = str(root / (name + '.json'))
    assert predict_flowers.main(list(argv) + ['--output_json', json_path] + photos) == 0
    with open(json_path) as f:
      images = json.load(f)['images']
    return np.array([[dict(zip(i['indices'], i['probabilities']))[c] for c in (0, 1)]
                     for i in images])
  with stand_in.installed():
    return dict(photos=photos,
                default=predict('default', '--log_dir', knob_run['log_dir']),
                raw=predict('raw', '--log_dir', knob_run['log_dir'], '--no_moving_average'),
                averaged=predict('averaged', '--checkpoint_file', copy, '--no_moving_average'))


def test_predict_uses_the_averages_by_default(predictions):
  np.testing.assert_allclose(predictions['default'], predictions['averaged'], atol=1e-5,
                             rtol=0)
  # Apart by far more than the tolerance above (9e-4 on TF 2.x once, 1e-5 allowed).
  assert np.abs(predictions['default'] - predictions['raw']).max() > 1e-4


def test_the_saved_models_probabilities_come_from_the_averages(predictions, knob_run,
                                                              tmp_path, capsys, small_network):
  out = str(tmp_path / 'export')
  assert export_flowers.main(['--log_dir', knob_run['log_dir'], '--output_dir', out]) == 0
  assert 'Using the moving averages of the weights in' in capsys.readouterr().err
  result = load_in_fresh_process('saved_model_v1', out, predictions['photos'],
                                 str(tmp_path / 'o.npz'))
  np.testing.assert_allclose(result['probabilities'], predictions['averaged'], atol=1e-5,
                             rtol=0)


def test_which_weights_a_command_uses_and_the_line_it_prints(tmp_path):
  with tf.Graph().as_default():
    tf.Variable(1.0, name='w')
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      plain = tf.train.Saver().save(sess, str(tmp_path / 'plain.ckpt'))
  assert averages.choose(plain, False, None) == (False, None)
  use, line = averages.choose(plain, False, 0.999)
  assert not use and line == ('%s holds no moving averages although its run keeps them '
                              '(--moving_average_decay 0.999): using its raw weights.' % plain)
  with tf.Graph().as_default():
    tf.Variable(1.0, name='w')
    tf.Variable(2.0, name='w' + averages.SUFFIX)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      averaged = tf.train.Saver().save(sess, str(tmp_path / 'averaged.ckpt'))
  assert averages.choose(averaged, True, 0.999) == (
      False, 'Using the raw weights of %s (--no_moving_average).' % averaged)
  assert averages.choose(averaged, False, None)[0]


def test_a_head_checkpoint_gives_the_averages_its_own_weights(tmp_path):
  log_dir = str(tmp_path)
  with tf.Graph().as_default():
    slim.model_variable('w', initializer=tf.constant([3.0, 4.0]))
    tf.train.get_or_create_global_step()
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      path = tf.train.Saver().save(sess, os.path.join(log_dir, 'model.ckpt'), global_step=0)
  schedule.save_schedule(log_dir, {'head_checkpoint': os.path.basename(path)})
  with tf.Graph().as_default():
    slim.model_variable('w', initializer=tf.zeros_initializer(), shape=[2])
    ema, variables = averages.for_training(0.9, tf.train.get_or_create_global_step())
    ema.apply(variables)
    assert checkpoints.missing_training_variables(path, tf.global_variables())
    checkpoints.complete_checkpoint(path, tf.global_variables())
  np.testing.assert_array_equal(
      tf.train.load_checkpoint(path).get_tensor(averages.shadow_name('w')), [3.0, 4.0])
