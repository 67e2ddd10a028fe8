# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""More devices, more machines: model clones and ps/worker clusters on TF's own runtime.

Clones (--num_clones N): N towers of the model share one set of variables, each
takes its own batch, and their losses are averaged and their gradients summed,
in the spirit of TF-slim's deployment/model_deploy.

A cluster (--ps_hosts, --worker_hosts, --job_name, --task_index): the variables
live on the ps tasks (`replica_device_setter`), worker 0 is the chief (restores,
writes summaries and checkpoints), and --sync_replicas aggregates the workers'
gradients with `SyncReplicasOptimizer`; without it training is asynchronous. A
ps task serves until every worker has put a token in its done-queue.

    python train_flowers.py --num_clones 4               # 4 GPUs on one machine
    python train_flowers.py --ps_hosts h0:2222 --worker_hosts h1:2222,h2:2222 \\
        --job_name worker --task_index 0                 # one task of a cluster
"""
from __future__ import absolute_import, division, print_function

import atexit
import contextlib
import gc
import re
import time

import tensorflow.compat.v1 as tf
import tf_slim as slim

import cli
from cli import UsageError

# ================ CLONES AND CLUSTERS ================
# Towers of the model on this machine's devices, each with its own batch.
num_clones = 1
# Put every clone on the CPU (machines without GPUs, tests).
clone_on_cpu = False
# Comma-separated host:port lists; empty: no cluster, one process.
ps_hosts = ''
worker_hosts = ''
# This process's role in the cluster: ps or worker, and its index in that job.
job_name = ''
task_index = 0
# Aggregate the workers' gradients into one update (SyncReplicasOptimizer).
sync_replicas = False
# Gradients per synchronous update; 0: one from every worker.
replicas_to_aggregate = 0
# How long a worker waits for a training step (but the first), or the chief for
# the other workers at the end, before it reports the cluster broken.
cluster_timeout_secs = 600

DONE_QUEUE = 'done_queue'
# A token the chief puts for a worker that never reported done.
MISSING = -1


class ClusterError(UsageError):
  """A task of the cluster stopped answering; reported in one line."""


def add_distributed_flags(p):
  """The clone and cluster flags of train_flowers.py."""
  g = p.add_argument_group('more devices, more machines')
  g.add_argument('--num_clones', type=cli.positive_int, default=num_clones,
                 help='towers of the model, one a GPU, each taking --batch_size images')
  g.add_argument('--clone_on_cpu', action='store_true', help='put every clone on the CPU')
  g.add_argument('--ps_hosts', default=ps_hosts, help='host:port,... of the ps tasks')
  g.add_argument('--worker_hosts', default=worker_hosts,
                 help='host:port,... of the workers; the first is the chief')
  g.add_argument('--job_name', default=job_name, choices=['', 'ps', 'worker'],
                 help="this process's job in the cluster")
  g.add_argument('--task_index', type=int, default=task_index,
                 help="this process's index in its job")
  g.add_argument('--sync_replicas', action='store_true',
                 help='aggregate the workers\' gradients into one update a step')
  g.add_argument('--replicas_to_aggregate', type=int, default=replicas_to_aggregate,
                 help='gradients a synchronous update takes (default: one a worker)')
  g.add_argument('--cluster_timeout_secs', type=cli.positive_int, default=cluster_timeout_secs,
                 help='give up on a training step (or on the other workers) after this long')


def _hosts(flag, text):
  """'a:1,b:2' -> ['a:1', 'b:2'], each checked to be host:port."""
  hosts = [h.strip() for h in text.split(',') if h.strip()]
  for host in hosts:
    if not re.match(r'^[^:\s]+:\d{1,5}$', host):
      raise UsageError('%s: %r is not host:port (e.g. 127.0.0.1:2222)' % (flag, host))
  return hosts


class Deployment(object):
  """Where the clones, the variables and this process sit, and what that changes.

  With the defaults (one clone, no cluster) every method is a no-op or does
  exactly what the single-process script did before.
  """

  def __init__(self, num_clones=1, clone_on_cpu=False, ps_hosts='', worker_hosts='',
               job_name='', task_index=0, sync_replicas=False, replicas_to_aggregate=0,
               timeout_secs=cluster_timeout_secs):
    self.num_clones = num_clones
    self.clone_on_cpu = clone_on_cpu
    self.ps_hosts = _hosts('--ps_hosts', ps_hosts)
    self.worker_hosts = _hosts('--worker_hosts', worker_hosts)
    self.cluster = bool(self.ps_hosts or self.worker_hosts or job_name)
    self.job_name = job_name
    self.task_index = task_index
    self.sync_replicas = sync_replicas
    self.timeout_secs = timeout_secs
    self.num_workers = len(self.worker_hosts)
    self._asked_replicas = replicas_to_aggregate
    self.replicas_to_aggregate = replicas_to_aggregate or self.num_workers
    self._check()
    self.is_chief = not self.cluster or (job_name == 'worker' and task_index == 0)
    self.worker_device = '/job:worker/task:%d' % task_index if self.cluster else ''
    self._sync_optimizer = None
    self._clone_scopes = ['']

  @classmethod
  def from_flags(cls, args):
    return cls(args.num_clones, args.clone_on_cpu, args.ps_hosts, args.worker_hosts,
               args.job_name, args.task_index, args.sync_replicas,
               args.replicas_to_aggregate, args.cluster_timeout_secs)

  def _check(self):
    if self.cluster:
      if not (self.ps_hosts and self.worker_hosts and self.job_name):
        raise UsageError('a cluster needs --ps_hosts, --worker_hosts and --job_name '
                         '(ps or worker) together')
      hosts = self.ps_hosts if self.job_name == 'ps' else self.worker_hosts
      if not 0 <= self.task_index < len(hosts):
        raise UsageError('--task_index %d: the %s job has tasks 0 to %d'
                         % (self.task_index, self.job_name, len(hosts) - 1))
    if self.sync_replicas and not self.cluster:
      raise UsageError('--sync_replicas needs a cluster: pass --ps_hosts, --worker_hosts '
                       'and --job_name (or use --num_clones on one machine)')
    if self._asked_replicas and not self.sync_replicas:
      raise UsageError('--replicas_to_aggregate needs --sync_replicas')
    if self._asked_replicas < 0:
      raise UsageError('--replicas_to_aggregate must be positive (0: one a worker)')
    if self.num_clones > 1 and not self.clone_on_cpu:
      gpus = len(tf.config.experimental.list_physical_devices('GPU'))
      if gpus < self.num_clones:
        raise UsageError('--num_clones %d needs %d GPUs, this machine has %d: pass '
                         '--clone_on_cpu, or fewer clones' % (self.num_clones, self.num_clones,
                                                               gpus))

  # ---------------------------------------------------------------- devices
  @property
  def cluster_spec(self):
    return tf.train.ClusterSpec({'ps': self.ps_hosts, 'worker': self.worker_hosts})

  def clone_device(self, i):
    """The device of clone i; '' for a single clone (TF places it, as before)."""
    if self.num_clones == 1 and not self.clone_on_cpu:
      return ''
    kind = '/device:CPU:0' if self.clone_on_cpu else '/device:GPU:%d' % i
    return self.worker_device + kind

  def variables_device(self):
    """The ps tasks in a cluster (round robin), else this machine's CPU for clones."""
    if self.cluster:
      return tf.train.replica_device_setter(
          ps_device='/job:ps/device:CPU:0', worker_device=self.worker_device,
          cluster=self.cluster_spec)
    return '/device:CPU:0' if self.num_clones > 1 else None

  @contextlib.contextmanager
  def device_scope(self):
    """Puts a cluster's variables on the ps tasks, everything else on this worker.

    Local variables (streaming metrics, the sync replicas' local step) are this
    worker's own, so they stay here. Outside a cluster: nothing changes.
    """
    if not self.cluster:
      yield
      return

    def local_on_worker(next_creator, **kwargs):
      if tf.GraphKeys.LOCAL_VARIABLES in (kwargs.get('collections') or ()):
        with tf.device(self.worker_device):
          return next_creator(**kwargs)
      return next_creator(**kwargs)

    with tf.device(self.variables_device()), tf.variable_creator_scope(local_on_worker):
      yield

  def images_per_update(self, batch_size):
    """Images one global step consumes: every clone's, times the aggregated replicas."""
    replicas = self.replicas_to_aggregate if self.sync_replicas else 1
    return batch_size * self.num_clones * replicas

  # ---------------------------------------------------------------- clones
  def create_clones(self, model_fn, images, labels):
    """Builds model_fn on every clone's share of the batch; variables are shared.

    Args:
      model_fn: f(images, labels) adding the clone's losses to tf.losses and
        returning its end_points.
      images, labels: the batch of all clones, split among them in order.

    Returns:
      The end_points of the clones, 'Predictions' concatenated in batch order.
    """
    if self.num_clones == 1 and not self.clone_on_cpu:
      return model_fn(images, labels)
    shares = zip(tf.split(images, self.num_clones), tf.split(labels, self.num_clones))
    self._clone_scopes, outputs = [], []
    with slim.arg_scope([slim.model_variable, slim.variable], device=self.variables_device()):
      for i, (clone_images, clone_labels) in enumerate(shares):
        with tf.name_scope('clone_%d' % i) as scope, tf.device(self.clone_device(i)):
          with tf.variable_scope(tf.get_variable_scope(), reuse=True if i else None):
            outputs.append(model_fn(clone_images, clone_labels))
        self._clone_scopes.append(scope)
    end_points = dict(outputs[0])
    end_points['Predictions'] = tf.concat([o['Predictions'] for o in outputs], 0)
    return end_points

  def _clone_losses(self):
    """One loss a clone: its mean loss / N, the regularization on the first."""
    losses = []
    for i, scope in enumerate(self._clone_scopes):
      with tf.device(self.clone_device(i)):
        loss = tf.add_n(tf.losses.get_losses(scope), name='clone_loss')
        if self.num_clones > 1:
          loss = tf.div(loss, float(self.num_clones), name='scaled_clone_loss')
        if i == 0 and tf.losses.get_regularization_losses():
          loss = tf.add(loss, tf.losses.get_regularization_loss(), name='clone_loss_with_reg')
      losses.append(loss)
    return losses

  def total_loss(self):
    """The loss the script reports: averaged over clones, weight decay included."""
    if len(self._clone_scopes) == 1:
      return tf.losses.get_total_loss()
    return tf.add_n(self._clone_losses(), name='total_loss')

  def optimize_clones(self, optimizer, var_list=None):
    """Each clone's gradients on its own device, summed over clones.

    Returns:
      (total_loss, [(summed gradient, variable)]).
    """
    losses = self._clone_losses()
    summed = {}
    for i, loss in enumerate(losses):
      with tf.name_scope(self._clone_scopes[i] or None), tf.device(self.clone_device(i)):
        for grad, var in optimizer.compute_gradients(loss, var_list=var_list):
          if grad is not None:
            summed.setdefault(var, []).append(grad)
    grads = []
    with tf.name_scope('summed_gradients'):
      for var, parts in summed.items():
        grads.append((tf.add_n(parts) if len(parts) > 1 else parts[0], var))
    return tf.add_n(losses, name='total_loss'), grads

  def wrap_optimizer(self, optimizer):
    """SyncReplicasOptimizer around it with --sync_replicas, else it as it is."""
    if not self.sync_replicas:
      return optimizer
    self._sync_optimizer = tf.train.SyncReplicasOptimizer(
        optimizer, replicas_to_aggregate=self.replicas_to_aggregate,
        total_num_replicas=self.num_workers)
    return self._sync_optimizer

  def create_train_op(self, total_loss, optimizer, variables_to_train=None):
    """The op of one training step; it returns the total loss.

    One clone: TF-slim's create_train_op, as before. More: the summed clone
    gradients, with the batch-norm updates of the first clone only.
    """
    if len(self._clone_scopes) == 1:
      train_op = slim.learning.create_train_op(total_loss, optimizer,
                                                variables_to_train=variables_to_train)
    else:
      update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS, self._clone_scopes[0])
      total_loss, grads = self.optimize_clones(optimizer, variables_to_train)
      apply_op = optimizer.apply_gradients(grads,
                                           global_step=tf.train.get_or_create_global_step())
      with tf.control_dependencies([apply_op] + update_ops):
        train_op = tf.check_numerics(tf.identity(total_loss), cli.NAN_LOSS_TAG,
                                     name='train_op')
    if self._sync_optimizer:
      # start_sync runs the local-step init itself; this check of the optimizer's
      # would otherwise log "Object was never used" when it is collected.
      unused = getattr(self._sync_optimizer, 'ready_for_local_init_op', None)
      if hasattr(unused, 'mark_used'):
        unused.mark_used()
      self._sync_init_tokens = self._sync_optimizer.get_init_tokens_op()
      # At the end the chief frees any worker still waiting for a token.
      self._sync_end_tokens = self._sync_optimizer.get_init_tokens_op(self.num_workers)
    return train_op

  # ---------------------------------------------------------------- sessions
  def save_model_secs(self, args):
    """The Supervisor's save interval: timed saves in a cluster, none alone (the
    training loop saves between steps there)."""
    return args.save_interval_secs if self.cluster else 0

  def supervisor_args(self):
    """Supervisor arguments: the chief role, and a quick look for its readiness."""
    return dict(is_chief=self.is_chief, recovery_wait_secs=3) if self.cluster else {}

  @property
  def master(self):
    """This worker's server target ('' outside a cluster); starts the server once."""
    return start_server(self).target if self.cluster else ''

  def session_config(self, config):
    """Outside a cluster config itself; inside, it only talks to the ps tasks and itself."""
    if not self.cluster:
      return config
    filtered = tf.ConfigProto()
    filtered.CopyFrom(config)
    filtered.device_filters.extend(['/job:ps', self.worker_device])
    return filtered

  def start_sync(self, sess):
    """What SyncReplicasOptimizer needs once the session is ready (as its hook does)."""
    opt = self._sync_optimizer
    if not opt:
      return
    sess.run(opt.chief_init_op if self.is_chief else opt.local_step_init_op)
    if self.is_chief:
      sess.run(self._sync_init_tokens)
      # Its own coordinator: the thread blocks in the accumulators until the
      # session closes, which the Supervisor would wait for.
      opt.get_chief_queue_runner().create_threads(sess, coord=tf.train.Coordinator(),
                                                  daemon=True, start=True)

  def end_sync(self, sess):
    if self._sync_optimizer and self.is_chief:
      sess.run(self._sync_end_tokens)

  def timeout_message(self):
    if self.sync_replicas:
      why = ('each synchronous step waits for %d gradients: is every worker running? '
             '(see their logs)' % self.replicas_to_aggregate)
    else:
      why = 'is every ps task running?'
    return ('worker %d: no training step finished within %d s (--cluster_timeout_secs); %s'
            % (self.task_index, self.timeout_secs, why))

  # ---------------------------------------------------------------- done-queues
  def _side_session(self, fn):
    """Runs fn(sess, queues) in a small graph of the ps done-queues."""
    with tf.Graph().as_default():
      queues = [done_queue(p, self.num_workers) for p in range(len(self.ps_hosts))]
      config = tf.ConfigProto(device_filters=['/job:ps', self.worker_device])
      with tf.Session(self.master, config=config) as sess:
        return fn(sess, queues)

  def wait_for_workers(self):
    """The chief waits for the other workers' done tokens; returns how many are missing."""
    others = self.num_workers - 1
    options = tf.RunOptions(timeout_in_ms=self.timeout_secs * 1000)

    def wait(sess, queues):
      size = queues[0].size()
      deadline = time.time() + self.timeout_secs
      done = sess.run(size, options=options)
      while done < others and time.time() < deadline:
        time.sleep(0.5)
        done = sess.run(size, options=options)
      return others - done

    missing = self._side_session(wait) if others else 0
    if missing:
      tf.logging.warning('%d of the %d other workers did not report done within %d s '
                         '(--cluster_timeout_secs): the chief saves and stops the ps tasks',
                         missing, others, self.timeout_secs)
    return missing

  def report_done(self):
    """Puts this worker's token in every ps done-queue; the chief also fills in
    for workers that never came, so that the ps tasks stop."""
    options = tf.RunOptions(timeout_in_ms=min(self.timeout_secs, 60) * 1000)

    def put(sess, queues):
      for queue in queues:
        tokens = [self.task_index]
        if self.is_chief:
          missing = self.num_workers - 1 - sess.run(queue.size(), options=options)
          tokens = [MISSING] * max(missing, 0) + tokens
        sess.run(queue.enqueue_many([tokens]), options=options)

    try:
      self._side_session(put)
      tf.logging.info('worker %d: told the ps tasks it is done.', self.task_index)
    except tf.errors.OpError as e:
      tf.logging.warning('worker %d could not tell the ps tasks it is done: %s',
                         self.task_index, e.message.splitlines()[0])


