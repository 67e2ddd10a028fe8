# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Fixtures shared by the tests: small real data, photo folders and training runs."""
import fcntl
import json
import os
import sys

import pytest

# The scripts live at the top level, whichever way pytest is started.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sample_files  # noqa: E402
import tiny_data  # noqa: E402
import train_flowers  # noqa: E402
from tf_compat import tf  # noqa: E402
from tiny_data import SPEC, train_args  # noqa: E402
from transfer import files  # noqa: E402
from transfer.datasets import convert  # noqa: E402


def made_once(tmp_path_factory, name, make):
  """Runs make(folder) once for the whole test run and returns its JSON-able result.

  Under pytest-xdist every worker process has its own session fixtures; the
  first worker to ask makes the result in the run's common folder while the
  others wait on a lock, then read it.
  """
  base = tmp_path_factory.getbasetemp()
  if os.environ.get('PYTEST_XDIST_WORKER'):
    base = base.parent  # the workers' basetemps are popen-gw0, popen-gw1, ... in it
  result_path = str(base / (name + '.json'))
  with open(str(base / (name + '.lock')), 'w') as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    if not os.path.exists(result_path):
      files.write_atomically(result_path, json.dumps(make(str(base / name))).encode())
    with open(result_path) as f:
      return json.load(f)


@pytest.fixture(scope='session')
def records(tmp_path_factory):
  """TFRecords of the two-colour set: 32 training and 8 validation images."""
  def make(root):
    photos = tiny_data.make_colour_photos(os.path.join(root, 'photos'), per_class=20)
    convert.convert_dataset(photos, root, validation_size=8, num_shards=2)
    return root
  return made_once(tmp_path_factory, 'records', make)


# Batch 8: batch statistics of fewer images differ enough from the moving
# averages that evaluation sometimes collapsed to one class (seen with 4).
# The learning rate falls fast so that the weights settle and the batch-norm
# moving averages (decay 0.8) catch up with them within 28 steps.
TRAINING = ('--batch_size', '8', '--batch_norm_decay', '0.8', '--num_epochs_before_decay', '1',
            '--learning_rate_decay_factor', '0.3')


@pytest.fixture(scope='session')
def trained(records, tmp_path_factory):
  """Trains from scratch for 6 epochs (24 steps), then resumes for a 7th."""
  def make(folder):
    log_dir = os.path.join(folder, 'log')
    first = train_flowers.train(train_args(records, log_dir, '--from_scratch',
                                           '--num_epochs', '6', *TRAINING))
    first_checkpoint = tf.train.latest_checkpoint(log_dir)
    # Resuming must not need the ImageNet checkpoint: point it at nothing.
    resumed = train_flowers.train(train_args(records, log_dir, '--num_epochs', '7',
                                             '--checkpoint_file', '/nonexistent/x.ckpt',
                                             *TRAINING))
    return dict(log_dir=log_dir, first=first, resumed=resumed,
                first_checkpoint=first_checkpoint)
  return made_once(tmp_path_factory, 'trained', make)


@pytest.fixture(scope='session')
def spec_checkpoint(tmp_path_factory):
  """A V1-format checkpoint with the official checkpoint's 908 variables."""
  def make(folder):
    os.makedirs(folder)
    path = os.path.join(folder, 'inception_resnet_v2_2016_08_30.ckpt')
    return tiny_data.write_spec_checkpoint(path, tiny_data.read_spec(SPEC))
  return made_once(tmp_path_factory, 'spec_checkpoint', make)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
  # A proxy from the environment must not intercept the local test server.
  for name in ('http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY'):
    monkeypatch.delenv(name, raising=False)
  monkeypatch.setenv('no_proxy', '127.0.0.1,localhost')


@pytest.fixture
def mixed_photos(tmp_path):
  """Three classes in every format the converter must turn into RGB JPEG records."""
  root = tmp_path / 'photos'
  specs = {
      # name: (class, image, format, save options)
      'a.jpg': ('cats', sample_files.solid((40, 30), (200, 40, 40)), 'JPEG', {}),
      'b.png': ('cats', sample_files.solid((33, 21), (200, 40, 40)), 'PNG', {}),
      'c.gif': ('cats', sample_files.solid((25, 35), (200, 40, 40)).convert('P'), 'GIF', {}),
      'd.bmp': ('dogs', sample_files.solid((31, 17), (40, 200, 40)), 'BMP', {}),
      'e.jpg': ('dogs', sample_files.solid((20, 44), (128, 128, 128), 'L'), 'JPEG', {}),
      'f.jpeg': ('dogs', sample_files.solid((28, 28), (40, 200, 40), 'CMYK'), 'JPEG', {}),
      'g.png': ('emus', sample_files.half_transparent((26, 19), (40, 40, 200)), 'PNG', {}),
      'h.png': ('emus', sample_files.half_transparent((18, 22), (40, 40, 200), True), 'PNG',
                {'transparency': 0}),
      'i.JPG': ('emus', sample_files.solid((50, 24), (40, 40, 200)), 'JPEG', {'progressive': True}),
  }
  for name, (label, image, fmt, options) in specs.items():
    (root / label).mkdir(parents=True, exist_ok=True)
    image.save(str(root / label / name), fmt, **options)
  return str(root), {name: (label, image.size) for name, (label, image, _, _) in specs.items()}
