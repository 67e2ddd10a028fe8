# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Command-line plumbing shared by every command: flag types and one-line errors."""
from __future__ import absolute_import, division, print_function

import argparse
import sys

import tf_compat  # noqa: F401  (before TensorFlow: runs the code on TF 2.x too)
import tensorflow.compat.v1 as tf

import dataset_utils
import downloads


class UsageError(ValueError):
  """A problem the user can fix; reported as one line, without a traceback."""


def positive_int(text):
  """An argparse type: a whole number above zero."""
  value = int(text)
  if value <= 0:
    raise argparse.ArgumentTypeError('must be a positive integer, got %s' % text)
  return value


def report_errors(run_fn, args):
  """Runs `run_fn(args)`, turning known failures into one line and exit code 1."""
  try:
    return run_fn(args)
  except (UsageError, dataset_utils.DatasetError, downloads.DownloadError) as e:
    message = str(e)
  except tf.errors.InvalidArgumentError as e:
    if dataset_utils.BAD_LABEL_TAG not in e.message:
      raise
    message = ('a TFRecord in %s holds a %s: convert the photos again, or pass the '
               '--labels_file they were made with'
               % (args.dataset_dir, dataset_utils.BAD_LABEL_TAG))
  print('error: %s' % message, file=sys.stderr)
  return 1
