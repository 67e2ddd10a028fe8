# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""One record of a training run beside its checkpoints: LOG_DIR/run.json.

Its sections are each written whole, and the file atomically:
- 'schedule': what a resumed run must keep, the flags that set what a step does
  (transfer/training/schedule.py), with the head phase's results;
- 'model': what using the model needs, image size, classes, labels, dataset and
  moving-average decay (transfer/model_settings.py);
- 'validation': the best validation so far, the checkpoint kept in LOG_DIR/best
  and the early-stopping count (transfer/training/model_selection.py).

Log dirs of earlier versions hold the first two in schedule.json and
model_settings.json: a section run.json lacks is read from there.
"""
from __future__ import absolute_import, division, print_function

import json
import os

from transfer import files

FILENAME = 'run.json'
# Where log dirs written before run.json keep each section.
LEGACY_FILENAMES = {'schedule': 'schedule.json', 'model': 'model_settings.json'}
SECTIONS = ('model', 'schedule', 'validation')


def record_path(log_dir):
  return os.path.join(log_dir, FILENAME)


def _load_json(path):
  with open(path) as f:
    return json.load(f)


def read_section(log_dir, section):
  """One section of the log dir's record, and the file it was read from.

  Args:
    log_dir: the training log folder.
    section: one of SECTIONS.

  Returns:
    (the section's dict, its file), or (None, None) when no file holds it.

  Raises:
    ValueError: when the file is not valid JSON; the caller names it and the fix.
  """
  path = record_path(log_dir)
  if os.path.isfile(path):
    try:
      record = _load_json(path)
    except ValueError as e:
      raise ValueError('%s is damaged (not valid JSON: %s)' % (path, e))
    if section in record:
      return record[section], path
  legacy = os.path.join(log_dir, LEGACY_FILENAMES.get(section, ''))
  if section not in LEGACY_FILENAMES or not os.path.isfile(legacy):
    return None, None
  try:
    return _load_json(legacy), legacy
  except ValueError as e:
    raise ValueError('%s is damaged (not valid JSON: %s)' % (legacy, e))


def write_section(log_dir, section, value):
  """Replaces one section of LOG_DIR/run.json (folder and file made when missing).

  The other sections are kept: from run.json, else from their legacy files, so
  that a log dir of an earlier version moves to run.json whole.
  """
  if section not in SECTIONS:
    raise ValueError('unknown section %r of %s' % (section, FILENAME))
  record = {}
  for other in SECTIONS:
    if other != section:
      try:
        kept, _ = read_section(log_dir, other)
      except ValueError:
        kept = None  # damaged: its writer or reader reports it
      if kept is not None:
        record[other] = kept
  record[section] = value
  if not os.path.isdir(log_dir):
    os.makedirs(log_dir)
  files.write_json(record_path(log_dir), record)
