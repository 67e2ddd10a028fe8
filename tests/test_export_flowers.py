"""export_flowers.py: each artefact loads in a fresh process and agrees with predict_flowers."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import export_flowers
import predict_flowers
from test_predict_flowers import write_mixed_photos
from tf_compat import tf
from tiny_data import IMAGE_SIZE, REPO
from transfer import export_check, exporting, images
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


# Every TensorFlow Lite variant. Two images only, to verify and to calibrate int8: TF 1.15
# runs int8 at seconds an image.
QUANTIZED = dict(tflite=True, tflite_quantization='none,float16,dynamic,int8', verify=True,
                 verify_images=2, representative_images=2)
TFLITE_FILES = ['model.tflite', 'model_float16.tflite', 'model_dynamic.tflite',
                'model_int8.tflite']


@pytest.fixture(scope='module')
def exported(records, trained, tmp_path_factory):
  root = tmp_path_factory.mktemp('export')
  output_dir = str(root / 'export')
  tflite_problem = None
  try:
    result = export_flowers.export(**export_flags(trained, output_dir, **QUANTIZED))
  except UsageError as e:  # a TensorFlow that cannot convert says why: export the rest
    if not str(e).startswith('--tflite: '):
      raise
    tflite_problem = str(e)
    result = export_flowers.export(**export_flags(trained, output_dir, verify=True,
                                                  verify_images=2))
  return dict(dir=output_dir, root=str(root), tflite_problem=tflite_problem, result=result)


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
          [] if exported['tflite_problem'] else TFLITE_FILES))
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


def test_verify_reports_every_artefact_against_the_checkpoint(exported):
  verification = exported['result']['verification']
  rows = {row['artefact']: row for row in verification['rows']}
  artefacts = ['frozen_graph.pb', 'saved_model'] + (
      [] if exported['tflite_problem'] else TFLITE_FILES)
  assert [row['artefact'] for row in verification['rows']] == ['checkpoint'] + artefacts
  assert verification['images'] == 2
  checkpoint = rows['checkpoint']
  assert checkpoint['agreement'] == 1 and checkpoint['max_difference'] == 0
  for name in artefacts:
    row = rows[name]
    path = os.path.join(exported['dir'], name)
    assert row['bytes'] == (os.path.getsize(path) if os.path.isfile(path) else sum(
        os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs))
    if name in ('frozen_graph.pb', 'saved_model', 'model.tflite'):
      assert row['agreement'] == 1 and row['max_difference'] <= 1e-4, row
      assert row['accuracy'] == checkpoint['accuracy']
    else:  # reduced: within --max_accuracy_drop, and they do differ a little
      assert row['accuracy'] >= checkpoint['accuracy'] - 0.02, row
      assert 0 <= row['agreement'] <= 1 and 0 < row['max_difference'] < 0.1, row
  if not exported['tflite_problem']:
    assert rows['model_int8.tflite']['bytes'] <= 0.35 * rows['model.tflite']['bytes']
  lines = export_check.table(verification['rows'], 2)
  assert lines[0] == 'Verified on 2 validation images:'
  assert [line.split()[0] for line in lines[2:]] == ['checkpoint'] + artefacts


def test_int8_takes_and_gives_int8(exported):
  if exported['tflite_problem']:
    pytest.skip(exported['tflite_problem'])
  interpreter = tf.lite.Interpreter(
      model_path=os.path.join(exported['dir'], 'model_int8.tflite'))
  source, = interpreter.get_input_details()
  output, = interpreter.get_output_details()
  assert source['dtype'] == output['dtype'] == np.int8
  assert list(source['shape']) == [1, IMAGE_SIZE, IMAGE_SIZE, 3]
  assert source['quantization'][0] > 0  # the scale a caller divides by


def tampered_copy(exported_dir):
  """A write_export that hard-links the module's export, then negates the logits' weights."""
  def write_export(output_dir, *rest):
    shutil.copytree(exported_dir, output_dir, copy_function=os.link)
    path = os.path.join(output_dir, 'frozen_graph.pb')
    graph_def = tf.GraphDef()
    with open(path, 'rb') as f:
      graph_def.ParseFromString(f.read())
    node, = [n for n in graph_def.node if n.name == 'InceptionResnetV2/Logits/Logits/weights']
    weights = tf.make_ndarray(node.attr['value'].tensor)
    node.attr['value'].tensor.CopyFrom(tf.make_tensor_proto(-weights))
    os.remove(path)  # a new file: the module's export keeps its own
    with open(path, 'wb') as f:
      f.write(graph_def.SerializeToString())
    return {'frozen_graph.pb': path, 'labels.txt': os.path.join(output_dir, 'labels.txt'),
            'saved_model': os.path.join(output_dir, 'saved_model', '1')}
  return write_export


def test_verify_fails_naming_a_tampered_artefact(records, trained, exported, tmp_path,
                                                 monkeypatch, capsys):
  monkeypatch.setattr(exporting, 'write_export', tampered_copy(exported['dir']))
  output_dir = str(tmp_path / 'export')
  code = export_flowers.main(export_argv(records, trained, output_dir, '--verify',
                                         '--verify_images', '2'))
  out, err = capsys.readouterr()
  errors = [line for line in err.splitlines() if line.startswith('error:')]
  assert code == 1 and len(errors) == 1
  assert errors[0].startswith('error: --verify: frozen_graph.pb differs from the checkpoint: '
                              'top-1 agreement 0.0000')
  assert 'saved_model' not in errors[0]
  table = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
  assert sorted(table) == ['checkpoint', 'frozen_graph.pb', 'saved_model']
  assert table['frozen_graph.pb'][3] == '0.0000' and table['saved_model'][3] == '1.0000'
  assert os.path.isfile(os.path.join(output_dir, 'frozen_graph.pb'))  # kept for inspection


def split_only(records, folder, split):
  """A dataset folder holding the labels and one split's shards of `records`."""
  os.makedirs(folder)
  for name in os.listdir(records):
    if name == 'labels.txt' or name.startswith('flowers_%s_' % split):
      os.symlink(os.path.join(records, name), os.path.join(folder, name))
  return folder


@pytest.mark.parametrize('extra, split, line', [
    (['--tflite_quantization', 'none,int4'], 'train',
     'error: --tflite_quantization none,int4: unknown int4; choose from '
     'none,float16,dynamic,int8'),
    (['--tflite_quantization', 'int8'], 'validation',
     'error: --tflite_quantization int8 needs the train split of the model\'s dataset, and '
     'there is none (no TFRecord file matches flowers_train_*.tfrecord'),
    (['--verify'], 'train',
     'error: --verify needs the validation split of the model\'s dataset, and there is none '
     '(no TFRecord file matches flowers_validation_*.tfrecord'),
], ids=['unknown_name', 'int8_without_train', 'verify_without_validation'])
def test_bad_quantization_and_verify_inputs_write_nothing(records, trained, tmp_path, capsys,
                                                          extra, split, line):
  dataset = split_only(records, str(tmp_path / 'data'), split)
  code = export_flowers.main(export_argv(records, trained, str(tmp_path / 'export'),
                                         '--dataset_dir', dataset, *extra))
  err = [l for l in capsys.readouterr().err.splitlines() if l.startswith('error')]
  assert code == 1 and len(err) == 1 and err[0].startswith(line), err
  assert sorted(os.listdir(str(tmp_path))) == ['data']
