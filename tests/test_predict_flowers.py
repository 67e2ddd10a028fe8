"""predict_flowers.py on the checkpoint the training fixture leaves."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import eval_flowers
import predict_flowers
from tf_compat import tf
from tiny_data import COLOURS, IMAGE_SIZE, REPO, command_settings
from transfer import checkpoints, model, predictor, runtime

# Its tests share module fixtures: pytest-xdist runs them in one worker.
pytestmark = pytest.mark.xdist_group('predict_flowers')


def noisy(colour, size, seed):
  """A noisy single-colour RGB picture like the training photos, `size` = (w, h)."""
  rng = np.random.RandomState(seed)
  pixels = np.clip(np.array(colour) + rng.normal(0, 25, (size[1], size[0], 3)), 0, 255)
  return Image.fromarray(pixels.astype(np.uint8))


def write_mixed_photos(folder):
  """Readable photos of every kind, three broken files and a text file.

  Returns:
    ({file name: expected class} of the readable photos, [broken file names]).
  """
  os.makedirs(os.path.join(folder, 'sub'))
  red, blue = COLOURS['red'], COLOURS['blue']
  noisy(red, (64, 48), 1).save(os.path.join(folder, 'red.jpg'), quality=90)
  noisy(blue, (300, 200), 2).save(os.path.join(folder, 'blue_big.png'))
  noisy(red, (23, 31), 3).save(os.path.join(folder, 'red_small.gif'))
  noisy(blue, (50, 60), 4).save(os.path.join(folder, 'blue.bmp'))  # 24-bit: TF decodes it
  grey = noisy(red, (60, 50), 5).convert('L')
  grey.save(os.path.join(folder, 'grey.jpg'), quality=90)
  grey.save(os.path.join(folder, 'sub', 'grey.png'))
  grey.save(os.path.join(folder, 'grey8.bmp'))  # 8-bit: Pillow re-encodes it for TF
  rgba = noisy(blue, (40, 40), 6).convert('RGBA')
  rgba.putpixel((0, 0), (0, 0, 0, 0))
  rgba.save(os.path.join(folder, 'sub', 'blue_alpha.png'))
  with open(os.path.join(folder, 'red.jpg'), 'rb') as f:
    jpeg = f.read()
  with open(os.path.join(folder, 'truncated.jpg'), 'wb') as f:
    f.write(jpeg[:len(jpeg) // 3])
  with open(os.path.join(folder, 'corrupt.png'), 'wb') as f:
    f.write(np.random.RandomState(7).bytes(500))
  open(os.path.join(folder, 'empty.jpg'), 'wb').close()
  with open(os.path.join(folder, 'notes.txt'), 'w') as f:
    f.write('not a photo, not an image name: left alone\n')
  readable = {'red.jpg': 'red', 'blue_big.png': 'blue', 'red_small.gif': 'red',
              'blue.bmp': 'blue', 'grey.jpg': None, 'grey8.bmp': None,
              os.path.join('sub', 'grey.png'): None,
              os.path.join('sub', 'blue_alpha.png'): 'blue'}
  return readable, ['truncated.jpg', 'corrupt.png', 'empty.jpg']


def predict_argv(records, trained, *extra):
  return ['--log_dir', trained['log_dir'], '--dataset_dir', records,
          '--image_size', str(IMAGE_SIZE), '--batch_size', '3'] + list(extra)


@pytest.fixture(scope='module')
def mixed(tmp_path_factory):
  folder = str(tmp_path_factory.mktemp('mixed') / 'photos')
  readable, broken = write_mixed_photos(folder)
  return dict(folder=folder, readable=readable, broken=broken)


@pytest.fixture(scope='module')
def mixed_run(records, trained, mixed, tmp_path_factory):
  """One in-process run over the mixed folder, with --output_json."""
  json_path = str(tmp_path_factory.mktemp('out') / 'predictions.json')
  capture = {'out': [], 'err': []}

  class Sink(object):
    def __init__(self, lines):
      self.lines = lines

    def write(self, text):
      self.lines.append(text)

    def flush(self):
      pass

  settings = command_settings(
      predict_flowers, positionals={'inputs': [mixed['folder']]}, log_dir=trained['log_dir'],
      dataset_dir=records, image_size=IMAGE_SIZE, batch_size=3, output_json=json_path)
  real_classify = predict_flowers.classify
  with pytest.MonkeyPatch.context() as patch:
    # The command's run, its exit code included; its lines go to the sinks.
    patch.setattr(predict_flowers, 'classify', lambda settings, out=None, err=None: real_classify(
        settings, Sink(capture['out']), Sink(capture['err'])))
    code = predict_flowers.run(settings)
  with open(json_path) as f:
    document = json.load(f)
  return dict(code=code, out=''.join(capture['out']).splitlines(),
              err=''.join(capture['err']).splitlines(), json=document, json_path=json_path)


def test_each_readable_photo_gets_one_line(mixed, mixed_run):
  folder = mixed['folder']
  lines = [line.split('\t') for line in mixed_run['out']]
  assert sorted(os.path.relpath(l[0], folder) for l in lines) == sorted(mixed['readable'])
  for path, name, probability in lines:
    assert name in COLOURS
    assert 0.5 <= float(probability) <= 1.0  # top of two classes
    assert len(probability.split('.')[1]) == 4
    expected = mixed['readable'][os.path.relpath(path, folder)]
    if expected:  # the colour the model learned; grey photos may go either way
      assert name == expected, (path, name, probability)


def test_broken_files_get_one_stderr_line_each_and_exit_2(mixed, mixed_run):
  assert mixed_run['code'] == 2  # a warning: the others are classified
  skipped = [line for line in mixed_run['err'] if not line.startswith('Using the ')]
  assert len(skipped) == len(mixed['broken'])
  for name, line in zip(sorted(mixed['broken']), sorted(skipped)):
    assert line.startswith('skipped %s: ' % os.path.join(mixed['folder'], name))
  assert any('empty file' in line for line in mixed_run['err'])


def test_json_lists_every_image_with_its_classes(mixed, mixed_run):
  document = mixed_run['json']
  assert [i['path'] for i in document['images']] == [l.split('\t')[0] for l in mixed_run['out']]
  for image, line in zip(document['images'], mixed_run['out']):
    assert sorted(image['names']) == sorted(COLOURS)  # top-5 capped at 2 classes
    assert sorted(image['indices']) == [0, 1]
    assert image['probabilities'][0] >= image['probabilities'][1]
    assert sum(image['probabilities']) == pytest.approx(1.0, abs=1e-5)
    assert line.split('\t')[2] == '%.4f' % image['probabilities'][0]
  assert sorted(os.path.basename(s['path']) for s in document['skipped']) == sorted(
      mixed['broken'])
  assert not [f for f in os.listdir(os.path.dirname(mixed_run['json_path']))
              if f != 'predictions.json']  # no temporary file left


def test_show_top_k_lists_the_top_classes(records, trained, mixed, capsys):
  photo = os.path.join(mixed['folder'], 'red.jpg')
  code = predict_flowers.main(predict_argv(records, trained, photo, '--show_top_k'))
  out = capsys.readouterr().out.splitlines()
  assert code == 0
  assert out[0].startswith(photo + '\tred\t')
  assert [l.split('\t')[0] for l in out[1:]] == ['  1. red', '  2. blue']


def eval_probabilities(records, trained, monkeypatch):
  """The probabilities eval_flowers' graph computes for each validation record, in order.

  One batching thread keeps the records in file order; build_model is wrapped
  to reach the probabilities eval computes but does not print.
  """
  real_batch, real_build = tf.train.batch, model.build_model
  found = {}

  def build_model(*args, **kwargs):
    logits, end_points = real_build(*args, **kwargs)
    found['probabilities'] = end_points['Predictions']
    return logits, end_points

  monkeypatch.setattr(tf.train, 'batch', lambda *a, **k: real_batch(*a, **dict(k, num_threads=1)))
  monkeypatch.setattr(model, 'build_model', build_model)
  settings = command_settings(eval_flowers, dataset_dir=records, log_dir=trained['log_dir'],
                              image_size=IMAGE_SIZE, batch_size=8, num_epochs=1)
  with tf.Graph().as_default():
    g = eval_flowers.build_eval_graph(settings)
    init_fn = checkpoints.init_fn(g['checkpoint'], g['variables_to_restore'], 'unused')
    with runtime.queue_session() as sess:
      init_fn(sess)
      return sess.run([found['probabilities'], g['labels']])


def validation_records(records):
  """[(encoded image bytes, label)] of the validation shards, in the order eval reads them."""
  rows = []
  for path in sorted(tf.gfile.Glob(os.path.join(records, 'flowers_validation_*.tfrecord'))):
    for record in tf.python_io.tf_record_iterator(path):
      feature = tf.train.Example.FromString(record).features.feature
      rows.append((feature['image/encoded'].bytes_list.value[0],
                   feature['image/class/label'].int64_list.value[0]))
  return rows


def test_probabilities_equal_eval_for_the_same_image_bytes(records, trained, tmp_path,
                                                           monkeypatch):
  expected, labels = eval_probabilities(records, trained, monkeypatch)
  rows = validation_records(records)
  assert labels.tolist() == [label for _, label in rows]  # same records, same order
  for i, (encoded, _) in enumerate(rows):
    (tmp_path / ('%d.jpg' % i)).write_bytes(encoded)
  json_path = str(tmp_path / 'p.json')
  code = predict_flowers.main(predict_argv(records, trained, str(tmp_path / '*.jpg'),
                                           '--output_json', json_path))
  assert code == 0
  with open(json_path) as f:
    images = json.load(f)['images']
  assert [os.path.basename(i['path']) for i in images] == ['%d.jpg' % i for i in range(8)]
  got = np.zeros_like(expected)
  for row, image in zip(got, images):
    row[image['indices']] = image['probabilities']
  # Not a degenerate model: the images get different answers.
  assert np.ptp(expected[:, 0]) > 1e-3
  np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_class_count_must_match_the_checkpoint(records, trained, mixed, tmp_path, capsys):
  labels = tmp_path / 'labels.txt'
  labels.write_text('0:blue\n1:red\n2:green\n')
  code = predict_flowers.main(predict_argv(records, trained, mixed['folder'],
                                           '--labels_file', str(labels)))
  captured = capsys.readouterr()
  assert code == 1 and captured.out == ''
  err = captured.err.strip().splitlines()
  assert len(err) == 1 and err[0].startswith('error: ')
  assert str(labels) in err[0] and 'names 3 classes' in err[0] and 'has 2' in err[0]


def test_missing_input_is_skipped_and_others_classified(records, trained, mixed, capsys):
  photo = os.path.join(mixed['folder'], 'red.jpg')
  code = predict_flowers.main(predict_argv(records, trained, photo, '/nonexistent/*.jpg'))
  captured = capsys.readouterr()
  assert code == 2
  assert len(captured.out.splitlines()) == 1
  assert captured.err.strip().splitlines() == [
      'Using the latest checkpoint %s.' % tf.train.latest_checkpoint(trained['log_dir']),
      'skipped /nonexistent/*.jpg: no such file, or no image in that folder or glob']


def test_missing_photo_is_named_before_any_checkpoint(tmp_path, monkeypatch, capsys):
  monkeypatch.chdir(tmp_path)  # no ./log: the checkpoint would be missing too
  missing = str(tmp_path / 'dasy')
  code = predict_flowers.main([missing, str(tmp_path / '*.jpg')])
  captured = capsys.readouterr()
  assert code == 1 and captured.out == ''
  assert captured.err.splitlines() == [
      'error: no photo to classify: %s, %s: no such file, or no image in that folder or glob; '
      'check the path' % (missing, tmp_path / '*.jpg')]


def test_command_ends_with_an_error_when_nothing_is_readable(records, trained, tmp_path):
  # A fresh process: the real command line, stderr included.
  bad = tmp_path / 'bad'
  bad.mkdir()
  (bad / 'a.jpg').write_bytes(b'')
  (bad / 'b.png').write_bytes(b'\x89PNG\r\n\x1a\n' + b'\0' * 40)
  json_path = str(tmp_path / 'p.json')
  proc = subprocess.run(
      [sys.executable, os.path.join(REPO, 'predict_flowers.py'), str(bad), '--output_json',
       json_path] + predict_argv(records, trained),
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, cwd=str(tmp_path))
  assert proc.returncode == 1, proc.stderr
  assert proc.stdout == ''
  err = proc.stderr.splitlines()
  assert err == [
      'Using the latest checkpoint %s.' % tf.train.latest_checkpoint(trained['log_dir']),
      'skipped %s: empty file' % (bad / 'a.jpg'),
      'skipped %s: %s' % (bad / 'b.png', predictor.NOT_AN_IMAGE),
      'error: no photo could be classified (2 skipped, see the lines above): pass JPEG, PNG, '
      'GIF or BMP files']
  with open(json_path) as f:
    assert json.load(f)['images'] == []
