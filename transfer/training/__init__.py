# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Training: one loop for local, clone and cluster runs, and what keeps it safe to stop.

  loop             train_loop: the steps, the epoch header, summaries, cluster deadlines
  control          TrainingControl: saving between steps, progress lines, input failures
  signals          Ctrl-C and SIGTERM finish the step, save it and exit 130 / 143
  schedule         what sets the learning rate of a step (run.json), checked on resume
  head_phase       --head_epochs: cache the bottlenecks, train the Logits, save; its flags
  bottleneck_head  the Logits layer trained on cached bottlenecks; its checkpoint
  settings         TrainSettings: every training flag, grouped by concern, checked once
  start            what a run resumes or restores, refused before any graph is built
"""
