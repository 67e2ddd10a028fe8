"""Exports a fine-tuned Inception-ResNet-V2 checkpoint for serving.

    python export_flowers.py --output_dir export             # latest checkpoint in ./log
    python export_flowers.py --output_dir export --tflite    # also model.tflite

Writes, into OUTPUT_DIR:
  frozen_graph.pb   input `input` (float32 [None, S, S, 3], already preprocessed),
                    output `InceptionResnetV2/Logits/Predictions` (slim's names);
  saved_model/1/    `serving_default` takes `image_bytes` (string [None], encoded
                    JPEG/PNG/GIF/BMP), decodes and preprocesses them in the graph as
                    predict_flowers.py does, and returns `probabilities`, `classes`
                    (int64, top-1) and `class_names`;
  labels.txt        the class names, `index:name` per line;
  model.tflite      with --tflite: the frozen graph for TensorFlow Lite.
Everything is written to a temporary folder that is renamed at the end.
"""
from __future__ import absolute_import, division, print_function

import os
import shutil
import sys

import tf_compat  # noqa: F401  (before TensorFlow: runs the code on TF 2.x too)
import tensorflow.compat.v1 as tf

import cli
import dataset_utils
import predict_flowers
import train_flowers
from cli import UsageError

# ================ EXPORT INFORMATION ================
output_dir = './export'
log_dir = './log'
# Empty: the latest checkpoint in log_dir.
checkpoint_file = ''
dataset_dir = train_flowers.dataset_dir
image_size = train_flowers.image_size
# The SavedModel's version folder, as TF Serving expects: saved_model/1/.
model_version = 1

OUTPUT_NAME = 'InceptionResnetV2/Logits/Predictions'
FROZEN_GRAPH = 'frozen_graph.pb'
SAVED_MODEL = 'saved_model'
TFLITE = 'model.tflite'
SIGNATURE = 'serving_default'


def freeze(checkpoint, num_classes, size):
  """The model with its variables turned into constants, as a GraphDef."""
  with tf.Graph().as_default() as graph:
    predict_flowers.build_classifier(num_classes, size)
    with tf.Session(config=train_flowers.session_config()) as sess:
      predict_flowers.restore_model(sess, checkpoint)
      return tf.graph_util.convert_variables_to_constants(
          sess, graph.as_graph_def(), [OUTPUT_NAME])


def build_serving_graph(num_classes, size, names):
  """Encoded images in, probabilities, top-1 class and its name out.

  Returns:
    (inputs, outputs): dicts of tensors for the signature.
  """
  image_bytes = tf.placeholder(tf.string, [None], name='image_bytes')
  # One image at a time: each has its own size until it is preprocessed.
  images = tf.map_fn(lambda encoded: predict_flowers.preprocess(encoded, size), image_bytes,
                     dtype=tf.float32, back_prop=False)
  _, end_points = train_flowers.build_model(images, num_classes, is_training=False)
  probabilities = end_points['Predictions']
  classes = tf.argmax(probabilities, 1, output_type=tf.int64, name='classes')
  class_names = tf.gather(tf.constant(names), classes, name='class_names')
  return ({'image_bytes': image_bytes},
          {'probabilities': probabilities, 'classes': classes, 'class_names': class_names})


def save_model(path, checkpoint, num_classes, size, names):
  """Writes the SavedModel with the serving_default signature to `path`."""
  with tf.Graph().as_default():
    inputs, outputs = build_serving_graph(num_classes, size, names)
    with tf.Session(config=train_flowers.session_config()) as sess:
      predict_flowers.restore_model(sess, checkpoint)
      builder = tf.saved_model.builder.SavedModelBuilder(path)
      signature = tf.saved_model.signature_def_utils.predict_signature_def(inputs, outputs)
      builder.add_meta_graph_and_variables(
          sess, [tf.saved_model.tag_constants.SERVING],
          signature_def_map={SIGNATURE: signature}, strip_default_attrs=True)
      builder.save()


