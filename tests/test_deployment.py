# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Clones and clusters: the same update as one tower, and real ps/worker processes.

The cluster tests start 1 ps and 2 workers as subprocesses on free loopback
ports, each bounded by a timeout, and kill whatever is left in a finally. They
train the small stand-in network (small_network.py), whose every step lasts
CLUSTER_STEP_SECONDS: long enough that both workers take part and a kill or
signal lands mid-run, as with the whole network, whose graphs would take most
of each test to build.
"""
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

import eval_flowers
import small_network as stand_in
import train_flowers
from test_train_flowers import build_graph
from tf_compat import slim, tf
from tiny_data import (HEADS_ONLY, HEADS_ONLY_ARGV, IMAGE_SIZE, REPO, read_record, train_flags,
                       train_settings)
from transfer import averages
from transfer.deployment import clones
from transfer.deployment.config import DeploymentConfig
from transfer.training import control

TRAIN_IMAGES = 32  # the `records` fixture
CLUSTER_STEP_SECONDS = 1.0
STEP_LINE = re.compile(r'step (\d+)/(\d+): loss [-\d.naif]+, [\d.]+ images/s, ETA ')


# ---------------------------------------------------------------- flags
@pytest.mark.parametrize('flags, named', [
    (['--job_name', 'worker'], '--ps_hosts'),
    (['--ps_hosts', '127.0.0.1:1', '--worker_hosts', '127.0.0.1:2', '--job_name', 'worker',
      '--task_index', '1'], '--task_index 1'),
    (['--ps_hosts', 'nohostport', '--worker_hosts', '127.0.0.1:2', '--job_name', 'ps'],
     '--ps_hosts'),
    (['--sync_replicas'], '--sync_replicas'),
    (['--replicas_to_aggregate', '3'], '--replicas_to_aggregate'),
    (['--num_clones', '2'], '--clone_on_cpu'),
])
def test_bad_cluster_flags_get_one_line(records, tmp_path, capsys, flags, named):
  log_dir = tmp_path / 'log'
  try:
    code = train_flowers.main(['--dataset_dir', records, '--log_dir', str(log_dir),
                               '--from_scratch'] + flags)
  except SystemExit as e:  # refused when the settings are built: the parser's error line
    code = e.code
  err = capsys.readouterr().err.strip()
  assert code == 1
  assert len(err.splitlines()) == 1 and err.startswith('error: '), err
  assert named in err
  assert not log_dir.exists()


def test_the_config_is_immutable_and_derives_devices_and_counts():
  alone = DeploymentConfig()
  assert alone.is_chief and not alone.cluster and not alone.cloned
  assert alone.clone_device(0) == '' and alone.variables_device() is None
  with pytest.raises(AttributeError):
    alone.num_clones = 2
  two = DeploymentConfig(num_clones=2, clone_on_cpu=True)
  assert two.clone_device(1) == '/device:CPU:0' and two.variables_device() == '/device:CPU:0'
  assert two.images_per_update(8) == 16
  worker = DeploymentConfig(ps_hosts=['h:1'], worker_hosts=['h:2', 'h:3'], job_name='worker',
                            task_index=1, sync_replicas=True)
  assert not worker.is_chief and worker.worker_device == '/job:worker/task:1'
  assert worker.replicas == 2 and worker.images_per_update(4) == 8
  assert worker.cluster_spec().as_dict() == {'ps': ['h:1'], 'worker': ['h:2', 'h:3']}


# ---------------------------------------------------------------- clones
def frozen_bn_model(images, labels):
  """The small network, batch norm frozen (no dropout)."""
  logits, end_points = stand_in.build_model(images, 3, is_training=False)
  tf.losses.softmax_cross_entropy(tf.one_hot(labels, 3), logits)
  return end_points


def one_sgd_step(config, images, labels, checkpoint, save):
  """Loss and weight changes of one SGD step from `checkpoint`'s weights.

  With plain SGD a weight's change is the learning rate times its (summed)
  gradient, so equal changes mean equal gradients.
  """
  with tf.Graph().as_default():
    towers = clones.create_clones(config, frozen_bn_model, tf.constant(images),
                                  tf.constant(labels))
    train_op, total_loss = clones.create_train_op(
        towers, tf.train.GradientDescentOptimizer(0.5))
    weights = {v.op.name: v for v in tf.trainable_variables()}
    saver = tf.train.Saver()
    with tf.Session() as sess:
      if save:
        sess.run(tf.global_variables_initializer())
        saver.save(sess, checkpoint)
      else:
        saver.restore(sess, checkpoint)
      before = sess.run(weights)
      loss = sess.run(train_op)  # the loss of the weights before the step
      after = sess.run(weights)
  return loss, {n: after[n] - before[n] for n in weights}


def test_two_clones_make_the_step_of_one_tower_of_the_whole_batch(tmp_path):
  rng = np.random.RandomState(0)
  images = rng.uniform(-1, 1, (4, 75, 75, 3)).astype(np.float32)
  labels = np.array([0, 2, 1, 2])
  checkpoint = str(tmp_path / 'start.ckpt')
  one = one_sgd_step(DeploymentConfig(), images, labels, checkpoint, save=True)
  two = one_sgd_step(DeploymentConfig(num_clones=2, clone_on_cpu=True), images, labels,
                     checkpoint, save=False)
  assert two[0] == pytest.approx(one[0], rel=1e-5)
  assert set(two[1]) == set(one[1])
  moved = 0
  for name, delta in one[1].items():
    np.testing.assert_allclose(two[1][name], delta, rtol=1e-3, atol=1e-6, err_msg=name)
    moved += bool(np.abs(delta).max() > 0)
  # All but the aux head's biases: without an aux loss only weight decay moves its weights.
  assert moved == len(one[1]) - 1


def test_clone_graph_devices_updates_and_regularisers(records, small_network):
  settings = train_settings(records, 'unused', num_clones=2, clone_on_cpu=True,
                            moving_average_decay=0.9, weight_decay=0.003, **HEADS_ONLY)
  with tf.Graph().as_default() as graph:
    g = build_graph(settings)
    ops = graph.get_operations()
    # What the train op runs, found by walking its inputs back.
    needed, todo = set(), [g.train_op.op]
    while todo:
      op = todo.pop()
      if op.name not in needed:
        needed.add(op.name)
        todo.extend(t.op for t in op.inputs)
        todo.extend(op.control_inputs)
    model_names = [v.op.name for v in slim.get_model_variables()]
    # --weight_decay reaches every regulariser of the network.
    scales = {float(tf.make_ndarray(op.get_attr('value'))) for op in ops
              if op.type == 'Const' and op.name.endswith('/l2_regularizer/scale')}
  assert len(scales) == 1 and scales.pop() == pytest.approx(0.003)
  moving = [n for n in needed if 'AssignMovingAvg' in n and n.endswith('AssignMovingAvg')]
  weight_averages = [n for n in moving if n.startswith('ExponentialMovingAverage/')]
  batch_norm = [n for n in moving if n not in weight_averages]
  assert batch_norm and all(n.startswith('clone_0/') for n in batch_norm), batch_norm[:3]
  # The weights' moving averages: one update a variable, whatever the clones.
  assert len([n for n in needed if re.match(
      r'ExponentialMovingAverage/AssignMovingAvg(_\d+)?$', n)]) == len(model_names)
  assert any(o.name.startswith('clone_1/InceptionResnetV2/') for o in ops)
  assert all(o.device == '/device:CPU:0' for o in ops if o.name.startswith('clone_1/'))
  # One step trains a batch of 2 for each clone: an epoch of 32 images is 8 steps.
  assert g.steps_per_epoch == TRAIN_IMAGES // (2 * 2)


@pytest.fixture(scope='module')
def two_clones(records, tmp_path_factory, monkeypatch_module):
  """Two clones on the CPU train the small network's heads for an epoch and validate it; the
  control's images a step kept."""
  log_dir = str(tmp_path_factory.mktemp('clones') / 'log')
  seen = []
  real = control.TrainingControl

  def recording(settings, images_per_step, *rest):
    seen.append(images_per_step)
    return real(settings, images_per_step, *rest)

  monkeypatch_module.setattr(control, 'TrainingControl', recording)
  with stand_in.installed():
    result = train_flowers.train(**train_flags(
        records, log_dir, num_clones=2, clone_on_cpu=True, from_scratch=True, num_epochs=1,
        batch_norm_decay=0.5, validation_every_n_epochs=1, **HEADS_ONLY))
  monkeypatch_module.undo()
  return dict(log_dir=log_dir, result=result, images_per_step=seen)


