# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The helpers behind the commands: one concern a module, no command imported.

  cli, errors, flags        parsers, one-line errors, the flag types and shared flags
  files, progress           atomic writes; progress bars and training's progress lines
  downloads, archives       verified downloads; safe tar extraction
  runtime                   device, threads, mixed precision: the session config
  checkpoints, model        finding, checking, restoring, completing checkpoints; the network
  images, predictor         decoding photos as evaluation does; classifying them
  exporting, pictures       frozen graph / SavedModel / TFLite; evaluation's pictures
  datasets/                 TFRecords, photos, conversion, publishing, the demo set
  deployment/               clones and clusters, in the way of TF-slim's model_deploy
  training/                 the training loop and what keeps it safe to stop

TensorFlow comes from tf_compat, imported here first, so that no module of the
package can load it before its environment is set.
"""
import tf_compat  # noqa: F401
