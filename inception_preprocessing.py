# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Image preprocessing for the Inception family (Inception-ResNet-V2 here).

Training applies the Inception recipe of random distortions: a random crop
around the (given or whole-image) bounding box, a resize to the network input
size, a random horizontal flip and a random colour distortion. Evaluation takes
a deterministic central crop and resizes it bilinearly. Both return float32
images scaled to [-1, 1], the range the Inception checkpoints were trained on.

The graph built for a 3-channel image is, op for op, the one built by TF-slim's
`preprocessing/inception_preprocessing.py`. That matters beyond the values: in
TF1 graph mode an unseeded random op takes its op-level seed from the number of
ops created before it, so under the same `tf.set_random_seed` the same graph
gives the same distortions. Extra ops, even unused ones, would shift them.

Unlike TF-slim, 1-channel (grayscale) images are accepted as well: the colour
distortions that need RGB (saturation and hue) are skipped for them, and the
output keeps one channel.

Usage:

  image = tf.image.decode_jpeg(encoded, channels=3)
  image = preprocess_image(image, 299, 299, is_training=True)
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import numbers

import tf_compat  # noqa: F401  (before TensorFlow: runs the code on TF 2.x too)
import tensorflow.compat.v1 as tf

# Strength of each colour distortion.
_BRIGHTNESS_MAX_DELTA = 32. / 255.
_SATURATION_LOWER, _SATURATION_UPPER = 0.5, 1.5
_HUE_MAX_DELTA = 0.2
_CONTRAST_LOWER, _CONTRAST_UPPER = 0.5, 1.5

# Order in which the colour distortions are applied, per `color_ordering`. The
# distortions do not commute, so each ordering gives a different distribution.
# Fast mode only knows two orderings: 0, and "any other".
_FAST_COLOR_ORDERINGS = (
    ('brightness', 'saturation'),
    ('saturation', 'brightness'),
)
_FULL_COLOR_ORDERINGS = (
    ('brightness', 'saturation', 'hue', 'contrast'),
    ('saturation', 'brightness', 'contrast', 'hue'),
    ('contrast', 'hue', 'brightness', 'saturation'),
    ('hue', 'saturation', 'contrast', 'brightness'),
)
_NUM_COLOR_ORDERINGS = 4

# Distortions that work in HSV space and therefore need an RGB image.
_RGB_ONLY_DISTORTIONS = ('saturation', 'hue')

# tf.image.ResizeMethod enumerates 4 methods (0-3): bilinear, nearest neighbour,
# bicubic and area. Fast mode sticks to the first one.
_NUM_RESIZE_METHODS = 4

_SUPPORTED_CHANNELS = (1, 3)


def _static_channels(image):
  """Checks the static shape of an image and returns its channel count.

  Only static shape information is read, so no op is added to the graph.

  Args:
    image: Tensor expected to hold one image, [height, width, channels].

  Returns:
    The number of channels as a Python int, or None if it is not known
    statically.

  Raises:
    ValueError: if the image is known not to be 3-D, or to have a number of
      channels other than 1 (grayscale) or 3 (RGB).
  """
  shape = image.get_shape()
  if shape.ndims is None:
    return None
  if shape.ndims != 3:
    raise ValueError('Expected a single image of shape [height, width, '
                     'channels], got shape %s.' % shape)
  channels = tf.compat.dimension_value(shape[2])
  if channels is not None and channels not in _SUPPORTED_CHANNELS:
    raise ValueError(
        'Expected a grayscale (1-channel) or RGB (3-channel) image, got %d '
        'channels; decode it with channels=3 (or channels=1).' % channels)
  return channels


def _static_size(size):
  """Returns `size` if it is a Python (or NumPy) integer, else None."""
  return int(size) if isinstance(size, numbers.Integral) else None


def apply_with_random_selector(x, func, num_cases):
  """Applies `func(x, case)` for one `case` drawn at random per run.

  All `num_cases` branches are built, but x is routed (through Switch) to the
  drawn branch only, so the others get no data and do not run. Merge forwards
  the output of the branch that ran.

  Args:
    x: input Tensor.
    func: Python function `func(x, case)` building the graph for one case,
      `case` being a Python int.
    num_cases: Python int, the number of cases; `case` is drawn uniformly from
      [0, num_cases - 1].

  Returns:
    The Tensor `func(x, case)` for the drawn case.
  """
  selector = tf.random_uniform([], maxval=num_cases, dtype=tf.int32)
  branch_outputs = []
  for case in range(num_cases):
    routed = tf.raw_ops.Switch(data=x, pred=tf.equal(selector, case))
    branch_outputs.append(func(routed.output_true, case))
  return tf.raw_ops.Merge(inputs=branch_outputs).output


