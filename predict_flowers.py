# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Classifies photos with a fine-tuned Inception-ResNet-V2 checkpoint.

    python predict_flowers.py photo.jpg more_photos/ 'holiday/*.png'
    python predict_flowers.py --show_top_k --output_json predictions.json photos/

Prints `PATH<TAB>NAME<TAB>PROBABILITY` for each image (with --show_top_k, the top
--top_k classes below it). Images are decoded by TensorFlow and preprocessed
exactly as `eval_flowers.py` does, so the probabilities are the ones evaluation
computes for the same image. A file it cannot read gets a `skipped PATH: reason`
line on stderr and the others are classified, with exit status 2; when nothing
can be classified (no photo matches, or none can be read) the command ends with
one `error:` line and exit status 1, a missing photo named before any checkpoint
is looked for.

From Python, `predict(photos, **flags)` takes the flags as keywords and
returns one dict a classified photo: predict(['photo.jpg'], log_dir='log').
"""
from __future__ import absolute_import, division, print_function

import os
import sys

from tf_compat import tf
from transfer import (averages, best_checkpoint, cli, flags, images, model, model_settings,
                      predictor)
from transfer.errors import UsageError

# ================ PREDICTION INFORMATION ================
# The training log folder, whose best (else latest) checkpoint is used.
log_dir = './log'
# Empty: --checkpoint best or latest in log_dir.
checkpoint_file = ''
# For a log dir that records no settings (see transfer/model_settings.py):
# where labels.txt is looked for, and the size the model was trained at.
dataset_dir = '.'
labels_file = ''
image_size = model.DEFAULT_IMAGE_SIZE
batch_size = 32
# Classes shown with --show_top_k and written to --output_json (at most the class count).
top_k = 5
# Empty: no JSON file.
output_json = ''


def classify(settings, out=None, err=None):
  """Classifies the images settings.inputs names, printing as it goes.

  Args:
    settings: predict's settings (settings_from_flags).
    out, err: where results and skipped files are printed; stdout, stderr by default.

  Returns:
    (results, skipped): [{'path', 'names', 'probabilities', 'indices'}] of the
    classified images (top-k, best first), [{'path', 'reason'}] of the skipped.
  """
  out, err = out or sys.stdout, err or sys.stderr
  s = settings
  paths, missing = images.find_images(s.inputs)
  if not paths:  # a mistyped photo is named before any checkpoint is looked for
    raise UsageError('no photo to classify: %s: %s; check the path' % (
        ', '.join(item for item, _ in missing), missing[0][1]))
  # The checkpoint, and the names of its classes.
  checkpoint, line = best_checkpoint.choose(s.checkpoint_file, s.log_dir, s.checkpoint)
  choice, (labels_path, names) = model_settings.take(
      checkpoint, s.image_size, s.dataset_dir, s.labels_file, s.no_moving_average,
      (image_size, dataset_dir), out=err, told=[line])
  k = min(s.top_k, len(names))
  results, skipped = [], []

  def on_result(path, top):
    results.append(dict(path=path, **top))
    out.write('%s\t%s\t%.4f\n' % (path, top['names'][0], top['probabilities'][0]))
    if s.show_top_k:
      for rank, (name, p) in enumerate(zip(top['names'], top['probabilities']), 1):
        out.write('  %d. %s\t%.4f\n' % (rank, name, p))
    out.flush()

  def on_skip(path, reason):
    skipped.append({'path': path, 'reason': reason})
    err.write('skipped %s: %s\n' % (path, reason))
    err.flush()

  for item, reason in missing:
    on_skip(item, reason)
  # One session for every batch.
  classifier = predictor.Predictor(checkpoint, len(names), choice.image_size,
                                   choice.moving_averages)
  try:
    predictor.classify_paths(classifier, paths, names, s.batch_size, k, on_result, on_skip)
  finally:
    classifier.close()
  if s.output_json:  # the skipped photos too, even when none could be classified
    predictor.write_json(s.output_json, {
        'checkpoint': checkpoint, 'labels_file': labels_path, 'image_size': choice.image_size,
        'images': results, 'skipped': skipped})
  if not results:
    raise UsageError('no photo could be classified (%d skipped, see the lines above): pass '
                     'JPEG, PNG, GIF or BMP files' % len(skipped))
  return results, skipped


def predict(photos, **flags):
  """Classifies photos as `python predict_flowers.py` would, with the flags as keywords.

  Args:
    photos: image files, folders or glob patterns (a list, or one string).
    **flags: predict_flowers.py's flags by name, e.g. log_dir='log', top_k=3.

  Returns:
    One dict a classified photo, in order: 'path', 'names' (the top-k class
    names, best first), 'probabilities' (the same order) and 'indices'; nothing
    is printed for them. A photo that cannot be read is skipped with a line on
    stderr, as the command does; when no photo can be classified it raises.

  Raises:
    TypeError: for a keyword that is no flag.
    UsageError: (a ValueError) with the line the command prints after `error: `,
      also when no photo matches or none can be read.
  """
  photos = [photos] if isinstance(photos, str) else list(photos)

  def results_only(settings):  # the caller gets the results: no lines on stdout
    with open(os.devnull, 'w') as quiet:
      return classify(settings, out=quiet)[0]
  return cli.call('predict', results_only, build_parser(), flags, settings_from_flags,
                  positionals={'inputs': photos})


def run(settings):
  """The command: 0, or 2 when some files were skipped and the others classified.

  When nothing can be classified, classify raises: one `error:` line, exit status 1.
  """
  tf.logging.set_verbosity(tf.logging.ERROR)
  _, skipped = classify(settings)
  return 2 if skipped else 0


# ================ COMMAND LINE ================
def build_parser():
  """Every constant at the top of this file is a flag of the same name."""
  p = cli.new_parser(__doc__.split('\n\n')[0])
  p.add_argument('inputs', nargs='+', metavar='PHOTO_OR_FOLDER_OR_GLOB',
                 help='image files, folders (searched with their sub-folders) or glob '
                      'patterns')
  flags.add_trained_model_flags(p, log_dir, checkpoint_file, 'used')
  flags.add_trained_dataset_flags(p, dataset_dir, labels_file, image_size)
  averages.add_use_flag(p)
  p.add_argument('--batch_size', type=flags.positive_int, default=batch_size)
  p.add_argument('--top_k', type=flags.positive_int, default=top_k,
                 help='classes listed with --show_top_k and in --output_json')
  p.add_argument('--show_top_k', action='store_true',
                 help='list the top TOP_K classes under each image')
  p.add_argument('--output_json', default=output_json,
                 help='also write path, top-k names, indices and probabilities here')
  return p


def settings_from_flags(args):
  """Predict's immutable settings: its flags."""
  return cli.frozen(args, 'PredictSettings')


def main(argv=None):
  return cli.main(run, build_parser(), argv, settings_from_flags)


if __name__ == '__main__':
  sys.exit(main())
