"""Photos -> TFRecords in the TF-slim format, plus label files, downloads and a demo set.

A folder holding one sub-folder of photos per class becomes sharded TFRecord
files named and laid out like those of TF-slim's flowers converter, and a
labels.txt (`0:daisy` ...) next to them:

    python dataset_utils.py --photo_dir flower_photos --output_dir data
    python dataset_utils.py --download_flowers --output_dir data   # fetch them first
    python dataset_utils.py --make_demo --output_dir data   # offline: draw a demo set

Every photo is decoded once on the way in, so a broken file is reported here
(and skipped) rather than stopping a training run hours later. Files are
written under temporary names and renamed when complete: an interrupted run
never leaves a file that looks finished.

The download helpers (`download`, `safe_extract`, `download_and_extract`) and
`ProgressBar` are shared with train_flowers.py.
"""
from __future__ import absolute_import, division, print_function

import argparse
import collections
import glob
import hashlib
import http.client
import io
import math
import os
import posixpath
import random
import shutil
import socket
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from concurrent import futures

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
import tensorflow.compat.v1 as tf

# ================ DEFAULTS (each one is also a command-line flag) ================
LABELS_FILENAME = 'labels.txt'
FLOWERS_URL = 'http://download.tensorflow.org/example_images/flower_photos.tgz'
# Size of the official archive, so that a cut-short or hand-copied file is caught.
FLOWERS_SIZE = 228813984
FLOWERS_CLASSES = ('daisy', 'dandelion', 'roses', 'sunflowers', 'tulips')
# TF-slim holds 350 of the 3,670 flowers out for validation, in 5 shards a split.
VALIDATION_SIZE = 350
NUM_SHARDS = 5
RANDOM_SEED = 0
FILE_PREFIX = 'flowers'
# Quality of the JPEGs made from photos that are not RGB JPEGs already.
JPEG_QUALITY = 95
# Decoding is most of the work; Pillow releases the GIL while it decodes.
NUM_THREADS = min(8, os.cpu_count() or 1)
DOWNLOAD_TIMEOUT = 60
# The embedded demo set: 5 x 40 small drawn photos, 50 held out.
DEMO_IMAGES_PER_CLASS = 40
DEMO_VALIDATION_SIZE = 50
DEMO_IMAGE_SIZE = (80, 160)

SPLITS = ('train', 'validation')
# Lower-case extensions of the files treated as photos; Pillow decides the rest.
IMAGE_EXTENSIONS = ('.bmp', '.gif', '.jpe', '.jpeg', '.jpg', '.png', '.ppm', '.tif', '.tiff',
                    '.webp')
# Network failures worth a "download it by hand" hint (HTTPError is a URLError).
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError,
                   socket.timeout)


class DatasetError(ValueError):
  """A problem with the photos, the label file or the output folder."""


class DownloadError(RuntimeError):
  """A download that failed or did not verify; the message says what to do by hand."""


class ArchiveError(DownloadError):
  """An archive that is damaged or holds members that would land outside its folder."""


# ================ PROGRESS ================
def _format_duration(seconds):
  minutes, seconds = divmod(int(seconds), 60)
  hours, minutes = divmod(minutes, 60)
  return '%d:%02d:%02d' % (hours, minutes, seconds) if hours else '%d:%02d' % (minutes, seconds)


def _format_bytes(count):
  for unit in ('B', 'KB', 'MB', 'GB'):
    if count < 1024 or unit == 'GB':
      return ('%d %s' if unit == 'B' else '%.1f %s') % (count, unit)
    count /= 1024.0


