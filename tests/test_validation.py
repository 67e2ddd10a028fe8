# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Validation while training, the best checkpoint, early stopping, --checkpoint best|latest.

One real run of the small network (small_network.py) is shared: it cannot
improve (learning rate 0, batch-norm statistics held by a decay of 1), so its
validations are all equal and early stopping ends it after the patience. The
rest runs on small graphs or no graph at all.
"""
import glob
import logging
import os

import numpy as np
import pytest

import export_flowers
import predict_flowers
import small_network as stand_in
import train_flowers
from test_bad_inputs import assert_one_error, copy_records
from test_train_flowers import event_values
from tf_compat import slim, tf
from tiny_data import HEADS_ONLY, IMAGE_SIZE, read_record, train_flags
from transfer import best_checkpoint, exporting, run_record
from transfer.training import model_selection, validation

pytestmark = pytest.mark.xdist_group('validation')
PATIENCE = 2
# 32 training images in batches of 8: 4 steps an epoch.
STEPS_PER_EPOCH = 4
CANNOT_IMPROVE = dict(from_scratch=True, batch_size=8, num_epochs=6, initial_learning_rate=0,
                      batch_norm_decay=1, validation_every_n_epochs=1,
                      early_stopping_patience=PATIENCE, **HEADS_ONLY)


@pytest.fixture(scope='module')
def stopped(records, tmp_path_factory):
  """The run that cannot improve, with the lines TensorFlow logged."""
  log_dir = str(tmp_path_factory.mktemp('stopped') / 'log')
  lines = []

  class Collect(logging.Handler):
    def emit(self, record):
      lines.append(record.getMessage())

  handler, logger = Collect(), logging.getLogger('tensorflow')
  logger.addHandler(handler)
  try:
    with stand_in.installed():
      result = train_flowers.train(**train_flags(records, log_dir, **CANNOT_IMPROVE))
  finally:
    logger.removeHandler(handler)
  return dict(log_dir=log_dir, result=result, lines=lines,
              record=read_record(log_dir, model_selection.SECTION))


def test_a_run_that_cannot_improve_stops_after_the_patience(stopped):
  # Epoch 1 is the best; epochs 2 and 3 are no better: the run stops after epoch 3.
  last = (1 + PATIENCE) * STEPS_PER_EPOCH
  assert stopped['result']['global_step'] == last
  assert tf.train.latest_checkpoint(stopped['log_dir']).endswith('model.ckpt-%d' % last)
  validated = [l for l in stopped['lines'] if l.startswith('Epoch') and ': validation' in l]
  assert [l.split(':')[0] for l in validated] == ['Epoch 1/6', 'Epoch 2/6', 'Epoch 3/6']
  record = stopped['record']
  assert (record['best_epoch'], record['best_step'], record['last_epoch']) == (1, 4, 3)
  assert record['validations_since_best'] == PATIENCE and record['stopped_early']
  assert record['best_checkpoint'] == os.path.join('best', 'model.ckpt-4')
  said = [l for l in stopped['lines'] if l.startswith('Early stopping')]
  assert said == ['Early stopping: 2 validations without a better one; the best was epoch 1 '
                  '(step 4): validation accuracy %.4f, loss %.4f, kept in %s.'
                  % (record['best_accuracy'], record['best_loss'],
                     best_checkpoint.folder(stopped['log_dir']))]


def test_validation_goes_on_the_epoch_line_and_into_tensorboard(stopped):
  accuracy = event_values(stopped['log_dir'], 'validation/accuracy')
  loss = event_values(stopped['log_dir'], 'validation/loss')
  assert sorted(accuracy) == sorted(loss) == [4, 8, 12]  # the global steps of epochs 1-3
  record = stopped['record']
  # Nothing can change: every pass gives the same figures, the ones each epoch's line shows.
  assert list(accuracy.values()) == pytest.approx([record['best_accuracy']] * 3)
  assert list(loss.values()) == pytest.approx([record['best_loss']] * 3)
  line = [l for l in stopped['lines'] if l.startswith('Epoch 2/6: validation')][0]
  assert ('validation accuracy %.4f (balanced %.4f), loss %.4f (8 images, '
          % (record['best_accuracy'], record['best_balanced_accuracy'],
             record['best_loss'])) in line
  balanced = event_values(stopped['log_dir'], 'validation/balanced_accuracy')
  assert list(balanced.values()) == pytest.approx([record['best_balanced_accuracy']] * 3)
  assert line.endswith('the best: epoch 1, %.4f' % record['best_accuracy'])


def test_the_best_checkpoint_holds_the_models_variables_and_its_scores(stopped):
  folder = best_checkpoint.folder(stopped['log_dir'])
  best = tf.train.latest_checkpoint(folder)
  assert best == os.path.join(folder, 'model.ckpt-4')
  # What eval restores, no optimizer slot: the model's variables and the step.
  assert {n for n, _ in tf.train.list_variables(best)} == (
      stand_in.model_variable_names() | {'global_step'})
  assert tf.train.load_checkpoint(best).get_tensor('global_step') == 4
  info = best_checkpoint.info_of(best)
  assert info == dict(epoch=1, step=4, accuracy=stopped['record']['best_accuracy'],
                      loss=stopped['record']['best_loss'],
                      balanced_accuracy=stopped['record']['best_balanced_accuracy'])
  assert sorted(os.listdir(folder)) == ['checkpoint', 'model.ckpt-4.data-00000-of-00001',
                                        'model.ckpt-4.index', best_checkpoint.INFO]
  assert not glob.glob(folder + '.*')  # no staging folder left


def test_a_rerun_of_a_stopped_run_trains_nothing(stopped, records, caplog, small_network):
  caplog.set_level(logging.INFO)
  result = train_flowers.train(**train_flags(records, stopped['log_dir'], **CANNOT_IMPROVE))
  assert result['global_step'] == 12 and np.isnan(result['loss'])
  assert ('stopped early after epoch 3, 2 validations after its best (epoch 1' in caplog.text and
          'pass a larger --early_stopping_patience' in caplog.text)


def test_checkpoint_best_or_latest_and_checkpoint_file_wins(stopped, tmp_path, capsys,
                                                            monkeypatch):
  log_dir = stopped['log_dir']
  best = os.path.join(best_checkpoint.folder(log_dir), 'model.ckpt-4')
  latest = os.path.join(log_dir, 'model.ckpt-12')
  said_best = ('Using the best checkpoint %s, validation accuracy %.4f at epoch 1 (--checkpoint '
               'latest: the last one).' % (best, stopped['record']['best_accuracy']))
  # predict names its checkpoint before it reads any photo: an empty one here, skipped
  # unread, so no graph is built (and nothing classified: exit 1).
  empty = tmp_path / 'empty.jpg'
  empty.write_bytes(b'')
  for flags, line in (([], said_best), (['--checkpoint', 'best'], said_best),
                      (['--checkpoint', 'latest'], 'Using the latest checkpoint %s (--checkpoint '
                                                   'best: %s).' % (latest, best))):
    assert predict_flowers.main(['--log_dir', log_dir, str(empty)] + flags) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == line, flags
    # The settings of a best checkpoint come from the log dir above best/.
    assert err[1].startswith('Settings from %s: ' % run_record.record_path(log_dir))
  used = []
  monkeypatch.setattr(exporting, 'write_export', lambda out, checkpoint, *rest: used.append(
      checkpoint) or {})
  # --checkpoint_file wins, and is the user's own choice: no line names it.
  for flags, said in (([], 'Using the best'), (['--checkpoint', 'latest'], 'Using the latest'),
                      (['--checkpoint', 'best', '--checkpoint_file', latest], None)):
    assert export_flowers.main(['--log_dir', log_dir, '--output_dir',
                                str(tmp_path / 'export')] + flags) == 0
    lines = [l for l in capsys.readouterr().err.splitlines() if l.startswith('Using the')]
    assert lines == [] if said is None else lines[0].startswith(said), (flags, lines)
  assert used == [best, latest, latest]


def test_checkpoint_best_without_a_best_checkpoint_is_one_error_line(tmp_path, capsys):
  log_dir = str(tmp_path / 'log')
  os.makedirs(os.path.join(log_dir, 'best'))  # an empty one counts for nothing
  (tmp_path / 'empty.jpg').write_bytes(b'')  # a photo there: predict looks for the checkpoint
  code = predict_flowers.main(['--log_dir', log_dir, '--checkpoint', 'best',
                               str(tmp_path / 'empty.jpg')])
  assert_one_error(code, capsys.readouterr().err, '--checkpoint best',
                   best_checkpoint.folder(log_dir), '--checkpoint latest')


# ---------------------------------------------------------------- bad inputs
@pytest.mark.parametrize('extra, words', [
    (('--early_stopping_patience', '2', '--validation_every_n_epochs', '0'),
     ('--early_stopping_patience', '--validation_every_n_epochs 0')),
    (('--early_stopping_patience', '-1'), ('--early_stopping_patience', '0 or more')),
    (('--validation_every_n_epochs', '-2'), ('--validation_every_n_epochs', '0 or more')),
    (('--validation_batch_size', '0'), ('--validation_batch_size', 'positive')),
    (('--early_stopping_patience', '2', '--validation_every_n_epochs', '1', '--ps_hosts',
      'localhost:1', '--worker_hosts', 'localhost:2', '--job_name', 'worker'),
     ('--early_stopping_patience', 'cluster')),
])
def test_bad_validation_flags_get_one_error_line(records, tmp_path, capsys, extra, words):
  log_dir = str(tmp_path / 'log')
  try:
    code = train_flowers.main(['--dataset_dir', records, '--log_dir', log_dir,
                               '--image_size', str(IMAGE_SIZE)] + list(extra))
  except SystemExit as e:  # refused when the flags are parsed or the settings built
    code = e.code
  assert_one_error(code, capsys.readouterr().err, *words)
  assert not os.path.exists(log_dir)


@pytest.mark.parametrize('shards', ['none', 'empty'])
def test_without_a_validation_split_early_stopping_is_refused_and_validation_is_off(
    records, tmp_path, capsys, caplog, shards):
  data = copy_records(records, tmp_path)
  for path in glob.glob(os.path.join(data, 'flowers_validation_*')):
    os.remove(path)
    if shards == 'empty':  # as an older converter wrote them for --validation_size 0
      open(path, 'wb').close()
  log_dir = str(tmp_path / 'log')
  code = train_flowers.main(['--dataset_dir', data, '--log_dir', log_dir, '--image_size',
                             str(IMAGE_SIZE), '--from_scratch', '--validation_every_n_epochs',
                             '1', '--early_stopping_patience', '3'])
  assert_one_error(code, capsys.readouterr().err, '--early_stopping_patience', data,
                   'no validation records', '--validation_size')
  assert not os.path.exists(log_dir)
  # Without early stopping the run trains on, unvalidated, and says so in one line.
  settings = train_flowers.make_settings(dataset_dir=data, log_dir=log_dir,
                                         validation_every_n_epochs=1)
  caplog.set_level(logging.INFO)
  assert validation.find_split(settings, train_flowers.get_split) == (None, False)
  assert [r.getMessage() for r in caplog.records if 'validation' in r.getMessage()] == [
      'No validation records in %s: no validation while training, and no best checkpoint.'
      % data]


# ---------------------------------------------------------------- small graphs
def test_validation_reads_the_moving_averages_and_the_best_holds_no_slot():
  with tf.Graph().as_default():
    w = slim.model_variable('w', initializer=tf.constant(1.0))
    step = tf.train.get_or_create_global_step()
    ema = tf.train.ExponentialMovingAverage(0.5)
    with tf.control_dependencies([tf.train.AdamOptimizer().minimize(w * w, step)]):
      ema.apply([w])
    with tf.variable_scope(tf.get_variable_scope(), reuse=True,
                           custom_getter=validation._averaged_getter()):
      averaged = slim.model_variable('w', initializer=tf.constant(1.0))
    with tf.variable_scope(tf.get_variable_scope(), reuse=True):
      raw = slim.model_variable('w', initializer=tf.constant(1.0))
    assert averaged is ema.average(w) and raw is w
    assert validation.best_variables(True) == {'w': w, 'w/ExponentialMovingAverage': averaged,
                                               'global_step': step}
    assert validation.best_variables(False) == {'w': w, 'global_step': step}


def test_each_pass_reads_every_image_once_and_a_signal_stops_it_between_batches():
  with tf.Graph().as_default():
    iterator = tf.data.make_initializable_iterator(tf.data.Dataset.range(10).batch(3))
    batch = iterator.get_next()  # batches of 3, 3, 3 and 1
    # Every image of class 0, predicted right for the images 0-3; "loss": its number.
    right = tf.reduce_sum(tf.cast(batch < 4, tf.int64))
    confusion = tf.stack([tf.stack([right, tf.size(batch, out_type=tf.int64) - right]),
                          tf.zeros([2], tf.int64)])
    graph = validation.ValidationGraph(
        iterator.initializer, confusion, tf.reduce_sum(tf.cast(batch, tf.float64)),
        tf.size(batch), 10, None)
    with tf.Session() as sess:
      passes = [validation.run_pass(sess, graph) for _ in range(2)]
      assert [(p.images, p.accuracy, p.loss, p.balanced_accuracy) for p in passes] == [
          (10, 0.4, 4.5, 0.4)] * 2
      asked = []
      assert validation.run_pass(sess, graph, lambda: asked.append(1) or len(asked) > 1) is None
      assert len(asked) == 2  # before the first batch, then the signal came


class Recorded(object):
  """A Supervisor's summary_computed, keeping (step, {tag: value})."""

  def __init__(self):
    self.summaries = []

  def summary_computed(self, sess, summary, global_step):
    self.summaries.append((global_step, {v.tag: v.simple_value for v in summary.value}))


