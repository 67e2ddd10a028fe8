# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""--class_weights on uneven classes: the head alone, none against balanced, in one run.

Draws the demo's flowers with one class at a fifth of the others for training
and a validation set of about 20 other drawings of each, pretrains the demo's stand-in
source model (or takes --source_checkpoint, e.g. demo_run/source_log's after
`make demo`), caches the bottlenecks once and trains the head twice. Prints
the rare class's recall, the accuracy and the balanced accuracy of each.

  python benchmarks/bench_class_weights.py [--work_dir bench_class_weights]
"""
from __future__ import absolute_import, division, print_function

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

import demo  # noqa: E402
import eval_flowers  # noqa: E402
import machine  # noqa: E402
import train_flowers  # noqa: E402
from tf_compat import tf  # noqa: E402
from transfer.datasets import convert, demo_photos  # noqa: E402

RARE = 'roses'
PER_CLASS = 40  # training photos of every other class; the rare one has a fifth
VALIDATION_PER_CLASS = 20  # about: the converter draws the split at random


def draw(folder, per_class, seed, rare_count=None):
  """The demo's flowers, `per_class` each (the rare class `rare_count`)."""
  demo_photos.make_demo_photos(folder, images_per_class=per_class, seed=seed)
  if rare_count is not None:
    rare = sorted(os.listdir(os.path.join(folder, RARE)))
    for name in rare[rare_count:]:
      os.remove(os.path.join(folder, RARE, name))
  return folder


def make_sets(work_dir):
  """(training records, validation records): uneven training, even validation."""
  train_records, validation_records = (os.path.join(work_dir, name)
                                       for name in ('train_records', 'validation_records'))
  # Each set's other split is left as small as the converter allows; only one is read.
  convert.convert_dataset(draw(os.path.join(work_dir, 'train_photos'), PER_CLASS, 0,
                               PER_CLASS // 5), train_records, validation_size=1,
                          num_shards=1, overwrite=True, verbose=False)
  count = VALIDATION_PER_CLASS * len(demo_photos.FLOWERS_CLASSES)
  convert.convert_dataset(draw(os.path.join(work_dir, 'validation_photos'),
                               VALIDATION_PER_CLASS + 1, 2), validation_records,
                          validation_size=count, num_shards=1, overwrite=True, verbose=False)
  return train_records, validation_records


def head_only(args, train_records, validation_records, checkpoint, class_weights):
  """Trains the head alone with `class_weights` and evaluates it on the even set."""
  log_dir = os.path.join(args.work_dir, 'log_' + class_weights)
  train_flowers.train(dataset_dir=train_records, log_dir=log_dir, image_size=args.image_size,
                      imagenet_checkpoint_file=checkpoint, head_epochs=args.head_epochs,
                      num_epochs=0, seed=0, class_weights=class_weights,
                      bottleneck_dir=os.path.join(args.work_dir, 'bottlenecks'))
  return eval_flowers.evaluate(log_dir=log_dir, dataset_dir=validation_records, num_epochs=1,
                               log_eval=os.path.join(args.work_dir, 'eval_' + class_weights))


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  p.add_argument('--work_dir', default='bench_class_weights')
  p.add_argument('--source_checkpoint', default='',
                 help='the model to transfer from (default: pretrain the demo\'s source model)')
  p.add_argument('--image_size', type=int, default=demo.image_size)
  p.add_argument('--head_epochs', type=int, default=demo.head_epochs)
  args = p.parse_args(argv)
  tf.logging.set_verbosity(tf.logging.WARN)
  checkpoint = args.source_checkpoint
  if not checkpoint:
    demo_args = demo.build_parser().parse_args(['--work_dir', args.work_dir, '--image_size',
                                                str(args.image_size)])
    checkpoint = demo.pretrain_source(demo_args)[0]
  train_records, validation_records = make_sets(args.work_dir)
  results = {weights: head_only(args, train_records, validation_records, checkpoint, weights)
             for weights in ('none', 'balanced')}
  validation = results['none']['per_class']
  print('\n%s, TensorFlow %s; head only, %d epochs at %d px: %d training photos of each flower '
        'but %s (%d); %d validation photos (%s: %d)' % (
            machine.cpu_model(), tf.__version__, args.head_epochs, args.image_size, PER_CLASS,
            RARE, PER_CLASS // 5, sum(c['count'] for c in validation.values()), RARE,
            validation[RARE]['count']))
  print('%-16s %10s %10s %14s' % ('--class_weights', RARE + ' recall', 'accuracy',
                                  'balanced acc.'))
  for weights, result in results.items():
    print('%-16s %10.3f %10.3f %14.3f' % (weights, result['per_class'][RARE]['recall'],
                                          result['accuracy'], result['balanced_accuracy']))
  return 0


if __name__ == '__main__':
  sys.exit(main())
