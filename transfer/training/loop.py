# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The training loop: one for a single process, for clones, and for a cluster's workers.

Between steps it lets the TrainingControl check the stop signals, save and log
progress, and the chief's ModelSelection validate, keep the best checkpoint
and stop early (transfer/training/model_selection.py). In a cluster the global
step is shared, so it is read back after each update (any worker may advance
it), every step but the first has a deadline, and the chief waits for the other
workers at the end.
"""
from __future__ import absolute_import, division, print_function

import collections

from tf_compat import tf
from transfer.deployment import cluster

# What the loop runs, as train_flowers.build_training_graph builds it. sync is
# the cluster's SyncReplicas, or None.
TrainGraph = collections.namedtuple('TrainGraph', [
    'dataset', 'steps_per_epoch', 'train_op', 'global_step', 'lr', 'accuracy', 'metrics_op',
    'summary_op', 'variables_to_restore', 'sync'])


def _log_epoch(sess, graph, epoch, num_epochs, stepped):
  """The epoch's header; the streaming accuracy only once this run took a step (else 0)."""
  lr_value, accuracy_value = sess.run([graph.lr, graph.accuracy])
  tf.logging.info('Epoch %d/%d', epoch + 1, num_epochs)
  tf.logging.info('Current Learning Rate: %s', lr_value)
  if stepped:
    tf.logging.info('Current Streaming Accuracy: %s', accuracy_value)


def _run_steps(sess, sv, graph, num_epochs, control, config, step, selection):
  """Trains from global step `step` to the last one, or until early stopping.

  Returns:
    (last loss, step, own steps).
  """
  total_steps = graph.steps_per_epoch * num_epochs
  summary_every_n_steps = control.settings.summary_every_n_steps
  # The header comes at the start of each epoch (and when a cluster's shared
  # step jumps into a new one), not at a step resumed in the middle of one.
  epoch = -1 if step % graph.steps_per_epoch == 0 else step // graph.steps_per_epoch
  # The first step waits for the slowest worker to start: no deadline.
  deadline = tf.RunOptions(timeout_in_ms=config.timeout_secs * 1000) if config.cluster else None
  loss, own_steps = float('nan'), 0
  stopped = bool(selection) and selection.begin(sess, sv, step,
                                                lambda: control.signals.requested)
  while not stopped and step < total_steps and not sv.should_stop():
    control.check_signal(sess)
    if config.is_chief and step // graph.steps_per_epoch != epoch:
      epoch = step // graph.steps_per_epoch
      _log_epoch(sess, graph, epoch, num_epochs, own_steps > 0)
    with_summary = config.is_chief and (own_steps + 1) % summary_every_n_steps == 0
    fetches = [graph.train_op, graph.metrics_op]
    # The cluster's chief always fetches the summary: a distributed session
    # prepares each new set of fetches anew, which costs as much as several steps.
    if with_summary or (config.cluster and config.is_chief):
      fetches.append(graph.summary_op)
    try:  # the summary comes from the step's own run: no extra batch is consumed
      results = sess.run(fetches, options=deadline if own_steps else None)
    except (tf.errors.OutOfRangeError, tf.errors.CancelledError):
      control.input_stopped(step)  # the Supervisor would take it for a clean stop
    own_steps += 1
    step = sess.run(graph.global_step, options=deadline) if config.cluster else step + 1
    loss = results[0]
    if with_summary:
      sv.summary_computed(sess, results[-1], global_step=step)
    control.step_done(sess, step, loss)
    stopped = bool(selection) and selection.after_step(sess, sv, step)
  if step < total_steps and not stopped:  # an input thread failed, asking the Supervisor to stop
    control.input_stopped(step)
  return loss, step, own_steps


def train_loop(sess, sv, graph, num_epochs, control, config, selection=None):
  """Runs the remaining steps: epoch and progress logs, summaries, saves, validations.

  Args:
    sess: the Supervisor's session.
    sv: the Supervisor.
    graph: a TrainGraph.
    num_epochs: epochs the run trains in all.
    control: the run's training.control.TrainingControl (with its ControlSettings).
    config: the run's DeploymentConfig.
    selection: the chief's model_selection.ModelSelection, or None (no validation).

  Returns:
    The last step's loss (NaN when no step ran).

  Raises:
    training.signals.Interrupted: after saving, on SIGINT/SIGTERM.
    training.control.InputStopped: when the input ends before the last step.
    ClusterError: a step past --cluster_timeout_secs, or a lost task.
  """
  total_steps = graph.steps_per_epoch * num_epochs
  step = control.begin(sess, sv, graph.global_step, total_steps)
  if step >= total_steps:
    tf.logging.info('log_dir already holds %d of %d steps: nothing to train.', step, total_steps)
  with cluster.failures_reported(config):
    cluster.start_sync(sess, config, graph.sync)
    loss, step, own_steps = _run_steps(sess, sv, graph, num_epochs, control, config, step,
                                       selection)
  if config.cluster:
    tf.logging.info('worker %d ran %d training steps; global step %d.', config.task_index,
                    own_steps, step)
    cluster.end_sync(sess, config, graph.sync)
    if config.is_chief:
      cluster.wait_for_workers(config)
  return loss
