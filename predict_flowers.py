"""Classifies photos with a fine-tuned Inception-ResNet-V2 checkpoint.

    python predict_flowers.py photo.jpg more_photos/ 'holiday/*.png'
    python predict_flowers.py --show_top_k --output_json predictions.json photos/

Prints `PATH<TAB>NAME<TAB>PROBABILITY` for each image (with --show_top_k, the top
--top_k classes below it). Images are decoded by TensorFlow and preprocessed
exactly as `eval_flowers.py` does, so the probabilities are the ones evaluation
computes for the same image. An unreadable file gets one line on stderr and is
skipped; the exit status is then 1, or 2 when no image could be read.
"""
from __future__ import absolute_import, division, print_function

import glob
import io
import json
import os
import sys

# Decode failures are reported per file; TF's C++ warnings about them are noise.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
import tf_compat  # noqa: E402,F401  (before TensorFlow: runs the code on TF 2.x too)
import tensorflow.compat.v1 as tf  # noqa: E402
import tf_slim as slim  # noqa: E402

import atomic_files  # noqa: E402
import checkpoints  # noqa: E402
import cli  # noqa: E402
import dataset_utils  # noqa: E402
import inception_preprocessing  # noqa: E402
import train_flowers  # noqa: E402
from cli import UsageError  # noqa: E402

# ================ PREDICTION INFORMATION ================
# The training log folder, whose latest checkpoint is used.
log_dir = './log'
# Empty: the latest checkpoint in log_dir.
checkpoint_file = ''
# Where labels.txt is looked for when --labels_file is not given.
dataset_dir = train_flowers.dataset_dir
# The size the model was trained at.
image_size = train_flowers.image_size
batch_size = 32
# Classes shown with --show_top_k and written to --output_json (at most the class count).
top_k = 5
# Empty: no JSON file.
output_json = ''

# The final layer's weights, [1536, num_classes]: tells the checkpoint's class count.
LOGITS_WEIGHTS = 'InceptionResnetV2/Logits/Logits/weights'
# The name slim's export_inference_graph gives the model's input.
INPUT_NAME = 'input'
PNG_SIGNATURE = b'\x89PNG'
# Pillow modes a PNG keeps as they are; others are converted before re-encoding.
PNG_MODES = ('1', 'L', 'LA', 'P', 'RGB', 'RGBA')
NOT_AN_IMAGE = 'not an image (neither TensorFlow nor Pillow can decode it)'


# ================ DECODING AND PREPROCESSING ================
def _png_on_white(encoded):
  """Decodes a PNG to RGB, laying transparent parts on white as the converter does."""
  rgba = tf.cast(tf.image.decode_png(encoded, channels=4), tf.float32)
  alpha = rgba[:, :, 3:] / 255.0
  rgb = rgba[:, :, :3] * alpha + 255.0 * (1.0 - alpha)
  # Opaque pixels come out exactly as they were.
  return tf.cast(tf.round(rgb), tf.uint8)


def decode_image(encoded):
  """Decodes JPEG, PNG, GIF (first frame) or 24-bit BMP bytes to uint8 RGB [h, w, 3].

  JPEGs go through `decode_jpeg(channels=3)`, the op slim's TFExample decoder
  runs on the records evaluation reads, so the pixels are the same; grayscale
  JPEGs come out with three equal channels, as they do there.
  """
  def other():
    return tf.image.decode_image(encoded, channels=3, expand_animations=False)

  def not_jpeg():
    return tf.cond(tf.equal(tf.strings.substr(encoded, 0, 4), PNG_SIGNATURE),
                   lambda: _png_on_white(encoded), other)

  image = tf.cond(tf.image.is_jpeg(encoded),
                  lambda: tf.image.decode_jpeg(encoded, channels=3), not_jpeg)
  image.set_shape([None, None, 3])
  return image


def preprocess(encoded, size):
  """Encoded image -> float32 [size, size, 3] in [-1, 1], as evaluation prepares it."""
  return inception_preprocessing.preprocess_image(decode_image(encoded), size, size,
                                                  is_training=False)


def pillow_png(data):
  """Re-encodes what Pillow reads but TF does not (8/32-bit BMP, TIFF, WebP) as PNG.

  Raises:
    Whatever Pillow raises for data it cannot decode.
  """
  image = Image.open(io.BytesIO(data))
  image.load()
  if image.mode not in PNG_MODES:
    has_alpha = 'A' in image.mode or 'transparency' in image.info
    image = image.convert('RGBA' if has_alpha else 'RGB')
  buffer = io.BytesIO()
  image.save(buffer, 'PNG')
  return buffer.getvalue()


