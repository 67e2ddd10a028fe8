# Copyright 2026 The project authors. Licensed under the Apache License, Version 2.0;
# see the LICENSE file.
"""dataset_utils: TFExample features and label files, as the records decoder reads them."""
import os

import pytest

import dataset_utils
import sample_files
from tf_compat import tf
from tiny_data import REPO
from transfer.datasets import records


def test_top_level_labels_txt_lists_the_five_flowers():
  assert dataset_utils.read_label_file(REPO) == {
      0: 'daisy', 1: 'dandelion', 2: 'roses', 3: 'sunflowers', 4: 'tulips'}
  with open(os.path.join(REPO, 'labels.txt')) as f:
    assert f.read() == '0:daisy\n1:dandelion\n2:roses\n3:sunflowers\n4:tulips\n'


def test_label_file_round_trip(tmp_path):
  labels = {2: 'c: with colon', 0: 'a', 1: 'b b'}
  path = dataset_utils.write_label_file(labels, str(tmp_path / 'new'), 'names.txt')
  assert open(path).read() == '0:a\n1:b b\n2:c: with colon\n'
  assert dataset_utils.read_label_file(str(tmp_path / 'new'), 'names.txt') == labels
  assert os.listdir(str(tmp_path / 'new')) == ['names.txt']  # no temporary left


@pytest.mark.parametrize('bad_line', ['daisy', 'x:daisy', '3:', '1:again'])
def test_malformed_label_file_names_file_and_line(tmp_path, bad_line):
  (tmp_path / 'labels.txt').write_text('0:daisy\n1:dandelion\n\n%s\n' % bad_line)
  with pytest.raises(ValueError) as error:
    dataset_utils.read_label_file(str(tmp_path))
  assert str(tmp_path / 'labels.txt') in str(error.value)
  assert 'line 4' in str(error.value)


def test_image_to_tfexample_decodes_with_the_records_decoder():
  data = sample_files.jpeg_bytes((30, 20))
  example = dataset_utils.image_to_tfexample(data, b'jpg', 20, 30, 3)
  feature = example.features.feature
  assert feature['image/encoded'].bytes_list.value == [data]
  assert feature['image/format'].bytes_list.value == [b'jpg']
  assert [feature[k].int64_list.value[0] for k in
          ('image/class/label', 'image/height', 'image/width')] == [3, 20, 30]
  with tf.Graph().as_default():
    decoder = records.tfexample_decoder()
    image, label = decoder.decode(tf.constant(example.SerializeToString()), ['image', 'label'])
    with tf.Session() as sess:
      image, label = sess.run([image, label])
  assert image.shape == (20, 30, 3) and label == 3
  assert abs(image[..., 0].mean() - 200) < 10  # the red channel of the photo


def test_image_to_tfexample_names_the_photo_only_when_asked():
  data = sample_files.jpeg_bytes((30, 20))
  plain = dataset_utils.image_to_tfexample(data, b'jpg', 20, 30, 3)
  named = dataset_utils.image_to_tfexample(data, b'jpg', 20, 30, 3, filename='roses/a.jpg')
  assert 'image/filename' not in plain.features.feature  # the tutorial's example
  assert named.features.feature['image/filename'].bytes_list.value == [b'roses/a.jpg']
  del named.features.feature['image/filename']
  assert named == plain
