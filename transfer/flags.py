# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The flag types and the groups of flags more than one command takes.

Each command keeps the tutorial's defaults as lowercase constants named like
their flags, at the top of its file, and passes them in here; later flags keep
theirs beside the settings that hold them (transfer/training/, runtime.py).
With transfer/cli.py, the only module that sees the parsed flags.
"""
from __future__ import absolute_import, division, print_function

import argparse


def positive_int(text):
  """An argparse type: a whole number above zero."""
  value = int(text)
  if value <= 0:
    raise argparse.ArgumentTypeError('must be a positive integer, got %s' % text)
  return value


def non_negative_int(text):
  """An argparse type: a whole number, zero or more (zero often meaning off)."""
  value = int(text)
  if value < 0:
    raise argparse.ArgumentTypeError('must be 0 or more, got %s' % text)
  return value


def non_negative_float(text):
  """An argparse type: a number, zero or more (zero often meaning off)."""
  value = float(text)
  if not value >= 0:  # NaN too
    raise argparse.ArgumentTypeError('must be 0 or more, got %s' % text)
  return value


def fraction(text):
  """An argparse type: a number from 0 up to, but not including, 1."""
  value = float(text)
  if not 0 <= value < 1:
    raise argparse.ArgumentTypeError('must be at least 0 and below 1, got %s' % text)
  return value


def open_fraction(text):
  """An argparse type: a number strictly between 0 and 1."""
  value = float(text)
  if not 0 < value < 1:
    raise argparse.ArgumentTypeError('must be above 0 and below 1, got %s' % text)
  return value


def split_scopes(scopes):
  """A comma-separated scopes flag as a list: 'a, b' -> ['a', 'b']; '' -> []."""
  return [s.strip() for s in scopes.split(',') if s.strip()]


def add_dataset_flags(p, dataset_dir, labels_file, image_size):
  """Where the data and its labels are, and the size images are read at."""
  p.add_argument('--dataset_dir', default=dataset_dir, help='folder of the TFRecords')
  p.add_argument('--labels_file', default=labels_file,
                 help='index:name per line (default: DATASET_DIR/labels.txt)')
  p.add_argument('--image_size', type=positive_int, default=image_size)


def add_trained_dataset_flags(p, dataset_dir, labels_file, image_size):
  """add_dataset_flags for the commands that use a trained model: unset (None) by default.

  model_settings.resolve then fills them from the log dir's record, else with
  these defaults.
  """
  p.add_argument('--dataset_dir', default=None,
                 help='folder of the TFRecords (default: the one LOG_DIR records, else %s)'
                 % dataset_dir)
  p.add_argument('--labels_file', default=labels_file,
                 help='index:name per line (default: LOG_DIR\'s copy, else '
                 'DATASET_DIR/labels.txt)')
  p.add_argument('--image_size', type=positive_int, default=None,
                 help='default: the size LOG_DIR records, else %d' % image_size)


def add_imagenet_flags(p, checkpoint_file, checkpoint_exclude_scopes, help_suffix=''):
  """The ImageNet checkpoint and the scopes it does not provide."""
  p.add_argument('--imagenet_checkpoint_file', default=checkpoint_file,
                 help='the ImageNet checkpoint%s' % help_suffix)
  p.add_argument('--checkpoint_exclude_scopes', default=checkpoint_exclude_scopes,
                 help='comma-separated scopes left at their initial values')


def add_trained_model_flags(p, log_dir, checkpoint_file, use):
  """The fine-tuned checkpoint a command `use`s: --checkpoint_file, else LOG_DIR's best or latest.

  transfer/best_checkpoint.choose reads them.
  """
  p.add_argument('--log_dir', default=log_dir,
                 help='training log folder whose best or latest checkpoint is %s' % use)
  p.add_argument('--checkpoint', choices=('best', 'latest'), default=None,
                 help='best: LOG_DIR/best, the checkpoint of the best validation accuracy '
                 "training saw; latest: LOG_DIR's last one (default: best when LOG_DIR has "
                 'one, else latest)')
  p.add_argument('--checkpoint_file', default=checkpoint_file,
                 help='checkpoint to use (default: --checkpoint in LOG_DIR)')


def add_seed_flags(p, seed):
  """What a training run repeats: --seed, and --deterministic_input to repeat its batches too.

  Without --deterministic_input, the parallel input threads decide which photo
  meets which distortion, and the batch order. With it, one reader fills a
  shuffle queue that hands out a seeded pick only when full, one thread
  preprocesses and batches, and the distorted-image summary is taken from the
  batch: preprocessing's own summaries would make a step that fetches them read
  and distort one more image itself.
  """
  p.add_argument('--seed', type=int, default=seed,
                 help='the same initial weights and sequence of distortions; unless '
                 '--deterministic_input, the input threads still vary which photo meets '
                 'which distortion, and the batch order (default: a new seed each run)')
  p.add_argument('--deterministic_input', action='store_true',
                 help='one input reader and thread and a shuffle that does not depend on '
                 'thread timing (the image summary from the batch): the same batches each '
                 'run given --seed, but slower input')
