# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""The whole path in one command: photos -> TFRecords -> training -> evaluation.

    python demo.py    (or `make demo`, which also sets up the virtual env)

It runs the fast recipe: the head on cached bottlenecks, then the top of the
network fine-tuned from Mixed_7a. It uses the real flowers (./flower_photos or
./data/flower_photos) and the ImageNet checkpoint when present. Offline and
with nothing downloaded, it draws the embedded demo set and shows what transfer
does: a source model, pretrained on drawn photos of other classes, stands in
for ImageNet, and a table compares transferring from it with training from
scratch for about the same time. A few minutes on a CPU, at a small image size.
"""
from __future__ import absolute_import, division, print_function

import os
import shlex
import shutil
import sys
import time

import eval_flowers
import train_flowers
from tf_compat import tf
from transfer import checkpoints, cli, flags, locks
from transfer.datasets import convert, demo_photos
from transfer.errors import UsageError

work_dir = 'demo_run'
# Empty: ./flower_photos (or ./data/flower_photos) when present, else the drawn demo set.
photo_dir = ''
imagenet_checkpoint_file = train_flowers.checkpoint_file
# Small enough for a CPU; pass --image_size 299 for the real thing.
image_size = 128
batch_size = 10
# Short runs: a few hundred steps cannot settle averages over ~3,000 steps.
batch_norm_decay = 0.9
initial_learning_rate = 0.001
num_epochs_before_decay = 3
demo_images_per_class = 40
validation_size = 50
# The fast recipe: head epochs on the cached bottlenecks, then fine-tuning epochs
# of the layers from this end point up.
head_epochs = 30
fine_tune_epochs = 3
fine_tune_from = 'Mixed_7a'
# A quarter of the tutorial's 0.0002: on the demo set, three epochs of the top at
# 0.0002 lost accuracy the head had reached (0.70-0.72 against 0.84); at this
# rate they added to it (0.88).
fine_tune_learning_rate = 0.00005
# The stand-in source model without the checkpoint: other drawn classes, from scratch.
source_images_per_class = 50
source_epochs = 4
# Where `create_tfrecord.py --download_flowers` (default or README) leaves the photos.
REAL_PHOTO_DIRS = ('flower_photos', os.path.join('data', 'flower_photos'))
# The commands the demo prints run its scripts from here.
REPO = os.path.dirname(os.path.abspath(__file__))


def prepare_records(args):
  """Converts the photos (real ones when present, else the demo set) to TFRecords.

  Returns:
    (the TFRecords folder, the photos folder).
  """
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
  return records, photo_dir


def train(args, records, log_dir, **flags):
  """train_flowers.train with the demo's training flags, then `flags`; (result, seconds)."""
  start = time.time()
  result = train_flowers.train(
      dataset_dir=records, log_dir=log_dir, image_size=args.image_size,
      batch_size=args.batch_size, batch_norm_decay=args.batch_norm_decay,
      num_epochs_before_decay=args.num_epochs_before_decay, verbose=args.verbose, **flags)
  return result, time.time() - start


def fast_recipe(args, records, log_dir, checkpoint, head_only=False):
  """The head on cached bottlenecks; unless head_only, then the top of the network.

  A head_only run followed by a full one in the same log_dir is the two-phase
  recipe: the second run finds the head checkpoint and only fine-tunes.
  """
  return train(args, records, log_dir, imagenet_checkpoint_file=checkpoint,
               head_epochs=args.head_epochs, num_epochs=0 if head_only else args.fine_tune_epochs,
               initial_learning_rate=args.fine_tune_learning_rate,
               bottleneck_dir=os.path.join(args.work_dir, 'bottlenecks'), seed=0,
               fine_tune_from=None if head_only else args.fine_tune_from)


def from_scratch(args, records, log_dir, num_epochs):
  return train(args, records, log_dir, from_scratch=True, num_epochs=num_epochs,
               initial_learning_rate=args.initial_learning_rate)


def pretrain_source(args):
  """Trains the stand-in for ImageNet on drawn photos of other classes.

  Returns:
    (its checkpoint, train_flowers.train's result, seconds the training took).
  """
  photos = os.path.join(args.work_dir, 'source_photos')
  records = os.path.join(args.work_dir, 'source_tfrecords')
  print('Pretraining a source model on drawn %s (a stand-in for ImageNet) in %s'
        % (', '.join(demo_photos.SOURCE_CLASSES), photos))
  demo_photos.make_demo_photos(photos, images_per_class=args.source_images_per_class,
                               classes=demo_photos.SOURCE_CLASSES, seed=1)
  convert.convert_dataset(photos, records, validation_size=args.validation_size, num_shards=1,
                          overwrite=True)
  result, seconds = from_scratch(args, records, os.path.join(args.work_dir, 'source_log'),
                                   args.source_epochs)
  return tf.train.latest_checkpoint(os.path.join(args.work_dir, 'source_log')), result, seconds


