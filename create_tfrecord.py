# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""Photos -> TFRecords in the TF-slim format: the converter command.

A folder holding one sub-folder of photos per class becomes sharded TFRecord
files named and laid out like those of TF-slim's flowers converter, and a
labels.txt (`0:daisy` ...) next to them:

    python create_tfrecord.py --photo_dir flower_photos --output_dir data
    python create_tfrecord.py --download_flowers --output_dir data   # fetch them first
    python create_tfrecord.py --make_demo --output_dir data   # offline: draw a demo set

Every photo is decoded once on the way in, so a broken file is reported here
(and skipped) rather than stopping a training run hours later. A converted set
is published as a whole: a crash leaves either the old set or the new one.
From Python, `convert(**flags)` takes the flags as keywords:
convert(photo_dir='flower_photos', output_dir='data').
"""
from __future__ import absolute_import, division, print_function

import os
import sys

from dataset_utils import DatasetError
from transfer import cli
from transfer.datasets import convert as conversion
from transfer.datasets import demo_photos, flowers, photos, publish
from transfer.downloads import DOWNLOAD_TIMEOUT

# ================ DEFAULTS (each one is also a command-line flag) ================
photo_dir = ''
output_dir = '.'
validation_size = conversion.VALIDATION_SIZE  # with --make_demo: demo_photos.DEMO_VALIDATION_SIZE
num_shards = conversion.NUM_SHARDS
random_seed = conversion.RANDOM_SEED
file_prefix = conversion.FILE_PREFIX
jpeg_quality = photos.JPEG_QUALITY
num_threads = conversion.NUM_THREADS
flowers_url = flowers.FLOWERS_URL
download_dir = ''
download_timeout = DOWNLOAD_TIMEOUT
demo_images_per_class = demo_photos.DEMO_IMAGES_PER_CLASS


def finish_interrupted_publish(settings):
  """--finish_publish: completes what a crash left in OUTPUT_DIR, and nothing more."""
  if not os.path.isdir(settings.output_dir):
    raise DatasetError('--output_dir %s does not exist' % settings.output_dir)
  with publish.output_lock(settings.output_dir):
    done = publish.finish_publish(settings.output_dir)
  print('Finished publishing the set in %s.' % settings.output_dir if done else
        'Nothing to finish: %s holds no interrupted publish.' % settings.output_dir)
  return done


def photo_source(settings):
  """The photo folder the flags name, drawn or downloaded first when asked.

  Returns:
    (photo folder, validation size).
  """
  if settings.make_demo and settings.download_flowers:
    raise DatasetError('pass either --make_demo or --download_flowers, not both')
  if settings.make_demo:
    folder = settings.photo_dir or os.path.join(settings.output_dir, 'demo_photos')
    print('Drawing %d demo photos a class into %s' % (settings.demo_images_per_class, folder))
    demo_photos.make_demo_photos(folder, images_per_class=settings.demo_images_per_class)
    return folder, demo_photos.DEMO_VALIDATION_SIZE
  if settings.download_flowers:
    if settings.photo_dir:
      raise DatasetError('--download_flowers makes its own photo folder: drop --photo_dir, '
                         'or drop --download_flowers to convert %s' % settings.photo_dir)
    return flowers.download_flowers(settings.download_dir or settings.output_dir,
                                    settings.flowers_url,
                                    settings.download_timeout), validation_size
  if settings.photo_dir:
    return settings.photo_dir, validation_size
  raise DatasetError('nothing to convert: pass --photo_dir PHOTOS, --download_flowers or '
                     '--make_demo (see --help)')


def convert_photos(settings):
  """Converts the photos the settings name; see `convert` for what it returns."""
  s = settings
  if s.finish_publish:
    return {'finished_publish': finish_interrupted_publish(s)}
  folder, default_validation_size = photo_source(s)
  return conversion.convert_dataset(
      folder, s.output_dir,
      validation_size=(default_validation_size if s.validation_size is None
                       else s.validation_size),
      num_shards=s.num_shards, random_seed=s.random_seed, file_prefix=s.file_prefix,
      overwrite=s.overwrite, jpeg_quality=s.jpeg_quality, num_threads=s.num_threads)


def convert(**flags):
  """Converts as `python create_tfrecord.py` would, with the flags as keywords.

  Returns:
    conversion.convert_dataset's dict (class_names, train and validation record
    counts, files, skipped, ignored, reencoded); with finish_publish=True,
    {'finished_publish': whether an interrupted publish was completed}.

  Raises:
    TypeError: for a keyword that is no flag.
    DatasetError, UsageError: (ValueErrors) with the line the command prints
      after `error: `.
  """
  return cli.call('convert', convert_photos, build_parser(), flags)


def run(settings):
  """The command: converts the photos the flags name, then returns the exit code."""
  convert_photos(settings)
  return 0


# ================ COMMAND LINE ================
def build_parser():
  """Every constant at the top of this file is a flag of the same name."""
  p = cli.new_parser(__doc__.split('\n\n')[0])
  p.add_argument('--photo_dir', default=photo_dir,
                 help='folder with one sub-folder of photos per class (with --make_demo: '
                      'where the demo photos are drawn; default OUTPUT_DIR/demo_photos)')
  p.add_argument('--output_dir', default=output_dir,
                 help='where the TFRecord shards and labels.txt go (default: %(default)s)')
  p.add_argument('--validation_size', type=int, default=None,
                 help='photos held out for validation (default: %d as in TF-slim; %d with '
                      '--make_demo)' % (validation_size, demo_photos.DEMO_VALIDATION_SIZE))
  p.add_argument('--num_shards', type=int, default=num_shards,
                 help='TFRecord files per split (default: %(default)s)')
  p.add_argument('--random_seed', '--seed', type=int, default=random_seed,
                 help='seed of the shuffle that picks the validation photos: the same '
                      'seed and photos give the same split and shards (default: %(default)s)')
  p.add_argument('--file_prefix', default=file_prefix,
                 help='shards are PREFIX_train_00000-of-00005.tfrecord ... '
                      '(default: %(default)s)')
  p.add_argument('--overwrite', action='store_true',
                 help='replace existing shards and a different labels.txt')
  p.add_argument('--jpeg_quality', type=int, default=jpeg_quality,
                 help='quality of photos re-encoded as JPEG (default: %(default)s)')
  p.add_argument('--num_threads', type=int, default=num_threads,
                 help='threads decoding photos (default: %(default)s)')
  p.add_argument('--download_flowers', action='store_true',
                 help='fetch and extract the 3,670 flowers photos, then convert them')
  p.add_argument('--flowers_url', default=flowers_url,
                 help='where --download_flowers fetches from (default: %(default)s)')
  p.add_argument('--download_dir', default=download_dir,
                 help='where --download_flowers saves and extracts the archive '
                      '(default: OUTPUT_DIR)')
  p.add_argument('--download_timeout', type=float, default=download_timeout,
                 help='seconds to wait for the server (default: %(default)s)')
  p.add_argument('--finish_publish', action='store_true',
                 help='only complete the publishing of a set that a crash interrupted in '
                      'OUTPUT_DIR (any conversion into OUTPUT_DIR does that first)')
  p.add_argument('--make_demo', action='store_true',
                 help='draw the embedded demo photo set into --photo_dir, then convert it')
  p.add_argument('--demo_images_per_class', type=int, default=demo_images_per_class,
                 help='demo photos per class (default: %(default)s)')
  return p


def main(argv=None):
  return cli.main(run, build_parser(), argv)


if __name__ == '__main__':
  sys.exit(main())
