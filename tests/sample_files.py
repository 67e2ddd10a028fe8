# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Photos, archives, records and a local HTTP server that the converter and download
tests make for themselves; the only server is one on 127.0.0.1."""
import glob
import http.server
import io
import socket
import tarfile

import numpy as np
from PIL import Image

import tiny_data
from tf_compat import tf


def solid(size, colour, mode='RGB'):
  """A noisy solid-colour image of (width, height) `size`, converted to `mode`."""
  rng = np.random.RandomState(sum(size))
  pixels = np.clip(np.array(colour) + rng.normal(0, 8, (size[1], size[0], 3)), 0, 255)
  return Image.fromarray(pixels.astype(np.uint8)).convert(mode)


def half_transparent(size, colour, palette=False):
  """Left half transparent black, right half `colour`: as RGBA or as palette + transparency."""
  width, height = size
  if palette:
    image = Image.new('P', size, 1)
    image.putpalette([0, 0, 0] + list(colour) + [0, 0, 0] * 254)
    image.paste(0, (0, 0, width // 2, height))
    image.info['transparency'] = 0
    return image
  image = Image.new('RGBA', size, tuple(colour) + (255,))
  image.paste((0, 0, 0, 0), (0, 0, width // 2, height))
  return image


def jpeg_bytes(size=(30, 20), colour=(200, 30, 30)):
  buffer = io.BytesIO()
  solid(size, colour).save(buffer, 'JPEG', quality=90)
  return buffer.getvalue()


def records(pattern):
  """[(features dict)] of every record in the files matching `pattern`, in file order."""
  rows = []
  for path in sorted(glob.glob(pattern)):
    for serialized in tf.python_io.tf_record_iterator(path):
      example = tf.train.Example.FromString(serialized)
      rows.append(example.features.feature)
  return rows


def decode_all(serialized_records):
  """Parses records with tf.io.parse_single_example and decodes them with decode_jpeg."""
  with tf.Graph().as_default():
    serialized = tf.placeholder(tf.string, [])
    parsed = tf.io.parse_single_example(serialized, {
        'image/encoded': tf.FixedLenFeature([], tf.string),
        'image/format': tf.FixedLenFeature([], tf.string),
        'image/class/label': tf.FixedLenFeature([], tf.int64),
        'image/height': tf.FixedLenFeature([], tf.int64),
        'image/width': tf.FixedLenFeature([], tf.int64)})
    image = tf.image.decode_jpeg(parsed['image/encoded'], channels=3)
    with tf.Session() as sess:
      return [sess.run([parsed, image], {serialized: s}) for s in serialized_records]


def make_tarball(path, members):
  """Writes a .tgz of (name, bytes) regular files, or ready tarfile.TarInfo objects."""
  with tarfile.open(path, 'w:gz') as tar:
    for member in members:
      if isinstance(member, tarfile.TarInfo):
        tar.addfile(member)
      else:
        name, data = member
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
  return path


class _Handler(http.server.SimpleHTTPRequestHandler):
  """Serves a folder; /short.tgz promises more bytes than it sends."""

  def do_GET(self):
    if self.path == '/short.tgz':
      self.send_response(200)
      self.send_header('Content-Length', '5000')
      self.end_headers()
      self.wfile.write(b'x' * 100)
      self.close_connection = True
      return
    super().do_GET()

  def log_message(self, *args):
    pass


def serve(directory):
  """An HTTP server for `directory` on 127.0.0.1; yields its base URL."""
  return tiny_data.serve_directory(directory, handler=_Handler)


def unused_port():
  """A port nothing listens on (bound then released)."""
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


def flowers_tarball(path):
  members = [('flower_photos/LICENSE.txt', b'CC-BY')]
  for label in ('daisy', 'roses', 'tulips'):
    for i in range(2):
      members.append(('flower_photos/%s/%d.jpg' % (label, i), jpeg_bytes((16 + i, 12))))
  return make_tarball(path, members)
