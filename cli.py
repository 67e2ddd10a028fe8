# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Command-line plumbing shared by every command: parsers, quiet output, one-line errors.

Every command builds its parser with `new_parser` (which adds --debug and
--verbose) and runs through `main`, so that a bad input ends the same way
everywhere: one `error: ...` line on stderr naming the file or flag and the
fix, exit status 1 and no traceback (--debug shows it).

Import this module before TensorFlow: TensorFlow reads TF_CPP_MIN_LOG_LEVEL
once, at its first C++ log line, and that line can come while it is imported.
"""
from __future__ import absolute_import, division, print_function

import argparse
import errno
import os
import sys

# Before TensorFlow loads (see above); an explicit setting in the environment wins.
if '--verbose' not in sys.argv[1:]:
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')  # C++ INFO and WARNING lines off

import tf_compat  # noqa: E402,F401  (before TensorFlow: runs the code on TF 2.x too)
import tensorflow.compat.v1 as tf  # noqa: E402  pylint: disable=wrong-import-position
from tensorflow.python.util import deprecation  # noqa: E402

deprecation._PRINT_DEPRECATION_WARNINGS = '--verbose' in sys.argv[1:]  # pylint: disable=protected-access

# Marks the message of the in-graph label check, so that it can be recognised here.
BAD_LABEL_TAG = 'label outside labels.txt'
# The message of TF-slim's check on the loss (create_train_op's check_numerics).
NAN_LOSS_TAG = 'LossTensor is inf or nan'

# What to do about an OSError, by errno.
_OS_ERROR_FIXES = {
    errno.ENOSPC: 'free some disk space or write somewhere else',
    errno.EDQUOT: 'free some disk space or write somewhere else',
    errno.EACCES: 'check its permissions or use another path',
    errno.EPERM: 'check its permissions or use another path',
    errno.EROFS: 'the file system is read-only: use another path',
    errno.ENOENT: 'check the path',
    errno.ENOTDIR: 'check the path',
    errno.EISDIR: 'check the path',
}


class UsageError(ValueError):
  """A problem the user can fix; reported as one line, without a traceback."""


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


class _OneLineParser(argparse.ArgumentParser):
  """An ArgumentParser whose errors are one `error:` line and exit status 1."""

  def error(self, message):
    self.exit(1, 'error: %s (see %s --help)\n' % (message, self.prog))


def new_parser(description, epilog=None):
  """An argument parser with the flags every command shares: --debug and --verbose."""
  p = _OneLineParser(
      description=description,
      epilog=epilog or 'Errors are reported in one line on stderr, with exit status 1.')
  add_common_flags(p)
  return p


def add_common_flags(p):
  """--debug (tracebacks) and --verbose (TensorFlow's own logs)."""
  p.add_argument('--debug', action='store_true',
                 help='show the traceback of an error instead of one line')
  p.add_argument('--verbose', action='store_true',
                 help="show TensorFlow's deprecation warnings and C++ start-up logs")


def configure_output(verbose):
  """Turns TensorFlow's deprecation warnings and C++ logs on (verbose) or off."""
  deprecation._PRINT_DEPRECATION_WARNINGS = bool(verbose)  # pylint: disable=protected-access
  # Takes effect only before TensorFlow's first C++ log line; see the docstring.
  if verbose:
    os.environ['TF_CPP_MIN_LOG_LEVEL'] = '0'
  else:
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')


def user_message(error, args=None):
  """The one-line message of a failure the user can fix, or None for a bug."""
  # Late imports: these modules import this one first (see the docstring).
  import dataset_utils
  import downloads
  if isinstance(error, (UsageError, dataset_utils.DatasetError, downloads.DownloadError)):
    return str(error)
  if isinstance(error, MemoryError):
    return 'out of memory: use a smaller --batch_size or --image_size (or fewer --num_threads)'
  if isinstance(error, OSError) and error.errno is not None:
    fix = _OS_ERROR_FIXES.get(error.errno, 'check the path and try again')
    where = '%s: ' % error.filename if error.filename else ''
    return '%s%s: %s' % (where, error.strerror, fix)
  if isinstance(error, tf.errors.InvalidArgumentError) and BAD_LABEL_TAG in error.message:
    return ('a TFRecord in %s holds a %s: convert the photos again, or pass the '
            '--labels_file they were made with'
            % (getattr(args, 'dataset_dir', 'the dataset folder'), BAD_LABEL_TAG))
  if isinstance(error, tf.errors.InvalidArgumentError) and NAN_LOSS_TAG in error.message:
    return ('the training loss became NaN or infinite: try a smaller --initial_learning_rate '
            '(or a larger --batch_size); the checkpoints already in --log_dir are kept')
  first_line = getattr(error, 'message', '').strip().split('\n')[0]
  if isinstance(error, tf.errors.DataLossError):
    return '%s: a TFRecord file is damaged; convert the photos again' % first_line
  if isinstance(error, tf.errors.ResourceExhaustedError):
    return ('%s: free some disk space or memory (a smaller --batch_size needs less)'
            % first_line)
  if isinstance(error, (tf.errors.NotFoundError, tf.errors.PermissionDeniedError)):
    return '%s: check the path and its permissions' % first_line
  return None


class Stopped(BaseException):
  """A run stopped on purpose (a signal); str() says what was kept, `exit_code` is the code.

  No Exception, so that no `except Exception` on the way takes it for a failure.
  """
  exit_code = 1


def report_errors(run_fn, args):
  """Runs `run_fn(args)`, turning failures the user can fix into one line and exit code 1.

  Anything else is a bug and keeps its traceback; with args.debug every failure does.
  Ctrl-C ends with exit code 130, a Stopped run with its own code and message.
  """
  debug = getattr(args, 'debug', False)
  try:
    return run_fn(args)
  except Stopped as e:
    if debug:
      raise
    print(e, file=sys.stderr)
    return e.exit_code
  except KeyboardInterrupt:
    if debug:
      raise
    print('error: interrupted', file=sys.stderr)
    return 130
  except Exception as e:  # pylint: disable=broad-except
    message = user_message(e, args)
    if message is None or debug:
      raise
  print('error: %s' % ' '.join(message.splitlines()), file=sys.stderr)
  return 1


def main(run_fn, parser, argv=None):
  """A command's main: parses argv, sets the output up and runs with one-line errors."""
  args = parser.parse_args(argv)
  configure_output(args.verbose)
  return report_errors(run_fn, args)
