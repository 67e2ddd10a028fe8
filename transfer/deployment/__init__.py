# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Deploying the model on more devices and more machines, as TF-slim's model_deploy does.

  config   DeploymentConfig: the flags checked once, device strings, the chief's role
  clones   create_clones, optimize_clones, create_train_op: free functions of the config
  cluster  servers, sync replicas, done-queues, and the ps/worker task of a process

With one clone and no cluster every function does exactly what the
single-process script did before.
"""