def _random_distortion(image, name):
  """Applies the random colour distortion called `name` to `image`."""
  if name == 'brightness':
    return tf.image.random_brightness(image, max_delta=_BRIGHTNESS_MAX_DELTA)
  if name == 'saturation':
    return tf.image.random_saturation(
        image, lower=_SATURATION_LOWER, upper=_SATURATION_UPPER)
  if name == 'hue':
    return tf.image.random_hue(image, max_delta=_HUE_MAX_DELTA)
  if name == 'contrast':
    return tf.image.random_contrast(
        image, lower=_CONTRAST_LOWER, upper=_CONTRAST_UPPER)
  raise ValueError('Unknown colour distortion: %r' % name)


def distort_color(image, color_ordering=0, fast_mode=True, scope=None):
  """Randomly distorts the colours of one image.

  The distortions (brightness, saturation and, unless `fast_mode`, hue and
  contrast) are applied in the order given by `color_ordering`. For a
  1-channel image, saturation and hue are skipped since they need RGB.

  Args:
    image: 3-D float Tensor, one image with values in [0, 1] and 1 or 3
      channels.
    color_ordering: Python int in [0, 3], which order to apply the
      distortions in. In fast mode 0 gives one order and 1-3 the other.
    fast_mode: Python bool; if True, skips the slower hue and contrast
      distortions.
    scope: Optional name scope.

  Returns:
    3-D float Tensor, the distorted image clipped to [0, 1].

  Raises:
    ValueError: if `color_ordering` is not in [0, 3].
  """
  if not 0 <= color_ordering < _NUM_COLOR_ORDERINGS:
    raise ValueError('color_ordering must be in [0, %d], got %r' %
                     (_NUM_COLOR_ORDERINGS - 1, color_ordering))
  if fast_mode:
    ordering = _FAST_COLOR_ORDERINGS[min(color_ordering, 1)]
  else:
    ordering = _FULL_COLOR_ORDERINGS[color_ordering]
  is_grayscale = _static_channels(image) == 1
  with tf.name_scope(scope, 'distort_color', [image]):
    for name in ordering:
      if is_grayscale and name in _RGB_ONLY_DISTORTIONS:
        continue
      image = _random_distortion(image, name)
    # Brightness and contrast can push values out of [0, 1].
    return tf.clip_by_value(image, 0.0, 1.0)


def distorted_bounding_box_crop(image,
                                bbox,
                                min_object_covered=0.1,
                                aspect_ratio_range=(0.75, 1.33),
                                area_range=(0.05, 1.0),
                                max_attempts=100,
                                scope=None):
  """Crops a random box that overlaps the given bounding boxes.

  The box is drawn by `tf.image.sample_distorted_bounding_box` under the given
  constraints; if no box satisfies them within `max_attempts`, the whole image
  is used.

  The TF1 `sample_distorted_bounding_box` ignores the graph-level seed unless it
  is given one, so it is passed the seeds any other random op would take (op
  for op the graph stays TF-slim's): under `tf.set_random_seed` the crops
  repeat; without a graph seed they differ between runs, as in TF-slim.

  Args:
    image: 3-D Tensor, one image [height, width, channels].
    bbox: 3-D float Tensor of bounding boxes, shape [1, num_boxes, 4], each box
      [ymin, xmin, ymax, xmax] in relative coordinates in [0, 1]. With no box
      (num_boxes == 0) the whole image counts as the box.
    min_object_covered: Python float, the fraction of some bounding box that
      the crop must contain at least.
    aspect_ratio_range: pair of floats, allowed range of the crop's aspect
      ratio, width / height.
    area_range: pair of floats, allowed range of the crop's area as a fraction
      of the image's area.
    max_attempts: Python int, how many random boxes to try before falling back
      to the whole image.
    scope: Optional name scope.

  Returns:
    A tuple (cropped_image, distorted_bbox): the 3-D cropped image (its height
    and width are dynamic) and the chosen box, a float Tensor of shape
    [1, 1, 4].
  """
  with tf.name_scope(scope, 'distorted_bounding_box_crop', [image, bbox]):
    seed, seed2 = tf.get_seed(None)  # (None, None) without a graph-level seed
    crop_begin, crop_size, distorted_bbox = (
        tf.image.sample_distorted_bounding_box(
            tf.shape(image),
            bounding_boxes=bbox,
            seed=seed,
            seed2=seed2,
            min_object_covered=min_object_covered,
            aspect_ratio_range=aspect_ratio_range,
            area_range=area_range,
            max_attempts=max_attempts,
            use_image_if_no_bounding_boxes=True))
    cropped_image = tf.slice(image, crop_begin, crop_size)
    return cropped_image, distorted_bbox


