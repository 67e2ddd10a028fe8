# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Command-line plumbing shared by every command: parsers, quiet output, one-line errors.

Every command builds its parser with `new_parser` (which adds --debug and
--verbose) and runs through `main`, so that a bad input ends the same way
everywhere: one `error: ...` line on stderr naming the file or flag and the
fix, exit status 1 and no traceback (--debug shows it).
"""
from __future__ import absolute_import, division, print_function

import argparse
import errno
import os
import sys

from tensorflow.python.util import deprecation

import dataset_utils
from tf_compat import tf
from transfer.errors import BAD_LABEL_TAG, NAN_LOSS_TAG, DownloadError, Stopped, UsageError

deprecation._PRINT_DEPRECATION_WARNINGS = '--verbose' in sys.argv[1:]  # pylint: disable=protected-access

# The failures whose message is all the user needs.
USER_ERRORS = (UsageError, dataset_utils.DatasetError, DownloadError)

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


class _OneLineParser(argparse.ArgumentParser):
  """An ArgumentParser whose errors are one `error:` line and exit status 1.

  Checks added with `add_check` run on every parse: flags that cannot go
  together are refused, and defaults that depend on other flags filled in,
  wherever the flags come from (a command line, a test, the demo).
  """

  def __init__(self, *args, **kwargs):
    super(_OneLineParser, self).__init__(*args, **kwargs)
    self.checks = []

  def add_check(self, check):
    """check(args) fills or refuses flags in place; a UsageError is the parse error."""
    self.checks.append(check)

  def parse_known_args(self, args=None, namespace=None):
    parsed, extras = super(_OneLineParser, self).parse_known_args(args, namespace)
    for check in self.checks:
      try:
        check(parsed)
      except UsageError as e:
        self.error(str(e))
    return parsed, extras

  def error(self, message):
    self.exit(1, 'error: %s (see %s --help)\n' % (message, self.prog))


def new_parser(description, epilog=None):
  """An argument parser with the flags every command shares: --debug and --verbose."""
  p = _OneLineParser(
      description=description,
      epilog=epilog or 'Errors are reported in one line on stderr, with exit status 1.')
  p.add_argument('--debug', action='store_true',
                 help='show the traceback of an error instead of one line')
  p.add_argument('--verbose', action='store_true',
                 help="show TensorFlow's deprecation warnings and C++ start-up logs")
  return p


def configure_output(verbose):
  """Turns TensorFlow's deprecation warnings and C++ logs on (verbose) or off.

  The C++ log level takes effect only before TensorFlow's first C++ log line;
  tf_compat sets it before TensorFlow loads, from the command line.
  """
  deprecation._PRINT_DEPRECATION_WARNINGS = bool(verbose)  # pylint: disable=protected-access
  if verbose:
    os.environ['TF_CPP_MIN_LOG_LEVEL'] = '0'
  else:
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')


def _tf_error_message(error, args):
  """The one-line message of a TensorFlow error the user can fix, or None."""
  if isinstance(error, tf.errors.InvalidArgumentError) and BAD_LABEL_TAG in error.message:
    return ('a TFRecord in %s holds a %s: convert the photos again, or pass the '
            '--labels_file they were made with'
            % (getattr(args, 'dataset_dir', 'the dataset folder'), BAD_LABEL_TAG))
  if isinstance(error, tf.errors.InvalidArgumentError) and NAN_LOSS_TAG in error.message:
    return ('the training loss became NaN or infinite: try a smaller --initial_learning_rate '
            '(or a larger --batch_size); the checkpoints already in --log_dir are kept')
  first_line = error.message.strip().split('\n')[0]
  if isinstance(error, tf.errors.DataLossError):
    return '%s: a TFRecord file is damaged; convert the photos again' % first_line
  if isinstance(error, tf.errors.ResourceExhaustedError):
    return ('%s: free some disk space or memory (a smaller --batch_size needs less)'
            % first_line)
  if isinstance(error, (tf.errors.NotFoundError, tf.errors.PermissionDeniedError)):
    return '%s: check the path and its permissions' % first_line
  return None


def user_message(error, args=None):
  """The one-line message of a failure the user can fix, or None for a bug."""
  if isinstance(error, USER_ERRORS):
    return str(error)
  if isinstance(error, MemoryError):
    return 'out of memory: use a smaller --batch_size or --image_size (or fewer --num_threads)'
  if isinstance(error, OSError) and error.errno is not None:
    fix = _OS_ERROR_FIXES.get(error.errno, 'check the path and try again')
    where = '%s: ' % error.filename if error.filename else ''
    return '%s%s: %s' % (where, error.strerror, fix)
  if isinstance(error, tf.errors.OpError):
    return _tf_error_message(error, args)
  return None


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