def done_queue(ps_task, num_workers):
  """The queue on ps task `ps_task` where each worker puts a token when done."""
  with tf.device('/job:ps/task:%d' % ps_task):
    return tf.FIFOQueue(num_workers, tf.int32, shapes=[], shared_name=DONE_QUEUE,
                        name='%s_%d' % (DONE_QUEUE, ps_task))


_servers = {}


def _drop_servers():
  """At exit, before TF's modules are torn down: Server.__del__ would find them
  gone then and print a traceback."""
  _servers.clear()
  gc.collect()


def start_server(deploy):
  """This process's tf.train.Server, started once."""
  key = (deploy.job_name, deploy.task_index)
  if not _servers:
    atexit.register(_drop_servers)
  if key not in _servers:
    _servers[key] = tf.train.Server(deploy.cluster_spec, job_name=deploy.job_name,
                                    task_index=deploy.task_index)
  return _servers[key]


def is_chief(args):
  """Whether this process restores, saves and writes summaries (worker 0, or alone)."""
  return not args.job_name or (args.job_name == 'worker' and args.task_index == 0)


def serve(deploy):
  """A ps task: serves the variables until every worker has put its done token.

  Returns:
    The exit code, 0.
  """
  server = start_server(deploy)
  with tf.Graph().as_default():
    queue = done_queue(deploy.task_index, deploy.num_workers)
    size, tokens = queue.size(), queue.dequeue_many(deploy.num_workers)
    config = tf.ConfigProto(device_filters=['/job:ps/task:%d' % deploy.task_index])
    with tf.Session(server.target, config=config) as sess:
      tf.logging.info('ps %d: serving until the %d workers are done.', deploy.task_index,
                      deploy.num_workers)
      # Polled, not a waiting dequeue: that would take the tokens out of the
      # queue as they come, and the chief counts them there.
      while sess.run(size) < deploy.num_workers:
        time.sleep(1)
      done = sess.run(tokens)
  missing = sorted(set(range(deploy.num_workers)) - set(done))
  if missing:
    tf.logging.warning('ps %d: worker(s) %s never reported done; stopping as the chief asked.',
                       deploy.task_index, ', '.join(map(str, missing)))
  tf.logging.info('ps %d: all workers are done, exiting.', deploy.task_index)
  return 0


