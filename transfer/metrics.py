# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""What a confusion matrix says class by class: recall, precision, F1 and their means.

Accuracy counts images, so a model that ignores a rare class still scores
well; balanced accuracy (the mean recall) and macro F1 weigh every class the
same. Both average over the classes present in the labels: a class without
an image has no recall to count.
"""
from __future__ import absolute_import, division, print_function

import collections

import numpy as np

# One class's figures; precision is 0 for a class never predicted.
ClassFigures = collections.namedtuple('ClassFigures', ['recall', 'precision', 'f1', 'count'])


def confusion_matrix(labels, predictions, num_classes):
  """int64 [num_classes, num_classes]: how many images of each true class got each prediction."""
  confusion = np.zeros((num_classes, num_classes), np.int64)
  np.add.at(confusion, (np.asarray(labels), np.asarray(predictions)), 1)
  return confusion


def _ratio(numerator, denominator):
  return float(numerator) / denominator if denominator else 0.0


def class_figures(confusion):
  """[ClassFigures] of each class of confusion[true, predicted], in class order."""
  confusion = np.asarray(confusion)
  figures = []
  for c in range(confusion.shape[0]):
    hits, count, predicted = confusion[c, c], confusion[c].sum(), confusion[:, c].sum()
    recall, precision = _ratio(hits, count), _ratio(hits, predicted)
    f1 = _ratio(2 * recall * precision, recall + precision)
    figures.append(ClassFigures(recall, precision, f1, int(count)))
  return figures


def balanced_accuracy(confusion):
  """The mean recall over the classes that have images; NaN when none has."""
  present = [f.recall for f in class_figures(confusion) if f.count]
  return float(np.mean(present)) if present else float('nan')


def macro_f1(confusion):
  """The mean F1 over the classes that have images; NaN when none has."""
  present = [f.f1 for f in class_figures(confusion) if f.count]
  return float(np.mean(present)) if present else float('nan')


def never_predicted(confusion):
  """The classes with images that no image was predicted as (their precision is 0)."""
  confusion = np.asarray(confusion)
  return [c for c in range(confusion.shape[0])
          if confusion[c].sum() and not confusion[:, c].sum()]
