# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""A fine-tuned checkpoint for serving: a frozen graph, a SavedModel, TensorFlow Lite.

  frozen_graph.pb   input `input` (float32 [None, S, S, 3], already preprocessed),
                    output model.OUTPUT_NAME, the network's softmax (slim's names);
  saved_model/N/    `serving_default` takes `image_bytes` (string [None], encoded
                    JPEG/PNG/GIF/BMP), decodes and preprocesses them in the graph as
                    predict_flowers.py does, and returns `probabilities`, `classes`
                    (int64, top-1) and `class_names`;
  labels.txt        the class names, `index:name` per line;
  model*.tflite     optionally, the frozen graph for TensorFlow Lite, float or
                    reduced (transfer/quantization.py).
"""
from __future__ import absolute_import, division, print_function

import contextlib
import os
import shutil

import dataset_utils
from tf_compat import tf
from transfer import images, locks, model, quantization, runtime
from transfer.errors import UsageError

FROZEN_GRAPH = 'frozen_graph.pb'
SAVED_MODEL = 'saved_model'
TFLITE = quantization.FILES['none']
SIGNATURE = 'serving_default'


def freeze(checkpoint, num_classes, size, moving_averages=False):
  """The model with its variables turned into constants, as a GraphDef."""
  with tf.Graph().as_default() as graph:
    model.build_classifier(num_classes, size)
    with tf.Session(config=runtime.session_config()) as sess:
      model.restore_model(sess, checkpoint, moving_averages)
      return tf.graph_util.convert_variables_to_constants(
          sess, graph.as_graph_def(), [model.OUTPUT_NAME])


def build_serving_graph(num_classes, size, names):
  """Encoded images in, probabilities, top-1 class and its name out.

  Returns:
    (inputs, outputs): dicts of tensors for the signature.
  """
  image_bytes = tf.placeholder(tf.string, [None], name='image_bytes')
  # One image at a time: each has its own size until it is preprocessed.
  preprocessed = tf.map_fn(lambda encoded: images.preprocess(encoded, size), image_bytes,
                           dtype=tf.float32, back_prop=False)
  _, end_points = model.build_model(preprocessed, num_classes, is_training=False)
  probabilities = end_points['Predictions']
  classes = tf.argmax(probabilities, 1, output_type=tf.int64, name='classes')
  class_names = tf.gather(tf.constant(names), classes, name='class_names')
  return ({'image_bytes': image_bytes},
          {'probabilities': probabilities, 'classes': classes, 'class_names': class_names})


def save_model(path, checkpoint, num_classes, size, names, moving_averages=False):
  """Writes the SavedModel with the serving_default signature to `path`."""
  with tf.Graph().as_default():
    inputs, outputs = build_serving_graph(num_classes, size, names)
    with tf.Session(config=runtime.session_config()) as sess:
      model.restore_model(sess, checkpoint, moving_averages)
      builder = tf.saved_model.builder.SavedModelBuilder(path)
      signature = tf.saved_model.signature_def_utils.predict_signature_def(inputs, outputs)
      builder.add_meta_graph_and_variables(
          sess, [tf.saved_model.tag_constants.SERVING],
          signature_def_map={SIGNATURE: signature}, strip_default_attrs=True)
      builder.save()


def check_output_dir(path, overwrite):
  """Refuses an existing export without `overwrite`, and a missing parent folder."""
  if os.path.exists(path) and not overwrite:
    raise UsageError('%s already exists: pass --overwrite to replace it, or '
                     'choose another --output_dir' % path)
  parent = os.path.dirname(os.path.abspath(path))
  if not os.path.isdir(parent):
    raise UsageError('--output_dir %s: folder %s does not exist' % (path, parent))


@contextlib.contextmanager
def output_dir_claimed(path, overwrite):
  """Checks the --output_dir (check_output_dir) and holds its lock while the block runs.

  Two exports into one folder would race on its rename; the second is refused
  at once, naming the first. The check runs again under the lock: an export
  that finished meanwhile has made the folder.
  """
  check_output_dir(path, overwrite)  # a missing parent folder first: the lock file goes there
  with locks.hold(path, 'an export', '--output_dir'):
    check_output_dir(path, overwrite)
    yield


def _write_files(folder, checkpoint, names, image_size, model_version, variants,
                 moving_averages, representative):
  """Writes every file of the export into `folder`."""
  frozen_path = os.path.join(folder, FROZEN_GRAPH)
  with open(frozen_path, 'wb') as f:
    f.write(freeze(checkpoint, len(names), image_size, moving_averages).SerializeToString())
  save_model(os.path.join(folder, SAVED_MODEL, str(model_version)), checkpoint,
             len(names), image_size, names, moving_averages)
  dataset_utils.write_label_file(dict(enumerate(names)), folder)
  for variant in variants:
    data = quantization.convert(frozen_path, image_size, variant, representative)
    with open(os.path.join(folder, quantization.FILES[variant]), 'wb') as f:
      f.write(data)


def replace_folder(temp, path):
  """Renames `temp` to `path`, removing an old `path` only once `temp` is complete."""
  old = None
  if os.path.exists(path):
    old = '%s.old-%d' % (path.rstrip(os.sep), os.getpid())
    os.rename(path, old)
  os.rename(temp, path)
  if old:
    shutil.rmtree(old, ignore_errors=True)


def write_export(output_dir, checkpoint, names, image_size, model_version=1, tflite=(),
                 moving_averages=False, representative=None):
  """Writes the export of `checkpoint` into output_dir, all of it or nothing.

  Everything is written into a temporary folder beside output_dir, which is
  renamed at the end.

  Args:
    output_dir: the folder to create (or replace; see check_output_dir).
    checkpoint: a fine-tuned checkpoint.
    names: its class names, in class order.
    image_size: the size it was trained at.
    model_version: the SavedModel's version folder.
    tflite: the TensorFlow Lite variants to write (quantization.FILES keys);
      True: ('none',), model.tflite.
    moving_averages: export the weights' moving averages where the checkpoint
      holds them.
    representative: for the int8 variant, the preprocessed images
      [N, S, S, 3] it is calibrated on.

  Returns:
    {file name: path} of what was written; 'saved_model' maps to the
    SavedModel's own folder, OUTPUT_DIR/saved_model/MODEL_VERSION.
  """
  variants = ('none',) if tflite is True else tuple(tflite or ())
  temp = '%s.tmp-%d' % (os.path.abspath(output_dir), os.getpid())
  shutil.rmtree(temp, ignore_errors=True)
  os.makedirs(temp)
  try:
    _write_files(temp, checkpoint, names, image_size, model_version, variants,
                 moving_averages, representative)
    replace_folder(temp, output_dir)
  finally:
    shutil.rmtree(temp, ignore_errors=True)
  written = {name: os.path.join(output_dir, name)
             for name in (FROZEN_GRAPH, dataset_utils.LABELS_FILENAME)}
  # The folder a SavedModel loader opens is the version's.
  written[SAVED_MODEL] = os.path.join(output_dir, SAVED_MODEL, str(model_version))
  for variant in variants:
    written[quantization.FILES[variant]] = os.path.join(output_dir, quantization.FILES[variant])
  return written
