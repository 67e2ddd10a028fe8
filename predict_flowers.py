# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
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

import sys

from tf_compat import tf
from transfer import (averages, checkpoints, cli, flags, images, model, model_settings,
                      predictor)

# ================ PREDICTION INFORMATION ================
# The training log folder, whose latest checkpoint is used.
log_dir = './log'
# Empty: the latest checkpoint in log_dir.
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


def predict(args, out=None, err=None):
  """Classifies the images the arguments name, printing as it goes.

  Returns:
    The exit status: 0, 1 if a file was skipped, 2 if none could be read.
  """
  out, err = out or sys.stdout, err or sys.stderr
  # The checkpoint, and the names of its classes.
  checkpoint = checkpoints.find_checkpoint(args.checkpoint_file, args.log_dir)
  labels_path, names = model_settings.take(args, checkpoint, image_size, dataset_dir, out=err)
  k = min(args.top_k, len(names))
  paths, missing = images.find_images(args.inputs)
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
  # One session for every batch.
  if paths:
    classifier = predictor.Predictor(checkpoint, len(names), args.image_size,
                                     args.moving_averages)
    try:
      predictor.classify_paths(classifier, paths, names, args.batch_size, k, on_result,
                               on_skip)
    finally:
      classifier.close()
  if args.output_json:
    predictor.write_json(args.output_json, {
        'checkpoint': checkpoint, 'labels_file': labels_path, 'image_size': args.image_size,
        'images': results, 'skipped': skipped})
  if not results:
    return 2
  return 1 if skipped else 0


def run(args):
  tf.logging.set_verbosity(tf.logging.ERROR)
  return predict(args)


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


def main(argv=None):
  return cli.main(run, build_parser(), argv)


if __name__ == '__main__':
  sys.exit(main())