class ProgressBar(object):
  """A progress line on stderr: count/total, percent, rate and time left.

  On a terminal the line is redrawn in place a few times a second. Elsewhere
  (a log file, CI) a plain line is printed every `interval` seconds and once at
  the end, so logs stay short.

      with ProgressBar(total=len(paths), label='Converting', unit='images') as bar:
        for path in paths:
          ...
          bar.update()
  """

  def __init__(self, total=None, label='', unit='', stream=None, interval=None, width=25):
    """Creates the bar; nothing is printed until the first update.

    Args:
      total: the count at completion; None or 0 when unknown (no bar, no ETA).
      label: text in front of the line.
      unit: 'B' shows counts as bytes (KB, MB); any other text is appended to rates.
      stream: where to write; sys.stderr (looked up now) by default.
      interval: seconds between lines; 0.2 on a terminal, 10 elsewhere.
      width: characters of the bar itself.
    """
    self.total = total or None
    self.label = label
    self.unit = unit
    self.stream = stream if stream is not None else sys.stderr
    isatty = getattr(self.stream, 'isatty', None)
    self.tty = bool(isatty and isatty())
    self.interval = interval if interval is not None else (0.2 if self.tty else 10.0)
    self.width = width
    self.count = 0
    self.start = time.time()
    self._last_line = self.start if not self.tty else 0.0
    self._drawn_chars = 0
    self._closed = False

  def update(self, amount=1):
    """Adds `amount` to the count and redraws when it is time to."""
    self.count += amount
    now = time.time()
    if now - self._last_line >= self.interval:
      self._draw(now)

  def close(self):
    """Draws the final line (once)."""
    if not self._closed:
      self._closed = True
      self._draw(time.time(), final=True)

  def __enter__(self):
    return self

  def __exit__(self, *unused_exc_info):
    self.close()

  def _amount(self, count):
    return _format_bytes(count) if self.unit == 'B' else '{:,}'.format(count)

  def format_line(self, now=None):
    """The current text, e.g. `Converting  [===   ]  120/200   60%  80.1 images/s  ETA 0:01`."""
    elapsed = max((now or time.time()) - self.start, 1e-6)
    rate = self.count / elapsed
    if self.unit == 'B':
      rate_text = '%s/s' % _format_bytes(rate)
    else:
      rate_text = '%.1f %s/s' % (rate, self.unit) if self.unit else '%.1f/s' % rate
    parts = [self.label] if self.label else []
    if self.total:
      fraction = min(self.count / self.total, 1.0)
      filled = int(fraction * self.width)
      parts.append('[%s%s]' % ('=' * filled, ' ' * (self.width - filled)))
      parts.append('%s/%s' % (self._amount(self.count), self._amount(self.total)))
      parts.append('%3d%%' % (100 * fraction))
    else:
      parts.append(self._amount(self.count))
    parts.append(rate_text)
    if self._closed:
      parts.append('in %s' % _format_duration(elapsed))
    elif self.total and rate > 0:
      parts.append('ETA %s' % _format_duration(max(self.total - self.count, 0) / rate))
    return '  '.join(parts)

  def _draw(self, now, final=False):
    line = self.format_line(now)
    if self.tty:
      # Pad over the remains of a longer previous line.
      self.stream.write('\r' + line.ljust(self._drawn_chars) + ('\n' if final else ''))
      self._drawn_chars = len(line)
    else:
      self.stream.write(line + '\n')
    self.stream.flush()
    self._last_line = now


# ================ TFRECORD EXAMPLES ================
def int64_feature(values):
  """A tf.train.Feature holding one int or a list of ints."""
  if not isinstance(values, (tuple, list)):
    values = [values]
  return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))


def bytes_feature(values):
  """A tf.train.Feature holding one bytes string (str is UTF-8 encoded) or a list of them."""
  if not isinstance(values, (tuple, list)):
    values = [values]
  values = [v.encode('utf-8') if isinstance(v, str) else v for v in values]
  return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))


def image_to_tfexample(image_data, image_format, height, width, class_id):
  """Builds the tf.train.Example of one image, with the keys TF-slim decoders read.

  Args:
    image_data: the encoded image (bytes).
    image_format: its format, e.g. b'jpg' (what slim's flowers converter writes).
    height: image height in pixels.
    width: image width in pixels.
    class_id: the integer label.

  Returns:
    A tf.train.Example.
  """
  return tf.train.Example(features=tf.train.Features(feature={
      'image/encoded': bytes_feature(image_data),
      'image/format': bytes_feature(image_format),
      'image/class/label': int64_feature(class_id),
      'image/height': int64_feature(height),
      'image/width': int64_feature(width),
  }))


# ================ LABEL FILE ================
def _temp_name(path):
  # Not matching `*.tfrecord` or labels.txt, and unique to this process.
  return '%s.tmp-%d' % (path, os.getpid())


def _remove_quietly(path):
  try:
    os.remove(path)
  except OSError:
    pass


def _write_atomically(path, data):
  """Writes bytes to `path` through a temporary file, so readers see all or nothing."""
  temp = _temp_name(path)
  try:
    with open(temp, 'wb') as f:
      f.write(data)
    os.replace(temp, path)
  finally:
    _remove_quietly(temp)


def _label_file_bytes(labels_to_class_names):
  return ''.join('%d:%s\n' % (label, labels_to_class_names[label])
                 for label in sorted(labels_to_class_names)).encode('utf-8')


def write_label_file(labels_to_class_names, dataset_dir, filename=LABELS_FILENAME):
  """Writes `id:name` lines, sorted by id, atomically.

  Args:
    labels_to_class_names: {int: class name}.
    dataset_dir: the folder to write into (created when missing).
    filename: the label file's name.

  Returns:
    The path written.
  """
  os.makedirs(dataset_dir, exist_ok=True)
  path = os.path.join(dataset_dir, filename)
  _write_atomically(path, _label_file_bytes(labels_to_class_names))
  return path