# ================ MODEL, CHECKPOINT AND LABELS ================
def find_checkpoint(checkpoint_path, log_dir):
  """The checkpoint to use: `checkpoint_path`, else the latest one in log_dir."""
  if checkpoint_path:
    if not checkpoints.checkpoint_present(checkpoint_path):
      raise UsageError('checkpoint %s not found: check --checkpoint_file'
                                     % checkpoint_path)
    return checkpoint_path
  path = tf.train.latest_checkpoint(log_dir) if tf.gfile.IsDirectory(log_dir) else None
  if not path:
    raise UsageError(
        'no checkpoint in %s: train first (`python train_flowers.py --log_dir %s`) or pass '
        '--checkpoint_file' % (log_dir, log_dir))
  return path


def checkpoint_num_classes(path):
  """The class count of a fine-tuned checkpoint's head."""
  shapes = dict(tf.train.list_variables(path))
  if LOGITS_WEIGHTS not in shapes:
    raise UsageError('%s holds no %s: it is not an Inception-ResNet-V2 '
                                   'checkpoint' % (path, LOGITS_WEIGHTS))
  return shapes[LOGITS_WEIGHTS][-1]


def class_names(checkpoint, dataset_dir, labels_file, num_classes):
  """Label names in class order, checked against the checkpoint's class count.

  Returns:
    (label file path, [name of class 0, name of class 1, ...]).
  """
  path, labels = train_flowers.read_labels(dataset_dir, labels_file)
  if sorted(labels) != list(range(num_classes)):
    raise UsageError(
        '%s names %d classes (ids %s) but checkpoint %s has %d: pass the --labels_file '
        '(or --dataset_dir) it was trained with'
        % (path, len(labels), ','.join(str(i) for i in sorted(labels)), checkpoint,
           num_classes))
  return path, [labels[i] for i in range(num_classes)]


def build_classifier(num_classes, size):
  """The evaluation model on a placeholder of preprocessed images.

  Returns:
    (input placeholder float32 [None, size, size, 3] named `input`,
     probabilities [None, num_classes] named InceptionResnetV2/Logits/Predictions).
  """
  images = tf.placeholder(tf.float32, [None, size, size, 3], name=INPUT_NAME)
  _, end_points = train_flowers.build_model(images, num_classes, is_training=False)
  return images, end_points['Predictions']


def restore_model(sess, checkpoint):
  """Restores every model variable of the default graph from `checkpoint`."""
  checkpoints.restore_fn(checkpoint, slim.get_variables_to_restore(),
                         'pass the checkpoint of a fine-tuned Inception-ResNet-V2')(sess)


class Predictor(object):
  """A session holding the restored model, fed one image and one batch at a time."""

  def __init__(self, checkpoint, num_classes, size):
    self.graph = tf.Graph()
    with self.graph.as_default():
      self.encoded = tf.placeholder(tf.string, [], name='image_bytes')
      self.preprocessed = preprocess(self.encoded, size)
      self.images, self.probabilities = build_classifier(num_classes, size)
      self.sess = tf.Session(config=train_flowers.session_config())
      restore_model(self.sess, checkpoint)
    self.graph.finalize()

  def prepare(self, data):
    """Encoded bytes -> preprocessed float32 [S, S, 3]; raises on undecodable data."""
    return self.sess.run(self.preprocessed, {self.encoded: data})

  def classify(self, batch):
    """Preprocessed float32 [N, S, S, 3] -> probabilities [N, num_classes]."""
    return self.sess.run(self.probabilities, {self.images: batch})

  def close(self):
    self.sess.close()


# ================ INPUTS ================
def _is_image_name(name):
  return (not name.startswith('.')
          and os.path.splitext(name)[1].lower() in dataset_utils.IMAGE_EXTENSIONS)


def _folder_images(folder):
  """Image files under `folder`, sub-folders included, sorted; hidden ones left out."""
  found = []
  for root, dirs, files in os.walk(folder):
    dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
    found.extend(os.path.join(root, f) for f in sorted(files) if _is_image_name(f))
  return found


def find_images(inputs):
  """Expands files, folders and glob patterns into image paths.

  A file named on the command line is taken whatever its extension; folders
  contribute the files with an image extension.

  Returns:
    (paths in order without repeats, [(input, reason)] of inputs matching nothing).
  """
  paths, missing = [], []
  for item in inputs:
    if os.path.isdir(item):
      found = _folder_images(item)
    elif os.path.isfile(item):
      found = [item]
    else:
      found = []
      for match in sorted(glob.glob(item)):
        found.extend(_folder_images(match) if os.path.isdir(match) else [match])
    if not found:
      missing.append((item, 'no such file, or no image in that folder or glob'))
    paths.extend(found)
  seen = set()
  return [p for p in paths if not (p in seen or seen.add(p))], missing


def read_and_prepare(predictor, path):
  """Reads and preprocesses one file; returns (image, None) or (None, reason)."""
  try:
    with open(path, 'rb') as f:
      data = f.read()
  except OSError as e:
    return None, e.strerror or str(e)
  if not data:
    return None, 'empty file'
  try:
    return predictor.prepare(data), None
  except tf.errors.InvalidArgumentError:
    pass
  # A format TensorFlow cannot decode may still be one Pillow reads.
  try:
    return predictor.prepare(pillow_png(data)), None
  except Exception as e:  # pylint: disable=broad-except
    # Pillow raises many types for bad data; each one just means "unreadable".
    return None, unreadable_reason(e)


