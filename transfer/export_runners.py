# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Each exported artefact loaded as a user would load it, and run on images.

A runner is made once (the load) and then called on a batch: the frozen graph
and the TensorFlow Lite files take preprocessed float32 images [N, S, S, 3],
the SavedModel the encoded image bytes. Each returns probabilities [N, classes].
"""
from __future__ import absolute_import, division, print_function

import os

import numpy as np

from tf_compat import tf
from transfer import exporting, model, predictor, runtime


def checkpoint_runner(checkpoint, num_classes, size, moving_averages):
  """The checkpoint as predict_flowers.py restores it (with its moving averages)."""
  classifier = predictor.Predictor(checkpoint, num_classes, size, moving_averages)
  return classifier.classify, classifier.close


def frozen_runner(path):
  """frozen_graph.pb imported into a graph of its own, fed at its `input`."""
  graph_def = tf.GraphDef()
  with open(path, 'rb') as f:
    graph_def.ParseFromString(f.read())
  with tf.Graph().as_default() as graph:
    tf.import_graph_def(graph_def, name='')
  sess = tf.Session(graph=graph, config=runtime.session_config())
  output = graph.get_tensor_by_name(model.OUTPUT_NAME + ':0')
  source = graph.get_tensor_by_name(model.INPUT_NAME + ':0')
  return (lambda batch: sess.run(output, {source: batch})), sess.close


def saved_model_runner(path):
  """The SavedModel's serving_default signature, fed encoded images."""
  graph = tf.Graph()
  sess = tf.Session(graph=graph, config=runtime.session_config())
  with graph.as_default():
    meta = tf.saved_model.loader.load(sess, [tf.saved_model.tag_constants.SERVING], path)
  signature = meta.signature_def[exporting.SIGNATURE]
  output = signature.outputs['probabilities'].name
  source = signature.inputs['image_bytes'].name
  return (lambda encoded: sess.run(output, {source: list(encoded)})), sess.close


def _quantize(batch, detail):
  """Float values into an integer tensor's type by its scale and zero point."""
  if detail['dtype'] == np.float32:
    return batch
  scale, zero_point = detail['quantization']
  info = np.iinfo(detail['dtype'])
  return np.clip(np.round(batch / scale + zero_point), info.min, info.max).astype(
      detail['dtype'])


def _dequantize(values, detail):
  if detail['dtype'] == np.float32:
    return values
  scale, zero_point = detail['quantization']
  return (values.astype(np.float32) - zero_point) * scale


def tflite_runner(path):
  """A TensorFlow Lite file in tf.lite.Interpreter, one image at a time (converted for batch 1)."""
  interpreter = tf.lite.Interpreter(model_path=path)
  interpreter.allocate_tensors()
  source, = interpreter.get_input_details()
  output, = interpreter.get_output_details()

  def run(batch):
    rows = []
    for image in batch:
      interpreter.set_tensor(source['index'], _quantize(image[np.newaxis], source))
      interpreter.invoke()
      rows.append(_dequantize(interpreter.get_tensor(output['index'])[0], output))
    return np.stack(rows)
  return run, lambda: None


def size_on_disk(path):
  """Bytes of a file, or of every file under a folder."""
  if os.path.isfile(path):
    return os.path.getsize(path)
  return sum(os.path.getsize(os.path.join(folder, name))
             for folder, _, names in os.walk(path) for name in names)


def checkpoint_size(checkpoint):
  """Bytes of a checkpoint's data and index files."""
  folder, prefix = os.path.split(checkpoint)
  return sum(os.path.getsize(os.path.join(folder or '.', name))
             for name in os.listdir(folder or '.') if name.startswith(prefix + '.'))
