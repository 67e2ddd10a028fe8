# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""A ps/worker cluster on TF's own runtime: servers, sync replicas and done-queues.

The variables live on the ps tasks (`replica_device_setter`), worker 0 is the
chief (restores, writes summaries and checkpoints), and --sync_replicas
aggregates the workers' gradients with `SyncReplicasOptimizer`; without it
training is asynchronous. A ps task serves until every worker has put a token
in its done-queue. Outside a cluster every function here changes nothing.
"""
from __future__ import absolute_import, division, print_function

import atexit
import collections
import contextlib
import gc
import socket
import time

from tf_compat import tf
from transfer import runtime
from transfer.errors import ClusterError

DONE_QUEUE = 'done_queue'
# A token the chief puts for a worker that never reported done.
MISSING = -1

# The ops of SyncReplicasOptimizer a worker runs around its steps: the chief's
# first tokens, and the ones freeing workers still waiting at the end.
SyncReplicas = collections.namedtuple('SyncReplicas', ['optimizer', 'init_tokens',
                                                       'end_tokens'])


# ================ PLACEMENT AND SESSIONS ================
@contextlib.contextmanager
def device_scope(config):
  """Puts a cluster's variables on the ps tasks, everything else on this worker.

  Local variables (streaming metrics, the sync replicas' local step) are this
  worker's own, so they stay here. Outside a cluster: nothing changes.
  """
  if not config.cluster:
    yield
    return

  def local_on_worker(next_creator, **kwargs):
    if tf.GraphKeys.LOCAL_VARIABLES in (kwargs.get('collections') or ()):
      with tf.device(config.worker_device):
        return next_creator(**kwargs)
    return next_creator(**kwargs)

  with tf.device(config.variables_device()), tf.variable_creator_scope(local_on_worker):
    yield


def session_config(config, base):
  """Outside a cluster `base` itself; inside, it only talks to the ps tasks and itself."""
  if not config.cluster:
    return base
  filtered = tf.ConfigProto()
  filtered.CopyFrom(base)
  filtered.device_filters.extend(['/job:ps', config.worker_device])
  return filtered


def supervisor_args(config):
  """Supervisor arguments: the chief role and a quick look for its readiness, or
  alone none of the readiness checks (runtime.ALONE)."""
  if config.cluster:
    return dict(is_chief=config.is_chief, recovery_wait_secs=3)
  return dict(runtime.ALONE)


_servers = {}


def _drop_servers():
  """At exit, before TF's modules are torn down: Server.__del__ would find them
  gone then and print a traceback."""
  _servers.clear()
  gc.collect()


def start_server(config):
  """This process's tf.train.Server, started on the first call and kept."""
  key = (config.job_name, config.task_index)
  if not _servers:
    atexit.register(_drop_servers)
  if key not in _servers:
    _servers[key] = tf.train.Server(config.cluster_spec(), job_name=config.job_name,
                                    task_index=config.task_index)
  return _servers[key]


def unanswered_ps(config):
  """Why a cluster task cannot go on: 'ps task N at HOST:PORT does not answer', or None.

  A TCP connection to each ps task tells; the stop-signal watchdog asks this of
  a worker that does not stop on a signal.
  """
  for index, host in enumerate(config.ps_hosts):
    name, port = host.rsplit(':', 1)
    try:
      socket.create_connection((name, int(port)), timeout=2).close()
    except OSError:
      return 'ps task %d at %s does not answer' % (index, host)
  return None


# ================ SYNC REPLICAS ================
def sync_optimizer(config, optimizer, averages=None):
  """SyncReplicasOptimizer around `optimizer` with --sync_replicas, else it as it is.

  averages: (ExponentialMovingAverage, variables) or None. With --sync_replicas the
  chief's update updates them, once per aggregated step; otherwise the train op does.
  """
  if not config.sync_replicas:
    return optimizer
  ema, variables = averages or (None, None)
  return tf.train.SyncReplicasOptimizer(optimizer, replicas_to_aggregate=config.replicas,
                                        total_num_replicas=config.num_workers,
                                        variable_averages=ema, variables_to_average=variables)


def sync_replicas(config, optimizer):
  """The SyncReplicas ops, once `optimizer` has applied its gradients; None if not sync."""
  if not config.sync_replicas:
    return None
  # start_sync runs the local-step init itself; this check of the optimizer's
  # would otherwise log "Object was never used" when it is collected.
  unused = getattr(optimizer, 'ready_for_local_init_op', None)
  if hasattr(unused, 'mark_used'):
    unused.mark_used()
  return SyncReplicas(optimizer, optimizer.get_init_tokens_op(),
                      optimizer.get_init_tokens_op(config.num_workers))


def start_sync(sess, config, sync):
  """What SyncReplicasOptimizer needs once the session is ready (as its hook does)."""
  if not sync:
    return
  opt = sync.optimizer
  sess.run(opt.chief_init_op if config.is_chief else opt.local_step_init_op)
  if config.is_chief:
    sess.run(sync.init_tokens)
    # Its own coordinator: the thread blocks in the accumulators until the
    # session closes, which the Supervisor would wait for.
    opt.get_chief_queue_runner().create_threads(sess, coord=tf.train.Coordinator(),
                                                daemon=True, start=True)


def end_sync(sess, config, sync):
  """The chief frees any worker still waiting for a token."""
  if sync and config.is_chief:
    sess.run(sync.end_tokens)


@contextlib.contextmanager
def failures_reported(config):
  """Turns a step that timed out or lost a task into a one-line ClusterError."""
  try:
    yield
  except tf.errors.DeadlineExceededError:
    if config.sync_replicas:
      why = ('each synchronous step waits for %d gradients: is every worker running? '
             '(see their logs)' % config.replicas)
    else:
      why = 'is every ps task running?'
    raise ClusterError('worker %d: no training step finished within %d s '
                       '(--cluster_timeout_secs); %s'
                       % (config.task_index, config.timeout_secs, why))
  except (tf.errors.UnavailableError, tf.errors.AbortedError) as e:
    raise ClusterError('worker %d lost a task of the cluster: %s'
                       % (config.task_index, e.message.splitlines()[0]))


# ================ DONE-QUEUES ================
def done_queue(ps_task, num_workers):
  """The queue on ps task `ps_task` where each worker puts a token when done."""
  with tf.device('/job:ps/task:%d' % ps_task):
    return tf.FIFOQueue(num_workers, tf.int32, shapes=[], shared_name=DONE_QUEUE,
                        name='%s_%d' % (DONE_QUEUE, ps_task))


def _side_session(config, fn):
  """Runs fn(sess, queues) in a small graph of the ps done-queues."""
  with tf.Graph().as_default():
    queues = [done_queue(p, config.num_workers) for p in range(len(config.ps_hosts))]
    session_filter = tf.ConfigProto(device_filters=['/job:ps', config.worker_device])
    with tf.Session(start_server(config).target, config=session_filter) as sess:
      return fn(sess, queues)


def wait_for_workers(config):
  """The chief waits for the other workers' done tokens; returns how many are missing."""
  others = config.num_workers - 1
  options = tf.RunOptions(timeout_in_ms=config.timeout_secs * 1000)

  def wait(sess, queues):
    size = queues[0].size()
    deadline = time.time() + config.timeout_secs
    done = sess.run(size, options=options)
    while done < others and time.time() < deadline:
      time.sleep(0.5)
      done = sess.run(size, options=options)
    return others - done

  missing = _side_session(config, wait) if others else 0
  if missing:
    tf.logging.warning('%d of the %d other workers did not report done within %d s '
                       '(--cluster_timeout_secs): the chief saves and stops the ps tasks',
                       missing, others, config.timeout_secs)
  return missing


def report_done(config):
  """Puts this worker's token in every ps done-queue; the chief also fills in
  for workers that never came, so that the ps tasks stop."""
  options = tf.RunOptions(timeout_in_ms=min(config.timeout_secs, 60) * 1000)

  def put(sess, queues):
    for queue in queues:
      tokens = [config.task_index]
      if config.is_chief:
        missing = config.num_workers - 1 - sess.run(queue.size(), options=options)
        tokens = [MISSING] * max(missing, 0) + tokens
      sess.run(queue.enqueue_many([tokens]), options=options)

  try:
    _side_session(config, put)
    tf.logging.info('worker %d: told the ps tasks it is done.', config.task_index)
  except tf.errors.OpError as e:
    tf.logging.warning('worker %d could not tell the ps tasks it is done: %s',
                       config.task_index, e.message.splitlines()[0])


# ================ THE TASK OF THIS PROCESS ================
def serve(config):
  """A ps task: serves the variables until every worker has put its done token.

  Returns:
    The exit code, 0.
  """
  server = start_server(config)
  with tf.Graph().as_default():
    queue = done_queue(config.task_index, config.num_workers)
    size, tokens = queue.size(), queue.dequeue_many(config.num_workers)
    session_filter = tf.ConfigProto(device_filters=['/job:ps/task:%d' % config.task_index])
    with tf.Session(server.target, config=session_filter) as sess:
      tf.logging.info('ps %d: serving until the %d workers are done.', config.task_index,
                      config.num_workers)
      # Polled, not a waiting dequeue: that would take the tokens out of the
      # queue as they come, and the chief counts them there.
      while sess.run(size) < config.num_workers:
        time.sleep(1)
      done = sess.run(tokens)
  missing = sorted(set(range(config.num_workers)) - set(done))
  if missing:
    tf.logging.warning('ps %d: worker(s) %s never reported done; stopping as the chief asked.',
                       config.task_index, ', '.join(map(str, missing)))
  tf.logging.info('ps %d: all workers are done, exiting.', config.task_index)
  return 0


def run_task(config, train_fn):
  """Runs this process's part: train_fn(master) alone or as a worker, or a ps task.

  Args:
    config: the run's DeploymentConfig.
    train_fn: f(master) training with a session on `master` ('' alone, the
      server's target in a cluster); returns {'global_step', ...}.

  Returns:
    train_fn's result; None for a ps task, once every worker is done.
  """
  if not config.cluster:
    return train_fn('')
  tf.logging.set_verbosity(tf.logging.INFO)
  if config.job_name == 'ps':
    serve(config)
    return None
  server = start_server(config)
  try:
    result = train_fn(server.target)
  finally:
    report_done(config)
  print('worker %d finished: global step %d' % (config.task_index, result['global_step']))
  return result
