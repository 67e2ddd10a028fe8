# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""demo_photos: the embedded, drawn demo set.
"""
import glob
import io
import os

import numpy as np
import pytest
from PIL import Image

import dataset_utils
from tiny_data import REPO
from transfer.datasets import demo_photos
from transfer.datasets.flowers import FLOWERS_CLASSES


def test_demo_photos_are_deterministic_and_balanced(tmp_path):
  def files(folder):
    found = {}
    for path in sorted(glob.glob(os.path.join(folder, '*', '*'))):
      with open(path, 'rb') as f:
        found[os.path.relpath(path, folder)] = f.read()
    return found

  first = files(demo_photos.make_demo_photos(str(tmp_path / 'a'), images_per_class=4))
  second = files(demo_photos.make_demo_photos(str(tmp_path / 'b'), images_per_class=4))
  assert first == second and len(first) == 20
  labels = dataset_utils.read_label_file(REPO)
  assert sorted(os.listdir(str(tmp_path / 'a'))) == [labels[i] for i in range(5)]
  for name in labels.values():
    assert len(os.listdir(str(tmp_path / 'a' / name))) == 4
  for data in first.values():
    image = Image.open(io.BytesIO(data))
    assert image.format == 'JPEG' and image.mode == 'RGB'
    assert all(80 <= side <= 160 for side in image.size)
  other_seed = demo_photos.make_demo_photos(str(tmp_path / 'c'), images_per_class=4, seed=1)
  assert files(other_seed) != first

  # A smaller rerun replaces the earlier demo files; a foreign folder is refused.
  demo_photos.make_demo_photos(str(tmp_path / 'a'), images_per_class=2)
  assert len(files(str(tmp_path / 'a'))) == 10
  (tmp_path / 'a' / 'cats').mkdir()
  with pytest.raises(ValueError, match='cats'):
    demo_photos.make_demo_photos(str(tmp_path / 'a'))


def test_demo_classes_differ_in_colour(tmp_path):
  # The demo trains from scratch at a small size: colour alone should tell most apart.
  folder = demo_photos.make_demo_photos(str(tmp_path), images_per_class=6)
  means = {}
  for name in FLOWERS_CLASSES:
    pixels = [np.asarray(Image.open(p).resize((32, 32)), np.float32).reshape(-1, 3)
              for p in glob.glob(os.path.join(folder, name, '*.jpg'))]
    pixels = np.concatenate(pixels)
    hue = np.asarray(Image.fromarray(pixels[None].astype(np.uint8)).convert('HSV'))[0]
    vivid = hue[(hue[:, 1] > 120) & (hue[:, 2] > 120)]  # saturated, bright: the flowers
    means[name] = np.bincount(vivid[:, 0] // 16, minlength=16) / float(len(vivid))
  names = sorted(means)
  for i, a in enumerate(names):
    for b in names[i + 1:]:
      assert np.abs(means[a] - means[b]).sum() > 0.2, (a, b)
