# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Clones and clusters: the same update as one tower, and real ps/worker processes.

The cluster tests start 1 ps and 2 workers as subprocesses on free loopback
ports, each bounded by a timeout, and kill whatever is left in a finally.
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
import tensorflow.compat.v1 as tf
import tf_slim as slim

import distributed
import eval_flowers
import train_flowers
from inception_resnet_v2 import inception_resnet_v2, inception_resnet_v2_arg_scope
from tiny_data import IMAGE_SIZE, REPO, train_args

TRAIN_IMAGES = 32  # the `records` fixture


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
  code = train_flowers.main(['--dataset_dir', records, '--log_dir', str(log_dir),
                             '--from_scratch'] + flags)
  err = capsys.readouterr().err.strip()
  assert code == 1
  assert len(err.splitlines()) == 1 and err.startswith('error: '), err
  assert named in err
  assert not log_dir.exists()


# ---------------------------------------------------------------- clones
def frozen_bn_model(images, labels):
  """The network at 75x75 without the auxiliary head, batch norm frozen (no dropout)."""
  with slim.arg_scope(inception_resnet_v2_arg_scope()):
    logits, end_points = inception_resnet_v2(images, num_classes=3, is_training=False,
                                             create_aux_logits=False)
  tf.losses.softmax_cross_entropy(tf.one_hot(labels, 3), logits)
  return end_points


def one_sgd_step(deploy, images, labels, checkpoint, save):
  """Loss, gradients by name and weight changes of one SGD step from `checkpoint`'s weights."""
  with tf.Graph().as_default():
    deploy.create_clones(frozen_bn_model, tf.constant(images), tf.constant(labels))
    optimizer = tf.train.GradientDescentOptimizer(0.5)
    total_loss, grads = deploy.optimize_clones(optimizer)
    train_op = deploy.create_train_op(deploy.total_loss(), optimizer)
    weights = {v.op.name: v for v in tf.trainable_variables()}
    saver = tf.train.Saver()
    with tf.Session() as sess:
      if save:
        sess.run(tf.global_variables_initializer())
        saver.save(sess, checkpoint)
      else:
        saver.restore(sess, checkpoint)
      loss, grad_values, before = sess.run(
          [total_loss, {v.op.name: g for g, v in grads}, weights])
      sess.run(train_op)
      after = sess.run(weights)
  return loss, grad_values, {n: after[n] - before[n] for n in weights}


def test_two_clones_make_the_step_of_one_tower_of_the_whole_batch(tmp_path):
  rng = np.random.RandomState(0)
  images = rng.uniform(-1, 1, (4, 75, 75, 3)).astype(np.float32)
  labels = np.array([0, 2, 1, 2])
  checkpoint = str(tmp_path / 'start.ckpt')
  one = one_sgd_step(distributed.Deployment(), images, labels, checkpoint, save=True)
  two = one_sgd_step(distributed.Deployment(num_clones=2, clone_on_cpu=True), images, labels,
                     checkpoint, save=False)
  assert two[0] == pytest.approx(one[0], rel=1e-5)
  assert set(two[1]) == set(one[1]) and len(one[1]) > 200
  for name, grad in one[1].items():
    np.testing.assert_allclose(two[1][name], grad, rtol=1e-3, atol=1e-6, err_msg=name)
  moved = 0
  for name, delta in one[2].items():
    np.testing.assert_allclose(two[2][name], delta, rtol=1e-3, atol=1e-6, err_msg=name)
    moved += bool(np.abs(delta).max() > 0)
  assert moved > 200


def test_clone_graph_devices_and_batch_norm_updates_of_the_first_clone(records):
  args = train_args(records, 'unused', '--num_clones', '2', '--clone_on_cpu')
  with tf.Graph().as_default() as graph:
    g = train_flowers.build_training_graph(args)
    ops = graph.get_operations()
    # What the train op runs, found by walking its inputs back.
    needed, todo = set(), [g.train_op.op]
    while todo:
      op = todo.pop()
      if op.name not in needed:
        needed.add(op.name)
        todo.extend(t.op for t in op.inputs)
        todo.extend(op.control_inputs)
  moving = [n for n in needed if 'AssignMovingAvg' in n and n.endswith('AssignMovingAvg')]
  assert moving and all(n.startswith('clone_0/') for n in moving), moving[:3]
  assert any(o.name.startswith('clone_1/InceptionResnetV2/') for o in ops)
  assert all(o.device == '/device:CPU:0' for o in ops if o.name.startswith('clone_1/'))
  # The variables are shared: their names are those of one tower.
  with tf.Graph().as_default():
    train_flowers.build_training_graph(train_args(records, 'unused'))
    single = {v.op.name for v in tf.global_variables()}
  assert {v.op.name for v in graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)} == single