def evaluate(args, records, log_dir, log_eval):
  return eval_flowers.evaluate(dataset_dir=records, log_dir=log_dir, log_eval=log_eval,
                               image_size=args.image_size, verbose=args.verbose)


def remove_old_log(folder):
  """Deletes a log folder of an earlier demo; it must not be resumed silently.

  Never one a run still writes: its lock is held meanwhile (transfer.locks).
  """
  try:
    with locks.hold(folder, 'the demo', '--work_dir'):
      shutil.rmtree(folder)
  except FileNotFoundError:
    pass
  except OSError as e:
    raise UsageError('cannot remove the old demo log %s (%s): delete it by hand or pass '
                         'another --work_dir' % (folder, e.strerror or e))
  if os.path.exists(folder):
    raise UsageError('the old demo log %s is still there: delete it by hand or pass '
                         'another --work_dir' % folder)


def show_transfer(args, records):
  """Transfers from a source model and trains from nothing.

  Returns:
    ([(row, validation accuracy, seconds)], the evaluation of WORK_DIR/log).
  """
  source, source_result, source_seconds = pretrain_source(args)
  log_dir = os.path.join(args.work_dir, 'log')
  # Both fast rows come from one run of the two phases, evaluated after each.
  _, head_seconds = fast_recipe(args, records, log_dir, source, head_only=True)
  rows = [('head only, from cached bottlenecks', evaluate(
      args, records, log_dir, os.path.join(args.work_dir, 'log_eval_head'))['accuracy'],
           head_seconds)]
  _, top_seconds = fast_recipe(args, records, log_dir, source)
  fast_seconds = head_seconds + top_seconds
  fast = evaluate(args, records, log_dir, os.path.join(args.work_dir, 'log_eval'))
  # The model handed over: of the head (epoch 0) and the top's epochs, the best on
  # validation (LOG_DIR/best), which eval takes by default.
  rows.append(('head first, then from %s, best on validation' % args.fine_tune_from,
               fast['accuracy'], fast_seconds))
  # As many epochs from scratch as the source run's pace fits into the fast recipe's time.
  seconds_per_step = source_seconds / max(source_result['global_step'], 1)
  steps_per_epoch = train_flowers.steps_per_epoch(
      train_flowers.get_split('train', records).num_samples, args.batch_size)
  epochs = max(1, int(round(fast_seconds / seconds_per_step / steps_per_epoch)))
  _, seconds = from_scratch(args, records, os.path.join(args.work_dir, 'log_scratch'), epochs)
  rows.insert(0, ('from scratch, %d epochs' % epochs, evaluate(
      args, records, os.path.join(args.work_dir, 'log_scratch'),
      os.path.join(args.work_dir, 'log_eval_scratch'))['accuracy'], seconds))
  return rows, fast


def transfer_table(rows):
  """The demo's comparison, one line a run: validation accuracy and wall time."""
  width = max(len(name) for name, _, _ in rows)
  lines = ['%-*s  validation accuracy  wall time' % (width, 'training')]
  lines += ['%-*s  %19.3f  %7.0f s' % (width, name, accuracy, seconds)
            for name, accuracy, seconds in rows]
  return '\n'.join(lines)


