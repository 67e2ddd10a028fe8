# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
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

import sys

from tf_compat import tf
from transfer import averages, checkpoints, cli, exporting, flags, model, model_settings

# ================ EXPORT INFORMATION ================
output_dir = './export'
log_dir = './log'
# Empty: the latest checkpoint in log_dir.
checkpoint_file = ''
# For a log dir that records no settings (see transfer/model_settings.py).
dataset_dir = '.'
labels_file = ''
image_size = model.DEFAULT_IMAGE_SIZE
# The SavedModel's version folder, as TF Serving expects: saved_model/1/.
model_version = 1


def run(args):
  """The command: exports, prints what it wrote, then returns the exit code."""
  tf.logging.set_verbosity(tf.logging.ERROR)
  exporting.check_output_dir(args.output_dir, args.overwrite)
  # The checkpoint, and the names of its classes.
  checkpoint = checkpoints.find_checkpoint(args.checkpoint_file, args.log_dir)
  _, names = model_settings.take(args, checkpoint, image_size, dataset_dir)
  written = exporting.write_export(args.output_dir, checkpoint, names, args.image_size,
                                   args.model_version, args.tflite, args.moving_averages)
  for name in sorted(written):
    print('Wrote %s' % written[name])
  return 0


# ================ COMMAND LINE ================
def build_parser():
  """Every constant at the top of this file is a flag of the same name."""
  p = cli.new_parser(__doc__.split('\n\n')[0])
  p.add_argument('--output_dir', default=output_dir, help='the folder the export goes to')
  p.add_argument('--overwrite', action='store_true', help='replace an existing OUTPUT_DIR')
  flags.add_trained_model_flags(p, log_dir, checkpoint_file, 'exported')
  flags.add_trained_dataset_flags(p, dataset_dir, labels_file, image_size)
  averages.add_use_flag(p)
  p.add_argument('--model_version', type=flags.positive_int, default=model_version,
                 help='the SavedModel goes to OUTPUT_DIR/saved_model/MODEL_VERSION')
  p.add_argument('--tflite', action='store_true', help='also write %s' % exporting.TFLITE)
  return p


def main(argv=None):
  return cli.main(run, build_parser(), argv)


if __name__ == '__main__':
  sys.exit(main())
