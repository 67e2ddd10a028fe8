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
"""
from __future__ import absolute_import, division, print_function

import os
import sys

from dataset_utils import DatasetError
from transfer import cli
from transfer.datasets import convert, demo_photos, flowers, photos, publish
from transfer.downloads import DOWNLOAD_TIMEOUT

# ================ DEFAULTS (each one is also a command-line flag) ================
photo_dir = ''
output_dir = '.'
validation_size = convert.VALIDATION_SIZE  # with --make_demo: demo_photos.DEMO_VALIDATION_SIZE
num_shards = convert.NUM_SHARDS
random_seed = convert.RANDOM_SEED
file_prefix = convert.FILE_PREFIX
jpeg_quality = photos.JPEG_QUALITY
num_threads = convert.NUM_THREADS
flowers_url = flowers.FLOWERS_URL
download_dir = ''
download_timeout = DOWNLOAD_TIMEOUT
demo_images_per_class = demo_photos.DEMO_IMAGES_PER_CLASS


def finish_interrupted_publish(args):
  """--finish_publish: completes what a crash left in OUTPUT_DIR, and nothing more."""
  if not os.path.isdir(args.output_dir):
    raise DatasetError('--output_dir %s does not exist' % args.output_dir)
  with publish.output_lock(args.output_dir):
    done = publish.finish_publish(args.output_dir)
  print('Finished publishing the set in %s.' % args.output_dir if done else
        'Nothing to finish: %s holds no interrupted publish.' % args.output_dir)


def photo_source(args):
  """The photo folder the flags name, drawn or downloaded first when asked.

  Returns:
    (photo folder, validation size).
  """
  if args.make_demo and args.download_flowers:
    raise DatasetError('pass either --make_demo or --download_flowers, not both')
  if args.make_demo:
    folder = args.photo_dir or os.path.join(args.output_dir, 'demo_photos')
    print('Drawing %d demo photos a class into %s' % (args.demo_images_per_class, folder))
    demo_photos.make_demo_photos(folder, images_per_class=args.demo_images_per_class)
    return folder, demo_photos.DEMO_VALIDATION_SIZE
  if args.download_flowers:
    if args.photo_dir:
      raise DatasetError('--download_flowers makes its own photo folder: drop --photo_dir, '
                         'or drop --download_flowers to convert %s' % args.photo_dir)
    return flowers.download_flowers(args.download_dir or args.output_dir, args.flowers_url,
                                    args.download_timeout), validation_size
  if args.photo_dir:
    return args.photo_dir, validation_size
  raise DatasetError('nothing to convert: pass --photo_dir PHOTOS, --download_flowers or '
                     '--make_demo (see --help)')


def run(args):
  """The command: converts the photos the flags name, then returns the exit code."""
  if args.finish_publish:
    finish_interrupted_publish(args)
    return 0
  folder, default_validation_size = photo_source(args)
  convert.convert_dataset(
      folder, args.output_dir,
      validation_size=(default_validation_size if args.validation_size is None
                       else args.validation_size),
      num_shards=args.num_shards, random_seed=args.random_seed, file_prefix=args.file_prefix,
      overwrite=args.overwrite, jpeg_quality=args.jpeg_quality, num_threads=args.num_threads)
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
