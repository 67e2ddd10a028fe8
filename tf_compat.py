# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The one place TensorFlow is imported: TF1-style code on TensorFlow 1.15 and 2.x.

Commands, the `transfer` package and the tests take TensorFlow and TF-slim from here,

    from tf_compat import slim, tf

so that nothing can load TensorFlow before the environment below is set. (The
network, preprocessing and dataset_utils files, kept as TF-slim writes them,
import this module before their own `import tensorflow.compat.v1 as tf`.)

Before TensorFlow loads, its C++ INFO and WARNING lines are switched off unless
the command line holds --verbose (TensorFlow reads TF_CPP_MIN_LOG_LEVEL once,
at its first C++ log line, which can come while it is imported); an explicit
setting in the environment wins. On TensorFlow 1.15 nothing else changes. On
TensorFlow 2.x it also
  - switches oneDNN on for x86 CPUs unless TF_ENABLE_ONEDNN_OPTS is already set
    (TensorFlow reads that variable once, when it loads, which is why this module
    must come first; `make bench-compare` measured it faster, see docs/speed.md);
  - turns the v2 behaviour off: graph mode, reference variables, v1 control flow,
    which the queue-based input and the Supervisor expect;
  - gives tf_slim the Keras legacy layers under the names it imports: from
    TensorFlow 2.16 they live in the separate tf-keras package, in
    `tf_keras.src.legacy_tf_layers`, while TensorFlow looks for them in
    `tf_keras.legacy_tf_layers`;
  - puts `case` and `cond` back into `control_flow_ops`, where tf_slim's
    TFExampleDecoder calls them; TensorFlow 2.x moved them to other modules.
"""
from __future__ import absolute_import, division, print_function

import contextlib
import importlib
import os
import platform
import sys
import warnings

TF_PACKAGES = ('tensorflow', 'tensorflow-cpu', 'tensorflow-intel')


def installed_tensorflow_version():
  """The installed TensorFlow's version string, read without importing it; None if unknown."""
  try:
    from importlib import metadata  # Python 3.8+; TF 1.15 runs on 3.7 only
  except ImportError:
    return None
  for name in TF_PACKAGES:
    try:
      return metadata.version(name)
    except metadata.PackageNotFoundError:
      continue
  return None


def _enable_onednn_by_default():
  version = installed_tensorflow_version()
  if version and int(version.split('.')[0]) >= 2 and platform.machine() in ('x86_64', 'AMD64'):
    os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')


@contextlib.contextmanager
def cpp_start_up_lines_hidden():
  """Sends fd 2 to /dev/null while TensorFlow 2.x loads or first looks for GPUs, when
  logs are meant to be quiet.

  TensorFlow 2.x writes its C++ start-up lines (CUDA stubs, oneDNN, cuInit) before
  its logger is set up, where TF_CPP_MIN_LOG_LEVEL does not reach them. A failed import
  still raises a Python exception, which is shown after fd 2 is back.
  """
  version = installed_tensorflow_version()
  quiet = os.environ.get('TF_CPP_MIN_LOG_LEVEL', '0') not in ('', '0')
  if not (quiet and version and int(version.split('.')[0]) >= 2):
    yield
    return
  sys.stderr.flush()
  saved = os.dup(2)
  try:
    with open(os.devnull, 'w') as null:
      os.dup2(null.fileno(), 2)
    yield
  finally:
    os.dup2(saved, 2)
    os.close(saved)


if '--verbose' not in sys.argv[1:]:
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
_enable_onednn_by_default()

with cpp_start_up_lines_hidden():
  import tensorflow.compat.v1 as tf  # noqa: E402  (after the environment is set)

IS_TF2 = int(tf.__version__.split('.')[0]) >= 2
LEGACY_LAYERS = 'tf_keras.legacy_tf_layers'
LEGACY_LAYERS_NOW = 'tf_keras.src.legacy_tf_layers'
LEGACY_LAYER_MODULES = ('base', 'convolutional', 'core', 'normalization', 'pooling')


def _alias_legacy_layers():
  """Registers tf_keras.src.legacy_tf_layers[.x] under the old tf_keras.legacy_tf_layers names."""
  try:
    importlib.import_module(LEGACY_LAYERS + '.normalization')
    return  # an older tf-keras that still has them there
  except ImportError:
    pass
  try:
    package = importlib.import_module(LEGACY_LAYERS_NOW)
  except ImportError:
    raise ImportError('TensorFlow %s needs the tf-keras package for tf_slim: '
                      'pip install "tf-keras==%s.*"' % (tf.__version__, tf.__version__[:4]))
  sys.modules[LEGACY_LAYERS] = package
  for name in LEGACY_LAYER_MODULES:
    sys.modules['%s.%s' % (LEGACY_LAYERS, name)] = importlib.import_module(
        '%s.%s' % (LEGACY_LAYERS_NOW, name))


def _restore_control_flow_ops():
  """control_flow_ops.case and .cond, as tf_slim's TFExampleDecoder calls them."""
  from tensorflow.python.ops import control_flow_ops
  if not hasattr(control_flow_ops, 'case'):
    from tensorflow.python.ops import control_flow_case
    control_flow_ops.case = control_flow_case.case
  if not hasattr(control_flow_ops, 'cond'):
    from tensorflow.python.ops import cond
    control_flow_ops.cond = cond.cond


if IS_TF2:
  # The Keras legacy layers tf_slim builds on warn at every use: noise to a user.
  warnings.filterwarnings('ignore', category=UserWarning, module=r'(tf_keras|tensorflow)\.')
  # Its deprecation notices concern this compat step itself, not the user's code.
  from tensorflow.python.util import deprecation  # noqa: E402
  with deprecation.silence():
    tf.disable_v2_behavior()
  _alias_legacy_layers()
  _restore_control_flow_ops()

import tf_slim as slim  # noqa: E402  (after the legacy layers are in place)