def run(args, train_fn):
  """Runs this process's part: train_fn(args) alone or as a worker, or a ps task.

  Returns:
    The exit code.
  """
  deploy = Deployment.from_flags(args)
  if not deploy.cluster:
    train_fn(args)
    return 0
  tf.logging.set_verbosity(tf.logging.INFO)
  if deploy.job_name == 'ps':
    return serve(deploy)
  start_server(deploy)
  try:
    result = train_fn(args)
  finally:
    deploy.report_done()
  print('worker %d finished: global step %d' % (deploy.task_index, result['global_step']))
  return 0


def train_loop(sess, sv, graph, args):
  """train_flowers.train_loop for a worker of a cluster.

  The step is shared: it is read back after each update, and any worker may
  advance it. Only the chief writes summaries; a step that takes longer than
  --cluster_timeout_secs ends the run with a ClusterError.

  Returns:
    The last loss.
  """
  g, deploy = graph, graph.deploy
  deploy.start_sync(sess)
  total_steps = g.steps_per_epoch * args.num_epochs
  options = tf.RunOptions(timeout_in_ms=deploy.timeout_secs * 1000)
  step = sess.run(g.global_step)
  epoch, mine, loss = -1, 0, float('nan')
  try:
    while step < total_steps and not sv.should_stop():
      if sv.is_chief and step // g.steps_per_epoch != epoch:
        epoch = step // g.steps_per_epoch
        lr_value, accuracy_value = sess.run([g.lr, g.accuracy])
        tf.logging.info('Epoch %d/%d', epoch + 1, args.num_epochs)
        tf.logging.info('Current Learning Rate: %s', lr_value)
        tf.logging.info('Current Streaming Accuracy: %s', accuracy_value)
      # The chief always fetches the summary: a distributed session prepares
      # each new set of fetches anew, which costs as much as several steps.
      fetches = [g.train_op, g.metrics_op] + ([g.summary_op] if sv.is_chief else [])
      with_summary = sv.is_chief and (mine + 1) % args.summary_every_n_steps == 0
      start = time.time()
      # The first step waits for the slowest worker to start: no deadline.
      results = sess.run(fetches, options=options if mine else None)
      step = sess.run(g.global_step, options=options)
      mine += 1
      loss = results[0]
      tf.logging.info('global step %d: loss: %.4f (%.2f sec/step, worker %d)', step, loss,
                      time.time() - start, deploy.task_index)
      if with_summary:
        sv.summary_computed(sess, results[-1], global_step=step)
  except tf.errors.DeadlineExceededError:
    raise ClusterError(deploy.timeout_message())
  except (tf.errors.UnavailableError, tf.errors.AbortedError) as e:
    raise ClusterError('worker %d lost a task of the cluster: %s'
                       % (deploy.task_index, e.message.splitlines()[0]))
  tf.logging.info('worker %d ran %d training steps; global step %d.', deploy.task_index, mine,
                  step)
  deploy.end_sync(sess)
  if sv.is_chief:
    deploy.wait_for_workers()
  return loss