@pytest.fixture(scope='module')
def monkeypatch_module():
  patch = pytest.MonkeyPatch()
  yield patch
  patch.undo()


def model_variables(checkpoint):
  """The variable names of a checkpoint, less the optimizer's slots."""
  return {n for n, _ in tf.train.list_variables(checkpoint)
          if not n.endswith(('/Adam', '/Adam_1')) and not n.startswith('beta')}


@pytest.mark.xdist_group('clones')
def test_two_clones_on_cpu_train_share_variables_and_evaluate(two_clones, records, tmp_path,
                                                              capsys, small_network):
  # Each step takes a batch of 2 for each clone, and the progress lines count all 4.
  assert two_clones['result']['global_step'] == TRAIN_IMAGES // (2 * 2)
  assert two_clones['images_per_step'] == [4]
  latest = tf.train.latest_checkpoint(two_clones['log_dir'])
  assert latest.endswith('model.ckpt-8')
  # The variables are shared: their names are those of one tower.
  assert model_variables(latest) == stand_in.model_variable_names() | {'global_step'}
  evaluated = eval_flowers.evaluate(
      dataset_dir=records, log_dir=two_clones['log_dir'], log_eval=str(tmp_path / 'eval'),
      image_size=IMAGE_SIZE, num_epochs=1, batch_size=8)
  assert evaluated['confusion'].sum() == 8
  # The validation of the epoch measured what eval measures, on the best checkpoint it kept.
  best = read_record(two_clones['log_dir'], 'validation')
  assert best['best_checkpoint'] == os.path.join('best', 'model.ckpt-8')
  assert 'Using the best checkpoint %s' % os.path.join(
      two_clones['log_dir'], best['best_checkpoint']) in capsys.readouterr().err
  assert evaluated['accuracy'] == pytest.approx(best['best_accuracy'])


