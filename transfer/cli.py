# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Command-line plumbing shared by every command: parsers, quiet output, one-line errors.

Every command builds its parser with `new_parser` (which adds --debug and
--verbose), turns the parsed flags into immutable settings once, and runs
through `main`, so that a bad input ends the same way everywhere: one
`error: ...` line on stderr naming the file or flag and the fix, exit status 1
and no traceback (--debug shows it).

The same parser serves the commands' Python functions (`train_flowers.train(
**flags)` ...): `call` takes keyword arguments named like the flags, puts each
through its flag's type, choices and checks, and raises what the command
would report: TypeError for an unknown keyword, UsageError (a ValueError)
whose message is the text after `error: `.

This module and transfer/flags.py are the only ones that see the argparse
namespace; the rest of the package takes settings objects and arguments.
"""
from __future__ import absolute_import, division, print_function

import argparse
import collections
import contextlib
import errno
import os
import signal
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

  It only parses: flags that cannot go together are refused, and defaults
  that depend on other flags filled in, when the command builds its settings.
  """

  def error(self, message):
    self.exit(1, 'error: %s (see %s --help)\n' % (message, self.prog))

  def flag_actions(self):
    """{flag name without dashes: its action}."""
    return {option.lstrip('-'): action for action in self._actions
            for option in action.option_strings}


def new_parser(description, epilog=None):
  """An argument parser with the flags every command shares: --debug and --verbose.

  Flags are taken only by their full names.
  """
  # allow_abbrev=False: a prefix is never read as a flag (--checkpoint as --checkpoint_file).
  p = _OneLineParser(
      description=description, allow_abbrev=False,
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


def _tf_error_message(error, settings):
  """The one-line message of a TensorFlow error the user can fix, or None."""
  if isinstance(error, tf.errors.InvalidArgumentError) and BAD_LABEL_TAG in error.message:
    return ('a TFRecord in %s holds a %s: convert the photos again, or pass the '
            '--labels_file they were made with'
            % (getattr(settings, 'dataset_dir', None) or 'the dataset folder', BAD_LABEL_TAG))
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


def user_message(error, settings=None):
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
    return _tf_error_message(error, settings)
  return None


def report_errors(run_fn, settings, debug=False):
  """Runs `run_fn(settings)`, turning failures the user can fix into one line and exit code 1.

  Anything else is a bug and keeps its traceback; with `debug` every failure does.
  Ctrl-C ends with exit code 130, a Stopped run with its own code and message.
  """
  try:
    return run_fn(settings)
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
    message = user_message(e, settings)
    if message is None or debug:
      raise
  print('error: %s' % ' '.join(message.splitlines()), file=sys.stderr)
  return 1


def frozen(namespace, name='Flags', groups=(), **extra):
  """The parsed flags as an immutable namedtuple: a command's settings when it needs no more.

  Args:
    namespace: the parsed flags.
    name: the namedtuple's name.
    groups: {field: value class}: each class is made of the flags named like
      its fields, which it takes out, and put in that field (e.g. the runtime
      flags as `runtime`, a runtime.RuntimeSettings).
    **extra: more fields, with their values.
  """
  values = dict(vars(namespace), **extra)
  for field, cls in dict(groups).items():
    values[field] = cls(**{flag: values.pop(flag) for flag in cls._fields})
  return collections.namedtuple(name, sorted(values))(**values)


def main(run_fn, parser, argv=None, settings_fn=frozen):
  """A command's main: parses argv, builds the settings once, runs with one-line errors.

  Args:
    run_fn: f(settings) -> exit code.
    parser: the command's parser, from new_parser.
    argv: the arguments; None: sys.argv[1:].
    settings_fn: f(parsed flags) -> the settings run_fn takes; a UsageError
      is reported as a flag error.
  """
  args = parser.parse_args(argv)
  configure_output(args.verbose)
  try:
    settings = settings_fn(args)
  except UsageError as e:
    parser.error(str(e))
  return report_errors(run_fn, settings, args.debug)


def _converted(parser, action, value):
  """One value through the flag's type (given as text) and choices, as argparse does it."""
  # pylint: disable=protected-access
  converted = parser._get_value(action, str(value))
  parser._check_value(action, converted)
  return converted


def _set_keyword(parser, namespace, action, value):
  """Sets one flag from a keyword argument as parsing its text would; ArgumentError if bad."""
  if action.nargs == 0:  # store_true and the like
    if not isinstance(value, bool):
      raise argparse.ArgumentError(action, 'takes True or False, got %r' % (value,))
    setattr(namespace, action.dest, action.const if value else action.default)
    return
  if isinstance(value, (list, tuple)) and action.nargs not in (None, '?'):
    converted = [_converted(parser, action, v) for v in value]
  else:
    converted = _converted(parser, action, value)
  setattr(namespace, action.dest, converted)


def flags_from_keywords(parser, keywords, function, positionals=None):
  """The namespace a command line would give, from keyword arguments named like the flags.

  Args:
    parser: the command's parser.
    keywords: {flag name: value}; None leaves a flag at its default. Values
      are given to the flag's type as text, as on a command line.
    function: the Python function's name, for the TypeError.
    positionals: {dest: value} of the positional arguments, set as they are.

  Raises:
    TypeError: naming a keyword that is no flag.
    UsageError: the message argparse would give after `error: `.
  """
  actions = parser.flag_actions()
  defaults = {a.dest: a.default for a in parser._actions  # pylint: disable=protected-access
              if a.default != argparse.SUPPRESS}
  namespace = argparse.Namespace(**defaults)
  namespace.__dict__.update(positionals or {})
  given = set()
  for name, value in sorted(keywords.items()):
    action = actions.get(name)
    if action is None or action.default == argparse.SUPPRESS:
      raise TypeError('%s() got an unexpected keyword argument %r' % (function, name))
    if value is None:
      continue
    try:
      _set_keyword(parser, namespace, action, value)
    except argparse.ArgumentError as e:
      raise UsageError(str(e))
    given.add(action)
  for group in parser._mutually_exclusive_groups:  # pylint: disable=protected-access
    chosen = [a for a in group._group_actions  # pylint: disable=protected-access
              if a in given and getattr(namespace, a.dest) != a.default]
    if len(chosen) > 1:
      raise UsageError('argument %s: not allowed with argument %s'
                       % (chosen[1].option_strings[0], chosen[0].option_strings[0]))
  return namespace


@contextlib.contextmanager
def interrupts_as_keyboard_interrupt():
  """Ctrl-C in a Python call: KeyboardInterrupt, once the run has saved what a command would."""
  try:
    yield
  except Stopped as e:
    if getattr(e, 'signum', None) == signal.SIGINT:
      raise KeyboardInterrupt(str(e)) from e
    raise


def call(name, function, parser, keywords, settings_fn=frozen, positionals=None):
  """A command's Python function: function(settings) from keyword arguments named like flags.

  Args:
    name: the Python function's name, for the TypeError.
    function: f(settings) -> the result the Python caller gets.
    parser: the command's parser, whose flags, defaults and checks apply.
    keywords: {flag name: value}.
    settings_fn: as for `main`.
    positionals: as for `flags_from_keywords`.

  Raises:
    TypeError: for a keyword that is no flag.
    UsageError: a ValueError, for a bad value: the line the command prints after `error: `.
    KeyboardInterrupt: on Ctrl-C, after the save the command would make.
  """
  args = flags_from_keywords(parser, keywords, name, positionals)
  configure_output(args.verbose)
  settings = settings_fn(args)
  with interrupts_as_keyboard_interrupt():
    return function(settings)