def read_label_file(dataset_dir, filename=LABELS_FILENAME):
  """Reads a label file of `id:name` lines (blank lines are ignored).

  Args:
    dataset_dir: the folder holding the file (local, or a tf.gfile URL like gs://).
    filename: the label file's name.

  Returns:
    {int id: class name}.

  Raises:
    DatasetError (a ValueError): naming the file and line of a malformed line
      or a repeated id.
  """
  path = os.path.join(dataset_dir, filename)
  # Local files through open(): a missing one raises FileNotFoundError, not a TF error.
  opener = tf.io.gfile.GFile if '://' in path else open
  with opener(path, 'rb') as f:
    text = f.read().decode('utf-8-sig')  # -sig: a byte-order mark from Windows editors
  labels = {}
  for number, line in enumerate(text.splitlines(), 1):
    if not line.strip():
      continue
    label, colon, name = line.partition(':')
    try:
      label = int(label)
    except ValueError:
      label = None
    if not colon or label is None or not name.strip():
      raise DatasetError("%s line %d: expected 'id:name' (like 0:daisy), got %r"
                         % (path, number, line))
    if label in labels:
      raise DatasetError('%s line %d: id %d appears twice' % (path, number, label))
    labels[label] = name.strip()
  return labels


# ================ READING PHOTOS ================
def list_photos(photo_dir):
  """Finds the photos of a folder with one sub-folder per class.

  Hidden files and folders (.DS_Store, .ipynb_checkpoints) are ignored; other
  files without an image extension are listed as ignored.

  Args:
    photo_dir: the folder of class sub-folders.

  Returns:
    (class_names sorted, [(path, class_id)], [ignored paths]).

  Raises:
    DatasetError: no such folder, no class sub-folder, or a class sub-folder
      without image files.
  """
  if not os.path.isdir(photo_dir):
    raise DatasetError('photo folder %s does not exist' % photo_dir)
  class_names = sorted(n for n in os.listdir(photo_dir)
                       if not n.startswith('.') and os.path.isdir(os.path.join(photo_dir, n)))
  if not class_names:
    raise DatasetError('%s has no class sub-folders: put the photos of each class in a '
                       'sub-folder named after the class, e.g. %s'
                       % (photo_dir, os.path.join(photo_dir, 'daisy', '*.jpg')))
  photos, ignored = [], []
  for class_id, name in enumerate(class_names):
    folder = os.path.join(photo_dir, name)
    found = 0
    for filename in sorted(os.listdir(folder)):
      path = os.path.join(folder, filename)
      if filename.startswith('.'):
        continue
      if (os.path.splitext(filename)[1].lower() in IMAGE_EXTENSIONS
          and os.path.isfile(path)):
        photos.append((path, class_id))
        found += 1
      else:
        ignored.append(path)
    if not found:
      raise DatasetError('class folder %s holds no image files (%s)'
                         % (folder, ' '.join(IMAGE_EXTENSIONS)))
  return class_names, photos, ignored


def _to_rgb(image):
  """Converts any Pillow mode to RGB; transparent parts become white."""
  if image.mode in ('I', 'I;16', 'I;16B', 'I;16L', 'F'):
    # Pillow clips wide grey values to 8 bits; scale 16-bit ones down instead.
    pixels = np.asarray(image, dtype=np.float64)
    if pixels.max() > 255:
      pixels = pixels / 257.0
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), 'L')
  if image.mode in ('RGBA', 'LA', 'PA', 'RGBa', 'La') or 'transparency' in image.info:
    rgba = image.convert('RGBA')
    background = Image.new('RGB', rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel('A'))
    return background
  return image.convert('RGB')


def encode_jpeg(image, quality=JPEG_QUALITY):
  """JPEG bytes of a Pillow image (converted to RGB first)."""
  buffer = io.BytesIO()
  _to_rgb(image).save(buffer, 'JPEG', quality=quality)
  return buffer.getvalue()


def load_photo(path, jpeg_quality=JPEG_QUALITY):
  """Reads one photo, decodes it fully, and returns what its record stores.

  RGB JPEGs keep their original bytes; anything else (PNG, GIF, BMP, grey,
  palette, RGBA, CMYK, ...) is re-encoded as an RGB JPEG, which is what the
  training input pipeline decodes.

  Args:
    path: the image file.
    jpeg_quality: quality of re-encoded JPEGs.

  Returns:
    (jpeg_bytes, height, width, reencoded).

  Raises:
    Whatever Pillow raises for a file it cannot decode (OSError, SyntaxError,
    ValueError, ...), and ValueError for an empty file.
  """
  with open(path, 'rb') as f:
    data = f.read()
  if not data:
    raise ValueError('empty file')
  image = Image.open(io.BytesIO(data))
  image.load()  # decodes every pixel: a truncated file fails here, not in training
  width, height = image.size
  # MPO is a camera JPEG with extra previews appended; decoders read the first.
  if image.format in ('JPEG', 'MPO') and image.mode == 'RGB':
    return data, height, width, False
  return encode_jpeg(image, jpeg_quality), height, width, True


def _try_load_photo(path, jpeg_quality):
  """load_photo, returning (None, reason) instead of raising for a bad file."""
  try:
    return load_photo(path, jpeg_quality), None
  except Exception as e:  # pylint: disable=broad-except
    # Pillow raises many types for bad data; each one just means "unreadable".
    return None, str(e) or type(e).__name__


