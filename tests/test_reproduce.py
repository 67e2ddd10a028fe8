"""make reproduce against a local HTTP server: tiny flowers, a spec checkpoint, size 107, and
the small network (its stages, not the network, are under test)."""
import json
import os

import reproduce
import sample_files

from test_train_flowers import make_checkpoint_tarball
from tiny_data import IMAGE_SIZE, read_record

QUICK = ['--image_size', str(IMAGE_SIZE), '--num_epochs', '1', '--batch_size', '2',
         '--validation_size', '2', '--num_shards', '1', '--eval_batch_size', '2',
         '--eval_num_epochs', '1', '--head_epochs', '2', '--fine_tune_epochs', '1']


def dead_urls():
  url = 'http://127.0.0.1:%d/' % sample_files.unused_port()
  return ['--flowers_url', url + 'flower_photos.tgz',
          '--checkpoint_url', url + 'inception_resnet_v2_2016_08_30.tar.gz']


def table_rows(out):
  """{row title: (accuracy, wall time)} of the comparison table printed last."""
  lines = out[out.index('== 5/5'):].splitlines()[1:]
  assert lines[0].split() == ['model', 'validation', 'accuracy', 'wall', 'time']
  rows = {}
  for line in lines[1:]:
    title, accuracy, wall_time = line.rsplit(None, 2)
    minutes, seconds = wall_time.split(':')
    rows[title] = (float(accuracy), 60 * int(minutes) + int(seconds))
  return rows


def test_reproduce_runs_every_stage_then_resumes(spec_checkpoint, tmp_path, capsys,
                                                 small_network):
  served = tmp_path / 'served'
  served.mkdir()
  sample_files.flowers_tarball(str(served / 'flower_photos.tgz'))
  make_checkpoint_tarball(str(served), spec_checkpoint)
  argv = ['--work_dir', str(tmp_path / 'work')] + QUICK
  with sample_files.serve(str(served)) as url:
    code = reproduce.main(argv + ['--flowers_url', url + '/flower_photos.tgz', '--checkpoint_url',
                                  url + '/inception_resnet_v2_2016_08_30.tar.gz'])
  out = capsys.readouterr().out
  assert code == 0
  rows = table_rows(out)
  assert sorted(rows) == sorted(title for _, title, _ in reproduce.EVALUATIONS)
  for accuracy, _ in rows.values():
    assert accuracy in (0.0, 0.5, 1.0)  # two validation images, one epoch
  with open(str(tmp_path / 'work' / 'results.json')) as f:
    saved = json.load(f)
  trained_for = saved.pop('train_seconds')
  assert sorted(trained_for) == sorted(reproduce.TRAINED)
  # Every row's time, in whole seconds: its evaluation's, plus its training's for the trained
  # ones (the fast row's includes its first phase, the head-only run).
  trained_for['fast'] += trained_for['head_only']
  for key, title, _ in reproduce.EVALUATIONS:
    seconds = saved[key]['eval_seconds'] + trained_for.get(key, 0.0)
    assert saved[key]['eval_seconds'] > 0 and 0 <= seconds - rows[title][1] < 1, (key, seconds)
  assert {k: v['accuracy'] for k, v in saved.items()} == {
      key: rows[title][0] for key, title, _ in reproduce.EVALUATIONS}
  assert saved['fine_tuned']['checkpoint'].endswith('model.ckpt-2')  # 4 images, batch 2
  assert saved['head_only']['checkpoint'].endswith('log_fast/model.ckpt-0')  # its phase 1
  assert saved['fast']['checkpoint'].endswith('log_fast/model.ckpt-2')
  assert os.path.isfile(str(tmp_path / 'work' / 'log_eval_clean' / 'confusion_matrix.png'))
  for log in ('log', 'log_fast'):  # each carries its settings
    assert read_record(str(tmp_path / 'work' / log), 'model')['image_size'] == IMAGE_SIZE

  # Again, with nothing to download from: every stage finds its output.
  assert reproduce.main(argv + dead_urls()) == 0
  again = capsys.readouterr().out
  assert 'TFRecords already in' in again and 'ImageNet checkpoint already at' in again
  assert again.count('(from %s)' % (tmp_path / 'work' / 'results.json')) == 5
  assert table_rows(again)['clean model (no restored weights)'][0] == rows[
      'clean model (no restored weights)'][0]


def test_offline_says_what_to_fetch_in_one_line(tmp_path, capsys):
  argv = ['--work_dir', str(tmp_path / 'work')] + QUICK + dead_urls()
  assert reproduce.main(argv) == 1
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and err[0].startswith('error: could not download http://127.0.0.1')
  assert 'flower_photos.tgz' in err[0] and 'by hand' in err[0]
  assert err[0].endswith('then run `make reproduce` again')