def preprocess_for_train(image,
                         height,
                         width,
                         bbox,
                         fast_mode=True,
                         scope=None,
                         add_image_summaries=True,
                         random_crop=True,
                         use_grayscale=False):
  """Randomly distorts one image for training.

  The distortions make the network invariant to aspects of the photo that do
  not change its label: framing, scale, mirroring and colours.

  Args:
    image: 3-D Tensor [height, width, channels], 1 or 3 channels. A float32
      image must be in [0, 1]; an integer image is converted with
      `tf.image.convert_image_dtype`, i.e. scaled from [0, MAX] of its dtype.
    height: Python int, height of the output.
    width: Python int, width of the output.
    bbox: 3-D float Tensor of bounding boxes, [1, num_boxes, 4], each box
      [ymin, xmin, ymax, xmax] in relative coordinates; None means the whole
      image.
    fast_mode: Python bool; if True, resizes bilinearly only and skips the
      hue and contrast distortions.
    scope: Optional name scope.
    add_image_summaries: Python bool, whether to add image summaries of the
      intermediate steps.
    random_crop: Python bool; if False, the whole image is resized instead of
      a random crop of it.
    use_grayscale: Python bool, whether to convert the result to grayscale.

  Returns:
    3-D float32 Tensor [height, width, channels] with values in [-1, 1].

  Raises:
    ValueError: if the image is not 3-D with 1 or 3 channels.
  """
  channels = _static_channels(image)
  with tf.name_scope(scope, 'distort_image', [image, height, width, bbox]):
    if bbox is None:
      bbox = tf.constant([[[0.0, 0.0, 1.0, 1.0]]], dtype=tf.float32)
    if image.dtype != tf.float32:
      image = tf.image.convert_image_dtype(image, dtype=tf.float32)

    # The boxed images are built even without summaries, as TF-slim does, so
    # that the op count (and thus the random ops' seeds) stays the same.
    image_with_box = tf.image.draw_bounding_boxes(
        tf.expand_dims(image, 0), bbox)
    if add_image_summaries:
      tf.summary.image('image_with_bounding_boxes', image_with_box)

    if random_crop:
      distorted_image, distorted_bbox = distorted_bounding_box_crop(image, bbox)
      # The slice size is dynamic, which loses the static channel count.
      distorted_image.set_shape([None, None, channels or 3])
      image_with_distorted_box = tf.image.draw_bounding_boxes(
          tf.expand_dims(image, 0), distorted_bbox)
      if add_image_summaries:
        tf.summary.image('images_with_distorted_bounding_box',
                         image_with_distorted_box)
    else:
      distorted_image = image

    # The resize ignores the aspect ratio of the crop, stretching it: one more
    # distortion. The method is drawn at random unless in fast mode.
    distorted_image = apply_with_random_selector(
        distorted_image,
        lambda x, method: tf.image.resize_images(x, [height, width], method),
        num_cases=1 if fast_mode else _NUM_RESIZE_METHODS)
    if add_image_summaries:
      tf.summary.image(('cropped_' if random_crop else '') + 'resized_image',
                       tf.expand_dims(distorted_image, 0))

    distorted_image = tf.image.random_flip_left_right(distorted_image)

    # Fast mode always uses ordering 0 (with a draw from a single case, as
    # TF-slim does); full mode picks one of the four orderings per image.
    distorted_image = apply_with_random_selector(
        distorted_image,
        lambda x, ordering: distort_color(x, ordering, fast_mode),
        num_cases=1 if fast_mode else _NUM_COLOR_ORDERINGS)

    if use_grayscale and channels != 1:
      distorted_image = tf.image.rgb_to_grayscale(distorted_image)
    if add_image_summaries:
      tf.summary.image('final_distorted_image',
                       tf.expand_dims(distorted_image, 0))

    # [0, 1] -> [-1, 1].
    distorted_image = tf.subtract(distorted_image, 0.5)
    distorted_image = tf.multiply(distorted_image, 2.0)
    # Merge does not always keep the static shape; restore it (no op added).
    out_channels = 1 if use_grayscale else distorted_image.get_shape()[2]
    distorted_image.set_shape(
        [_static_size(height), _static_size(width), out_channels])
    return distorted_image


