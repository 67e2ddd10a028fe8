# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The network's outputs for fixed weights and inputs, stored once from TF 1.15.

    .venv/bin/python tests/outputs_fixture.py   # rewrites tests/data/irv2_outputs_tf1.15.npz

test_cross_version.py checks that the running TensorFlow reproduces them.
Weights and images come from numpy's RandomState, whose streams never change.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from inception_resnet_v2 import inception_resnet_v2, inception_resnet_v2_arg_scope  # noqa: E402
from test_inception_resnet_v2 import load, random_images, seeded_weights  # noqa: E402
from tf_compat import slim, tf  # noqa: E402

PATH = os.path.join(HERE, 'data', 'irv2_outputs_tf1.15.npz')
SIZE = 107  # the smallest input with the auxiliary head
NUM_CLASSES = 5
# Whole tensors of the small late layers; the early, large ones as
# per-channel means, which still catch a wrong branch or scale.
WHOLE = ('Mixed_7a', 'Conv2d_7b_1x1', 'PreLogitsFlatten', 'AuxLogits', 'Logits', 'Predictions')
CHANNEL_MEANS = ('Conv2d_1a_3x3', 'Conv2d_4a_3x3', 'Mixed_5b', 'Mixed_6a', 'PreAuxLogits')


def compute_outputs():
  """{name: float32 array} of the evaluation network on the fixed inputs."""
  graph = tf.Graph()
  with graph.as_default():
    images = tf.placeholder(tf.float32, [2, SIZE, SIZE, 3])
    with slim.arg_scope(inception_resnet_v2_arg_scope()):
      _, end_points = inception_resnet_v2(images, num_classes=NUM_CLASSES, is_training=False)
    fetches = {name: end_points[name] for name in WHOLE}
    fetches.update({name + '/channel_mean': tf.reduce_mean(end_points[name], [1, 2])
                    for name in CHANNEL_MEANS})
    weights = seeded_weights(tf.global_variables())
    with tf.Session() as sess:
      load(sess, weights)
      return sess.run(fetches, {images: random_images(SIZE)})


def main():
  outputs = compute_outputs()
  outputs['tensorflow_version'] = np.array(tf.__version__)
  np.savez_compressed(PATH, **outputs)
  print('wrote %s (%d bytes) with TensorFlow %s' % (PATH, os.path.getsize(PATH), tf.__version__))


if __name__ == '__main__':
  main()
