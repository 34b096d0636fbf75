"""serving.tensor_codec: the fast TensorProto paths agree with TensorFlow's own functions."""

import numpy as np
import pytest
import tensorflow as tf

from serving import tensor_codec


@pytest.mark.parametrize('value', [
    np.arange(24, dtype=np.float32).reshape(2, 3, 4), np.array([3, -1], np.int32),
    np.array(7, np.int64), np.zeros([0, 5], np.float32), np.array([True, False]),
    np.arange(6, dtype=np.uint8).reshape(3, 2), np.array([1.5], np.float64)])
def test_round_trip_and_same_encoding_as_tensorflow(value):
  proto = tensor_codec.to_proto(value)
  assert tf.make_ndarray(proto).tolist() == value.tolist()
  assert tf.make_ndarray(proto).dtype == value.dtype
  decoded = tensor_codec.to_ndarray(tf.make_tensor_proto(value))
  np.testing.assert_array_equal(decoded, value)
  assert decoded.dtype == value.dtype and decoded.shape == value.shape


def test_other_encodings_fall_back_to_tensorflow():
  proto = tf.make_tensor_proto([b'a', b'bc'])
  assert tensor_codec.to_ndarray(proto).tolist() == [b'a', b'bc']
  float_val = tf.make_tensor_proto(2.5, shape=[3])  # Written as float_val, not tensor_content.
  np.testing.assert_array_equal(tensor_codec.to_ndarray(float_val), [2.5, 2.5, 2.5])
  assert tensor_codec.to_proto(np.array([1.0], np.float16)).dtype == tf.float16.as_datatype_enum


def test_content_of_the_wrong_length_is_an_error():
  proto = tensor_codec.to_proto(np.zeros([2, 3], np.float32))
  proto.tensor_shape.dim[1].size = 4
  with pytest.raises(ValueError, match='tensor_content holds 24 bytes'):
    tensor_codec.to_ndarray(proto)
