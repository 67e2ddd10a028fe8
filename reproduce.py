"""Reproduces the tutorial's comparison from nothing: `make reproduce`.

Fetches the flowers photos and the 2016 ImageNet checkpoint, converts the
photos to TFRecords, fine-tunes with the tutorial's settings and with the fast
recipe (the head on cached bottlenecks, alone and then with the top from
Mixed_7a), evaluates them and both baselines, and prints the validation
accuracy and wall time of each:

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
import time

import eval_flowers
import train_flowers
from tf_compat import tf
from transfer import checkpoints, cli, downloads, files, flags, progress
from transfer.datasets import convert, flowers
from transfer.datasets.records import SPLITS
from transfer.errors import ArchiveError, DownloadError, UsageError
from transfer.training import schedule

# ================ REPRODUCTION INFORMATION ================
work_dir = './reproduce'
flowers_url = flowers.FLOWERS_URL
checkpoint_url = checkpoints.CHECKPOINT_URL
# The tutorial's settings; smaller values make a quick trial run.
image_size = train_flowers.image_size
num_epochs = train_flowers.num_epochs
batch_size = train_flowers.batch_size
validation_size = convert.VALIDATION_SIZE
num_shards = convert.NUM_SHARDS
eval_batch_size = eval_flowers.batch_size
eval_num_epochs = eval_flowers.num_epochs
# The fast recipe's rows: head epochs on cached bottlenecks, then top epochs.
head_epochs = train_flowers.num_epochs
fine_tune_epochs = 2
fine_tune_from = 'Mixed_7a'

CHECKPOINT_NAME = 'inception_resnet_v2_2016_08_30.ckpt'
RESULTS = 'results.json'
# (key, row title, eval_flowers flags); the trained rows evaluate their own log.
EVALUATIONS = (
    ('fine_tuned', 'fine-tuned from ImageNet', {}),
    ('head_only', 'head only, from cached bottlenecks', {}),
    ('fast', 'head first, then the top from Mixed_7a', {}),
    ('clean', 'clean model (no restored weights)', {'clean_baseline': True}),
    ('imagenet', 'ImageNet weights, untrained heads', {'imagenet_baseline': True}),
)
TRAINED = ('fine_tuned', 'head_only', 'fast')


class Paths(object):
  """Where each stage keeps its output under the work folder."""

  def __init__(self, root):
    self.root = root
    self.downloads = os.path.join(root, 'downloads')
    self.photos = os.path.join(self.downloads, 'flower_photos')
    self.data = os.path.join(root, 'data')
    self.checkpoint = os.path.join(root, CHECKPOINT_NAME)
    self.log = os.path.join(root, 'log')
    self.bottlenecks = os.path.join(root, 'bottlenecks')
    self.results = os.path.join(root, RESULTS)

  def train_log(self, key):
    """The log of a trained row; the tutorial's fine-tuning keeps ./log.

    The fast rows share one: the head-only run is the fast recipe's first phase.
    """
    return self.log if key == 'fine_tuned' else os.path.join(self.root, 'log_fast')

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


def training_flags(paths, args, key):
  """train_flowers' flags for a trained row: the tutorial's recipe, or the fast one."""
  common = dict(dataset_dir=paths.data, log_dir=paths.train_log(key),
                imagenet_checkpoint_file=paths.checkpoint, image_size=args.image_size,
                batch_size=args.batch_size, verbose=args.verbose)
  if key == 'fine_tuned':
    return dict(common, num_epochs=args.num_epochs)
  common.update(head_epochs=args.head_epochs, bottleneck_dir=paths.bottlenecks)
  if key == 'head_only':
    return dict(common, num_epochs=0)
  return dict(common, num_epochs=args.fine_tune_epochs, fine_tune_from=args.fine_tune_from)


def train_all(paths, args):
  """Trains every trained row, each resuming from its last checkpoint.

  Returns:
    {key: (latest checkpoint, seconds of training summed over the runs)}.
  """
  results, trained = load_results(paths.results), {}
  for key in TRAINED:
    print('Training: %s' % dict((k, t) for k, t, _ in EVALUATIONS)[key])
    start = time.time()
    train_flowers.train(**training_flags(paths, args, key))
    seconds = results.get('train_seconds', {}).get(key, 0.0) + time.time() - start
    results.setdefault('train_seconds', {})[key] = seconds
    files.write_json(paths.results, results)
    trained[key] = (trained_checkpoint(paths.train_log(key), key), seconds)
  # The fast row's time includes its first phase, the head-only row's run.
  trained['fast'] = (trained['fast'][0], trained['fast'][1] + trained['head_only'][1])
  return trained


def trained_checkpoint(log_dir, key):
  """The checkpoint a trained row evaluates: the head phase's for head_only, else the latest."""
  if key == 'head_only':
    return os.path.join(log_dir, schedule.load_schedule(log_dir)['head_checkpoint'])
  return tf.train.latest_checkpoint(log_dir)