def _load_in_order(paths, jpeg_quality, num_threads):
  """Yields _try_load_photo results in order, decoding a few files ahead on threads."""
  if num_threads <= 1:
    for path in paths:
      yield _try_load_photo(path, jpeg_quality)
    return
  # A bounded window, so that stopping early only waits for a few files.
  with futures.ThreadPoolExecutor(num_threads) as pool:
    window = collections.deque()
    for path in paths:
      window.append(pool.submit(_try_load_photo, path, jpeg_quality))
      if len(window) >= 4 * num_threads:
        yield window.popleft().result()
    while window:
      yield window.popleft().result()


# ================ WRITING TFRECORDS ================
def shard_path(output_dir, file_prefix, split_name, shard_id, num_shards):
  """The slim-style shard name, e.g. flowers_train_00000-of-00005.tfrecord."""
  return os.path.join(output_dir, '%s_%s_%05d-of-%05d.tfrecord'
                      % (file_prefix, split_name, shard_id, num_shards))


def _existing_shards(output_dir, file_prefix):
  """Shards of any shard count that `<prefix>_<split>_*.tfrecord` readers would pick up."""
  found = []
  for split in SPLITS:
    pattern = '%s_%s_*.tfrecord' % (glob.escape(file_prefix), split)
    found += sorted(glob.glob(os.path.join(glob.escape(output_dir), pattern)))
  return found


def _check_outputs(output_dir, file_prefix, labels_data, overwrite):
  """Refuses to replace earlier results unless `overwrite`; returns shards to delete."""
  existing = _existing_shards(output_dir, file_prefix)
  labels_path = os.path.join(output_dir, LABELS_FILENAME)
  if os.path.isfile(labels_path):
    with open(labels_path, 'rb') as f:
      if f.read() != labels_data:  # the same labels are no conflict
        existing.append(labels_path)
  if existing and not overwrite:
    more = ' (and %d more)' % (len(existing) - 1) if len(existing) > 1 else ''
    raise DatasetError('%s already exists%s: pass --overwrite (overwrite=True) to replace '
                       'it, or choose another --output_dir or --file_prefix'
                       % (existing[0], more))
  return [path for path in existing if path != labels_path]


def _check_sizes(num_photos, validation_size, num_shards):
  if num_shards < 1:
    raise DatasetError('num_shards must be at least 1, not %d' % num_shards)
  if validation_size < 0:
    raise DatasetError('validation_size must not be negative, not %d' % validation_size)
  if validation_size >= num_photos:
    raise DatasetError('validation_size %d leaves no training images: there are only %d '
                       'readable photos; pass a smaller --validation_size'
                       % (validation_size, num_photos))


def _write_records(photos, num_photos_to_validate, writers, jpeg_quality, num_threads):
  """Decodes and writes every photo; returns (skipped [(path, reason)], counts, reencoded)."""
  skipped = []
  counts = collections.Counter()  # (split, class_id) -> records
  reencoded = 0
  used = 0
  paths = [path for path, _ in photos]
  with ProgressBar(len(photos), label='Converting', unit='images') as bar:
    for (path, class_id), (loaded, reason) in zip(
        photos, _load_in_order(paths, jpeg_quality, num_threads)):
      bar.update()
      if loaded is None:
        skipped.append((path, reason))
        continue
      data, height, width, was_reencoded = loaded
      reencoded += was_reencoded
      # The first readable photos of the shuffled list are the validation set.
      split = 'validation' if used < num_photos_to_validate else 'train'
      index = used if split == 'validation' else used - num_photos_to_validate
      example = image_to_tfexample(data, b'jpg', height, width, class_id)
      writers[split][index % len(writers[split])].write(example.SerializeToString())
      counts[split, class_id] += 1
      used += 1
  return skipped, counts, reencoded


def _check_classes(class_names, counts, photo_dir):
  for class_id, name in enumerate(class_names):
    if not any(counts[split, class_id] for split in SPLITS):
      raise DatasetError('class folder %s holds no readable image'
                         % os.path.join(photo_dir, name))


def _print_summary(summary, photo_dir, output_dir, num_shards, max_listed=50):
  print('Converted %s: %d training and %d validation records of %d classes, %d+%d shards '
        'in %s (%d photos re-encoded as JPEG).'
        % (photo_dir, summary['train'], summary['validation'], len(summary['class_names']),
           num_shards, num_shards, output_dir, summary['reencoded']))
  for title, rows in (('Skipped %d unreadable file(s):', summary['skipped']),
                      ('Ignored %d file(s) that are not images:',
                       [(path, None) for path in summary['ignored']])):
    if rows:
      print(title % len(rows))
      for path, reason in rows[:max_listed]:
        name = os.path.relpath(path, photo_dir)
        print('  %s%s' % (name, ': %s' % reason if reason else ''))
      if len(rows) > max_listed:
        print('  ... and %d more' % (len(rows) - max_listed))


