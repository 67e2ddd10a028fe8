"""Fixtures shared by the training and evaluation tests: small real data and runs."""
import os
import sys

import pytest
import tensorflow.compat.v1 as tf

# The scripts live at the top level, whichever way pytest is started.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import dataset_utils  # noqa: E402
import train_flowers  # noqa: E402
import tiny_data  # noqa: E402
from tiny_data import SPEC, train_args  # noqa: E402


@pytest.fixture(scope='session')
def records(tmp_path_factory):
  """TFRecords of the two-colour set: 32 training and 8 validation images."""
  root = tmp_path_factory.mktemp('records')
  photos = tiny_data.make_colour_photos(str(root / 'photos'), per_class=20)
  dataset_utils.convert_dataset(photos, str(root), validation_size=8, num_shards=2)
  return str(root)


# Batch 8: batch statistics of fewer images differ enough from the moving
# averages that evaluation sometimes collapsed to one class (seen with 4).
# The learning rate falls fast so that the weights settle and the batch-norm
# moving averages (decay 0.8) catch up with them within 28 steps.
TRAINING = ('--batch_size', '8', '--batch_norm_decay', '0.8', '--num_epochs_before_decay', '1',
            '--learning_rate_decay_factor', '0.3')


@pytest.fixture(scope='session')
def trained(records, tmp_path_factory):
  """Trains from scratch for 6 epochs (24 steps), then resumes for a 7th."""
  log_dir = str(tmp_path_factory.mktemp('train') / 'log')
  first = train_flowers.train(train_args(records, log_dir, '--from_scratch',
                                         '--num_epochs', '6', *TRAINING))
  first_checkpoint = tf.train.latest_checkpoint(log_dir)
  # Resuming must not need the ImageNet checkpoint: point it at nothing.
  resumed = train_flowers.train(train_args(records, log_dir, '--num_epochs', '7',
                                           '--checkpoint_file', '/nonexistent/x.ckpt',
                                           *TRAINING))
  return dict(log_dir=log_dir, first=first, resumed=resumed,
              first_checkpoint=first_checkpoint)


@pytest.fixture(scope='session')
def spec_checkpoint(tmp_path_factory):
  """A V1-format checkpoint with the official checkpoint's 908 variables."""
  folder = tmp_path_factory.mktemp('imagenet')
  path = str(folder / 'inception_resnet_v2_2016_08_30.ckpt')
  return tiny_data.write_spec_checkpoint(path, tiny_data.read_spec(SPEC))


