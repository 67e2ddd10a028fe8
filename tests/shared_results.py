# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Results made once per test run and shared by every pytest-xdist worker.

Each result lives in the run's common temp folder as NAME.json (its JSON-able
value) beside the folder NAME it describes, guarded by NAME.lock. The first
process to take the lock makes it; the others wait, then read it.

`python shared_results.py BASE FD...` makes them all in the background: the
test controller takes the locks, hands their descriptors to this process and
lets go of its own copies, so no worker idles while the slow ones are made.
"""
import fcntl
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# In the order the background maker makes them: the quick ones first.
NAMES = ('records', 'spec_checkpoint', 'source_checkpoint', 'trained')

# Batch 8: batch statistics of fewer images differ enough from the moving
# averages that evaluation sometimes collapsed to one class (seen with 4).
# The learning rate falls fast so that the weights settle and the batch-norm
# moving averages (decay 0.8) catch up with them within 28 steps.
TRAINING = dict(batch_size=8, batch_norm_decay=0.8, num_epochs_before_decay=1,
                learning_rate_decay_factor=0.3)
# The same batches, distortions and initial weights under any load: with the
# input threads' timing free, the accuracy tests' numbers varied (issue 26).
SAME_EVERY_RUN = dict(seed=7, deterministic_input=True)


def lock_path(base, name):
  return os.path.join(base, name + '.lock')


def get(base, name):
  """The result `name`, made here unless another process has made it."""
  with open(lock_path(base, name), 'w') as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    return _made(base, name)


def _made(base, name):
  """Makes the result unless it is there, then reads it; the caller holds the lock."""
  result_path = os.path.join(base, name + '.json')
  if not os.path.exists(result_path):
    from transfer import files
    value = MAKERS[name](base, os.path.join(base, name))
    files.write_atomically(result_path, json.dumps(value).encode())
  with open(result_path) as f:
    return json.load(f)


def make_records(base, root):
  """TFRecords of the two-colour set: 32 training and 8 validation images."""
  import tiny_data
  from transfer.datasets import convert
  photos = tiny_data.make_colour_photos(os.path.join(root, 'photos'), per_class=20)
  convert.convert_dataset(photos, root, validation_size=8, num_shards=2)
  return root


def make_spec_checkpoint(base, folder):
  """A V1-format checkpoint with the official checkpoint's 908 variables."""
  import tiny_data
  os.makedirs(folder)
  path = os.path.join(folder, 'inception_resnet_v2_2016_08_30.ckpt')
  return tiny_data.write_spec_checkpoint(path, tiny_data.read_spec(tiny_data.SPEC))


def make_source_checkpoint(base, folder):
  """A stand-in for the ImageNet checkpoint whose features tell images apart.

  Random weights (1001 classes, like the real one) and batch-norm moving
  statistics taken from one batch (decay 0), so that in inference mode every
  layer's output stays normalised. The spec checkpoint's patterned weights
  blow up through the residual blocks and give every image the same vector.
  """
  import numpy as np
  import tiny_data
  from tf_compat import tf
  from transfer import model
  os.makedirs(folder)
  with tf.Graph().as_default():
    tf.set_random_seed(1)
    images = tf.constant(np.random.RandomState(1).uniform(
        -1, 1, (16, tiny_data.IMAGE_SIZE, tiny_data.IMAGE_SIZE, 3)).astype(np.float32))
    model.build_model(images, 1001, is_training=True, batch_norm_decay=0.0)
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run(updates)
      return tf.train.Saver().save(sess, os.path.join(folder, 'source.ckpt'),
                                   write_meta_graph=False)


def make_trained(base, folder):
  """Trains from scratch for 6 epochs (24 steps), then resumes for a 7th; deterministic."""
  import train_flowers
  from tf_compat import tf
  from tiny_data import train_flags
  records = get(base, 'records')
  log_dir = os.path.join(folder, 'log')
  first = train_flowers.train(**train_flags(records, log_dir, from_scratch=True, num_epochs=6,
                                            **dict(TRAINING, **SAME_EVERY_RUN)))
  first_checkpoint = tf.train.latest_checkpoint(log_dir)
  # Resuming must not need the ImageNet checkpoint: point it at nothing.
  resumed = train_flowers.train(**train_flags(records, log_dir, num_epochs=7,
                                              checkpoint_file='/nonexistent/x.ckpt',
                                              **dict(TRAINING, **SAME_EVERY_RUN)))
  return dict(log_dir=log_dir, first=first, resumed=resumed,
              first_checkpoint=first_checkpoint)


MAKERS = {'records': make_records, 'spec_checkpoint': make_spec_checkpoint,
          'source_checkpoint': make_source_checkpoint, 'trained': make_trained}


def take_locks(base):
  """Opens and locks every result's lock file; returns the open files."""
  locks = [open(lock_path(base, name), 'w') for name in NAMES]
  for lock in locks:
    fcntl.flock(lock, fcntl.LOCK_EX)
  return locks


def make_all(base, fds):
  """Makes every result, letting each lock go as soon as its result is there."""
  for name, fd in zip(NAMES, fds):
    try:
      _made(base, name)
    finally:
      os.close(fd)  # the last hold on this lock: a waiting worker reads the result


if __name__ == '__main__':
  sys.path[:0] = [os.path.dirname(HERE), HERE]
  make_all(sys.argv[1], [int(fd) for fd in sys.argv[2:]])