def convert_dataset(photo_dir, output_dir, validation_size=VALIDATION_SIZE,
                    num_shards=NUM_SHARDS, random_seed=RANDOM_SEED, file_prefix=FILE_PREFIX,
                    overwrite=False, jpeg_quality=JPEG_QUALITY, num_threads=NUM_THREADS,
                    verbose=True):
  """Converts a folder of class sub-folders into train/validation TFRecord shards.

  Class ids follow the sorted folder names. The photo list is sorted, shuffled
  with `random_seed` and the first `validation_size` readable photos become the
  validation split (as in TF-slim); records go round-robin over each split's
  shards. Unreadable files are skipped and listed at the end. Shards and
  labels.txt appear in `output_dir` only once all of them are complete.

  Args:
    photo_dir: folder with one sub-folder of photos per class.
    output_dir: where `<prefix>_<split>_NNNNN-of-MMMMM.tfrecord` and labels.txt go.
    validation_size: photos held out for validation.
    num_shards: files per split.
    random_seed: seed of the shuffle that decides the split.
    file_prefix: the first part of the shard names.
    overwrite: replace earlier shards and a different labels.txt.
    jpeg_quality: quality of photos re-encoded as JPEG.
    num_threads: threads decoding photos.
    verbose: print the summary to stdout (the progress bar goes to stderr).

  Returns:
    A dict: class_names, train and validation (record counts), files (shard
    paths), skipped [(path, reason)], ignored [paths], reencoded (count).

  Raises:
    DatasetError: bad folder layout, a class without a readable photo, a
      validation_size that leaves no training photos, or outputs that exist.
  """
  class_names, photos, ignored = list_photos(photo_dir)
  _check_sizes(len(photos), validation_size, num_shards)
  labels_data = _label_file_bytes(dict(enumerate(class_names)))
  stale = _check_outputs(output_dir, file_prefix, labels_data, overwrite)
  os.makedirs(output_dir, exist_ok=True)
  random.Random(random_seed).shuffle(photos)

  finals = {split: [shard_path(output_dir, file_prefix, split, i, num_shards)
                    for i in range(num_shards)] for split in SPLITS}
  temps = [_temp_name(path) for split in SPLITS for path in finals[split]]
  writers = {split: [] for split in SPLITS}
  try:
    for split in SPLITS:
      writers[split] = [tf.io.TFRecordWriter(_temp_name(path)) for path in finals[split]]
    skipped, counts, reencoded = _write_records(photos, validation_size, writers,
                                                jpeg_quality, num_threads)
    for writer in writers['train'] + writers['validation']:
      writer.close()
    _check_classes(class_names, counts, photo_dir)
    _check_sizes(len(photos) - len(skipped), validation_size, num_shards)
    # Publish: old shards go first, so readers never mix two conversions.
    for path in stale:
      os.remove(path)
    for path in finals['train'] + finals['validation']:
      os.replace(_temp_name(path), path)
    _write_atomically(os.path.join(output_dir, LABELS_FILENAME), labels_data)
  except BaseException:
    for writer in writers['train'] + writers['validation']:
      writer.close()
    for temp in temps:
      _remove_quietly(temp)
    raise

  summary = {
      'class_names': class_names,
      'train': sum(counts['train', c] for c in range(len(class_names))),
      'validation': sum(counts['validation', c] for c in range(len(class_names))),
      'files': finals['train'] + finals['validation'],
      'skipped': skipped,
      'ignored': ignored,
      'reencoded': reencoded,
  }
  if verbose:
    _print_summary(summary, photo_dir, output_dir, num_shards)
  return summary


# ================ DOWNLOADS ================
def _by_hand(dest_path):
  return 'download it by hand and save it as %s' % os.path.abspath(dest_path)


def _verify_download(path, received, announced, expected_size, sha256, digest, url):
  """Raises DownloadError when the downloaded bytes do not match what was promised."""
  problem = None
  if announced is not None and received != announced:
    problem = 'got %d of the %d bytes announced (cut short)' % (received, announced)
  elif expected_size is not None and received != expected_size:
    problem = 'got %d bytes, expected %d' % (received, expected_size)
  elif sha256 and digest != sha256.lower():
    problem = 'SHA-256 is %s, expected %s' % (digest, sha256.lower())
  if problem:
    raise DownloadError('download of %s failed verification: %s; run again, or %s'
                        % (url, problem, _by_hand(path)))


