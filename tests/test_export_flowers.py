"""export_flowers.py: each artefact loads in a fresh process and agrees with predict_flowers."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import export_flowers
import predict_flowers
from test_predict_flowers import write_mixed_photos
from tf_compat import tf
from tiny_data import IMAGE_SIZE, REPO
from transfer import images
from transfer.errors import UsageError

# Its tests share module fixtures: pytest-xdist runs them in one worker.
pytestmark = pytest.mark.xdist_group('export_flowers')

LOADER = os.path.join(REPO, 'tests', 'load_exported.py')
TF2_PYTHON = os.path.join(REPO, '.venv-tf2', 'bin', 'python')
# What the SavedModel's image_bytes takes: TF decodes them all (not 8-bit BMP).
PHOTOS = ('red.jpg', 'blue_big.png', 'grey.jpg', 'red_small.gif', 'blue.bmp',
          os.path.join('sub', 'grey.png'), os.path.join('sub', 'blue_alpha.png'))


def export_flags(trained, output_dir, **extra):
  # Only the log dir: it records the image size (IMAGE_SIZE, not 299) and the labels.
  return dict(log_dir=trained['log_dir'], output_dir=output_dir, **extra)


def export_argv(records, trained, output_dir, *extra):
  # Only the log dir: it records the image size (IMAGE_SIZE, not 299) and the labels.
  return ['--log_dir', trained['log_dir'], '--output_dir', output_dir] + list(extra)


@pytest.fixture(scope='module')
def exported(records, trained, tmp_path_factory):
  root = tmp_path_factory.mktemp('export')
  output_dir = str(root / 'export')
  tflite_problem = None
  try:
    export_flowers.export(**export_flags(trained, output_dir, tflite=True))
  except UsageError as e:  # a TensorFlow that cannot convert says why: export the rest
    if not str(e).startswith('--tflite: '):
      raise
    tflite_problem = str(e)
    export_flowers.export(**export_flags(trained, output_dir, tflite=False))
  return dict(dir=output_dir, root=str(root), tflite_problem=tflite_problem)


@pytest.fixture(scope='module')
def predicted(records, trained, tmp_path_factory):
  """The photos and predict_flowers' probabilities for them, [N, classes] by index."""
  root = tmp_path_factory.mktemp('photos')
  write_mixed_photos(str(root / 'photos'))
  photos = [str(root / 'photos' / name) for name in PHOTOS]
  json_path = str(root / 'p.json')
  # Only the log dir, as export: both take the recorded size and labels.
  assert predict_flowers.main(['--log_dir', trained['log_dir'], '--output_json', json_path]
                              + photos) == 0
  with open(json_path) as f:
    images = json.load(f)['images']
  assert [i['path'] for i in images] == photos
  probabilities = np.zeros((len(photos), 2), np.float32)
  for row, image in zip(probabilities, images):
    row[image['indices']] = image['probabilities']
  return dict(photos=photos, probabilities=probabilities, root=str(root))


def preprocessed(photos):
  """predict_flowers' preprocessing of the photos, batched: the frozen graph's input."""
  with tf.Graph().as_default():
    encoded = tf.placeholder(tf.string, [])
    image = images.preprocess(encoded, IMAGE_SIZE)
    with tf.Session() as sess:
      return np.stack([sess.run(image, {encoded: open(p, 'rb').read()}) for p in photos])


