# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""--deterministic_input with --seed: the same batches, so bit for bit the same training.

Without it the input threads' timing decides the batches, and the shared
trained run's accuracy varied with the machine's load (issue 26).
"""
import numpy as np

import train_flowers
from tf_compat import tf
from tiny_data import HEADS_ONLY, train_flags

# 32 training images in batches of 8: one epoch is 4 steps, a summary every 2.
FLAGS = dict(HEADS_ONLY, from_scratch=True, num_epochs=1, batch_size=8, seed=11,
             deterministic_input=True)


def test_deterministic_input_repeats_a_run_bit_for_bit(records, tmp_path):
  log_dirs = [str(tmp_path / name) for name in ('first', 'second')]
  results = [train_flowers.train(**train_flags(records, log_dir, **FLAGS))
             for log_dir in log_dirs]
  assert results[0] == results[1]  # the last loss and the streaming accuracy, exactly
  assert results[0]['global_step'] == 4
  first, second = [tf.train.load_checkpoint(log_dir) for log_dir in log_dirs]
  names = sorted(first.get_variable_to_shape_map())
  assert names == sorted(second.get_variable_to_shape_map())
  # Every variable: the heads and their Adam slots, and the batch-norm moving
  # statistics, which every layer gathers from the batches' images.
  for name in names:
    np.testing.assert_array_equal(first.get_tensor(name), second.get_tensor(name), name)
  moving_mean = 'InceptionResnetV2/Conv2d_1a_3x3/BatchNorm/moving_mean'
  assert np.abs(first.get_tensor(moving_mean)).sum() > 0  # they did gather