def download(url, dest_path, expected_size=None, sha256=None, timeout=DOWNLOAD_TIMEOUT):
  """Downloads `url` to `dest_path` with a progress bar, through a temporary file.

  The file appears under its name only once it is complete and verified: its
  size against Content-Length and `expected_size`, its SHA-256 against `sha256`.

  Args:
    url: http(s):// or file:// URL.
    dest_path: the file to create (its folder is created when missing).
    expected_size: size in bytes, when known.
    sha256: hex SHA-256, when known.
    timeout: seconds to wait for the server at each step.

  Returns:
    dest_path.

  Raises:
    DownloadError: in one line, what failed and what to download by hand to where.
  """
  os.makedirs(os.path.dirname(os.path.abspath(dest_path)), exist_ok=True)
  temp = _temp_name(dest_path)
  digest = hashlib.sha256()
  received = 0
  try:
    with urllib.request.urlopen(url, timeout=timeout) as response, open(temp, 'wb') as out:
      length = response.headers.get('Content-Length')
      announced = int(length) if length and length.strip().isdigit() else None
      with ProgressBar(announced or expected_size, label='Downloading %s'
                       % os.path.basename(dest_path), unit='B') as bar:
        while True:
          chunk = response.read(1 << 20)
          if not chunk:
            break
          out.write(chunk)
          digest.update(chunk)
          received += len(chunk)
          bar.update(len(chunk))
    _verify_download(dest_path, received, announced, expected_size, sha256,
                     digest.hexdigest(), url)
    os.replace(temp, dest_path)
  except _NETWORK_ERRORS as e:
    # A plain URLError wraps the socket error; HTTPError's own text has the status.
    plain_url_error = isinstance(e, urllib.error.URLError) and not hasattr(e, 'code')
    reason = e.reason if plain_url_error else e
    raise DownloadError('could not download %s (%s): %s'
                        % (url, reason, _by_hand(dest_path)))
  finally:
    _remove_quietly(temp)
  return dest_path


def _file_problem(path, expected_size=None, sha256=None):
  """Why an existing download cannot be used, or None."""
  size = os.path.getsize(path)
  if expected_size is not None and size != expected_size:
    return 'it is %d bytes, not %d' % (size, expected_size)
  if sha256:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
      for chunk in iter(lambda: f.read(1 << 20), b''):
        digest.update(chunk)
    if digest.hexdigest() != sha256.lower():
      return 'its SHA-256 is %s, not %s' % (digest.hexdigest(), sha256.lower())
  if not tarfile.is_tarfile(path):
    return 'it is not a tar archive'
  return None


def _normalise(name):
  """An archive member name as a clean relative posix path ('' for the top)."""
  parts = name.replace('\\', '/').split('/')
  return '/'.join(p for p in parts if p not in ('', '.'))


def _escapes(path):
  return path == '..' or path.startswith('../')


def _member_problem(member, links):
  """Why a tar member must not be extracted, or None. `links` are the archive's links."""
  name = member.name.replace('\\', '/')
  if name.startswith('/'):
    return 'is an absolute path'
  if '..' in name.split('/'):
    return "climbs out with '..'"
  clean = _normalise(name)
  parents = clean.split('/')[:-1]
  if any('/'.join(parents[:i]) in links for i in range(1, len(parents) + 1)):
    return 'lies under a link of the archive'
  if member.ischr() or member.isblk():
    return 'is a device file'
  if member.isfifo():
    return 'is a FIFO'
  if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
    return 'is a special file'
  if member.issym() or member.islnk():
    target = member.linkname.replace('\\', '/')
    if target.startswith('/'):
      return 'is a link to the absolute path %s' % member.linkname
    # Symlinks resolve from their own folder, hard links from the archive's top.
    base = posixpath.dirname(clean) if member.issym() else ''
    resolved = posixpath.normpath(posixpath.join(base, target))
    if _escapes(resolved):
      return 'is a link pointing outside the target folder (to %s)' % member.linkname
    # A chain through another link could hide a '..' from this lexical check.
    hops = resolved.split('/')
    if any('/'.join(hops[:i]) in links for i in range(1, len(hops) + 1)):
      return 'is a link through another link (%s)' % member.linkname
  return None


def _extract_or_roll_back(tar, members, dest_dir):
  """Extracts `members`; on failure removes the paths that did not exist before."""
  new_paths = set()
  for member in members:
    parts = _normalise(member.name).split('/')
    for i in range(1, len(parts) + 1):
      path = os.path.join(dest_dir, *parts[:i])
      if parts[0] and not os.path.lexists(path):
        new_paths.add(path)
  try:
    tar.extractall(dest_dir, members=members)
  except BaseException:
    for path in sorted(new_paths, key=len, reverse=True):  # children before parents
      if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
      else:
        _remove_quietly(path)
    raise


def safe_extract(tar_path, dest_dir):
  """Extracts a tar archive after checking every member, so nothing lands outside dest_dir.

  Refused: absolute paths, '..' components, links pointing outside dest_dir or
  through other links, members under links, device files and FIFOs. All members
  are checked before anything is written, so a refused archive extracts
  nothing; a failure while writing removes what this call created. Set-user-id
  and group/other write bits are dropped.

  Args:
    tar_path: a tar file (any compression tarfile reads).
    dest_dir: the folder to extract into (created when missing).

  Returns:
    The member names extracted.

  Raises:
    ArchiveError: naming the archive and the refused member, or saying the
      archive is damaged.
  """
  try:
    with tarfile.open(tar_path) as tar:
      members = tar.getmembers()  # reads the whole archive: damage shows up here
      links = {_normalise(m.name) for m in members if m.issym() or m.islnk()}
      for member in members:
        problem = _member_problem(member, links)
        if problem:
          raise ArchiveError('refusing to extract %s: member %r %s'
                             % (tar_path, member.name, problem))
        member.mode = (member.mode & 0o755) | (0o700 if member.isdir() else 0o600)
      os.makedirs(dest_dir, exist_ok=True)
      _extract_or_roll_back(tar, members, dest_dir)
  except (tarfile.TarError, EOFError, zlib.error) as e:
    raise ArchiveError('%s is not a complete tar archive (%s): delete it and download it '
                       'again' % (tar_path, e))
  return [m.name for m in members]


