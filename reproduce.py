"""Reproduces the seed's comparison from nothing: `make reproduce`.

Fetches the flowers photos and the 2016 ImageNet checkpoint, converts the
photos to TFRecords, fine-tunes with the seed's settings, evaluates the result
and both baselines, and prints the validation accuracy of each:

    python reproduce.py                       # everything in ./reproduce
    python reproduce.py --work_dir /big/disk  # elsewhere

Every stage keeps its output in --work_dir, so a second run resumes where the
first one stopped (training continues from its last checkpoint). Needs the
network for the two downloads; offline it says in one line what to fetch.
"""
from __future__ import absolute_import, division, print_function

import glob
import json
import os
import sys

import eval_flowers
import train_flowers
from tf_compat import tf
from transfer import checkpoints, cli, downloads, files, flags
from transfer.datasets import convert, flowers
from transfer.datasets.records import SPLITS
from transfer.errors import ArchiveError, DownloadError, UsageError

# ================ REPRODUCTION INFORMATION ================
work_dir = './reproduce'
flowers_url = flowers.FLOWERS_URL
checkpoint_url = checkpoints.CHECKPOINT_URL
# The seed's settings; smaller values make a quick trial run.
image_size = train_flowers.image_size
num_epochs = train_flowers.num_epochs
batch_size = train_flowers.batch_size
validation_size = convert.VALIDATION_SIZE
num_shards = convert.NUM_SHARDS
eval_batch_size = eval_flowers.batch_size
eval_num_epochs = eval_flowers.num_epochs

CHECKPOINT_NAME = 'inception_resnet_v2_2016_08_30.ckpt'
RESULTS = 'results.json'
# (key, row title, eval_flowers flags).
EVALUATIONS = (
    ('fine_tuned', 'fine-tuned from ImageNet', []),
    ('clean', 'clean model (no restored weights)', ['--clean_baseline']),
    ('imagenet', 'ImageNet weights, untrained heads', ['--imagenet_baseline']),
)


class Paths(object):
  """Where each stage keeps its output under the work folder."""

  def __init__(self, root):
    self.root = root
    self.downloads = os.path.join(root, 'downloads')
    self.photos = os.path.join(self.downloads, 'flower_photos')
    self.data = os.path.join(root, 'data')
    self.checkpoint = os.path.join(root, CHECKPOINT_NAME)
    self.log = os.path.join(root, 'log')
    self.results = os.path.join(root, RESULTS)

  def log_eval(self, key):
    return os.path.join(self.root, 'log_eval_%s' % key)


def stage(number, text):
  print('== %d/5 %s' % (number, text))
  sys.stdout.flush()


def offline_hint(error):
  """One line: what to fetch by hand, and to run this again."""
  return UsageError('%s, then run `make reproduce` again' % error)


def records_present(data_dir):
  return all(glob.glob(os.path.join(data_dir, train_flowers.file_pattern % split))
             for split in SPLITS) and os.path.isfile(
                 os.path.join(data_dir, 'labels.txt'))


def prepare_data(paths, args):
  """Downloads and converts the flowers photos unless the TFRecords are there."""
  if records_present(paths.data):
    print('TFRecords already in %s' % paths.data)
    return
  if not os.path.isdir(paths.photos):
    official = args.flowers_url == flowers.FLOWERS_URL
    try:
      downloads.download_and_extract(
          args.flowers_url, paths.downloads, filename='flower_photos.tgz',
          expected_size=flowers.FLOWERS_SIZE if official else None)
    except ArchiveError:
      raise
    except DownloadError as e:
      raise offline_hint(e)
  convert.convert_dataset(paths.photos, paths.data, validation_size=args.validation_size,
                          num_shards=args.num_shards, overwrite=True)


def prepare_checkpoint(paths, args):
  """Downloads and verifies the ImageNet checkpoint unless it is there."""
  if checkpoints.checkpoint_present(paths.checkpoint):
    print('ImageNet checkpoint already at %s' % paths.checkpoint)
    return
  try:
    checkpoints.fetch_checkpoint(paths.checkpoint, args.checkpoint_url)
  except ArchiveError:
    raise
  except DownloadError as e:
    raise offline_hint(e)


