# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Which epoch's model a training run hands over: validated, the best kept, early stopping.

Every --validation_every_n_epochs epochs, and after the last one, the chief
measures the validation split (transfer/training/validation.py), logs it on
the epoch's line and in TensorBoard (validation/accuracy,
validation/balanced_accuracy, validation/loss at the global step). A better
validation (a higher accuracy, balanced accuracy when --class_weights weighs
the classes; at the same, a lower loss) replaces LOG_DIR/best
(transfer/best_checkpoint.py).
The head phase's checkpoint counts as epoch 0: a run that starts from it
validates it first. After --early_stopping_patience validations without a
better one the run stops, and the usual final save follows.

The best scores, the last validated epoch and the early-stopping count are
kept in the 'validation' section of the run record, so a resumed run goes on
counting from them.
"""
from __future__ import absolute_import, division, print_function

import collections
import os

from tf_compat import tf
from transfer import best_checkpoint, checkpoints, run_record
from transfer.training import class_weighting, validation

SECTION = 'validation'
# What the best is chosen on: accuracy, or balanced accuracy where the classes are weighted.
ACCURACY, BALANCED = 'accuracy', 'balanced_accuracy'


class Selection(collections.namedtuple('Selection', (
    'best_epoch', 'best_step', 'best_accuracy', 'best_loss', 'last_epoch',
    'validations_since_best', 'stopped_early', 'best_balanced_accuracy'),
                                       defaults=(None, None, None, None, None, 0, False, None))):
  """What validation has chosen so far; the fresh one before any validation."""
  __slots__ = ()

  def better(self, result, measure=ACCURACY):
    """Whether a validation Result beats the best: a higher `measure` or, as high, a lower loss.

    measure: ACCURACY, or BALANCED when the classes are weighted (--class_weights).
    """
    best = self.best_accuracy if measure == ACCURACY else self.best_balanced_accuracy
    if best is None:
      return True
    score = getattr(result, measure)
    return score > best or (score == best and result.loss < self.best_loss)

  def after(self, epoch, step, result, patience, measure=ACCURACY):
    """The selection once epoch `epoch` (at `step`) validated to `result`; and whether better."""
    if self.better(result, measure):
      return Selection(epoch, step, result.accuracy, result.loss, epoch, 0, False,
                       result.balanced_accuracy), True
    since = self.validations_since_best + 1
    return self._replace(last_epoch=epoch, validations_since_best=since,
                         stopped_early=bool(patience) and since >= patience), False

  def stops(self, patience):
    """Whether early stopping, with this patience, ends the run before any more training."""
    return bool(patience) and self.validations_since_best >= patience


def _from_record(record, log_dir):
  """The recorded selection, its best taken from LOG_DIR/best itself where they differ.

  The record is written after the best checkpoint is swapped in: a crash
  between the two leaves the folder the newer.
  """
  selection = Selection(**{k: record[k] for k in Selection._fields if k in record})
  best = best_checkpoint.find(log_dir)
  info = best_checkpoint.info_of(best) if best else {}
  if info.get('step') is not None and info['step'] != selection.best_step:
    selection = selection._replace(best_epoch=info['epoch'], best_step=info['step'],
                                   best_accuracy=info['accuracy'], best_loss=info['loss'],
                                   best_balanced_accuracy=info.get('balanced_accuracy'))
  return selection


def resume(log_dir, resume_from):
  """The selection a run goes on from: the recorded one when it resumes a checkpoint, else fresh.

  A record beside no checkpoint is another, removed run's: a fresh run replaces it.
  """
  if not resume_from:
    return Selection()
  try:
    record, _ = run_record.read_section(log_dir, SECTION)
  except ValueError:
    record = None  # damaged: the schedule check names the file
  if not record:
    return Selection()
  best_checkpoint.settle(log_dir)
  return _from_record(record, log_dir)


def already_stopped(selection, log_dir, resume_from):
  """Says that the resumed run stopped early; train's result with nothing trained (NaNs)."""
  tf.logging.info('%s stopped early after epoch %d, %d validations after its best (epoch %d, '
                  'validation accuracy %.4f): nothing to train; pass a larger '
                  '--early_stopping_patience (or 0) to go on.', log_dir, selection.last_epoch,
                  selection.validations_since_best, selection.best_epoch,
                  selection.best_accuracy)
  return {'loss': float('nan'), 'accuracy': float('nan'),
          'global_step': checkpoints.checkpoint_step(resume_from)}


def say_stopped(selection, log_dir):
  tf.logging.info('Early stopping: %d validations without a better one; the best was epoch %d '
                  '(step %d): validation accuracy %.4f, loss %.4f, kept in %s.',
                  selection.validations_since_best, selection.best_epoch, selection.best_step,
                  selection.best_accuracy, selection.best_loss, best_checkpoint.folder(log_dir))


