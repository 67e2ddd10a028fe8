# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Exports a fine-tuned Inception-ResNet-V2 checkpoint for serving.

    python export_flowers.py --output_dir export             # best or latest in ./log
    python export_flowers.py --output_dir export --tflite    # also model.tflite
    python export_flowers.py --output_dir export --tflite_quantization none,int8 --verify

Writes, into OUTPUT_DIR:
  frozen_graph.pb   input `input` (float32 [None, S, S, 3], already preprocessed),
                    output `InceptionResnetV2/Logits/Predictions` (slim's names);
  saved_model/1/    `serving_default` takes `image_bytes` (string [None], encoded
                    JPEG/PNG/GIF/BMP), decodes and preprocesses them in the graph as
                    predict_flowers.py does, and returns `probabilities`, `classes`
                    (int64, top-1) and `class_names`;
  labels.txt        the class names, `index:name` per line;
  model.tflite      with --tflite: the frozen graph for TensorFlow Lite; with
                    --tflite_quantization also model_float16.tflite, model_dynamic.tflite,
                    model_int8.tflite (their inputs and outputs: transfer/quantization.py).
--verify then runs each on the validation split against the checkpoint and prints
a table (transfer/export_check.py); exit 1 names an artefact that falls short.
Everything is written to a temporary folder that is renamed at the end. From
Python, `export(**flags)` takes the flags as keywords: export(output_dir='export').
"""
from __future__ import absolute_import, division, print_function

import sys

from tf_compat import tf
from transfer import (averages, best_checkpoint, cli, export_check, export_data, exporting,
                      flags, model, model_settings, quantization)

# ================ EXPORT INFORMATION ================
output_dir = './export'
log_dir = './log'
# Empty: --checkpoint best or latest in log_dir.
checkpoint_file = ''
# For a log dir that records no settings (see transfer/model_settings.py).
dataset_dir = '.'
labels_file = ''
image_size = model.DEFAULT_IMAGE_SIZE
# The SavedModel's version folder, as TF Serving expects: saved_model/1/.
model_version = 1
# The records --verify and int8 calibration read, in DATASET_DIR.
file_pattern = 'flowers_%s_*.tfrecord'


def write(settings):
  """Exports the checkpoint the settings name; returns {file name: path written}.

  With --verify, also 'verification': {'images': count, 'rows': the table}.
  """
  s = settings
  variants = quantization.variants(s.tflite_quantization, s.tflite)
  with exporting.output_dir_claimed(s.output_dir, s.overwrite):  # the log dir is only read
    # The checkpoint, and the names of its classes.
    checkpoint, line = best_checkpoint.choose(s.checkpoint_file, s.log_dir, s.checkpoint)
    choice, (_, names) = model_settings.take(
        checkpoint, s.image_size, s.dataset_dir, s.labels_file, s.no_moving_average,
        (image_size, dataset_dir), use_dataset=s.verify or 'int8' in variants, told=[line])
    # Both splits are read before anything is written: a missing one costs no export.
    examples = validation_examples(s, choice) if s.verify else None
    representative = representative_images(s, choice) if 'int8' in variants else None
    written = exporting.write_export(s.output_dir, checkpoint, names, choice.image_size,
                                     s.model_version, variants, choice.moving_averages,
                                     representative)
    if examples:
      trained = (checkpoint, len(names), choice.image_size, choice.moving_averages)
      written['verification'] = dict(images=len(examples[0]), rows=export_check.verify(
          trained, written, variants, examples, s.max_accuracy_drop))
  return written


def validation_examples(s, choice):
  """Up to --verify_images validation records: ([encoded images], [labels])."""
  shards = export_data.find_split('validation', choice.dataset_dir, s.file_pattern,
                                  '--verify')
  return export_data.read_examples(shards, s.verify_images)


def representative_images(s, choice):
  """Up to --representative_images training images, preprocessed: int8's calibration set."""
  shards = export_data.find_split('train', choice.dataset_dir, s.file_pattern,
                                  '--tflite_quantization int8')
  encoded, _ = export_data.read_examples(shards, s.representative_images)
  return export_data.preprocess_all(encoded, choice.image_size)


def export(**flags):
  """Exports as `python export_flowers.py` would, with the flags as keywords.

  Returns:
    exporting.write_export's {file name: path}: 'frozen_graph.pb', 'saved_model'
    (the path is the SavedModel's, OUTPUT_DIR/saved_model/MODEL_VERSION),
    'labels.txt' and, with tflite=True, 'model.tflite' (each
    tflite_quantization variant: its file); with verify=True also
    'verification': {'images': how many, 'rows': [{'artefact', 'bytes',
    'accuracy', 'agreement', 'max_difference'}, ...]}, the checkpoint first.

  Raises:
    TypeError: for a keyword that is no flag.
    UsageError: (a ValueError) with the line the command prints after `error: `.
  """
  return cli.call('export', write, build_parser(), flags, settings_from_flags)


def run(settings):
  """The command: exports, prints what it wrote, then returns the exit code."""
  tf.logging.set_verbosity(tf.logging.ERROR)
  try:
    written = write(settings)
  except export_check.VerificationFailed as e:
    print('\n'.join(export_check.table(e.rows, e.images)))
    raise
  verification = written.pop('verification', None)
  for name in sorted(written):
    print('Wrote %s' % written[name])
  if verification:
    print('\n'.join(export_check.table(verification['rows'], verification['images'])))
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
  quantization.add_flags(p)
  export_check.add_flags(p)
  p.add_argument('--file_pattern', default=file_pattern,
                 help='the TFRecords in DATASET_DIR (%%s is the split name)')
  return p


def settings_from_flags(args):
  """Export's immutable settings: its flags."""
  return cli.frozen(args, 'ExportSettings')


def main(argv=None):
  return cli.main(run, build_parser(), argv, settings_from_flags)


if __name__ == '__main__':
  sys.exit(main())