def fine_tune(paths, args):
  """Trains with the seed's settings; resumes from the last checkpoint in the log."""
  train_flowers.train(train_flowers.build_parser().parse_args(
      ['--dataset_dir', paths.data, '--log_dir', paths.log, '--imagenet_checkpoint_file',
       paths.checkpoint, '--image_size', str(args.image_size), '--num_epochs',
       str(args.num_epochs), '--batch_size', str(args.batch_size)]))
  return tf.train.latest_checkpoint(paths.log)


def load_results(path):
  if not os.path.isfile(path):
    return {}
  with open(path) as f:
    return json.load(f)


def evaluate_all(paths, args, fine_tuned):
  """Evaluates the three models, reusing results saved by an earlier run.

  Returns:
    {key: validation accuracy}.
  """
  results = load_results(paths.results)
  for key, title, flags in EVALUATIONS:
    # The fine-tuned result belongs to one checkpoint; a longer training redoes it.
    source = fine_tuned if key == 'fine_tuned' else paths.checkpoint
    done = results.get(key)
    if done and done['checkpoint'] == source and done['image_size'] == args.image_size:
      print('%s: %.4f (from %s)' % (title, done['accuracy'], paths.results))
      continue
    print('Evaluating: %s' % title)
    result = eval_flowers.evaluate(eval_flowers.build_parser().parse_args(
        ['--dataset_dir', paths.data, '--log_dir', paths.log, '--log_eval',
         paths.log_eval(key), '--checkpoint_file', fine_tuned, '--imagenet_checkpoint_file',
         paths.checkpoint, '--image_size', str(args.image_size), '--batch_size',
         str(args.eval_batch_size), '--num_epochs', str(args.eval_num_epochs)] + flags))
    results[key] = {'accuracy': result['accuracy'], 'checkpoint': source,
                    'image_size': args.image_size}
    files.write_atomically(paths.results, json.dumps(results, indent=1).encode('utf-8'))
  return {key: results[key]['accuracy'] for key, _, _ in EVALUATIONS}


def comparison_table(accuracies):
  """The seed's comparison, one model a row."""
  width = max(len(title) for _, title, _ in EVALUATIONS)
  lines = ['%-*s  validation accuracy' % (width, 'model')]
  for key, title, _ in EVALUATIONS:
    lines.append('%-*s  %.4f' % (width, title, accuracies[key]))
  return '\n'.join(lines)


def reproduce(args):
  """Runs every stage; returns {key: validation accuracy}."""
  paths = Paths(args.work_dir)
  os.makedirs(paths.root, exist_ok=True)
  stage(1, 'flowers photos -> TFRecords in %s' % paths.data)
  prepare_data(paths, args)
  stage(2, 'ImageNet checkpoint %s' % paths.checkpoint)
  prepare_checkpoint(paths, args)
  stage(3, 'fine-tuning into %s (resumes from its last checkpoint)' % paths.log)
  fine_tuned = fine_tune(paths, args)
  stage(4, 'evaluating the fine-tuned model and both baselines')
  accuracies = evaluate_all(paths, args, fine_tuned)
  stage(5, 'comparison')
  print(comparison_table(accuracies))
  sys.stdout.flush()
  return accuracies


def run(args):
  reproduce(args)
  return 0


def build_parser():
  """Every constant at the top of this file is a flag of the same name."""
  p = cli.new_parser(__doc__.split('\n\n')[0])
  p.add_argument('--work_dir', default=work_dir, help='where every stage keeps its output')
  p.add_argument('--flowers_url', default=flowers_url)
  p.add_argument('--checkpoint_url', default=checkpoint_url)
  p.add_argument('--image_size', type=flags.positive_int, default=image_size)
  p.add_argument('--num_epochs', type=flags.positive_int, default=num_epochs)
  p.add_argument('--batch_size', type=flags.positive_int, default=batch_size)
  p.add_argument('--validation_size', type=flags.positive_int, default=validation_size)
  p.add_argument('--num_shards', type=flags.positive_int, default=num_shards)
  p.add_argument('--eval_batch_size', type=flags.positive_int, default=eval_batch_size)
  p.add_argument('--eval_num_epochs', type=flags.positive_int, default=eval_num_epochs)
  return p


def main(argv=None):
  return cli.main(run, build_parser(), argv)


if __name__ == '__main__':
  sys.exit(main())