@pytest.mark.xdist_group('clones')
def test_resuming_with_another_clone_count_is_refused(two_clones, records, capsys,
                                                     small_network):
  stored = read_record(two_clones['log_dir'], 'schedule')
  assert stored['num_clones'] == 2 and stored['replicas_to_aggregate'] == 1
  code = train_flowers.main(['--dataset_dir', records, '--log_dir', two_clones['log_dir'],
                             '--image_size', str(IMAGE_SIZE), '--batch_size', '2',
                             '--num_epochs', '2'] + list(HEADS_ONLY_ARGV))
  err = capsys.readouterr().err.strip()
  assert code == 1 and len(err.splitlines()) == 1, err
  assert 'num_clones 2 -> 1' in err and '--allow_changed_schedule' in err


# ---------------------------------------------------------------- clusters
def free_ports(count):
  """Ports the kernel just handed out on 127.0.0.1 (closed again)."""
  sockets = [socket.socket() for _ in range(count)]
  try:
    for s in sockets:
      s.bind(('127.0.0.1', 0))
    return [s.getsockname()[1] for s in sockets]
  finally:
    for s in sockets:
      s.close()


def listening_ports():
  """Ports some process listens on (TCP, IPv4 and IPv6)."""
  ports = set()
  for table in ('/proc/net/tcp', '/proc/net/tcp6'):
    if os.path.exists(table):
      with open(table) as f:
        for line in f.readlines()[1:]:
          fields = line.split()
          if fields[3] == '0A':  # LISTEN
            ports.add(int(fields[1].rsplit(':', 1)[1], 16))
  return ports


def processes_mentioning(text):
  """Pids whose command line contains `text`."""
  pids = []
  for pid in filter(str.isdigit, os.listdir('/proc')):
    try:
      with open('/proc/%s/cmdline' % pid, 'rb') as f:
        if text.encode() in f.read():
          pids.append(int(pid))
    except OSError:
      pass
  return pids