def download_and_extract(url, dest_dir, filename=None, expected_size=None, sha256=None,
                         timeout=DOWNLOAD_TIMEOUT):
  """Downloads a tar archive into dest_dir (unless a good copy is there) and extracts it.

  Args:
    url: the archive's URL.
    dest_dir: where the archive is saved and extracted (created when missing).
    filename: the archive's file name; by default the last part of the URL.
    expected_size: size in bytes, when known.
    sha256: hex SHA-256, when known.
    timeout: seconds to wait for the server at each step.

  Returns:
    The archive's path.

  Raises:
    DownloadError: download failed or did not verify (says what to fetch by hand).
    ArchiveError: the archive is damaged or unsafe.
  """
  filename = filename or posixpath.basename(urllib.parse.urlparse(url).path) or 'download'
  archive = os.path.join(dest_dir, filename)
  problem = _file_problem(archive, expected_size, sha256) if os.path.isfile(archive) else None
  if os.path.isfile(archive) and not problem:
    print('Using %s, downloaded before.' % archive)
  else:
    if problem:
      print('%s cannot be used (%s): downloading it again.' % (archive, problem))
    try:
      download(url, archive, expected_size, sha256, timeout)
    except DownloadError as e:
      note = ' (the existing file is not usable: %s)' % problem if problem else ''
      raise DownloadError(str(e) + note)
  print('Extracting %s into %s' % (archive, dest_dir))
  safe_extract(archive, dest_dir)
  return archive


def download_flowers(download_dir, url=FLOWERS_URL, timeout=DOWNLOAD_TIMEOUT):
  """Fetches and extracts the flowers photos; returns the flower_photos folder.

  Args:
    download_dir: where flower_photos.tgz is saved and extracted.
    url: where to fetch it; the size is checked for the official URL.
    timeout: seconds to wait for the server at each step.

  Returns:
    The path of the extracted flower_photos folder.
  """
  photo_dir = os.path.join(download_dir, 'flower_photos')
  try:
    download_and_extract(url, download_dir, filename='flower_photos.tgz',
                         expected_size=FLOWERS_SIZE if url == FLOWERS_URL else None,
                         timeout=timeout)
  except ArchiveError:
    raise
  except DownloadError as e:
    raise DownloadError('%s, then run this again; or extract it yourself and run again '
                        'with --photo_dir %s' % (e, os.path.abspath(photo_dir)))
  if not os.path.isdir(photo_dir):
    raise DatasetError('%s held no flower_photos folder' % url)
  return photo_dir


# ================ THE EMBEDDED DEMO SET ================
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


_DEMO_DRAWERS = {'daisy': _draw_daisy, 'dandelion': _draw_dandelion, 'roses': _draw_rose,
                 'sunflowers': _draw_sunflower, 'tulips': _draw_tulip}


