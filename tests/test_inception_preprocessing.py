# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Inception preprocessing: shapes, ranges, the eval crop, training randomness."""
import io

import numpy as np
import pytest
from PIL import Image

import inception_preprocessing
from tf_compat import tf

# The summaries the training path must add (TF-slim adds a 'cropped_resized_image'
# one as well).
TRAIN_SUMMARIES = ('image_with_bounding_boxes', 'images_with_distorted_bounding_box',
                   'final_distorted_image')


def random_image(height, width, channels=3, seed=0):
  return np.random.RandomState(seed).randint(
      0, 256, size=(height, width, channels)).astype(np.uint8)


def png_bytes(array):
  buf = io.BytesIO()
  Image.fromarray(array.squeeze(-1) if array.shape[-1] == 1 else array).save(buf, 'PNG')
  return buf.getvalue()


def run(array, height, width, runs=1, seed=None, **kwargs):
  """Preprocesses `array` in a fresh graph; returns (outputs, output tensor, graph)."""
  graph = tf.Graph()
  with graph.as_default():
    if seed is not None:
      tf.set_random_seed(seed)
    image = tf.constant(array)
    output = inception_preprocessing.preprocess_image(image, height, width, **kwargs)
    with tf.Session() as sess:
      values = [sess.run(output) for _ in range(runs)]
  return values, output, graph


@pytest.mark.parametrize('is_training', [False, True])
@pytest.mark.parametrize('in_size,out_size', [
    ((40, 60), (299, 299)),   # upscale, landscape input
    ((90, 30), (32, 48)),     # portrait input, non-square output
    ((64, 64), (17, 5)),      # odd, tiny output
])
def test_output_shape_and_dtype(is_training, in_size, out_size):
  values, output, _ = run(random_image(*in_size), *out_size, is_training=is_training)
  assert output.dtype == tf.float32
  assert output.get_shape().as_list() == [out_size[0], out_size[1], 3]
  assert values[0].shape == (out_size[0], out_size[1], 3)
  assert values[0].dtype == np.float32


@pytest.mark.parametrize('is_training', [False, True])
def test_output_range_is_minus_one_to_one_and_used(is_training):
  # Half black, half white: the output must reach both ends of [-1, 1] in eval
  # and stay inside it (brightness/contrast are clipped) while training.
  array = np.zeros((48, 48, 3), np.uint8)
  array[:, 24:] = 255
  values, _, _ = run(array, 32, 32, runs=4, is_training=is_training, fast_mode=False)
  for value in values:
    assert value.min() >= -1.0 and value.max() <= 1.0
  low, high = min(v.min() for v in values), max(v.max() for v in values)
  if is_training:
    assert low < -0.5 and high > 0.5
  else:
    assert low == pytest.approx(-1.0) and high == pytest.approx(1.0)


def test_eval_is_deterministic():
  array = random_image(50, 70)
  first, _, _ = run(array, 41, 37, runs=2, is_training=False)
  second, _, _ = run(array, 41, 37, is_training=False)
  np.testing.assert_array_equal(first[0], first[1])
  np.testing.assert_array_equal(first[0], second[0])


def test_eval_of_constant_image_is_constant():
  array = np.full((30, 50, 3), 191, np.uint8)
  values, _, _ = run(array, 20, 20, is_training=False)
  np.testing.assert_allclose(values[0], 2.0 * (191 / 255. - 0.5), atol=1e-6)


@pytest.mark.parametrize('central_fraction,offset', [(0.875, (2, 4)), (None, (0, 0))])
def test_eval_crops_centre_and_resizes_bilinearly(central_fraction, offset):
  # On a linear ramp v = a * row + b * col, bilinear interpolation is exact, so
  # the expected output is known in closed form. The 32x64 image loses
  # (1 - 0.875) / 2 of each side to the central crop: 2 rows and 4 columns, leaving
  # 28x56. Without align_corners, output pixel (y, x) samples the crop at
  # (y * 28 / out_h, x * 56 / out_w), here (4 * y, 3.5 * x).
  a, b = 1. / 128, 1. / 256
  rows, cols = np.mgrid[0:32, 0:64]
  ramp = (a * rows + b * cols).astype(np.float32)[..., None] * np.ones(3, np.float32)
  crop_h, crop_w = (28, 56) if central_fraction else (32, 64)
  out_h, out_w = crop_h // 4, 16
  graph = tf.Graph()
  with graph.as_default():
    output = inception_preprocessing.preprocess_for_eval(
        tf.constant(ramp), out_h, out_w, central_fraction=central_fraction)
    with tf.Session() as sess:
      value = sess.run(output)
  for y in range(out_h):
    for x in range(out_w):
      expected = a * (offset[0] + y * crop_h / out_h) + b * (offset[1] + x * crop_w / out_w)
      np.testing.assert_allclose(value[y, x], 2.0 * (expected - 0.5), atol=1e-5,
                                 err_msg='pixel (%d, %d)' % (y, x))