def load_in_fresh_process(kind, export_dir, inputs, out, python=sys.executable):
  subprocess.check_call([python, LOADER, kind, export_dir] + list(inputs) + [out],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  return np.load(out)


def test_export_writes_every_artefact_and_nothing_else(exported):
  assert sorted(os.listdir(exported['dir'])) == sorted(
      ['frozen_graph.pb', 'labels.txt', 'saved_model'] + (
          [] if exported['tflite_problem'] else ['model.tflite']))
  assert os.path.isfile(os.path.join(exported['dir'], 'saved_model', '1', 'saved_model.pb'))
  with open(os.path.join(exported['dir'], 'labels.txt')) as f:
    assert f.read() == '0:blue\n1:red\n'
  assert os.listdir(exported['root']) == ['export']  # the temporary folder is gone


def test_frozen_graph_has_slims_names_and_no_variables(exported):
  graph_def = tf.GraphDef()
  with open(os.path.join(exported['dir'], 'frozen_graph.pb'), 'rb') as f:
    graph_def.ParseFromString(f.read())
  nodes = {n.name: n for n in graph_def.node}
  assert nodes['input'].op == 'Placeholder'
  assert [d.size for d in nodes['input'].attr['shape'].shape.dim] == [
      -1, IMAGE_SIZE, IMAGE_SIZE, 3]
  assert nodes['InceptionResnetV2/Logits/Predictions'].op == 'Softmax'
  assert not [n for n in nodes.values() if n.op in ('VariableV2', 'VarHandleOp')]


def test_frozen_graph_matches_predict(exported, predicted, tmp_path):
  inputs = str(tmp_path / 'inputs.npy')
  np.save(inputs, preprocessed(predicted['photos']))
  result = load_in_fresh_process('frozen', exported['dir'], [inputs], str(tmp_path / 'o.npz'))
  np.testing.assert_allclose(result['probabilities'], predicted['probabilities'], atol=1e-5,
                             rtol=0)


def check_serving_outputs(result, predicted):
  np.testing.assert_allclose(result['probabilities'], predicted['probabilities'], atol=1e-5,
                             rtol=0)
  classes = np.argmax(predicted['probabilities'], 1)
  assert result['classes'].dtype == np.int64
  assert result['classes'].tolist() == classes.tolist()
  assert result['class_names'].tolist() == [['blue', 'red'][c] for c in classes]


def test_saved_model_matches_predict_through_loader_load(exported, predicted, tmp_path):
  result = load_in_fresh_process('saved_model_v1', exported['dir'], predicted['photos'],
                                 str(tmp_path / 'o.npz'))
  assert str(result['tf_version']) == tf.__version__  # loader.load of this TensorFlow
  check_serving_outputs(result, predicted)


@pytest.mark.skipif(not os.path.exists(TF2_PYTHON),
                    reason='no .venv-tf2 in the repository (made by `make test TF=2`)')
def test_saved_model_matches_predict_on_tf2(exported, predicted, tmp_path):
  result = load_in_fresh_process('saved_model_v2', exported['dir'], predicted['photos'],
                                 str(tmp_path / 'o.npz'), python=TF2_PYTHON)
  assert str(result['tf_version']).startswith('2.')
  check_serving_outputs(result, predicted)


def test_tflite_matches_predict(exported, predicted, tmp_path):
  if exported['tflite_problem']:
    pytest.skip(exported['tflite_problem'])
  inputs = str(tmp_path / 'inputs.npy')
  np.save(inputs, preprocessed(predicted['photos']))
  result = load_in_fresh_process('tflite', exported['dir'], [inputs], str(tmp_path / 'o.npz'))
  np.testing.assert_allclose(result['probabilities'], predicted['probabilities'], atol=1e-4,
                             rtol=0)


def test_refuses_to_overwrite_unless_asked(records, trained, exported, capsys):
  before = os.path.getmtime(os.path.join(exported['dir'], 'frozen_graph.pb'))
  code = export_flowers.main(export_argv(records, trained, exported['dir']))
  err = capsys.readouterr().err.strip().splitlines()
  assert code == 1 and len(err) == 1
  assert err[0].startswith('error: %s already exists' % exported['dir'])
  assert '--overwrite' in err[0]
  assert os.path.getmtime(os.path.join(exported['dir'], 'frozen_graph.pb')) == before


def test_overwrite_replaces_the_folder(records, trained, tmp_path, capsys):
  output_dir = tmp_path / 'export'
  output_dir.mkdir()
  (output_dir / 'stale.txt').write_text('old')
  code = export_flowers.main(export_argv(records, trained, str(output_dir), '--overwrite'))
  assert code == 0
  # Each line names what it wrote: the SavedModel is its version's folder.
  assert capsys.readouterr().out.splitlines() == [
      'Wrote %s' % (output_dir / name) for name in ('frozen_graph.pb', 'labels.txt',
                                                    os.path.join('saved_model', '1'))]
  assert sorted(os.listdir(str(output_dir))) == ['frozen_graph.pb', 'labels.txt',
                                                 'saved_model']
  assert os.listdir(str(tmp_path)) == ['export']


def test_failed_export_leaves_nothing_behind(records, trained, tmp_path, capsys):
  labels = tmp_path / 'labels.txt'
  labels.write_text('0:only\n')
  code = export_flowers.main(export_argv(records, trained, str(tmp_path / 'export'),
                                         '--labels_file', str(labels)))
  err = capsys.readouterr().err.strip().splitlines()
  assert code == 1 and len(err) == 1 and 'names 1 classes' in err[0]
  assert sorted(os.listdir(str(tmp_path))) == ['labels.txt']