def run_demo(args):
  """Runs the demo; returns the evaluation of its model (in WORK_DIR/log)."""
  start = time.time()
  log_dir = os.path.join(args.work_dir, 'log')
  log_eval = os.path.join(args.work_dir, 'log_eval')
  # A demo starts over: an old log_dir would be resumed, not trained.
  # The bottleneck caches go too: each demo's source model is a new one.
  for name in ('log', 'log_eval', 'log_eval_head', 'log_scratch',
               'log_eval_scratch', 'source_log', 'bottlenecks'):
    remove_old_log(os.path.join(args.work_dir, name))
  records, photos = prepare_records(args)
  rows = None
  if checkpoints.checkpoint_present(args.imagenet_checkpoint_file):
    print('Fine-tuning from the ImageNet checkpoint %s' % args.imagenet_checkpoint_file)
    fast_recipe(args, records, log_dir, args.imagenet_checkpoint_file)
    result = evaluate(args, records, log_dir, log_eval)
  else:
    print('The ImageNet checkpoint %s is absent (train_flowers.py --download_checkpoint '
          'fetches it; see the README), so this demo transfers from a source model it '
          'trains first.' % args.imagenet_checkpoint_file)
    rows, result = show_transfer(args, records)

  chance = 1.0 / result['confusion'].shape[0]
  print('\nDemo finished in %.0f s.' % (time.time() - start))
  if rows:
    print(transfer_table(rows))
  print('  validation accuracy: %.3f (chance: %.3f)' % (result['accuracy'], chance))
  print('  checkpoints:  %s' % log_dir)
  print('  pictures:     %s' % '\n                '.join(result['pictures']))
  print('  TensorBoard:  %s --logdir %s' % (tensorboard(), shlex.quote(args.work_dir)))
  print('Use the model (its log dir records the image size, labels and data):')
  for command in use_commands(args.work_dir, log_dir, photos):
    print('  ' + command)
  return result


def shell_path(path):
  """A path for a command typed here: relative when it lies below this folder, else absolute."""
  path = os.path.abspath(path)
  relative = os.path.relpath(path)
  outside = relative == os.pardir or relative.startswith(os.pardir + os.sep)
  return shlex.quote(path if outside else relative)


def python_command(script, *arguments):
  """A command running one of the project's scripts with this interpreter, named by its
  path: it works in a new shell, with no virtual env active and no python on the PATH."""
  python = shell_path(sys.executable)
  if os.sep not in python:  # a bare name would be looked up on the PATH
    python = os.curdir + os.sep + python
  return ' '.join([python, shell_path(os.path.join(REPO, script))] +
                  [shlex.quote(a) for a in arguments])


def tensorboard():
  """The TensorBoard command of this interpreter's environment."""
  program = os.path.join(os.path.dirname(sys.executable), 'tensorboard')
  if os.access(program, os.X_OK):
    return shell_path(program)
  return '%s -m tensorboard.main' % shell_path(sys.executable)


def use_commands(work_dir, log_dir, photos):
  """The predict, eval and export commands for the demo's model, ready to paste."""
  classes = sorted(d for d in os.listdir(photos) if os.path.isdir(os.path.join(photos, d)))
  return [python_command('predict_flowers.py', os.path.join(photos, classes[0]),
                         '--log_dir', log_dir),
          python_command('eval_flowers.py', '--log_dir', log_dir,
                         '--log_eval', os.path.join(work_dir, 'log_eval')),
          python_command('export_flowers.py', '--log_dir', log_dir,
                         '--output_dir', os.path.join(work_dir, 'export'), '--overwrite')]


def build_parser():
  p = cli.new_parser(__doc__.split('\n\n')[0])
  p.add_argument('--work_dir', default=work_dir, help='everything the demo writes')
  p.add_argument('--photo_dir', default=photo_dir,
                 help='class sub-folders of photos (default: ./flower_photos, else the demo set)')
  p.add_argument('--imagenet_checkpoint_file', '--checkpoint_file',
                 default=imagenet_checkpoint_file,
                 help='transfer from it when present, else from a source model the demo trains')
  p.add_argument('--image_size', type=flags.positive_int, default=image_size)
  p.add_argument('--batch_size', type=flags.positive_int, default=batch_size)
  p.add_argument('--batch_norm_decay', type=float, default=batch_norm_decay)
  p.add_argument('--initial_learning_rate', type=float, default=initial_learning_rate)
  p.add_argument('--num_epochs_before_decay', type=float, default=num_epochs_before_decay)
  p.add_argument('--demo_images_per_class', type=flags.positive_int,
                 default=demo_images_per_class)
  p.add_argument('--validation_size', type=flags.positive_int, default=validation_size)
  p.add_argument('--head_epochs', type=flags.positive_int, default=head_epochs)
  p.add_argument('--fine_tune_epochs', type=flags.positive_int, default=fine_tune_epochs)
  p.add_argument('--fine_tune_from', default=fine_tune_from)
  p.add_argument('--fine_tune_learning_rate', type=float, default=fine_tune_learning_rate)
  p.add_argument('--source_images_per_class', type=flags.positive_int,
                 default=source_images_per_class)
  p.add_argument('--source_epochs', type=flags.positive_int, default=source_epochs)
  return p


def run(args):
  """The command: runs the demo, then returns the exit code."""
  run_demo(args)
  return 0


def main(argv=None):
  return cli.main(run, build_parser(), argv)


if __name__ == '__main__':
  sys.exit(main())
