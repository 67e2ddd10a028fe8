# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The training graph and loop of train_flowers.py, driven step by step for timing."""
from __future__ import absolute_import, division, print_function

import train_flowers
from transfer.training import control, loop


class NoStop(object):
  """Stands in for the Supervisor in train_loop: never stops, saves and summarises nothing."""
  is_chief = False

  def should_stop(self):
    return False

  def summary_computed(self, sess, summary, global_step=None):
    pass


def build_graph(settings):
  """train_flowers' training graph for `settings` (a TrainSettings), in the default graph."""
  dataset = train_flowers.get_split('train', settings.dataset_dir, settings.file_pattern,
                                    settings.labels_file)
  return train_flowers.build_training_graph(settings, dataset)


def run_steps(sess, graph, settings, steps):
  """Runs the real train_loop for exactly `steps` more steps (no epoch header on the way)."""
  first = sess.run(graph.global_step)
  loop.train_loop(sess, NoStop(), graph._replace(steps_per_epoch=first + steps), 1,
                  control.TrainingControl(settings.control, settings.images_per_update),
                  settings.deployment)
