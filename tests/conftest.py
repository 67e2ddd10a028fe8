# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Fixtures shared by the tests: small real data, photo folders and training runs."""
import os
import subprocess
import sys

import pytest

# Runs of a few steps: grappler's rewrites would cost more than they give (see
# runtime.graph_optimizations). Set before any script is imported; subprocesses
# inherit it. Export TRANSFER_GRAPH_OPTIMIZATIONS=on to test with them.
os.environ.setdefault('TRANSFER_GRAPH_OPTIMIZATIONS', 'off')
# Validation while training builds the network twice and saves LOG_DIR/best: the
# tests of it ask for it (--validation_every_n_epochs), the others train without.
os.environ.setdefault('TRANSFER_VALIDATION_EVERY_N_EPOCHS', '0')

# The scripts live at the top level, whichever way pytest is started.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sample_files  # noqa: E402
import shared_results  # noqa: E402
import small_network as stand_in  # noqa: E402


def _common_base(tmp_path_factory):
  """The run's common temp folder: the workers' basetemps popen-gw0, ... sit in it."""
  base = tmp_path_factory.getbasetemp()
  return str(base.parent if os.environ.get('PYTEST_XDIST_WORKER') else base)


@pytest.hookimpl(trylast=True)  # after the tmpdir plugin; the workers start later
def pytest_configure(config):
  """With xdist workers, the controller starts making the shared results at once.

  The trained run alone takes minutes; made in a process of its own, no
  worker waits for it with nothing to do.
  """
  if os.environ.get('PYTEST_XDIST_WORKER') or not getattr(config.option, 'numprocesses', 0):
    return
  base = str(config._tmp_path_factory.getbasetemp())
  locks = shared_results.take_locks(base)
  fds = [lock.fileno() for lock in locks]
  # Its output goes to a file: a failure shows again, in the test that makes it instead.
  with open(os.path.join(base, 'shared_results.log'), 'wb') as log:
    config.shared_maker = subprocess.Popen(
        [sys.executable, shared_results.__file__, base] + [str(fd) for fd in fds],
        pass_fds=fds, stdout=log, stderr=subprocess.STDOUT)
  for lock in locks:
    lock.close()  # the maker holds the locks now


def pytest_collection_modifyitems(items):
  """Orders the tests for the xdist workers.

  pytest-xdist hands out the groups with the most tests first (a group runs in one
  worker), then the rest in this order: the tests marked slow first, as one started
  last would leave a worker alone at the end; the tests of the shared trained run
  last, so that the workers have other work while it is made.
  """
  def group(item):
    mark = item.get_closest_marker('xdist_group')
    return mark.args[0] if mark else item.nodeid
  needs_trained = {group(i) for i in items if 'trained' in getattr(i, 'fixturenames', ())}
  slow = {group(i) for i in items if i.get_closest_marker('slow')}
  items.sort(key=lambda item: (group(item) in needs_trained, group(item) not in slow))


def pytest_unconfigure(config):
  maker = getattr(config, 'shared_maker', None)
  if maker and maker.poll() is None:
    maker.kill()  # the run ended without needing all of it
    maker.wait()


@pytest.fixture(scope='session')
def records(tmp_path_factory):
  """TFRecords of the two-colour set: 32 training and 8 validation images."""
  return shared_results.get(_common_base(tmp_path_factory), 'records')


@pytest.fixture(scope='session')
def trained(records, tmp_path_factory):
  """Trained from scratch for 6 epochs (24 steps), then resumed for a 7th."""
  return shared_results.get(_common_base(tmp_path_factory), 'trained')


@pytest.fixture(scope='session')
def spec_checkpoint(tmp_path_factory):
  """A V1-format checkpoint with the official checkpoint's 908 variables."""
  return shared_results.get(_common_base(tmp_path_factory), 'spec_checkpoint')


@pytest.fixture(scope='session')
def source_checkpoint(tmp_path_factory):
  """A stand-in for the ImageNet checkpoint, with features that tell images apart."""
  return shared_results.get(_common_base(tmp_path_factory), 'source_checkpoint')


@pytest.fixture
def small_network():
  """Inside the test every command builds the small stand-in network (small_network.py)."""
  with stand_in.installed():
    yield


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