class Cluster(object):
  """1 ps and 2 workers of train_flowers.py on loopback, each logging to a file."""

  def __init__(self, work, records, *flags):
    self.work = work
    self.ports = free_ports(3)
    self.hosts = ['127.0.0.1:%d' % p for p in self.ports]
    self.log_dir = os.path.join(work, 'log')
    common = [sys.executable, stand_in.__file__, '--step_seconds',
              str(CLUSTER_STEP_SECONDS), os.path.join(REPO, 'train_flowers.py'),
              '--ps_hosts', self.hosts[0], '--worker_hosts', ','.join(self.hosts[1:]),
              '--dataset_dir', records, '--log_dir', self.log_dir, '--from_scratch',
              '--image_size', str(IMAGE_SIZE), '--batch_size', '4', '--num_epochs', '1',
              '--batch_norm_decay', '0.5', '--summary_every_n_steps', '2',
              '--log_every_n_steps', '1'] + list(HEADS_ONLY_ARGV) + list(flags)
    self.procs, self.logs = {}, {}
    for name, job, task in (('ps', 'ps', 0), ('worker0', 'worker', 0), ('worker1', 'worker', 1)):
      path = os.path.join(work, name + '.log')
      self.logs[name] = path
      with open(path, 'wb') as log:
        self.procs[name] = subprocess.Popen(common + ['--job_name', job, '--task_index', str(task)],
                                            stdout=log, stderr=subprocess.STDOUT, cwd=work)

  def log(self, name):
    with open(self.logs[name], errors='replace') as f:
      return f.read()

  def wait_for_steps(self, name, timeout=600):
    """Waits until worker `name` logged a training step."""
    deadline = time.time() + timeout
    while not STEP_LINE.search(self.log(name)):
      for other, proc in self.procs.items():
        assert proc.poll() is None, '%s exited early:\n%s' % (other, self.log(other)[-3000:])
      assert time.time() < deadline, self.log(name)[-3000:]
      time.sleep(0.5)

  def wait(self, timeout, names=None):
    """Waits for the processes (all by default); returns {name: exit code}."""
    deadline = time.time() + timeout
    names = names or list(self.procs)
    for name in names:
      try:
        self.procs[name].wait(max(deadline - time.time(), 1))
      except subprocess.TimeoutExpired:
        pytest.fail('%s still running after %d s; its log ends:\n%s'
                    % (name, timeout, self.log(name)[-3000:]))
    return {name: self.procs[name].returncode for name in names}

  def kill_all(self):
    for proc in self.procs.values():
      if proc.poll() is None:
        proc.kill()
        proc.wait(30)


@pytest.fixture
def cluster(records, tmp_path):
  """Starts a cluster with the given flags; kills what remains at the end."""
  started = []

  def start(*flags):
    started.append(Cluster(str(tmp_path), records, *flags))
    return started[-1]

  yield start
  for c in started:
    c.kill_all()
    assert not processes_mentioning(c.log_dir)
    assert not set(c.ports) & listening_ports()


def own_steps(log):
  return int(re.search(r'worker \d ran (\d+) training steps', log).group(1))


def checkpoint_step(log_dir):
  return int(tf.train.latest_checkpoint(log_dir).rsplit('-', 1)[1])


def assert_all_exit_zero(c, codes):
  for name, code in codes.items():
    assert code == 0, '%s exited %s:\n%s' % (name, code, c.log(name)[-3000:])


def test_async_cluster_trains_and_the_chief_checkpoint_evaluates(cluster, records, tmp_path,
                                                                 small_network):
  c = cluster('--cluster_timeout_secs', '300', '--validation_every_n_epochs', '1')
  codes = c.wait(900)
  assert_all_exit_zero(c, codes)
  total = int(math.ceil(TRAIN_IMAGES / 4.0))  # every worker's step is an update
  steps = [own_steps(c.log('worker0')), own_steps(c.log('worker1'))]
  assert min(steps) >= 1, steps
  final = checkpoint_step(c.log_dir)
  # A worker finishes the step it started when the other reached the total.
  assert total <= final <= total + 1
  assert sum(steps) == final
  assert 'all workers are done' in c.log('ps')
  # The chief's progress lines, the one training loop's: step/total, images/s, ETA.
  assert STEP_LINE.search(c.log('worker0'))
  # The chief alone validates the epoch, and keeps the best checkpoint.
  assert 'Epoch 1/1: validation accuracy' in c.log('worker0')
  assert 'validation accuracy' not in c.log('worker1')
  assert tf.train.latest_checkpoint(os.path.join(c.log_dir, 'best'))
  # Only the log dir: the chief records the image size and the data.
  result = eval_flowers.evaluate(log_dir=c.log_dir, log_eval=str(tmp_path / 'eval'),
                                 num_epochs=1, batch_size=8)
  assert result['confusion'].sum() == 8