def load_results(path):
  if not os.path.isfile(path):
    return {}
  with open(path) as f:
    return json.load(f)


def evaluate_all(paths, args, trained):
  """Evaluates the five models, reusing results saved by an earlier run.

  Returns:
    {key: (validation accuracy, wall time: training plus evaluation)}.
  """
  results = load_results(paths.results)
  for key, title, baseline in EVALUATIONS:
    # A trained result belongs to one checkpoint; a longer training redoes it.
    source = trained[key][0] if key in trained else paths.checkpoint
    done = results.get(key)
    if done and done['checkpoint'] == source and done['image_size'] == args.image_size:
      print('%s: %.4f (from %s)' % (title, done['accuracy'], paths.results))
      continue
    print('Evaluating: %s' % title)
    start = time.time()
    checkpoint = trained[key if key in trained else 'fine_tuned'][0]  # unused by baselines
    result = eval_flowers.evaluate(
        dataset_dir=paths.data, log_dir=paths.log, log_eval=paths.log_eval(key),
        checkpoint_file=checkpoint, imagenet_checkpoint_file=paths.checkpoint,
        image_size=args.image_size, batch_size=args.eval_batch_size,
        num_epochs=args.eval_num_epochs, verbose=args.verbose, **baseline)
    results[key] = {'accuracy': result['accuracy'], 'checkpoint': source,
                    'image_size': args.image_size, 'eval_seconds': time.time() - start}
    files.write_json(paths.results, results)
  return {key: (results[key]['accuracy'], results[key].get('eval_seconds', 0.0) +
                (trained[key][1] if key in trained else 0.0)) for key, _, _ in EVALUATIONS}


def comparison_table(rows):
  """The tutorial's comparison and the fast rows, one model a row, with its wall time."""
  width = max(len(title) for _, title, _ in EVALUATIONS)
  lines = ['%-*s  validation accuracy  wall time' % (width, 'model')]
  for key, title, _ in EVALUATIONS:
    accuracy, seconds = rows[key]
    lines.append('%-*s  %19.4f  %s' % (width, title, accuracy,
                                        progress.format_duration(seconds)))
  return '\n'.join(lines)


def reproduce(args):
  """Runs every stage; returns {key: (validation accuracy, wall time)}."""
  paths = Paths(args.work_dir)
  os.makedirs(paths.root, exist_ok=True)
  stage(1, 'flowers photos -> TFRecords in %s' % paths.data)
  prepare_data(paths, args)
  stage(2, 'ImageNet checkpoint %s' % paths.checkpoint)
  prepare_checkpoint(paths, args)
  stage(3, "training the tutorial's recipe into %s and the fast one beside it (each resumes "
        "from its last checkpoint)" % paths.log)
  trained = train_all(paths, args)
  stage(4, 'evaluating the trained models and both baselines')
  rows = evaluate_all(paths, args, trained)
  stage(5, 'comparison')
  print(comparison_table(rows))
  sys.stdout.flush()
  return rows


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
  p.add_argument('--head_epochs', type=flags.positive_int, default=head_epochs)
  p.add_argument('--fine_tune_epochs', type=flags.positive_int, default=fine_tune_epochs)
  p.add_argument('--fine_tune_from', default=fine_tune_from)
  return p


def main(argv=None):
  return cli.main(run, build_parser(), argv)


if __name__ == '__main__':
  sys.exit(main())