def preprocess_for_eval(image,
                        height,
                        width,
                        central_fraction=0.875,
                        scope=None,
                        central_crop=True,
                        use_grayscale=False):
  """Prepares one image for evaluation, deterministically.

  Crops the central `central_fraction` of the image (of each side) and, if
  `height` and `width` are given, resizes it bilinearly to that size.

  Args:
    image: 3-D Tensor [height, width, channels], 1 or 3 channels. A float32
      image must be in [0, 1]; an integer image is converted with
      `tf.image.convert_image_dtype`, i.e. scaled from [0, MAX] of its dtype.
    height: Python int, height of the output, or None to keep the crop's.
    width: Python int, width of the output, or None to keep the crop's.
    central_fraction: Python float in (0, 1], the fraction of each side to
      keep; None or 0 means no crop.
    scope: Optional name scope.
    central_crop: Python bool, whether to crop at all.
    use_grayscale: Python bool, whether to convert the image to grayscale.

  Returns:
    3-D float32 Tensor [height, width, channels] with values in [-1, 1].

  Raises:
    ValueError: if the image is not 3-D with 1 or 3 channels.
  """
  channels = _static_channels(image)
  with tf.name_scope(scope, 'eval_image', [image, height, width]):
    if image.dtype != tf.float32:
      image = tf.image.convert_image_dtype(image, dtype=tf.float32)
    if use_grayscale and channels != 1:
      image = tf.image.rgb_to_grayscale(image)
    # By default keeps 87.5% of each side (76.6% of the area), the crop TF-slim
    # reports the Inception checkpoints' accuracy with.
    if central_crop and central_fraction:
      image = tf.image.central_crop(image, central_fraction=central_fraction)

    if height and width:
      # resize_bilinear works on batches.
      image = tf.expand_dims(image, 0)
      image = tf.image.resize_bilinear(image, [height, width],
                                       align_corners=False)
      image = tf.squeeze(image, [0])
    # [0, 1] -> [-1, 1].
    image = tf.subtract(image, 0.5)
    image = tf.multiply(image, 2.0)
    return image


def preprocess_image(image,
                     height,
                     width,
                     is_training=False,
                     bbox=None,
                     fast_mode=True,
                     add_image_summaries=True,
                     crop_image=True,
                     use_grayscale=False):
  """Preprocesses one image for training or for evaluation.

  Args:
    image: 3-D Tensor [height, width, channels], 1 or 3 channels, e.g. from
      `tf.image.decode_jpeg`. A float32 image must be in [0, 1]; an integer
      image is converted with `tf.image.convert_image_dtype`.
    height: Python int, height of the output.
    width: Python int, width of the output.
    is_training: Python bool; if True, applies the random training
      distortions, otherwise the deterministic evaluation crop.
    bbox: 3-D float Tensor of bounding boxes, [1, num_boxes, 4], each box
      [ymin, xmin, ymax, xmax] in relative coordinates; None means the whole
      image. Training only.
    fast_mode: Python bool; if True, avoids the slower training distortions.
    add_image_summaries: Python bool, whether to add image summaries
      (training only).
    crop_image: Python bool, whether to crop (randomly for training, centrally
      for evaluation) before resizing.
    use_grayscale: Python bool, whether to convert the image to grayscale.

  Returns:
    3-D float32 Tensor [height, width, channels] with values in [-1, 1].

  Raises:
    ValueError: if the image is not 3-D with 1 or 3 channels.
  """
  if is_training:
    return preprocess_for_train(
        image,
        height,
        width,
        bbox,
        fast_mode,
        add_image_summaries=add_image_summaries,
        random_crop=crop_image,
        use_grayscale=use_grayscale)
  return preprocess_for_eval(
      image, height, width, central_crop=crop_image,
      use_grayscale=use_grayscale)
