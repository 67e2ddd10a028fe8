# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Where and how fast the graphs run: device, threads, mixed precision, oneDNN.

train_flowers.py and eval_flowers.py add these flags with `add_runtime_flags`,
make a `RuntimeSettings` of them and open their sessions with `session_config(settings)`:

  --device auto|cpu|gpu   auto takes a GPU when TensorFlow sees one.
  --intra_op_threads N    threads inside one op; 0 lets TensorFlow choose.
  --inter_op_threads N    ops run side by side; 0 lets TensorFlow choose.
  --mixed_precision       bfloat16 on CPUs with AVX512_BF16 or AMX (TF 2.x,
                          oneDNN's auto-mixed-precision rewrite), float16 with
                          dynamic loss scaling on a GPU; elsewhere a warning
                          and float32.
  --graph_optimizations on|off   off skips grappler: sooner starts, slower steps.

oneDNN is switched on for TensorFlow 2.x by tf_compat.py, because TensorFlow
reads TF_ENABLE_ONEDNN_OPTS only when it loads, before any flag is parsed; set
TF_ENABLE_ONEDNN_OPTS=0 to switch it off.
"""
from __future__ import absolute_import, division, print_function

import collections
import contextlib
import os

from tensorflow.core.protobuf import rewriter_config_pb2

import tf_compat
from tf_compat import tf
from transfer.errors import UsageError
from transfer.flags import non_negative_int

# ================ RUNTIME INFORMATION ================
device = 'auto'
intra_op_threads = 0
inter_op_threads = 0
mixed_precision = False
# 'on', TensorFlow's way: grappler rewrites each graph before its first run.
# 'off' skips that: on a 2-core CPU a training run of this graph starts about
# 15-20 s sooner, and its steps at 299 run about 7% slower, so 'off' pays for
# runs shorter than some 50 steps (demos, tests). TRANSFER_GRAPH_OPTIMIZATIONS
# in the environment sets the default (the test suite sets it to off).
graph_optimizations = os.environ.get('TRANSFER_GRAPH_OPTIMIZATIONS', 'on')

DEVICES = ('auto', 'cpu', 'gpu')
# CPU flags (/proc/cpuinfo) of a native bfloat16 matrix unit.
BF16_CPU_FLAGS = ('avx512_bf16', 'amx_bf16')
# The graph rewrite that runs oneDNN ops in bfloat16 (TF 2.9 and later).
BF16_REWRITE = 'auto_mixed_precision_onednn_bfloat16'
# Queue readers and JPEG decoding only exist on the CPU.
INPUT_DEVICE = '/cpu:0'
# How long a Supervisor waits for its threads at the end. With its default of
# 120 s, an input thread's error (a bad label, a damaged record) reached the user
# only after a queue runner's close had waited that long.
STOP_GRACE_SECS = 5
# Supervisor arguments for a session no other task waits for: its readiness
# checks would only confirm the init op, at 2-3 s for this graph.
ALONE = dict(ready_op=None, ready_for_local_init_op=None)

_warned = set()


class RuntimeSettings(collections.namedtuple('RuntimeSettings', (
    'device', 'intra_op_threads', 'inter_op_threads', 'mixed_precision',
    'graph_optimizations'))):
  """Where and how fast a command's graphs run; the fields are the flags of the same name."""
  __slots__ = ()

  def __new__(cls, device=device, intra_op_threads=intra_op_threads,
              inter_op_threads=inter_op_threads, mixed_precision=mixed_precision,
              graph_optimizations=graph_optimizations):
    if device not in DEVICES:
      raise UsageError('--device %s is not one of %s' % (device, ', '.join(DEVICES)))
    if graph_optimizations not in ('on', 'off'):
      raise UsageError('--graph_optimizations %s is not on or off' % graph_optimizations)
    return super(RuntimeSettings, cls).__new__(
        cls, device, intra_op_threads, inter_op_threads, bool(mixed_precision),
        graph_optimizations)


def add_runtime_flags(parser):
  """Adds --device, the thread counts, --mixed_precision and --graph_optimizations."""
  group = parser.add_argument_group('speed')
  group.add_argument('--device', choices=DEVICES, default=device,
                     help='auto: a GPU when TensorFlow sees one, else the CPU')
  group.add_argument('--intra_op_threads', type=non_negative_int, default=intra_op_threads,
                     help='threads inside one op (0: TensorFlow chooses)')
  group.add_argument('--inter_op_threads', type=non_negative_int, default=inter_op_threads,
                     help='ops run at the same time (0: TensorFlow chooses)')
  group.add_argument('--mixed_precision', action='store_true', default=mixed_precision,
                     help='bfloat16 on CPUs with AVX512_BF16/AMX, float16 on a GPU; '
                     'float32 with a warning elsewhere')
  group.add_argument('--graph_optimizations', choices=('on', 'off'),
                     default=graph_optimizations,
                     help="off: skip grappler's rewrites, for runs of a few dozen steps")
  return parser


def _warn_once(message):
  if message not in _warned:
    _warned.add(message)
    tf.logging.warning(message)


def cpu_flags(cpuinfo='/proc/cpuinfo'):
  """The CPU's feature flags as a set; empty where /proc/cpuinfo is missing."""
  try:
    with open(cpuinfo) as f:
      for line in f:
        if line.startswith('flags'):
          return set(line.split(':', 1)[1].split())
  except (IOError, OSError):
    pass
  return set()


def cpu_has_bf16(flags=None):
  """True on CPUs that compute bfloat16 natively (AVX512_BF16 or AMX)."""
  flags = cpu_flags() if flags is None else flags
  return any(flag in flags for flag in BF16_CPU_FLAGS)


def onednn_enabled():
  """True when this TensorFlow runs its CPU ops through oneDNN."""
  from tensorflow.python.framework import test_util
  return bool(test_util.IsMklEnabled())


def gpu_present():
  with tf_compat.cpp_start_up_lines_hidden():  # a machine without CUDA says so on TF 2.x
    return bool(tf.config.experimental.list_physical_devices('GPU'))


def resolve_device(settings=None):
  """'cpu' or 'gpu' for --device; a UsageError when gpu is asked for and missing.

  Args:
    settings: a RuntimeSettings; None: the defaults, as for every function here.
  """
  choice = (settings or RuntimeSettings()).device
  if choice == 'auto':
    return 'gpu' if gpu_present() else 'cpu'
  if choice == 'gpu' and not gpu_present():
    raise UsageError('--device gpu: TensorFlow %s sees no GPU: install '
                     '"tensorflow[and-cuda]" on TF 2.x with an NVIDIA driver, '
                     'or pass --device cpu' % tf.__version__)
  return choice


def precision_mode(settings=None):
  """What --mixed_precision does here: 'bfloat16', 'float16' or None (float32)."""
  if not (settings or RuntimeSettings()).mixed_precision:
    return None
  if resolve_device(settings) == 'gpu':
    return 'float16'
  bf16_rewrite = BF16_REWRITE in rewriter_config_pb2.RewriterConfig.DESCRIPTOR.fields_by_name
  if bf16_rewrite and onednn_enabled() and cpu_has_bf16():
    return 'bfloat16'
  _warn_once('--mixed_precision: this CPU has no bfloat16 unit (AVX512_BF16/AMX), or '
             'TensorFlow %s has no oneDNN bfloat16 rewrite, and there is no GPU: '
             'running in float32' % tf.__version__)
  return None


def session_config(settings=None):
  """The ConfigProto for --device, the thread counts and --mixed_precision.

  Soft placement lets ops without a GPU kernel fall back to the CPU, and GPU
  memory is taken as needed rather than all at once.
  """
  settings = settings or RuntimeSettings()
  config = tf.ConfigProto(allow_soft_placement=True,
                          intra_op_parallelism_threads=settings.intra_op_threads,
                          inter_op_parallelism_threads=settings.inter_op_threads)
  config.gpu_options.allow_growth = True
  if resolve_device(settings) == 'cpu':
    config.device_count['GPU'] = 0
  mode = precision_mode(settings)
  rewrites = config.graph_options.rewrite_options
  if mode == 'bfloat16':
    setattr(rewrites, BF16_REWRITE, rewriter_config_pb2.RewriterConfig.ON)
  elif mode == 'float16':
    rewrites.auto_mixed_precision = rewriter_config_pb2.RewriterConfig.ON
  elif settings.graph_optimizations == 'off':  # mixed precision is a rewrite
    rewrites.disable_meta_optimizer = True
  return config


def wrap_optimizer(optimizer, settings=None):
  """Adds dynamic loss scaling for float16 on a GPU; bfloat16 needs none."""
  if precision_mode(settings) != 'float16':
    return optimizer
  return tf.train.experimental.MixedPrecisionLossScaleOptimizer(optimizer, 'dynamic')


def describe(settings=None):
  """One line for the logs: device, precision, threads, oneDNN."""
  settings = settings or RuntimeSettings()
  return 'device %s, %s, intra_op %s, inter_op %s, oneDNN %s, TensorFlow %s' % (
      resolve_device(settings), precision_mode(settings) or 'float32',
      settings.intra_op_threads or 'auto', settings.inter_op_threads or 'auto',
      'on' if onednn_enabled() else 'off', tf.__version__)


@contextlib.contextmanager
def queue_session(config=None):
  """A plain session with initialised variables and running input queues.

  For work outside the Supervisor (benchmarks, tests); the queue threads are
  stopped and joined on exit.
  """
  with tf.Session(config=config) as sess:
    sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess, coord)
    try:
      yield sess
    finally:
      coord.request_stop()
      coord.join(threads, stop_grace_period_secs=5)


class Supervisor(tf.train.Supervisor):
  """tf.train.Supervisor without the text copy of the graph, graph.pbtxt.

  TensorBoard draws the graph from the event file, which still gets it; the
  text copy of the training graph cost 4-5 s at every start and 22 MB.
  """

  def _write_graph(self):
    # The base class writes graph.pbtxt only when it has a logdir.
    logdir, self._logdir = self._logdir, None
    try:
      super(Supervisor, self)._write_graph()
    finally:
      self._logdir = logdir
