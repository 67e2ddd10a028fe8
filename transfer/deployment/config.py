# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Where the clones, the variables and this process sit: an immutable config.

Clones (--num_clones N): N towers of the model share one set of variables,
each takes its own batch. A cluster (--ps_hosts, --worker_hosts, --job_name,
--task_index): the variables live on the ps tasks, worker 0 is the chief, and
--sync_replicas aggregates the workers' gradients into one update.

    python train_flowers.py --num_clones 4               # 4 GPUs on one machine
    python train_flowers.py --ps_hosts h0:2222 --worker_hosts h1:2222,h2:2222 \\
        --job_name worker --task_index 0                 # one task of a cluster
"""
from __future__ import absolute_import, division, print_function

import collections
import re

from tf_compat import tf
from transfer import flags
from transfer.errors import UsageError

# ================ CLONES AND CLUSTERS (each one is also a flag of train_flowers.py) ======
# Towers of the model on this machine's devices, each with its own batch.
num_clones = 1
# Comma-separated host:port lists; empty: no cluster, one process.
ps_hosts = ''
worker_hosts = ''
# This process's role in the cluster: ps or worker, and its index in that job.
job_name = ''
task_index = 0
# Gradients per synchronous update (with --sync_replicas); 0: one from every worker.
replicas_to_aggregate = 0
# How long a worker waits for a training step (but the first), or the chief for
# the other workers at the end, before it reports the cluster broken.
cluster_timeout_secs = 600

# The flags of the same names; from_flags takes them.
FLAGS = ('num_clones', 'clone_on_cpu', 'ps_hosts', 'worker_hosts', 'job_name', 'task_index',
         'sync_replicas', 'replicas_to_aggregate', 'cluster_timeout_secs')
_FIELDS = ('num_clones', 'clone_on_cpu', 'ps_hosts', 'worker_hosts', 'job_name', 'task_index',
           'sync_replicas', 'replicas_to_aggregate', 'timeout_secs')


def add_deployment_flags(p):
  """The clone and cluster flags of train_flowers.py."""
  g = p.add_argument_group('more devices, more machines')
  g.add_argument('--num_clones', type=flags.positive_int, default=num_clones,
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
  g.add_argument('--cluster_timeout_secs', type=flags.positive_int,
                 default=cluster_timeout_secs,
                 help='give up on a training step (or on the other workers) after this long')


def _hosts(flag, text):
  """'a:1,b:2' -> ('a:1', 'b:2'), each checked to be host:port."""
  hosts = tuple(h.strip() for h in text.split(',') if h.strip())
  for host in hosts:
    if not re.match(r'^[^:\s]+:\d{1,5}$', host):
      raise UsageError('%s: %r is not host:port (e.g. 127.0.0.1:2222)' % (flag, host))
  return hosts


class DeploymentConfig(collections.namedtuple('DeploymentConfig', _FIELDS)):
  """The deployment of one run, checked when made and never changed after.

  Properties and methods only derive from the fields: devices, roles, counts.
  With the defaults (one clone, no cluster) it places nothing and this
  process is the chief.
  """
  __slots__ = ()
  FLAGS = FLAGS

  def __new__(cls, num_clones=1, clone_on_cpu=False, ps_hosts=(), worker_hosts=(),
              job_name='', task_index=0, sync_replicas=False, replicas_to_aggregate=0,
              timeout_secs=cluster_timeout_secs):
    config = super(DeploymentConfig, cls).__new__(
        cls, num_clones, clone_on_cpu, tuple(ps_hosts), tuple(worker_hosts), job_name,
        task_index, sync_replicas, replicas_to_aggregate, timeout_secs)
    config._check()
    return config

  @classmethod
  def from_flags(cls, num_clones=num_clones, clone_on_cpu=False, ps_hosts=ps_hosts,
                 worker_hosts=worker_hosts, job_name=job_name, task_index=task_index,
                 sync_replicas=False, replicas_to_aggregate=replicas_to_aggregate,
                 cluster_timeout_secs=cluster_timeout_secs):
    """The config of the flags of the same names; the host lists as comma-separated text."""
    return cls(num_clones, clone_on_cpu, _hosts('--ps_hosts', ps_hosts),
               _hosts('--worker_hosts', worker_hosts), job_name, task_index, sync_replicas,
               replicas_to_aggregate, cluster_timeout_secs)

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
    if self.replicas_to_aggregate and not self.sync_replicas:
      raise UsageError('--replicas_to_aggregate needs --sync_replicas')
    if self.replicas_to_aggregate < 0:
      raise UsageError('--replicas_to_aggregate must be positive (0: one a worker)')
    if self.num_clones > 1 and not self.clone_on_cpu:
      gpus = len(tf.config.experimental.list_physical_devices('GPU'))
      if gpus < self.num_clones:
        raise UsageError('--num_clones %d needs %d GPUs, this machine has %d: pass '
                         '--clone_on_cpu, or fewer clones' % (self.num_clones, self.num_clones,
                                                               gpus))

  # ---------------------------------------------------------------- roles and counts
  @property
  def cluster(self):
    """True when this process is a task of a ps/worker cluster."""
    return bool(self.ps_hosts or self.worker_hosts or self.job_name)

  @property
  def is_chief(self):
    """Whether this process restores, saves and writes summaries (worker 0, or alone)."""
    return not self.cluster or (self.job_name == 'worker' and self.task_index == 0)

  @property
  def num_workers(self):
    return len(self.worker_hosts)

  @property
  def replicas(self):
    """Gradients one global step aggregates: 1 unless --sync_replicas."""
    if not self.sync_replicas:
      return 1
    return self.replicas_to_aggregate or self.num_workers

  def images_per_update(self, batch_size):
    """Images one global step trains: every clone's batch, times the aggregated replicas."""
    return batch_size * self.num_clones * self.replicas

  # ---------------------------------------------------------------- devices
  @property
  def cloned(self):
    """False for the single tower TF places by itself, as the script always did."""
    return self.num_clones > 1 or self.clone_on_cpu

  @property
  def worker_device(self):
    return '/job:worker/task:%d' % self.task_index if self.cluster else ''

  def cluster_spec(self):
    return tf.train.ClusterSpec({'ps': list(self.ps_hosts), 'worker': list(self.worker_hosts)})

  def clone_device(self, i):
    """The device of clone i; '' for a single clone (TF places it, as before)."""
    if not self.cloned:
      return ''
    kind = '/device:CPU:0' if self.clone_on_cpu else '/device:GPU:%d' % i
    return self.worker_device + kind

  def variables_device(self):
    """The ps tasks in a cluster (round robin), else this machine's CPU for clones."""
    if self.cluster:
      return tf.train.replica_device_setter(
          ps_device='/job:ps/device:CPU:0', worker_device=self.worker_device,
          cluster=self.cluster_spec())
    return '/device:CPU:0' if self.num_clones > 1 else None
