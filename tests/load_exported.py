"""Runs an exported artefact in a fresh process, the way a user would load it.

    python load_exported.py frozen EXPORT_DIR INPUTS.npy OUT.npz
    python load_exported.py saved_model_v1 EXPORT_DIR PHOTO... OUT.npz
    python load_exported.py saved_model_v2 EXPORT_DIR PHOTO... OUT.npz   # TF 2.x
    python load_exported.py tflite EXPORT_DIR INPUTS.npy OUT.npz

Imports nothing from the project, so it also runs under another TensorFlow.
Writes the outputs to OUT.npz.
"""
import os
import sys

import numpy as np
import tensorflow as tf

OUTPUT = 'InceptionResnetV2/Logits/Predictions:0'


def frozen(export_dir, inputs):
  graph_def = tf.compat.v1.GraphDef()
  with open(os.path.join(export_dir, 'frozen_graph.pb'), 'rb') as f:
    graph_def.ParseFromString(f.read())
  with tf.Graph().as_default() as graph:
    tf.import_graph_def(graph_def, name='')
    with tf.compat.v1.Session(graph=graph) as sess:
      return {'probabilities': sess.run(OUTPUT, {'input:0': np.load(inputs)})}


def _read(paths):
  data = []
  for path in paths:
    with open(path, 'rb') as f:
      data.append(f.read())
  return data


def saved_model_v1(export_dir, photos):
  path = os.path.join(export_dir, 'saved_model', '1')
  with tf.Graph().as_default() as graph:
    with tf.compat.v1.Session(graph=graph) as sess:
      meta = tf.compat.v1.saved_model.loader.load(sess, ['serve'], path)
      signature = meta.signature_def['serving_default']
      fetches = {k: v.name for k, v in signature.outputs.items()}
      return sess.run(fetches, {signature.inputs['image_bytes'].name: _read(photos)})


def saved_model_v2(export_dir, photos):
  model = tf.saved_model.load(os.path.join(export_dir, 'saved_model', '1'))
  outputs = model.signatures['serving_default'](image_bytes=tf.constant(_read(photos)))
  return {k: v.numpy() for k, v in outputs.items()}


def tflite(export_dir, inputs):
  interpreter = tf.lite.Interpreter(model_path=os.path.join(export_dir, 'model.tflite'))
  interpreter.allocate_tensors()
  source, = interpreter.get_input_details()
  output, = interpreter.get_output_details()
  rows = []
  for image in np.load(inputs):  # converted for batch 1
    interpreter.set_tensor(source['index'], image[np.newaxis])
    interpreter.invoke()
    rows.append(interpreter.get_tensor(output['index'])[0])
  return {'probabilities': np.stack(rows)}


def main(argv):
  kind, export_dir, rest, out = argv[1], argv[2], argv[3:-1], argv[-1]
  run = {'frozen': frozen, 'saved_model_v1': saved_model_v1, 'saved_model_v2': saved_model_v2,
         'tflite': tflite}[kind]
  result = run(export_dir, rest[0] if kind in ('frozen', 'tflite') else rest)
  # Class names come back as bytes objects, which np.load would refuse to read.
  result = {k: np.array([x.decode() for x in v]) if v.dtype == object else v
            for k, v in result.items()}
  np.savez(out, tf_version=tf.__version__, **result)


if __name__ == '__main__':
  main(sys.argv)
