# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Everything a training run reads, built once from train_flowers.py's flags and never changed.

`TrainSettings.from_flags(**flags)` takes the flags by name, as the command
line or `train_flowers.train(**flags)` give them, groups them into the value
objects of the modules that read them (learning rate, optimizer, loss,
control, head phase and its folds, runtime, validation, deployment), fills the defaults
that depend on other flags and refuses flags that cannot go together: after
it, nothing checks a flag again.
"""
from __future__ import absolute_import, division, print_function

import collections

from transfer import model, runtime
from transfer.deployment.config import DeploymentConfig
from transfer.errors import UsageError
from transfer.flags import split_scopes
from transfer.training import (control, head_folds, head_phase, learning_rate, losses, optimizers,
                               validation)

# The flags read directly off TrainSettings; the rest sit in its groups below.
TOP_FIELDS = (
    'dataset_dir', 'labels_file', 'file_pattern', 'image_size', 'log_dir',
    'imagenet_checkpoint_file', 'checkpoint_exclude_scopes', 'checkpoint_url',
    'download_checkpoint', 'from_scratch', 'num_epochs', 'batch_size', 'trainable_scopes',
    'fine_tune_from', 'fine_tune_batch_norm', 'batch_norm_decay', 'seed', 'deterministic_input', 'moving_average_decay',
    'allow_changed_schedule')
# Each group: (field of TrainSettings, its value object, the flags it takes).
GROUPS = (
    ('learning_rate', learning_rate.LearningRateSettings,
     learning_rate.LearningRateSettings._fields),
    ('optimizer', optimizers.OptimizerSettings, optimizers.OptimizerSettings._fields),
    ('loss', losses.LossSettings, losses.LossSettings._fields),
    ('control', control.ControlSettings, control.ControlSettings._fields),
    ('head', head_phase.HeadSettings, head_phase.HeadSettings._fields),
    ('folds', head_folds.FoldSettings, head_folds.FoldSettings._fields),
    ('runtime', runtime.RuntimeSettings, runtime.RuntimeSettings._fields),
    ('validation', validation.ValidationSettings, validation.ValidationSettings._fields),
    ('deployment', DeploymentConfig.from_flags, DeploymentConfig.FLAGS),
)


class TrainSettings(collections.namedtuple('TrainSettings',
                                           TOP_FIELDS + tuple(g[0] for g in GROUPS))):
  """A training run's settings: the top-level flags, and one value object a concern.

  Make it with `from_flags`; the fields are the flags of the same names, and
  learning_rate, optimizer, loss, control, head, folds, runtime, validation
  and deployment hold the groups (LearningRateSettings, OptimizerSettings, ...,
  DeploymentConfig).
  """
  __slots__ = ()

  @classmethod
  def from_flags(cls, decay_defaults=None, **flags):
    """Builds and checks the settings from every training flag, by name.

    Args:
      decay_defaults: {flag: value} for the decay flags left None (the
        command's learning_rate_decay_factor and num_epochs_before_decay).
      **flags: every flag of train_flowers.py, by its name (dest).

    Raises:
      TypeError: for a flag that is missing or unknown.
      UsageError: for flags that cannot go together, naming them and the fix.
    """
    flags = dict(flags)
    flags['fine_tune_batch_norm'] = head_phase.batch_norm_mode(
        flags.get('fine_tune_batch_norm'), flags.get('head_epochs'), flags.get('fine_tune_from'))
    groups = {}
    for field, make, names in GROUPS:
      values = {name: flags.pop(name) for name in names if name in flags}
      if field == 'learning_rate':
        values['defaults'] = decay_defaults
      groups[field] = make(**values)
    settings = cls(**dict(flags, **groups))
    settings._check()
    return settings

  def _check(self):
    """Refuses the flags that cannot go together, before any work."""
    if self.fine_tune_from:
      if self.trainable_scopes:
        raise UsageError('--fine_tune_from and --trainable_scopes both choose the layers to '
                         'train: pass one of them')
      model.fine_tune_scopes(self.fine_tune_from)  # an unknown end point
    if not self.num_epochs and not self.head.head_epochs:
      raise UsageError('--num_epochs 0 trains nothing: pass more epochs, or --head_epochs N '
                       'to train only the head')
    if self.head.head_epochs and self.from_scratch:
      raise UsageError('--head_epochs trains a head on a restored network and --from_scratch '
                       'restores none: drop one of them')
    if self.head.bottleneck_views and not self.head.head_epochs:
      raise UsageError('--bottleneck_views caches views for the head phase: pass '
                       '--head_epochs N, or drop --bottleneck_views')
    if self.head.head_epochs and self.deployment.cluster:
      raise UsageError('--head_epochs runs in one process: train the head alone first '
                       '(--num_epochs 0), then start the cluster on that --log_dir')
    self.folds.check(self.head.head_epochs)
    self.validation.check(self.deployment.cluster)

  @property
  def exclude_scopes(self):
    """--checkpoint_exclude_scopes as a list."""
    return split_scopes(self.checkpoint_exclude_scopes)

  @property
  def validation_batch_size(self):
    """--validation_batch_size, by default --batch_size."""
    return self.validation.validation_batch_size or self.batch_size

  @property
  def trained_scopes(self):
    """The variable scopes --fine_tune_from trains; None: --trainable_scopes decides."""
    return model.fine_tune_scopes(self.fine_tune_from) if self.fine_tune_from else None

  @property
  def batch_norm_scopes(self):
    """Where batch norm trains (model.build_model): nowhere when frozen; else, with
    --fine_tune_from, only in its scopes; None: everywhere."""
    return [] if self.fine_tune_batch_norm == 'frozen' else self.trained_scopes

  @property
  def images_per_update(self):
    """Images one global step trains: every clone's batch, times the aggregated replicas."""
    return self.deployment.images_per_update(self.batch_size)

  def flag_values(self):
    """{flag name: value} of every flag, the groups' included (for the run record)."""
    values = {name: getattr(self, name) for name in TOP_FIELDS}
    for field, _, names in GROUPS[:-1]:  # the deployment's fields are not its flags
      values.update(getattr(self, field)._asdict())
    return values
