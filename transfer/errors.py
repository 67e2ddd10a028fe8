# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The failures a user can fix, which every command reports in one line.

dataset_utils.DatasetError (photos, label files, output folders) is the other
one; it lives with the TF-slim helpers that raise it.
"""

# Marks the message of the in-graph label check (load_batch), so that it can be recognised.
BAD_LABEL_TAG = 'label outside labels.txt'
# The message of TF-slim's check on the loss (create_train_op's check_numerics).
NAN_LOSS_TAG = 'LossTensor is inf or nan'


class UsageError(ValueError):
  """A problem the user can fix; reported as one line, without a traceback."""


class ClusterError(UsageError):
  """A task of the cluster stopped answering."""


class DownloadError(RuntimeError):
  """A download that failed or did not verify; the message says what to do by hand."""


class ArchiveError(DownloadError):
  """An archive that is damaged or holds members that would land outside its folder."""


class Stopped(BaseException):
  """A run stopped on purpose (a signal); str() says what was kept, `exit_code` is the code.

  No Exception, so that no `except Exception` on the way takes it for a failure.
  """
  exit_code = 1
