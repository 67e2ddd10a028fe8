"""A trained log dir carries its settings: eval, predict and export need only the log dir."""
import json
import os

import pytest

import eval_flowers
import predict_flowers
from inception_resnet_v2 import AUX_KERNEL, aux_logits_kernel_size
from tf_compat import tf
from tiny_data import IMAGE_SIZE, make_colour_photos, read_record, read_spec, SPEC
from transfer import model, model_settings, run_record

AUX = AUX_KERNEL
LEGACY = run_record.LEGACY_FILENAMES['model']


def test_aux_kernel_size_is_the_networks(tmp_path):
  assert dict(read_spec(SPEC))[AUX][:2] == [aux_logits_kernel_size(299)] * 2  # the 2016 one
  for size in (IMAGE_SIZE, 160):
    with tf.Graph().as_default():
      model.build_model(tf.placeholder(tf.float32, [1, size, size, 3]), 2, is_training=False)
      shape = [v for v in tf.global_variables() if v.op.name == AUX][0].shape.as_list()
    assert shape[:2] == [aux_logits_kernel_size(size)] * 2, size
  assert model_settings.trained_size_range(1) == (107, 154)


def test_training_records_the_settings_and_a_label_copy(trained, records):
  recorded = read_record(trained['log_dir'], 'model')
  assert recorded == dict(image_size=IMAGE_SIZE, num_classes=2, labels_file='labels.txt',
                          labels_source=os.path.join(os.path.abspath(records), 'labels.txt'),
                          dataset_dir=os.path.abspath(records), moving_average_decay=None)
  with open(os.path.join(trained['log_dir'], 'labels.txt')) as f:
    assert f.read() == '0:blue\n1:red\n'


def test_eval_needs_only_the_log_dir(trained, records, tmp_path, capsys):
  log_eval = str(tmp_path / 'log_eval')
  assert eval_flowers.main(['--log_dir', trained['log_dir'], '--log_eval', log_eval,
                            '--num_epochs', '1']) == 0
  err = capsys.readouterr().err
  assert ('Settings from %s: --image_size %d, --labels_file %s, --dataset_dir %s'
          % (os.path.join(trained['log_dir'], run_record.FILENAME), IMAGE_SIZE,
             os.path.join(trained['log_dir'], 'labels.txt'), os.path.abspath(records))) in err
  assert os.path.isfile(os.path.join(log_eval, 'confusion_matrix.png'))


@pytest.fixture(scope='module')
def photo(tmp_path_factory):
  """A photo that predict reads: its errors here come from the model's settings."""
  folder = make_colour_photos(str(tmp_path_factory.mktemp('photo')), per_class=1)
  return os.path.join(folder, 'red', '000.jpg')


def one_error(capsys):
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and err[0].startswith('error: '), err
  return err[0]


def test_an_image_size_the_checkpoint_disproves_names_the_trained_one(photo, trained, capsys):
  assert predict_flowers.main(['--log_dir', trained['log_dir'], '--image_size', '299',
                               photo]) == 1
  err = one_error(capsys)
  assert 'trained at --image_size %d' % IMAGE_SIZE in err
  assert err.endswith('drop --image_size or pass %d' % IMAGE_SIZE)


def test_another_size_that_fits_is_used_and_said(trained, tmp_path, capsys):
  photo = os.path.join(make_colour_photos(str(tmp_path / 'photos'), per_class=1), 'blue',
                       '000.jpg')
  size = 120  # the same auxiliary kernel as IMAGE_SIZE
  assert aux_logits_kernel_size(size) == aux_logits_kernel_size(IMAGE_SIZE)
  assert predict_flowers.main(['--log_dir', trained['log_dir'], '--image_size', str(size),
                               photo]) == 0
  captured = capsys.readouterr()
  assert captured.out.startswith(photo + '\t')
  assert 'Using --image_size %d; the model was trained at %d.' % (size, IMAGE_SIZE) in (
      captured.err)


def linked_log_dir(trained, folder):
  """A log dir with the trained checkpoint (linked, not copied) and no settings."""
  os.makedirs(folder)
  checkpoint = tf.train.latest_checkpoint(trained['log_dir'])
  for path in tf.gfile.Glob(checkpoint + '.*'):
    os.symlink(path, os.path.join(folder, os.path.basename(path)))
  tf.train.update_checkpoint_state(folder, os.path.basename(checkpoint))
  return folder


def test_without_the_record_the_size_error_names_the_flag(photo, trained, tmp_path, capsys):
  old = linked_log_dir(trained, str(tmp_path / 'old_log'))
  assert predict_flowers.main(['--log_dir', old, photo]) == 1
  err = one_error(capsys)
  assert 'another image size than 299' in err and '107 to 154' in err
  assert err.endswith('pass the --image_size it was trained at')
  assert 'fine-tuned' not in err


@pytest.mark.parametrize('content, words', [
    ('{"image_size": 128,', 'damaged'),
    ('{"image_size": "big", "num_classes": 2, "labels_file": "labels.txt", '
     '"labels_source": "", "dataset_dir": ""}', 'damaged'),
])
@pytest.mark.parametrize('record_file', [run_record.FILENAME, LEGACY])
def test_a_damaged_record_gets_one_line_naming_it(photo, trained, tmp_path, capsys, content, words,
                                                  record_file):
  log = linked_log_dir(trained, str(tmp_path / 'log'))
  with open(os.path.join(log, record_file), 'w') as f:
    f.write(content if record_file == LEGACY else '{"model": %s}' % content)
  assert predict_flowers.main(['--log_dir', log, photo]) == 1
  err = one_error(capsys)
  assert os.path.join(log, record_file) in err and words in err
  assert 'delete it' in err


def test_a_label_copy_with_another_class_count_is_refused(photo, trained, tmp_path, capsys):
  log = linked_log_dir(trained, str(tmp_path / 'log'))
  # A log dir of an earlier version: its record in model_settings.json.
  with open(os.path.join(log, LEGACY), 'w') as f:
    json.dump(read_record(trained['log_dir'], 'model'), f)
  with open(os.path.join(log, 'labels.txt'), 'w') as f:
    f.write('0:blue\n1:red\n2:green\n')
  assert predict_flowers.main(['--log_dir', log, photo]) == 1
  err = one_error(capsys)
  assert os.path.join(log, 'labels.txt') in err and 'names 3 classes' in err and 'has 2' in err
