# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The whole path in one command: photos -> TFRecords -> training -> evaluation.

    python demo.py    (or `make demo`, which also sets up the virtual env)

Offline and with nothing downloaded, it draws the embedded demo photo set and
trains from scratch at a small image size, in a few minutes on a CPU. It uses
the real flowers (./flower_photos or ./data/flower_photos) and the ImageNet
checkpoint when present.
"""
from __future__ import absolute_import, division, print_function

import os
import shutil
import sys
import time

import eval_flowers
import train_flowers
from transfer import checkpoints, cli, flags
from transfer.datasets import convert, demo_photos
from transfer.errors import UsageError

work_dir = 'demo_run'
# Empty: ./flower_photos (or ./data/flower_photos) when present, else the drawn demo set.
photo_dir = ''
imagenet_checkpoint_file = train_flowers.checkpoint_file
# Small enough for a CPU; pass --image_size 299 for the real thing.
image_size = 128
num_epochs = 8
batch_size = 10
# A few hundred steps from scratch cannot settle averages over ~3,000 steps.
batch_norm_decay = 0.9
initial_learning_rate = 0.001
num_epochs_before_decay = 3
demo_images_per_class = 40
validation_size = 50
# Where `create_tfrecord.py --download_flowers` (default or README) leaves the photos.
REAL_PHOTO_DIRS = ('flower_photos', os.path.join('data', 'flower_photos'))


def prepare_records(args):
  """Converts the photos (real ones when present, else the demo set) to TFRecords."""
  records = os.path.join(args.work_dir, 'tfrecords')
  photo_dir = args.photo_dir
  if not photo_dir:
    real = [d for d in REAL_PHOTO_DIRS if os.path.isdir(d)]
    if real:
      photo_dir = real[0]
      print('Using the real flowers photos in %s' % photo_dir)
    else:
      photo_dir = os.path.join(args.work_dir, 'photos')
      print('No flowers photos in %s: drawing the embedded demo set into %s'
            % (' or '.join(REAL_PHOTO_DIRS), photo_dir))
      demo_photos.make_demo_photos(photo_dir, images_per_class=args.demo_images_per_class)
  print('Converting %s -> %s' % (photo_dir, records))
  convert.convert_dataset(photo_dir, records, validation_size=args.validation_size,
                          num_shards=2, overwrite=True)
  return records


def train_args(args, records, log_dir):
  """The training flags for this demo."""
  argv = ['--dataset_dir', records, '--log_dir', log_dir,
          '--image_size', str(args.image_size), '--num_epochs', str(args.num_epochs),
          '--batch_size', str(args.batch_size),
          '--initial_learning_rate', str(args.initial_learning_rate),
          '--num_epochs_before_decay', str(args.num_epochs_before_decay),
          '--imagenet_checkpoint_file', args.imagenet_checkpoint_file]
  if checkpoints.checkpoint_present(args.imagenet_checkpoint_file):
    print('Fine-tuning from the ImageNet checkpoint %s' % args.imagenet_checkpoint_file)
  else:
    print('The ImageNet checkpoint %s is absent, so this demo trains from scratch '
          '(`python train_flowers.py --download_checkpoint` fetches it).'
          % args.imagenet_checkpoint_file)
    argv += ['--from_scratch', '--batch_norm_decay', str(args.batch_norm_decay)]
  return train_flowers.build_parser().parse_args(argv)


def remove_old_log(folder):
  """Deletes a log folder of an earlier demo; it must not be resumed silently."""
  try:
    shutil.rmtree(folder)
  except FileNotFoundError:
    pass
  except OSError as e:
    raise UsageError('cannot remove the old demo log %s (%s): delete it by hand or pass '
                         'another --work_dir' % (folder, e.strerror or e))
  if os.path.exists(folder):
    raise UsageError('the old demo log %s is still there: delete it by hand or pass '
                         'another --work_dir' % folder)


def run_demo(args):
  """Runs the demo; returns the evaluation results."""
  start = time.time()
  log_dir = os.path.join(args.work_dir, 'log')
  log_eval = os.path.join(args.work_dir, 'log_eval')
  # A demo starts over: an old log_dir would be resumed, not trained.
  for folder in (log_dir, log_eval):
    remove_old_log(folder)
  records = prepare_records(args)

  trained = train_flowers.train(train_args(args, records, log_dir))
  result = eval_flowers.evaluate(eval_flowers.build_parser().parse_args(
      ['--dataset_dir', records, '--log_dir', log_dir, '--log_eval', log_eval,
       '--image_size', str(args.image_size), '--num_epochs', '1']))

  chance = 1.0 / result['confusion'].shape[0]
  print('\nDemo finished in %.0f s.' % (time.time() - start))
  print('  training accuracy (streaming, whole run): %.3f' % trained['accuracy'])
  print('  validation accuracy: %.3f (chance: %.3f)' % (result['accuracy'], chance))
  print('  checkpoints:  %s' % log_dir)
  print('  pictures:     %s' % '\n                '.join(result['pictures']))
  print('  TensorBoard:  tensorboard --logdir %s' % args.work_dir)
  return result


def build_parser():
  p = cli.new_parser(__doc__.split('\n\n')[0])
  p.add_argument('--work_dir', default=work_dir, help='everything the demo writes')
  p.add_argument('--photo_dir', default=photo_dir,
                 help='class sub-folders of photos (default: ./flower_photos, else the demo set)')
  p.add_argument('--imagenet_checkpoint_file', '--checkpoint_file',
                 default=imagenet_checkpoint_file,
                 help='fine-tune from it when present, else train from scratch')
  p.add_argument('--image_size', type=flags.positive_int, default=image_size)
  p.add_argument('--num_epochs', type=flags.positive_int, default=num_epochs)
  p.add_argument('--batch_size', type=flags.positive_int, default=batch_size)
  p.add_argument('--batch_norm_decay', type=float, default=batch_norm_decay)
  p.add_argument('--initial_learning_rate', type=float, default=initial_learning_rate)
  p.add_argument('--num_epochs_before_decay', type=float, default=num_epochs_before_decay)
  p.add_argument('--demo_images_per_class', type=flags.positive_int,
                 default=demo_images_per_class)
  p.add_argument('--validation_size', type=flags.positive_int, default=validation_size)
  return p


def run(args):
  """The command: runs the demo, then returns the exit code."""
  run_demo(args)
  return 0


def main(argv=None):
  return cli.main(run, build_parser(), argv)


if __name__ == '__main__':
  sys.exit(main())