def test_two_clones_on_cpu_train_and_evaluate(records, tmp_path):
  log_dir = str(tmp_path / 'log')
  result = train_flowers.train(train_args(
      records, log_dir, '--num_clones', '2', '--clone_on_cpu', '--from_scratch',
      '--num_epochs', '1', '--batch_norm_decay', '0.5'))
  # Each step takes a batch of 2 for each clone.
  assert result['global_step'] == TRAIN_IMAGES // (2 * 2)
  assert tf.train.latest_checkpoint(log_dir).endswith('model.ckpt-8')
  evaluated = eval_flowers.evaluate(eval_flowers.build_parser().parse_args(
      ['--dataset_dir', records, '--log_dir', log_dir, '--log_eval', str(tmp_path / 'eval'),
       '--image_size', str(IMAGE_SIZE), '--num_epochs', '1', '--batch_size', '8']))
  assert evaluated['confusion'].sum() == 8


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
    hosts = ['127.0.0.1:%d' % p for p in self.ports]
    self.log_dir = os.path.join(work, 'log')
    common = [sys.executable, os.path.join(REPO, 'train_flowers.py'),
              '--ps_hosts', hosts[0], '--worker_hosts', ','.join(hosts[1:]),
              '--dataset_dir', records, '--log_dir', self.log_dir, '--from_scratch',
              '--image_size', str(IMAGE_SIZE), '--batch_size', '4', '--num_epochs', '1',
              '--batch_norm_decay', '0.5', '--summary_every_n_steps', '2'] + list(flags)
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

  def wait(self, timeout):
    """Waits for every process; returns {name: exit code}."""
    deadline = time.time() + timeout
    for name, proc in self.procs.items():
      try:
        proc.wait(max(deadline - time.time(), 1))
      except subprocess.TimeoutExpired:
        pytest.fail('%s still running after %d s; its log ends:\n%s'
                    % (name, timeout, self.log(name)[-3000:]))
    return {name: proc.returncode for name, proc in self.procs.items()}

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


def test_async_cluster_trains_and_the_chief_checkpoint_evaluates(cluster, records, tmp_path):
  c = cluster('--cluster_timeout_secs', '300')
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
  out = subprocess.run(
      [sys.executable, os.path.join(REPO, 'eval_flowers.py'), '--dataset_dir', records,
       '--log_dir', c.log_dir, '--log_eval', str(tmp_path / 'eval'), '--image_size',
       str(IMAGE_SIZE), '--num_epochs', '1', '--batch_size', '8'],
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300, cwd=str(tmp_path))
  assert out.returncode == 0, out.stderr.decode()[-3000:]
  assert re.search(r'Final Streaming Accuracy: [01]\.\d{4}', out.stdout.decode())


def test_sync_cluster_counts_aggregated_updates(cluster):
  c = cluster('--sync_replicas', '--cluster_timeout_secs', '300')
  codes = c.wait(900)
  assert_all_exit_zero(c, codes)
  # Each update aggregates one batch of 4 from each of the 2 workers.
  updates = int(math.ceil(TRAIN_IMAGES / 8.0))
  assert checkpoint_step(c.log_dir) == updates
  steps = [own_steps(c.log('worker0')), own_steps(c.log('worker1'))]
  # Every update took 2 gradients; a few more can be dropped as stale.
  assert sum(steps) >= 2 * updates - 2 and min(steps) >= 1, steps


def test_killed_worker_ends_the_sync_run_with_a_clear_message(cluster):
  # 3 epochs: 12 updates, enough to outlast the kill, few if the chief goes on alone.
  epochs = 3
  c = cluster('--sync_replicas', '--num_epochs', str(epochs), '--cluster_timeout_secs', '20')
  deadline = time.time() + 900
  while 'global step' not in c.log('worker1'):
    assert time.time() < deadline and c.procs['worker0'].poll() is None, c.log('worker0')[-3000:]
    time.sleep(1)
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
