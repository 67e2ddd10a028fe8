# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""TensorFlow Lite files of the frozen graph: float, and three reduced variants.

Each takes one preprocessed image (batch 1, [1, S, S, 3], the Inception
evaluation crop scaled to [-1, 1], as predict_flowers.py prepares it) and gives
the softmax over the classes:

  model.tflite          (none)     float32 weights; float32 in, float32 out.
  model_float16.tflite  (float16)  float16 weights, float32 arithmetic; float32 in and out.
  model_dynamic.tflite  (dynamic)  int8 weights, activations quantized as it runs;
                                   float32 in and out.
  model_int8.tflite     (int8)     every tensor int8, calibrated on training images;
                                   int8 in (q = x / scale + zero_point, from the input's
                                   quantization parameters), int8 out (p = (q - zero_point)
                                   * scale). TF 1.15's interpreter runs it very slowly
                                   (about 4.5 s an image at 128 px; TF 2.21: 0.01 s).
"""
from __future__ import absolute_import, division, print_function

import collections
import os
import sys

from tf_compat import tf
from transfer import flags, model
from transfer.errors import UsageError

# --tflite_quantization name: file written.
FILES = collections.OrderedDict([
    ('none', 'model.tflite'), ('float16', 'model_float16.tflite'),
    ('dynamic', 'model_dynamic.tflite'), ('int8', 'model_int8.tflite')])
# The variants that hold only float32 weights: they must match the checkpoint.
FLOAT32 = ('none',)
REPRESENTATIVE_IMAGES = 100


def add_flags(p):
  p.add_argument('--tflite_quantization', default='',
                 help='comma list of TensorFlow Lite files to write (implies --tflite): '
                 'none (model.tflite), float16 (model_float16.tflite), dynamic '
                 '(model_dynamic.tflite) take float32 [1, S, S, 3] images preprocessed as '
                 'predict_flowers.py does (the evaluation crop, scaled to [-1, 1]) and give '
                 'float32 probabilities; int8 (model_int8.tflite, full-integer) takes and '
                 'gives int8, scaled by the input\'s and output\'s quantization '
                 'parameters. TF 1.15\'s interpreter runs int8 very slowly (about 4.5 s an '
                 'image at 128 px). Default with --tflite: none')
  p.add_argument('--representative_images', type=flags.positive_int,
                 default=REPRESENTATIVE_IMAGES,
                 help='training images int8 is calibrated on, at most (default %d)'
                 % REPRESENTATIVE_IMAGES)


def variants(text, tflite):
  """The --tflite_quantization names, in the order given; ('none',) for a plain --tflite.

  Raises:
    UsageError: for a name that is no variant.
  """
  names = [n.strip() for n in text.split(',') if n.strip()]
  unknown = [n for n in names if n not in FILES]
  if unknown:
    raise UsageError('--tflite_quantization %s: unknown %s; choose from %s'
                     % (text, ', '.join(unknown), ','.join(FILES)))
  if not names:
    return ('none',) if tflite else ()
  return tuple(collections.OrderedDict.fromkeys(names))


def _converter(frozen_path, size):
  lite = getattr(tf, 'lite', None)
  if lite is None or not hasattr(lite.TFLiteConverter, 'from_frozen_graph'):
    raise UsageError('--tflite: TensorFlow %s has no TFLiteConverter for frozen graphs; '
                     'export without --tflite' % tf.__version__)
  return lite.TFLiteConverter.from_frozen_graph(
      frozen_path, [model.INPUT_NAME], [model.OUTPUT_NAME],
      input_shapes={model.INPUT_NAME: [1, size, size, 3]})


def _configure(converter, variant, representative):
  """Sets the converter's options for one variant."""
  if variant == 'none':
    return
  converter.optimizations = [tf.lite.Optimize.DEFAULT]
  if variant == 'float16':
    converter.target_spec.supported_types = [tf.float16]
  elif variant == 'int8':
    converter.representative_dataset = lambda: ([image[None]] for image in representative)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8


def convert(frozen_path, size, variant, representative=None):
  """The frozen graph as the TensorFlow Lite bytes of `variant` (a FILES key).

  representative: for int8, the preprocessed float32 images [N, S, S, 3] it
  is calibrated on.

  Raises:
    UsageError: saying why this TensorFlow cannot convert it.
  """
  converter = _converter(frozen_path, size)
  _configure(converter, variant, representative)
  # TF 1.x runs the `toco_from_protos` program that pip put beside this Python,
  # which is not on PATH when the venv is not activated.
  path = os.environ.get('PATH', '')
  os.environ['PATH'] = os.pathsep.join([os.path.dirname(sys.executable), path])
  try:
    return converter.convert()
  except Exception as e:  # pylint: disable=broad-except
    # The converter raises assorted types; its last message line says why.
    lines = [l.strip() for l in str(e).splitlines()
             if l.strip() and 'See console' not in l]
    raise UsageError('--tflite: TensorFlow %s cannot convert this model to %s (%s); '
                     'export without it' % (tf.__version__, FILES[variant],
                                            lines[-1] if lines else type(e).__name__))
  finally:
    os.environ['PATH'] = path