class ModelSelection(object):
  """What the training loop calls to validate, keep the best and stop early (the chief).

  Args:
    settings: the run's ValidationSettings.
    graph: the validation.ValidationGraph in the training graph.
    log_dir: where the best checkpoint and the run record are.
    steps_per_epoch, num_epochs: the run's.
    selection: the Selection to go on from (`resume`).
    validate_first: validate at step 0 (the head phase's checkpoint, epoch 0).
    measure: what the best is chosen on: ACCURACY, or BALANCED (weighted classes).
  """

  def __init__(self, settings, graph, log_dir, steps_per_epoch, num_epochs, selection,
               validate_first=False, measure=ACCURACY):
    self.settings = settings
    self.graph = graph
    self.log_dir = log_dir
    self.steps_per_epoch = steps_per_epoch
    self.num_epochs = num_epochs
    self.selection = selection
    self.validate_first = validate_first
    self.measure = measure
    self._should_stop = None

  def _due(self, epoch):
    """Whether a run that has trained `epoch` epochs validates now."""
    last = self.selection.last_epoch
    if (last is not None and epoch <= last) or epoch < 1:
      return False
    every = self.settings.validation_every_n_epochs
    # Any epoch past a multiple of N: a cluster's shared step may jump over one.
    return epoch // every > (last or 0) // every or epoch >= self.num_epochs

  def begin(self, sess, sv, step, should_stop=None):
    """At the run's first step: validates the head checkpoint, or an epoch a crash left
    unvalidated. Returns True when the run stops early."""
    self._should_stop = should_stop
    if step == 0:
      due = self.validate_first and self.selection.last_epoch is None
    else:
      due = step % self.steps_per_epoch == 0 and self._due(step // self.steps_per_epoch)
    return bool(due) and self._validate(sess, sv, step, step // self.steps_per_epoch)

  def after_step(self, sess, sv, step):
    """After each training step: validates when an epoch is due. True: stop early."""
    epoch = step // self.steps_per_epoch
    return self._due(epoch) and self._validate(sess, sv, step, epoch)

  def _validate(self, sess, sv, step, epoch):
    step, epoch = int(step), int(epoch)  # a cluster reads the step back as numpy's
    result = validation.run_pass(sess, self.graph, self._should_stop)
    if result is None:
      return False  # a stop signal: the loop saves and stops
    patience = self.settings.early_stopping_patience
    self.selection, improved = self.selection.after(epoch, step, result, patience, self.measure)
    saved = self._save_best(sess, step, epoch, result) if improved else None
    best = self.selection
    tf.logging.info('Epoch %d/%d: validation accuracy %.4f (balanced %.4f), loss %.4f (%d '
                    'images, %.1f s); %s', epoch, self.num_epochs, result.accuracy,
                    result.balanced_accuracy, result.loss, result.images,
                    result.seconds, 'the best so far, saved in %s' % saved if saved else
                    'the best: epoch %d, %.4f' % (best.best_epoch, best.best_accuracy))
    sv.summary_computed(sess, tf.Summary(value=[
        tf.Summary.Value(tag='validation/accuracy', simple_value=result.accuracy),
        tf.Summary.Value(tag='validation/balanced_accuracy',
                         simple_value=result.balanced_accuracy),
        tf.Summary.Value(tag='validation/loss', simple_value=result.loss)]), global_step=step)
    kept = best_checkpoint.find(self.log_dir)
    run_record.write_section(self.log_dir, SECTION, dict(
        best._asdict(), early_stopping_patience=patience,
        best_checkpoint=kept and os.path.relpath(kept, self.log_dir)))
    if best.stopped_early:
      say_stopped(best, self.log_dir)
    return best.stopped_early

  def _save_best(self, sess, step, epoch, result):
    return best_checkpoint.save(sess, self.graph.saver, self.log_dir, step, dict(
        epoch=epoch, step=step, accuracy=result.accuracy, loss=result.loss,
        balanced_accuracy=result.balanced_accuracy))


def build(settings, split, steps_per_epoch, resume_from, selection):
  """The chief's ModelSelection, its validation in the default (training) graph; None when off.

  Args:
    settings: the run's TrainSettings.
    split: the validation split, or None (validation.check_split has said so).
    steps_per_epoch: global steps an epoch takes.
    resume_from: the checkpoint the run starts from, or None.
    selection: `resume`'s.
  """
  s = settings
  if split is None or not s.validation.validation_every_n_epochs:
    return None
  graph = validation.build(split, s.image_size, s.validation_batch_size,
                           s.deployment.clone_device(0), bool(s.moving_average_decay))
  head_first = bool(resume_from) and checkpoints.is_head_checkpoint(resume_from)
  weighted = s.loss.class_weights != class_weighting.NONE
  return ModelSelection(s.validation, graph, s.log_dir, steps_per_epoch, s.num_epochs,
                        selection, validate_first=head_first,
                        measure=BALANCED if weighted else ACCURACY)
