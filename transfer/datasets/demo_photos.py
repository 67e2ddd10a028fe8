# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The embedded demo set: small drawn photos of five flower-like classes.

Lets `make demo` and the converter run offline: `make_demo_photos` fills a
folder laid out like flower_photos, deterministically.
"""
from __future__ import absolute_import, division, print_function

import glob
import math
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from dataset_utils import DatasetError
from transfer import files
from transfer.datasets.flowers import FLOWERS_CLASSES

# 5 x 40 small drawn photos, 50 held out for validation.
DEMO_IMAGES_PER_CLASS = 40
DEMO_VALIDATION_SIZE = 50
DEMO_IMAGE_SIZE = (80, 160)


def _smooth_noise(rng, width, height, cells):
  """Low-frequency noise in [-1, 1]: a few random cells, smoothly enlarged."""
  grid = rng.uniform(0, 255, (cells, cells)).astype(np.uint8)
  big = Image.fromarray(grid, 'L').resize((width, height), Image.BICUBIC)
  return np.asarray(big, dtype=np.float32) / 127.5 - 1.0


def _background(rng, width, height):
  """A grass, sky or soil texture: colour gradient, blotches, strokes and noise."""
  kind = rng.randint(3)
  base = np.array([(70, 125, 50), (120, 170, 225), (115, 85, 55)][kind], np.float32)
  base += rng.randint(-15, 16, 3)
  rows = np.linspace(-1, 1, height, dtype=np.float32)[:, None, None]
  gradient = rows * (-25, 30, -15)[kind]  # grass darkens downwards, sky lightens
  blotches = _smooth_noise(rng, width, height, rng.randint(3, 8))[:, :, None]
  pixels = base + gradient + blotches * (28, 12, 25)[kind]
  image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
  draw = ImageDraw.Draw(image)
  for _ in range(rng.randint(20, 60)):
    x, y = rng.uniform(0, width), rng.uniform(0, height)
    if kind == 0:    # grass blades
      shade = tuple(int(v) for v in base + rng.randint(-35, 36, 3))
      draw.line([(x, y), (x + rng.uniform(-6, 6), y - rng.uniform(8, 25))], fill=shade,
                width=2)
    elif kind == 1:  # soft cloud puffs
      r = rng.uniform(6, 20)
      draw.ellipse([x - 2 * r, y - r, x + 2 * r, y + r], fill=(215, 228, 245))
    else:            # pebbles
      r = rng.uniform(1, 4)
      grey = int(rng.randint(90, 170))
      draw.ellipse([x - r, y - r, x + r, y + r], fill=(grey, grey - 10, grey - 25))
  if kind == 1:
    image = image.filter(ImageFilter.GaussianBlur(6))
  return image


def _petal(centre, angle, start, end, half_width, sharpness=0.5):
  """Polygon of a petal along a ray from `centre`; higher sharpness gives pointier tips."""
  cx, cy = centre
  dx, dy = math.cos(angle), math.sin(angle)
  side, back = [], []
  for s in np.linspace(0, 1, 10):
    along = start + (end - start) * s
    off = half_width * math.sin(math.pi * s) ** sharpness
    side.append((cx + along * dx - off * dy, cy + along * dy + off * dx))
    back.append((cx + along * dx + off * dy, cy + along * dy - off * dx))
  return side + back[::-1]


def _jitter(rng, colour, amount=20):
  return tuple(int(np.clip(c + rng.randint(-amount, amount + 1), 0, 255)) for c in colour)


def _draw_daisy(rng, draw, c, r):
  count = rng.randint(14, 23)
  for k in range(count):
    angle = 2 * math.pi * k / count + rng.uniform(-0.06, 0.06)
    draw.polygon(_petal(c, angle, r * 0.15, r * rng.uniform(0.85, 1.0), r * 0.13),
                 fill=_jitter(rng, (245, 245, 240), 8), outline=(200, 200, 190))
  core = r * rng.uniform(0.2, 0.26)
  draw.ellipse([c[0] - core, c[1] - core, c[0] + core, c[1] + core],
               fill=_jitter(rng, (245, 200, 30), 10), outline=(210, 150, 20))


def _draw_dandelion(rng, draw, c, r):
  draw.ellipse([c[0] - r * 0.6, c[1] - r * 0.6, c[0] + r * 0.6, c[1] + r * 0.6],
               fill=(240, 190, 10))
  for _ in range(rng.randint(150, 220)):  # many thin florets: a fuzzy, spiky disc
    angle = rng.uniform(0, 2 * math.pi)
    inner, outer = r * rng.uniform(0.1, 0.5), r * rng.uniform(0.65, 1.0)
    draw.line([(c[0] + inner * math.cos(angle), c[1] + inner * math.sin(angle)),
               (c[0] + outer * math.cos(angle), c[1] + outer * math.sin(angle))],
              fill=_jitter(rng, (250, 215, 30), 20), width=max(1, int(r / 25)))


def _draw_rose(rng, draw, c, r):
  for _ in range(3):  # leaves peeking out behind
    angle = rng.uniform(0, 2 * math.pi)
    draw.polygon(_petal(c, angle, r * 0.5, r * 1.05, r * 0.22, 1.0), fill=(40, 110, 40))
  red = _jitter(rng, (195, 20, 40), 20)
  layers = rng.randint(5, 8)
  for k in range(layers):  # nested petals, each ring shifted a little off-centre
    radius = r * 0.85 * (1 - k / (layers + 1.0))
    ox, oy = rng.uniform(-0.06, 0.06, 2) * r
    shade = 1.0 - 0.25 * (k % 2)
    fill = tuple(int(v * shade) for v in red)
    draw.ellipse([c[0] + ox - radius, c[1] + oy - radius, c[0] + ox + radius,
                  c[1] + oy + radius], fill=fill, outline=(110, 0, 20), width=max(1, int(r / 30)))
  for k in range(4):  # the tight spiral at the heart
    radius = r * (0.08 + 0.07 * k)
    draw.arc([c[0] - radius, c[1] - radius, c[0] + radius, c[1] + radius],
             90 * k, 90 * k + 220, fill=(100, 0, 15), width=max(1, int(r / 25)))


def _draw_sunflower(rng, draw, c, r):
  count = rng.randint(18, 27)
  for layer in (0, 1):  # two rows of petals, the back row darker
    for k in range(count):
      angle = 2 * math.pi * (k + 0.5 * layer) / count + rng.uniform(-0.05, 0.05)
      colour = (245, 185, 15) if layer else (225, 150, 10)
      draw.polygon(_petal(c, angle, r * 0.35, r * (0.95 - 0.1 * layer), r * 0.14, 1.0),
                   fill=_jitter(rng, colour, 12))
  core = r * rng.uniform(0.4, 0.48)
  draw.ellipse([c[0] - core, c[1] - core, c[0] + core, c[1] + core], fill=(90, 55, 20))
  for _ in range(int(core * 3)):  # seeds
    a, d = rng.uniform(0, 2 * math.pi), core * math.sqrt(rng.uniform(0, 0.9))
    x, y, s = c[0] + d * math.cos(a), c[1] + d * math.sin(a), max(1.0, core / 12)
    draw.ellipse([x - s, y - s, x + s, y + s], fill=_jitter(rng, (55, 30, 10), 12))


def _draw_tulip(rng, draw, c, r):
  green = _jitter(rng, (50, 130, 45), 15)
  top = c[1] - r * 0.05
  draw.line([(c[0], top), (c[0] + rng.uniform(-0.1, 0.1) * r, c[1] + r)], fill=green,
            width=max(2, int(r / 10)))
  side = rng.choice([-1, 1])  # one long leaf from the foot of the stem
  draw.polygon([(c[0], c[1] + r), (c[0] + side * r * 0.45, c[1] - r * 0.1),
                (c[0] + side * r * 0.12, c[1] + r * 0.6)], fill=green)
  colour = _jitter(rng, [(235, 95, 160), (150, 60, 175), (215, 50, 130)][rng.randint(3)], 15)
  w, h = r * rng.uniform(0.45, 0.55), r * rng.uniform(0.75, 0.9)
  cup = [(c[0] - w, top - h * 0.9), (c[0] - w * 0.45, top - h * 0.55), (c[0], top - h),
         (c[0] + w * 0.45, top - h * 0.55), (c[0] + w, top - h * 0.9)]
  for k in range(9):  # the rounded bottom of the cup
    a = math.pi * k / 8
    cup.append((c[0] + w * math.cos(a), top - h * 0.35 + h * 0.55 * math.sin(a)))
  draw.polygon(cup, fill=colour, outline=tuple(int(v * 0.7) for v in colour))
  draw.line([(c[0], top - h * 0.85), (c[0], top + h * 0.1)],
            fill=tuple(int(v * 0.8) for v in colour), width=max(1, int(r / 30)))


# The source set: other things on the same backgrounds, which stand in for
# ImageNet when the demo has no checkpoint to transfer from.
SOURCE_CLASSES = ('balls', 'boxes', 'kites', 'rings', 'stars')


def _draw_ball(rng, draw, c, r):
  colour = _jitter(rng, [(220, 60, 50), (60, 90, 210), (240, 220, 60)][rng.randint(3)], 20)
  for k in range(6):  # shaded from the rim to a highlight off the centre
    radius, shift = r * (1 - k / 7.0), r * 0.06 * k
    fill = tuple(int(min(255, v * (0.7 + 0.08 * k))) for v in colour)
    draw.ellipse([c[0] - shift - radius, c[1] - shift - radius, c[0] - shift + radius,
                  c[1] - shift + radius], fill=fill)


def _draw_box(rng, draw, c, r):
  colour = _jitter(rng, (170, 120, 70), 25)
  w, h, d = r * rng.uniform(0.5, 0.8), r * rng.uniform(0.4, 0.7), r * 0.3
  front = [(c[0] - w, c[1] - h + d), (c[0] + w - d, c[1] - h + d), (c[0] + w - d, c[1] + h),
           (c[0] - w, c[1] + h)]
  draw.polygon(front, fill=colour, outline=(60, 40, 20))
  draw.polygon([(c[0] - w, c[1] - h + d), (c[0] - w + d, c[1] - h), (c[0] + w, c[1] - h),
                (c[0] + w - d, c[1] - h + d)], fill=tuple(int(v * 1.15) % 256 for v in colour))
  draw.polygon([(c[0] + w - d, c[1] - h + d), (c[0] + w, c[1] - h), (c[0] + w, c[1] + h - d),
                (c[0] + w - d, c[1] + h)], fill=tuple(int(v * 0.7) for v in colour))


def _draw_kite(rng, draw, c, r):
  colours = [_jitter(rng, v, 25) for v in ((230, 40, 40), (40, 160, 220))]
  top, bottom, side = (c[0], c[1] - r), (c[0], c[1] + r * 0.9), r * rng.uniform(0.45, 0.65)
  middle = c[1] - r * 0.3
  for k, edge in enumerate((-side, side)):
    draw.polygon([top, (c[0] + edge, middle), bottom], fill=colours[k])
  draw.line([bottom, (c[0] + rng.uniform(-0.4, 0.4) * r, c[1] + r * 1.4)], fill=(40, 40, 40),
            width=max(1, int(r / 25)))


def _draw_ring(rng, draw, c, r):
  width = max(2, int(r * rng.uniform(0.12, 0.25)))
  draw.ellipse([c[0] - r * 0.9, c[1] - r * 0.9, c[0] + r * 0.9, c[1] + r * 0.9],
               outline=_jitter(rng, (200, 200, 210), 30), width=width)


def _draw_star(rng, draw, c, r):
  points = rng.randint(5, 8)
  outline = []
  for k in range(2 * points):
    radius = r * (0.95 if k % 2 == 0 else 0.42)
    angle = math.pi * k / points - math.pi / 2
    outline.append((c[0] + radius * math.cos(angle), c[1] + radius * math.sin(angle)))
  draw.polygon(outline, fill=_jitter(rng, (250, 200, 40), 20), outline=(170, 120, 10))


_DEMO_DRAWERS = {'daisy': _draw_daisy, 'dandelion': _draw_dandelion, 'roses': _draw_rose,
                 'sunflowers': _draw_sunflower, 'tulips': _draw_tulip, 'balls': _draw_ball,
                 'boxes': _draw_box, 'kites': _draw_kite, 'rings': _draw_ring,
                 'stars': _draw_star}


def draw_demo_photo(class_name, rng, image_size=DEMO_IMAGE_SIZE):
  """Draws one flower-like photo of a demo class.

  Args:
    class_name: one of FLOWERS_CLASSES or SOURCE_CLASSES.
    rng: a numpy RandomState; all randomness comes from it.
    image_size: (smallest, largest) side in pixels; each side is drawn from it.

  Returns:
    An RGB Pillow image.
  """
  width, height = (int(v) for v in rng.randint(image_size[0], image_size[1] + 1, size=2))
  scale = 2  # drawn at twice the size, then shrunk: smooth edges
  canvas = _background(rng, width * scale, height * scale)
  for k in range(1 if rng.uniform() < 0.7 else 2):
    size = int(min(width, height) * scale * rng.uniform(0.5, 0.85) * (0.6 if k else 1.0))
    layer = Image.new('RGBA', (size, size), (0, 0, 0, 0))
    _DEMO_DRAWERS[class_name](rng, ImageDraw.Draw(layer), (size / 2.0, size / 2.0),
                              size * 0.48)
    # Tulips stand upright; round flowers may face any way.
    spread = 25 if class_name == 'tulips' else 180
    layer = layer.rotate(rng.uniform(-spread, spread), Image.BICUBIC, expand=True)
    x = rng.randint(-layer.width // 6, max(1, canvas.width - layer.width * 5 // 6))
    y = rng.randint(-layer.height // 6, max(1, canvas.height - layer.height * 5 // 6))
    canvas.paste(layer, (int(x), int(y)), layer)
  pixels = np.asarray(canvas.resize((width, height), Image.LANCZOS), np.float32)
  pixels += rng.normal(0, 4, pixels.shape)  # sensor noise
  return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _check_demo_folder(output_dir, classes):
  """Refuses a folder holding anything but earlier demo photos: they would be mixed in."""
  if not os.path.isdir(output_dir):
    return
  for name in sorted(os.listdir(output_dir)):
    path = os.path.join(output_dir, name)
    if name.startswith('.'):
      continue
    others = ([path] if name not in classes or not os.path.isdir(path) else
              [os.path.join(path, f) for f in sorted(os.listdir(path))
               if not f.startswith(('demo_', '.'))])
    if others:
      raise DatasetError('refusing to draw the demo photos into %s: it holds %s, which is '
                         'not a demo photo; choose a new folder' % (output_dir, others[0]))


def make_demo_photos(output_dir, images_per_class=DEMO_IMAGES_PER_CLASS,
                     image_size=DEMO_IMAGE_SIZE, seed=0, classes=FLOWERS_CLASSES):
  """Writes the embedded demo set: a small flowers-like folder, one sub-folder a class.

  Deterministic: the same arguments give byte-identical files. Each image has
  its own seed, so a smaller set is the beginning of a larger one. Earlier
  demo files in the class folders are replaced; other files are left alone.

  Args:
    output_dir: the photo folder to fill (created when missing).
    images_per_class: JPEGs drawn per class.
    image_size: (smallest, largest) side in pixels.
    seed: the base seed.
    classes: the classes drawn: the flowers, or SOURCE_CLASSES for the source set.

  Returns:
    output_dir.

  Raises:
    DatasetError: output_dir holds files other than demo photos.
  """
  _check_demo_folder(output_dir, classes)
  for class_id, name in enumerate(classes):
    folder = os.path.join(output_dir, name)
    os.makedirs(folder, exist_ok=True)
    for stale in glob.glob(os.path.join(glob.escape(folder), 'demo_*.jpg')):
      os.remove(stale)
    for index in range(images_per_class):
      rng = np.random.RandomState([seed, class_id, index])
      image = draw_demo_photo(name, rng, image_size)
      files.save_image(image, os.path.join(folder, 'demo_%s_%04d.jpg' % (name, index)),
                       'JPEG', quality=int(rng.randint(80, 96)))
  return output_dir