def unreadable_reason(error):
  """A short reason from Pillow's exception, without its in-memory file repr."""
  text = str(error).splitlines()[0] if str(error) else type(error).__name__
  if text.startswith('cannot identify image file'):
    return NOT_AN_IMAGE
  return 'corrupt image (%s)' % text


# ================ PREDICTION ================
def top_classes(probabilities, names, k):
  """The k most probable classes: {'names', 'indices', 'probabilities'}."""
  order = np.argsort(-probabilities, kind='stable')[:k]
  return {'names': [names[i] for i in order], 'indices': [int(i) for i in order],
          'probabilities': [float(probabilities[i]) for i in order]}


def classify_paths(predictor, paths, names, batch_size, k, on_result, on_skip):
  """Classifies `paths` in batches, calling on_result(path, top) or on_skip(path, reason).

  Returns:
    (number classified, number skipped).
  """
  done = skipped = 0
  pending, images = [], []

  def flush():
    for path, probabilities in zip(pending, predictor.classify(np.stack(images))):
      on_result(path, top_classes(probabilities, names, k))
    del pending[:], images[:]

  for path in paths:
    image, reason = read_and_prepare(predictor, path)
    if image is None:
      on_skip(path, reason)
      skipped += 1
      continue
    pending.append(path)
    images.append(image)
    done += 1
    if len(images) == batch_size:
      flush()
  if images:
    flush()
  return done, skipped


def write_json(path, document):
  """Writes `document` as JSON through a temporary file, so it is all or nothing."""
  folder = os.path.dirname(os.path.abspath(path))
  if not os.path.isdir(folder):
    raise UsageError('--output_json %s: folder %s does not exist'
                                   % (path, folder))
  atomic_files.write_atomically(
      path, (json.dumps(document, indent=1) + '\n').encode('utf-8'))


def predict(args, out=None, err=None):
  """Classifies the images the arguments name, printing as it goes.

  Returns:
    The exit status: 0, 1 if a file was skipped, 2 if none could be read.
  """
  out, err = out or sys.stdout, err or sys.stderr
  checkpoint = find_checkpoint(args.checkpoint_file, args.log_dir)
  num_classes = checkpoint_num_classes(checkpoint)
  labels_path, names = class_names(checkpoint, args.dataset_dir, args.labels_file,
                                   num_classes)
  k = min(args.top_k, num_classes)
  paths, missing = find_images(args.inputs)
  results, skipped = [], []

  def on_result(path, top):
    results.append(dict(path=path, **top))
    out.write('%s\t%s\t%.4f\n' % (path, top['names'][0], top['probabilities'][0]))
    if args.show_top_k:
      for rank, (name, p) in enumerate(zip(top['names'], top['probabilities']), 1):
        out.write('  %d. %s\t%.4f\n' % (rank, name, p))
    out.flush()

  def on_skip(path, reason):
    skipped.append({'path': path, 'reason': reason})
    err.write('skipped %s: %s\n' % (path, reason))
    err.flush()

  for item, reason in missing:
    on_skip(item, reason)
  if paths:
    predictor = Predictor(checkpoint, num_classes, args.image_size)
    try:
      classify_paths(predictor, paths, names, args.batch_size, k, on_result, on_skip)
    finally:
      predictor.close()
  if args.output_json:
    write_json(args.output_json, {'checkpoint': checkpoint, 'labels_file': labels_path,
                                  'image_size': args.image_size, 'images': results,
                                  'skipped': skipped})
  if not results:
    return 2
  return 1 if skipped else 0


def run(args):
  tf.logging.set_verbosity(tf.logging.ERROR)
  return predict(args)


def build_parser():
  """Every constant at the top of this file is a flag of the same name."""
  p = cli.new_parser(__doc__.split('\n\n')[0])
  p.add_argument('inputs', nargs='+', metavar='PHOTO_OR_FOLDER_OR_GLOB',
                 help='image files, folders (searched with their sub-folders) or glob '
                      'patterns')
  p.add_argument('--log_dir', default=log_dir, help='training log folder whose latest '
                 'checkpoint is used')
  p.add_argument('--checkpoint_file', default=checkpoint_file,
                 help='checkpoint to use (default: latest in LOG_DIR)')
  train_flowers.add_dataset_flags(p)
  p.add_argument('--batch_size', type=cli.positive_int, default=batch_size)
  p.add_argument('--top_k', type=cli.positive_int, default=top_k,
                 help='classes listed with --show_top_k and in --output_json')
  p.add_argument('--show_top_k', action='store_true',
                 help='list the top TOP_K classes under each image')
  p.add_argument('--output_json', default=output_json,
                 help='also write path, top-k names, indices and probabilities here')
  return p


def main(argv=None):
  return cli.main(run, build_parser(), argv)


if __name__ == '__main__':
  sys.exit(main())
