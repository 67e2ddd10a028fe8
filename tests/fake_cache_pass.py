# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""A cache pass of made-up vectors through bottlenecks.cached: the chunk store without
the network, slow enough a chunk that a kill -9 lands inside the pass.

    python tests/fake_cache_pass.py BOTTLENECK_DIR
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tf_compat import tf  # noqa: E402
from transfer import bottlenecks  # noqa: E402

COUNTS = {'train': 7, 'validation': 3}
VIEWS = 2
KEY = dict(image_size=0, views=VIEWS, batch_size=2, checkpoint_sha256='made up',
           shards_sha256={})
SECONDS_A_CHUNK = 0.2


def compute(todo, commit):
  for chunk in todo:
    index = chunk.start + np.arange(chunk.size)
    vectors = (index[:, None] + np.arange(bottlenecks.VECTOR_SIZE)) * (
        1.0 + bottlenecks.SEGMENTS.index(chunk.segment))
    time.sleep(SECONDS_A_CHUNK)
    commit(chunk, vectors, index % 3)


def run(bottleneck_dir):
  return bottlenecks.cached(bottleneck_dir, KEY, COUNTS, compute)


if __name__ == '__main__':
  tf.logging.set_verbosity(tf.logging.INFO)
  run(sys.argv[1])