@pytest.fixture
def tiny_graph():
  """A session of a graph with one model variable `w`, the step and a best saver."""
  with tf.Graph().as_default():
    w = slim.model_variable('w', initializer=tf.constant(0.0))
    value = tf.placeholder(tf.float32, [])
    assign = w.assign(value)
    tf.train.get_or_create_global_step()
    graph = validation.ValidationGraph(None, None, None, None, 8, best_checkpoint.saver_of(
        validation.best_variables(False)))
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      yield sess, graph, lambda v: sess.run(assign, {value: v})


def selection_of(tiny_graph, log_dir, scores, every=2, patience=0, selection=None,
                 validate_first=True, monkeypatch=None):
  """A ModelSelection of 7 epochs whose passes read the epoch off the weights (w = the step)
  and give its `scores` ({epoch: (accuracy, loss)})."""
  _, graph, _ = tiny_graph

  def scored_pass(sess, unused_graph, unused_should_stop):
    accuracy, loss = scores[int(sess.run('w:0')) // STEPS_PER_EPOCH]
    return validation.Result(accuracy, loss, 8, 0.1, accuracy)
  monkeypatch.setattr(validation, 'run_pass', scored_pass)
  settings = validation.ValidationSettings(every, None, patience)
  return model_selection.ModelSelection(settings, graph, log_dir, STEPS_PER_EPOCH, 7,
                                        selection or model_selection.Selection(),
                                        validate_first)


def run_steps(selection, tiny_graph, steps, sv):
  """Calls the selection as the loop does, with w set to the step; returns the stop step."""
  sess, _, set_w = tiny_graph
  for step in steps:
    set_w(step)
    stop = (selection.begin(sess, sv, step) if step == steps[0] else
            selection.after_step(sess, sv, step))
    if stop:
      return step
  return None


def test_every_n_epochs_after_the_last_and_the_head_as_epoch_0(tiny_graph, tmp_path,
                                                                monkeypatch):
  log_dir = str(tmp_path)
  # Epoch 4 ties epoch 2 with a lower loss: better. Epoch 6 ties with a higher one: not.
  scores = {0: (0.5, 0.7), 2: (0.75, 0.6), 4: (0.75, 0.5), 6: (0.75, 0.55), 7: (0.25, 0.9)}
  selection = selection_of(tiny_graph, log_dir, scores, monkeypatch=monkeypatch)
  sv = Recorded()
  assert run_steps(selection, tiny_graph, list(range(0, 29)), sv) is None
  assert [step for step, _ in sv.summaries] == [0, 8, 16, 24, 28]
  assert sv.summaries[2][1] == {'validation/accuracy': 0.75, 'validation/balanced_accuracy': 0.75,
                                'validation/loss': 0.5}
  best = best_checkpoint.find(log_dir)
  assert best == os.path.join(log_dir, 'best', 'model.ckpt-16')
  assert tf.train.load_checkpoint(best).get_tensor('w') == 16  # the weights of step 16
  record = run_record.read_section(log_dir, model_selection.SECTION)[0]
  assert (record['best_epoch'], record['last_epoch'], record['validations_since_best']) == (4, 7, 2)
  assert not record['stopped_early']

  # Resumed at the last step: nothing is due. Resumed where epoch 6 was never validated: it is.
  resumed = model_selection.resume(log_dir, 'a checkpoint')
  assert resumed == selection.selection
  again = selection_of(tiny_graph, log_dir, scores, selection=resumed, monkeypatch=monkeypatch)
  assert run_steps(again, tiny_graph, [28], sv) is None and len(sv.summaries) == 5
  missed = selection_of(tiny_graph, log_dir, scores, selection=resumed._replace(last_epoch=5),
                        monkeypatch=monkeypatch)
  assert run_steps(missed, tiny_graph, [24], sv) is None and sv.summaries[-1][0] == 24


def test_early_stopping_counts_validations_across_a_resume(tiny_graph, tmp_path, monkeypatch):
  log_dir = str(tmp_path)
  scores = {epoch: (0.5, 0.7) for epoch in range(8)}
  first = selection_of(tiny_graph, log_dir, scores, every=1, patience=3, validate_first=False,
                       monkeypatch=monkeypatch)
  assert run_steps(first, tiny_graph, list(range(0, 9)), Recorded()) is None  # epochs 1, 2
  resumed = model_selection.resume(log_dir, 'a checkpoint')
  assert resumed.validations_since_best == 1 and not resumed.stops(3)
  again = selection_of(tiny_graph, log_dir, scores, every=1, patience=3, selection=resumed,
                       monkeypatch=monkeypatch)
  assert run_steps(again, tiny_graph, list(range(8, 29)), Recorded()) == 16  # epochs 3, 4
  stopped = model_selection.resume(log_dir, 'a checkpoint')
  assert stopped.stopped_early and stopped.stops(3) and not stopped.stops(4)
  assert not model_selection.resume(log_dir, None).stops(3)  # no checkpoint: a fresh run


def test_a_crash_at_any_moment_leaves_the_old_best_or_the_new_one_whole(tiny_graph, tmp_path,
                                                                        monkeypatch):
  sess, graph, set_w = tiny_graph
  real_rename = os.rename
  # The renames of a save: staging -> best.new, best -> best.old, best.new -> best.
  for crash_at in range(3):
    log_dir = str(tmp_path / str(crash_at))
    set_w(1)
    best_checkpoint.save(sess, graph.saver, log_dir, 1, {'step': 1})
    set_w(2)
    calls = []

    def crashing_rename(src, dst):
      calls.append(src)
      if len(calls) > crash_at:
        raise OSError('crash')
      real_rename(src, dst)
    monkeypatch.setattr(os, 'rename', crashing_rename)
    with pytest.raises(OSError):
      best_checkpoint.save(sess, graph.saver, log_dir, 2, {'step': 2})
    monkeypatch.setattr(os, 'rename', real_rename)
    found = best_checkpoint.find(log_dir)
    # The old best until the new one is whole beside it; then the new one.
    expected = 1 if crash_at == 0 else 2
    assert found.endswith('model.ckpt-%d' % expected), (crash_at, found)
    assert tf.train.load_checkpoint(found).get_tensor('w') == expected
    assert best_checkpoint.info_of(found) == {'step': expected}
    best_checkpoint.settle(log_dir)
    assert sorted(os.listdir(log_dir)) == ['best']
    assert best_checkpoint.find(log_dir).endswith('best/model.ckpt-%d' % expected)


def test_weighted_classes_choose_the_best_on_balanced_accuracy():
  # The second validation is less accurate, but its classes are better balanced.
  first = validation.Result(0.9, 1.0, 8, 0.1, 0.5)
  second = validation.Result(0.8, 1.0, 8, 0.1, 0.7)
  plain, _ = model_selection.Selection().after(1, 4, first, 0)
  assert not plain.after(2, 8, second, 0)[1]
  weighted, _ = model_selection.Selection().after(1, 4, first, 0, model_selection.BALANCED)
  again, improved = weighted.after(2, 8, second, 0, model_selection.BALANCED)
  assert improved and (again.best_epoch, again.best_balanced_accuracy) == (2, 0.7)
