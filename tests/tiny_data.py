# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Small data the training and evaluation tests make for themselves."""
import contextlib
import functools
import http.server
import logging
import os
import threading

import numpy as np
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = os.path.join(REPO, 'tests', 'data', 'inception_resnet_v2_2016_08_30.variables.txt')

# Near the smallest input Inception-ResNet-V2 takes, to keep tests fast.
IMAGE_SIZE = 107

# Train only the new heads where a test checks the mechanics, not the learning:
# no backward pass through the network, so graphs build and steps run far faster.
HEADS_ONLY = {'trainable_scopes': 'InceptionResnetV2/Logits,InceptionResnetV2/AuxLogits'}
# The same, for command lines.
HEADS_ONLY_ARGV = ('--trainable_scopes', HEADS_ONLY['trainable_scopes'])

# Two classes a small network separates in a few dozen steps: colour alone.
COLOURS = {'blue': (40, 60, 210), 'red': (215, 40, 40)}


def make_colour_photos(photo_dir, per_class=12, seed=0):
  """Writes noisy single-colour JPEGs of varied size, one sub-folder a class."""
  rng = np.random.RandomState(seed)
  for name, colour in sorted(COLOURS.items()):
    os.makedirs(os.path.join(photo_dir, name))
    for i in range(per_class):
      h, w = rng.randint(40, 72, size=2)
      pixels = np.clip(np.array(colour) + rng.normal(0, 25, (h, w, 3)), 0, 255)
      Image.fromarray(pixels.astype(np.uint8)).save(
          os.path.join(photo_dir, name, '%03d.jpg' % i), quality=90)
  return photo_dir


def train_flags(records, log_dir, **extra):
  """Training flags (train_flowers.train's keywords) for the small sets: small images, batch 2.

  `extra` adds flags or overrides these.
  """
  return dict(dict(dataset_dir=records, log_dir=log_dir, image_size=IMAGE_SIZE, batch_size=2,
                   summary_every_n_steps=2), **extra)


def command_line(flags):
  """The argv of keyword flags: `--name value`, or `--name` alone for True (False: left out)."""
  argv = []
  for name, value in sorted(flags.items()):
    if value is True:
      argv.append('--' + name)
    elif value is not False and value is not None:
      argv += ['--' + name, str(value)]
  return argv


def train_settings(records, log_dir, **extra):
  """train_flowers.make_settings of train_flags."""
  import train_flowers
  return train_flowers.make_settings(**train_flags(records, log_dir, **extra))


def command_settings(module, positionals=None, **flags):
  """The settings a command (eval_flowers, predict_flowers, ...) builds from keyword flags.

  positionals: {dest: value} of its positional arguments (predict's `inputs`).
  """
  from transfer import cli
  return module.settings_from_flags(cli.flags_from_keywords(
      module.build_parser(), flags, 'command_settings', positionals))


def read_record(log_dir, section):
  """One section of LOG_DIR/run.json, read off the file."""
  import json
  with open(os.path.join(log_dir, 'run.json')) as f:
    return json.load(f)[section]


def read_spec(path):
  """[(name, shape)] from the checkpoint spec file."""
  rows = []
  with open(path) as f:
    for line in f:
      if line.strip() and not line.startswith('#'):
        name, dims = line.split()
        rows.append((name, [int(d) for d in dims.split('x')]))
  return rows


def spec_values(i, name, shape):
  """Variable i's values: a short repeating pattern, scaled for what the variable is.

  Weights of fan-in scale and variances near 1 keep a forward and backward pass
  finite (constant fills made every channel alike, so the batch variances were
  near 0 and the gradients blew up to NaN under oneDNN). The 97-value period
  keeps the file compressible for the download tests, and the offset i * 1e-5
  tells variables apart.
  """
  size = int(np.prod(shape))
  pattern = np.random.RandomState(i).normal(0.0, 1.0, 97)
  noise = np.resize(pattern, size).reshape(shape)
  if name.endswith('weights'):
    values = noise * np.sqrt(2.0 / max(1, size // shape[-1]))
  elif name.endswith('moving_variance'):
    values = 1.0 + 0.1 * np.abs(noise)
  else:  # biases, beta, moving_mean
    values = 0.01 * noise
  return (values + i * 1e-5).astype(np.float32)


def write_spec_checkpoint(path, spec, write_version=None):
  """Writes a checkpoint holding the spec's variables, filled by spec_values.

  Every value is fed in one run: a run per variable would build an executor
  for each of the 908.
  """
  from tf_compat import tf
  with tf.Graph().as_default():
    variables, assigns, feeds = [], [], {}
    for i, (name, shape) in enumerate(spec):
      variables.append(tf.get_variable(name, shape, initializer=tf.zeros_initializer()))
      value = tf.placeholder(tf.float32, shape)
      assigns.append(tf.assign(variables[-1], value))
      feeds[value] = spec_values(i, name, shape)
    saver = tf.train.Saver(variables, write_version=write_version or tf.train.SaverDef.V1)
    with tf.Session() as sess:
      sess.run(assigns, feeds)
      saver.save(sess, path, write_meta_graph=False)
  return path


@contextlib.contextmanager
def logged_lines():
  """The messages TensorFlow's logger emits inside the block, as a growing list."""
  lines = []
  handler = logging.Handler(logging.INFO)
  handler.emit = lambda record: lines.append(record.getMessage())
  logger = logging.getLogger('tensorflow')
  logger.addHandler(handler)
  try:
    yield lines
  finally:
    logger.removeHandler(handler)


@contextlib.contextmanager
def serve_directory(directory, handler=None):
  """Serves `directory` over HTTP on 127.0.0.1; yields the base URL.

  handler: a SimpleHTTPRequestHandler subclass; by default a quiet one.
  """
  handler = functools.partial(handler or _QuietHandler, directory=directory)
  server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
  thread = threading.Thread(target=server.serve_forever, daemon=True)
  thread.start()
  try:
    yield 'http://127.0.0.1:%d' % server.server_address[1]
  finally:
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):

  def log_message(self, *args):
    pass