def test_sync_cluster_counts_aggregated_updates(cluster):
  c = cluster('--sync_replicas', '--cluster_timeout_secs', '300', '--moving_average_decay',
              '0.9')
  codes = c.wait(900)
  assert_all_exit_zero(c, codes)
  # Each update aggregates one batch of 4 from each of the 2 workers.
  updates = int(math.ceil(TRAIN_IMAGES / 8.0))
  assert checkpoint_step(c.log_dir) == updates
  # The chief's update keeps the weights' moving averages.
  reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(c.log_dir))
  logits = 'InceptionResnetV2/Logits/Logits/weights'
  assert np.abs(reader.get_tensor(logits) -
                reader.get_tensor(logits + averages.SUFFIX)).max() > 0
  steps = [own_steps(c.log('worker0')), own_steps(c.log('worker1'))]
  # Every update took 2 gradients; a few more can be dropped as stale.
  assert sum(steps) >= 2 * updates - 2 and min(steps) >= 1, steps
  assert read_record(c.log_dir, 'schedule')['replicas_to_aggregate'] == 2


def test_killed_worker_ends_the_sync_run_with_a_clear_message(cluster):
  # 3 epochs: 12 updates, enough to outlast the kill, few if the chief goes on alone.
  epochs = 3
  c = cluster('--sync_replicas', '--num_epochs', str(epochs), '--cluster_timeout_secs', '20')
  c.wait_for_steps('worker1')
  c.procs['worker1'].send_signal(signal.SIGKILL)
  codes = c.wait(400)  # the chief's 20 s, then every process's exit on a loaded machine
  chief = c.log('worker0')
  assert 'Traceback' not in chief and 'never used' not in chief, chief[-3000:]
  # SyncReplicasOptimizer takes any 2 gradients for an update, so the chief
  # may go on alone, 2 steps an update; or it may wait on a token the killed
  # worker took, until --cluster_timeout_secs. Either way it says so.
  if codes['worker0'] == 0:
    assert ('1 of the 1 other workers did not report done within 20 s (--cluster_timeout_secs)'
            in chief)
    assert checkpoint_step(c.log_dir) == int(math.ceil(TRAIN_IMAGES / 8.0)) * epochs
  else:
    assert codes['worker0'] == 1, chief[-3000:]
    errors = [l for l in chief.splitlines() if l.startswith('error: ')]
    assert len(errors) == 1 and 'worker' in errors[0] and '--cluster_timeout_secs' in errors[0]
  # The chief told the ps to stop.
  assert codes['ps'] == 0
  assert 'never reported done' in c.log('ps')


def test_sigterm_saves_on_the_chief_and_ends_a_worker_whose_ps_is_gone(cluster):
  # Long enough that nothing ends by itself; the deadlines are far away.
  c = cluster('--num_epochs', '200', '--cluster_timeout_secs', '600')
  c.wait_for_steps('worker0')
  c.wait_for_steps('worker1')
  # The chief, like a process alone, saves the step it finished and stops.
  c.procs['worker0'].send_signal(signal.SIGTERM)
  codes = c.wait(300, ['worker0'])
  chief = c.log('worker0').strip().splitlines()
  assert codes['worker0'] == 143, chief[-30:]
  saved = checkpoint_step(c.log_dir)
  assert chief[-1] == ('stopped by SIGTERM after step %d; saved %s: run the same command to '
                       'resume' % (saved, os.path.join(c.log_dir, 'model.ckpt-%d' % saved)))
  # The other worker now waits on a ps that is gone, in its step or (TF 2.x) in
  # closing the session after the step failed: a signal still ends it within the
  # watchdog's few seconds. Or the failed step ends it first, with an error.
  c.procs['ps'].send_signal(signal.SIGKILL)
  c.wait(60, ['ps'])
  c.procs['worker1'].send_signal(signal.SIGTERM)
  codes = c.wait(60, ['worker1'])
  last = c.log('worker1').strip().splitlines()[-1]
  if codes['worker1'] == 143:
    assert last == ('stopped by SIGTERM while the cluster cannot answer (ps task 0 at %s '
                    'does not answer): nothing saved' % c.hosts[0])
  else:
    assert codes['worker1'] == 1, last
    assert last.startswith('error: worker 1 lost a task of the cluster'), last