def convert_tflite(frozen_path, size):
  """The frozen graph as TensorFlow Lite bytes (batch 1).

  Raises:
    UsageError: saying why this TensorFlow cannot convert it.
  """
  lite = getattr(tf, 'lite', None)
  if lite is None or not hasattr(lite.TFLiteConverter, 'from_frozen_graph'):
    raise UsageError('--tflite: TensorFlow %s has no TFLiteConverter for '
                                   'frozen graphs; export without --tflite' % tf.__version__)
  converter = lite.TFLiteConverter.from_frozen_graph(
      frozen_path, [predict_flowers.INPUT_NAME], [OUTPUT_NAME],
      input_shapes={predict_flowers.INPUT_NAME: [1, size, size, 3]})
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
    raise UsageError('--tflite: TensorFlow %s cannot convert this model (%s); '
                                   'export without --tflite'
                                   % (tf.__version__, lines[-1] if lines else type(e).__name__))
  finally:
    os.environ['PATH'] = path


def check_output_dir(path, overwrite):
  if os.path.exists(path) and not overwrite:
    raise UsageError('%s already exists: pass --overwrite to replace it, or '
                                   'choose another --output_dir' % path)
  parent = os.path.dirname(os.path.abspath(path))
  if not os.path.isdir(parent):
    raise UsageError('--output_dir %s: folder %s does not exist'
                                   % (path, parent))


def write_artefacts(folder, checkpoint, num_classes, names, args):
  """Writes every file of the export into `folder`."""
  frozen_path = os.path.join(folder, FROZEN_GRAPH)
  with open(frozen_path, 'wb') as f:
    f.write(freeze(checkpoint, num_classes, args.image_size).SerializeToString())
  save_model(os.path.join(folder, SAVED_MODEL, str(args.model_version)), checkpoint,
             num_classes, args.image_size, names)
  dataset_utils.write_label_file(dict(enumerate(names)), folder)
  if args.tflite:
    with open(os.path.join(folder, TFLITE), 'wb') as f:
      f.write(convert_tflite(frozen_path, args.image_size))


def replace_folder(temp, path):
  """Renames `temp` to `path`, removing an old `path` only once `temp` is complete."""
  old = None
  if os.path.exists(path):
    old = '%s.old-%d' % (path.rstrip(os.sep), os.getpid())
    os.rename(path, old)
  os.rename(temp, path)
  if old:
    shutil.rmtree(old, ignore_errors=True)


def export(args):
  """Writes the export; returns {name: path} of what it wrote."""
  check_output_dir(args.output_dir, args.overwrite)
  checkpoint = predict_flowers.find_checkpoint(args.checkpoint_file, args.log_dir)
  num_classes = predict_flowers.checkpoint_num_classes(checkpoint)
  _, names = predict_flowers.class_names(checkpoint, args.dataset_dir, args.labels_file,
                                         num_classes)
  temp = '%s.tmp-%d' % (os.path.abspath(args.output_dir), os.getpid())
  shutil.rmtree(temp, ignore_errors=True)
  os.makedirs(temp)
  try:
    write_artefacts(temp, checkpoint, num_classes, names, args)
    replace_folder(temp, args.output_dir)
  finally:
    shutil.rmtree(temp, ignore_errors=True)
  written = {name: os.path.join(args.output_dir, name)
             for name in (FROZEN_GRAPH, SAVED_MODEL, 'labels.txt')}
  if args.tflite:
    written[TFLITE] = os.path.join(args.output_dir, TFLITE)
  return written


def run(args):
  tf.logging.set_verbosity(tf.logging.ERROR)
  written = export(args)
  for name in sorted(written):
    print('Wrote %s' % written[name])
  return 0


def build_parser():
  """Every constant at the top of this file is a flag of the same name."""
  p = cli.new_parser(__doc__.split('\n\n')[0])
  p.add_argument('--output_dir', default=output_dir, help='the folder the export goes to')
  p.add_argument('--overwrite', action='store_true', help='replace an existing OUTPUT_DIR')
  p.add_argument('--log_dir', default=log_dir,
                 help='training log folder whose latest checkpoint is exported')
  p.add_argument('--checkpoint_file', default=checkpoint_file,
                 help='checkpoint to export (default: latest in LOG_DIR)')
  train_flowers.add_dataset_flags(p)
  p.add_argument('--model_version', type=cli.positive_int, default=model_version,
                 help='the SavedModel goes to OUTPUT_DIR/saved_model/MODEL_VERSION')
  p.add_argument('--tflite', action='store_true', help='also write %s' % TFLITE)
  return p


def main(argv=None):
  return cli.main(run, build_parser(), argv)


if __name__ == '__main__':
  sys.exit(main())