def draw_demo_photo(class_name, rng, image_size=DEMO_IMAGE_SIZE):
  """Draws one flower-like photo of a demo class.

  Args:
    class_name: one of FLOWERS_CLASSES.
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


def _check_demo_folder(output_dir):
  """Refuses a folder holding anything but earlier demo photos: they would be mixed in."""
  if not os.path.isdir(output_dir):
    return
  for name in sorted(os.listdir(output_dir)):
    path = os.path.join(output_dir, name)
    if name.startswith('.'):
      continue
    others = ([path] if name not in FLOWERS_CLASSES or not os.path.isdir(path) else
              [os.path.join(path, f) for f in sorted(os.listdir(path))
               if not f.startswith(('demo_', '.'))])
    if others:
      raise DatasetError('refusing to draw the demo photos into %s: it holds %s, which is '
                         'not a demo photo; choose a new folder' % (output_dir, others[0]))


def make_demo_photos(output_dir, images_per_class=DEMO_IMAGES_PER_CLASS,
                     image_size=DEMO_IMAGE_SIZE, seed=0):
  """Writes the embedded demo set: a small flowers-like folder, one sub-folder a class.

  Deterministic: the same arguments give byte-identical files. Each image has
  its own seed, so a smaller set is the beginning of a larger one. Earlier
  demo files in the class folders are replaced; other files are left alone.

  Args:
    output_dir: the photo folder to fill (created when missing).
    images_per_class: JPEGs drawn per class.
    image_size: (smallest, largest) side in pixels.
    seed: the base seed.

  Returns:
    output_dir.

  Raises:
    DatasetError: output_dir holds files other than demo photos.
  """
  _check_demo_folder(output_dir)
  for class_id, name in enumerate(FLOWERS_CLASSES):
    folder = os.path.join(output_dir, name)
    os.makedirs(folder, exist_ok=True)
    for stale in glob.glob(os.path.join(glob.escape(folder), 'demo_*.jpg')):
      os.remove(stale)
    for index in range(images_per_class):
      rng = np.random.RandomState([seed, class_id, index])
      image = draw_demo_photo(name, rng, image_size)
      image.save(os.path.join(folder, 'demo_%s_%04d.jpg' % (name, index)), 'JPEG',
                 quality=int(rng.randint(80, 96)))
  return output_dir


# ================ COMMAND LINE ================
def build_parser():
  p = argparse.ArgumentParser(
      description=__doc__.split('\n\n')[0],
      epilog='Errors are reported in one line on stderr, with exit status 1.')
  p.add_argument('--photo_dir', default='',
                 help='folder with one sub-folder of photos per class (with --make_demo: '
                      'where the demo photos are drawn; default OUTPUT_DIR/demo_photos)')
  p.add_argument('--output_dir', default='.',
                 help='where the TFRecord shards and labels.txt go (default: %(default)s)')
  p.add_argument('--validation_size', type=int, default=None,
                 help='photos held out for validation (default: %d as in TF-slim; %d with '
                      '--make_demo)' % (VALIDATION_SIZE, DEMO_VALIDATION_SIZE))
  p.add_argument('--num_shards', type=int, default=NUM_SHARDS,
                 help='TFRecord files per split (default: %(default)s)')
  p.add_argument('--random_seed', type=int, default=RANDOM_SEED,
                 help='seed of the shuffle that picks the validation photos '
                      '(default: %(default)s)')
  p.add_argument('--file_prefix', default=FILE_PREFIX,
                 help='shards are PREFIX_train_00000-of-00005.tfrecord ... '
                      '(default: %(default)s)')
  p.add_argument('--overwrite', action='store_true',
                 help='replace existing shards and a different labels.txt')
  p.add_argument('--jpeg_quality', type=int, default=JPEG_QUALITY,
                 help='quality of photos re-encoded as JPEG (default: %(default)s)')
  p.add_argument('--num_threads', type=int, default=NUM_THREADS,
                 help='threads decoding photos (default: %(default)s)')
  p.add_argument('--download_flowers', action='store_true',
                 help='fetch and extract the 3,670 flowers photos, then convert them')
  p.add_argument('--flowers_url', default=FLOWERS_URL,
                 help='where --download_flowers fetches from (default: %(default)s)')
  p.add_argument('--download_dir', default='',
                 help='where --download_flowers saves and extracts the archive '
                      '(default: OUTPUT_DIR)')
  p.add_argument('--download_timeout', type=float, default=DOWNLOAD_TIMEOUT,
                 help='seconds to wait for the server (default: %(default)s)')
  p.add_argument('--make_demo', action='store_true',
                 help='draw the embedded demo photo set into --photo_dir, then convert it')
  p.add_argument('--demo_images_per_class', type=int, default=DEMO_IMAGES_PER_CLASS,
                 help='demo photos per class (default: %(default)s)')
  return p


def run(args):
  """Converts the photos the flags ask for; returns convert_dataset's summary."""
  if args.make_demo and args.download_flowers:
    raise DatasetError('pass either --make_demo or --download_flowers, not both')
  validation_size = args.validation_size
  if args.make_demo:
    photo_dir = args.photo_dir or os.path.join(args.output_dir, 'demo_photos')
    print('Drawing %d demo photos a class into %s' % (args.demo_images_per_class, photo_dir))
    make_demo_photos(photo_dir, images_per_class=args.demo_images_per_class)
    if validation_size is None:
      validation_size = DEMO_VALIDATION_SIZE
  elif args.download_flowers:
    if args.photo_dir:
      raise DatasetError('--download_flowers makes its own photo folder: drop --photo_dir, '
                         'or drop --download_flowers to convert %s' % args.photo_dir)
    photo_dir = download_flowers(args.download_dir or args.output_dir, args.flowers_url,
                                 args.download_timeout)
  elif args.photo_dir:
    photo_dir = args.photo_dir
  else:
    raise DatasetError('nothing to convert: pass --photo_dir PHOTOS, --download_flowers or '
                       '--make_demo (see --help)')
  if validation_size is None:
    validation_size = VALIDATION_SIZE
  return convert_dataset(photo_dir, args.output_dir, validation_size=validation_size,
                         num_shards=args.num_shards, random_seed=args.random_seed,
                         file_prefix=args.file_prefix, overwrite=args.overwrite,
                         jpeg_quality=args.jpeg_quality, num_threads=args.num_threads)


def main(argv=None):
  """The command line; returns the exit status (errors: one line on stderr, 1)."""
  args = build_parser().parse_args(argv)
  try:
    run(args)
  except (DatasetError, DownloadError, OSError) as e:
    print('error: %s' % e, file=sys.stderr)
    return 1
  except tf.errors.OpError as e:  # e.g. the TFRecord writer refused a path
    print('error: %s' % e.message, file=sys.stderr)
    return 1
  except KeyboardInterrupt:
    print('error: interrupted', file=sys.stderr)
    return 130
  return 0


if __name__ == '__main__':
  sys.exit(main())