def test_uint8_and_float_inputs_give_the_same_eval_output():
  array = random_image(45, 60)
  from_uint8, _, _ = run(array, 33, 33, is_training=False)
  from_float, _, _ = run(array.astype(np.float32) / 255., 33, 33, is_training=False)
  np.testing.assert_allclose(from_uint8[0], from_float[0], atol=1e-6)


@pytest.mark.parametrize('fast_mode', [True, False])
def test_training_output_is_random(fast_mode):
  values, _, _ = run(random_image(60, 80), 40, 40, runs=4, is_training=True,
                     fast_mode=fast_mode)
  assert len({v.tobytes() for v in values}) == 4


@pytest.mark.parametrize('crop_image', [False, True])
def test_training_is_reproducible_under_graph_seed(crop_image):
  # Every random op takes its seed from the graph-level one; the random crop is
  # handed it explicitly (sample_distorted_bounding_box ignores it otherwise).
  array = random_image(40, 50)
  kwargs = dict(is_training=True, fast_mode=False, crop_image=crop_image, runs=3, seed=7)
  first, _, _ = run(array, 30, 30, **kwargs)
  second, _, _ = run(array, 30, 30, **kwargs)
  for a, b in zip(first, second):
    np.testing.assert_array_equal(a, b)
  assert len({v.tobytes() for v in first}) == 3


def op_types(graph):
  return {op.type for op in graph.get_operations()}


def test_fast_mode_skips_hue_contrast_and_extra_resize_methods():
  # A flat red image keeps G == B through crop, resize, flip, brightness and
  # saturation; only a hue shift separates them, and hue is full mode only.
  array = np.zeros((40, 40, 3), np.uint8)
  array[..., 0], array[..., 1:] = 200, 50
  fast, _, fast_graph = run(array, 24, 24, runs=6, is_training=True, fast_mode=True)
  full, _, full_graph = run(array, 24, 24, runs=6, is_training=True, fast_mode=False)
  assert all(np.abs(v[..., 1] - v[..., 2]).max() < 1e-3 for v in fast)
  assert any(np.abs(v[..., 1] - v[..., 2]).max() > 0.05 for v in full)
  resizes = {'ResizeBicubic', 'ResizeNearestNeighbor', 'ResizeArea'}
  assert not (op_types(fast_graph) & (resizes | {'AdjustHue', 'AdjustContrastv2'}))
  assert resizes | {'AdjustHue', 'AdjustContrastv2'} <= op_types(full_graph)


def summary_names(graph):
  return {s.op.name.split('/')[-1] for s in graph.get_collection(tf.GraphKeys.SUMMARIES)}


@pytest.mark.parametrize('add_image_summaries', [True, False])
def test_training_image_summaries(add_image_summaries):
  graph = tf.Graph()
  with graph.as_default():
    inception_preprocessing.preprocess_image(
        tf.constant(random_image(30, 30)), 20, 20, is_training=True,
        add_image_summaries=add_image_summaries)
  names = summary_names(graph)
  if add_image_summaries:
    assert set(TRAIN_SUMMARIES) <= names
  else:
    assert not names


def test_eval_adds_no_summaries():
  _, _, graph = run(random_image(30, 30), 20, 20, is_training=False)
  assert not summary_names(graph)


@pytest.mark.parametrize('is_training', [False, True])
def test_grayscale_image_gives_one_channel(is_training):
  array = random_image(50, 40, channels=1)
  values, output, _ = run(array, 30, 36, runs=3, is_training=is_training, fast_mode=False)
  assert output.get_shape().as_list() == [30, 36, 1]
  for value in values:
    assert value.shape == (30, 36, 1)
    assert -1.0 <= value.min() and value.max() <= 1.0
  if is_training:
    assert len({v.tobytes() for v in values}) == 3


def test_four_channel_image_is_rejected():
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match='channels'):
      inception_preprocessing.preprocess_image(
          tf.constant(random_image(20, 20, channels=4)), 10, 10, is_training=True)


@pytest.mark.parametrize('channels', [3, 1])
@pytest.mark.parametrize('is_training', [False, True])
def test_png_decoded_input_with_unknown_shape(channels, is_training):
  array = random_image(37, 52, channels=channels)
  graph = tf.Graph()
  with graph.as_default():
    encoded = tf.placeholder(tf.string, [])
    image = tf.image.decode_png(encoded, channels=channels)
    assert image.get_shape().as_list() == [None, None, channels]
    output = inception_preprocessing.preprocess_image(image, 29, 31, is_training=is_training)
    assert output.get_shape().as_list() == [29, 31, channels]
    with tf.Session() as sess:
      value = sess.run(output, {encoded: png_bytes(array)})
  assert value.shape == (29, 31, channels)
  if not is_training:
    # Decoding loses nothing, so the result is that of the raw pixels.
    expected, _, _ = run(array, 29, 31, is_training=False)
    np.testing.assert_array_equal(value, expected[0])
