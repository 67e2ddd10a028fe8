# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Evaluation's pictures: predictions over their photos, and the confusion matrix.

Both are written atomically as PNG, so no half-written picture appears; pyplot
runs on a file-only backend unless there is a display to show them on.
"""
from __future__ import absolute_import, division, print_function

import math
import os

import numpy as np

from tf_compat import tf
from transfer import files


def _pyplot():
  """pyplot on a file-only backend unless a display is there to show on."""
  import matplotlib
  if not os.environ.get('DISPLAY'):
    matplotlib.use('Agg')
  import matplotlib.pyplot as plt
  return plt


def save_predictions(path, images, true_names, predicted_names):
  """Saves a grid of images titled 'Prediction: ... / Ground Truth: ...'.

  Titles are green where the prediction is right and red where it is wrong.

  Returns:
    path.
  """
  return save_grid(path, images,
                   ['Prediction: %s\nGround Truth: %s' % (guess, truth)
                    for truth, guess in zip(true_names, predicted_names)],
                   ['green' if guess == truth else 'red'
                    for truth, guess in zip(true_names, predicted_names)])


def save_grid(path, images, titles, colors):
  """Saves images in rows of up to 5, each under its title in its colour; returns path."""
  plt = _pyplot()
  cols = min(5, len(images))
  rows = int(math.ceil(len(images) / float(cols)))
  fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.6 * rows), squeeze=False)
  for ax in axes.flat:
    ax.axis('off')
  for ax, image, title, color in zip(axes.flat, images, titles, colors):
    ax.imshow(np.squeeze(image), cmap='gray' if image.shape[-1] == 1 else None)
    ax.set_title(title, fontsize=10, color=color)
  fig.tight_layout()
  files.save_figure(fig, path, dpi=80)  # no half-written picture
  plt.close(fig)
  return path


def save_confusion_matrix(path, confusion, names):
  """Saves the confusion matrix (rows: truth, columns: prediction) as a picture.

  Returns:
    path.
  """
  plt = _pyplot()
  size = 1.2 + 0.9 * len(names)
  fig, ax = plt.subplots(figsize=(size + 1.5, size))
  shown = ax.imshow(confusion, cmap='Blues')
  fig.colorbar(shown, ax=ax)
  ax.set_xticks(range(len(names)))
  ax.set_xticklabels(names, rotation=45, ha='right')
  ax.set_yticks(range(len(names)))
  ax.set_yticklabels(names)
  ax.set_xlabel('Prediction')
  ax.set_ylabel('Ground Truth')
  total = confusion.sum()
  ax.set_title('Accuracy %.1f%% of %d' % (100.0 * np.trace(confusion) / max(total, 1), total))
  for (i, j), count in np.ndenumerate(confusion):
    ax.text(j, i, str(count), ha='center', va='center',
            color='white' if count > confusion.max() / 2.0 else 'black')
  fig.tight_layout()
  files.save_figure(fig, path, dpi=80)  # no half-written picture
  plt.close(fig)
  return path


def show_pictures(paths):
  """Shows saved pictures when a display exists; says so otherwise."""
  if not os.environ.get('DISPLAY'):
    tf.logging.warning('--show: no display, pictures are only saved.')
    return
  plt = _pyplot()
  for path in paths:
    plt.figure()
    plt.imshow(plt.imread(path))
    plt.axis('off')
  plt.show()
