"""Serializes RLDS episodes straight to `tf.train.Example` bytes, as TFDS would, but fast.

TFDS's generic path (`features.encode_example` then `ExampleSerializer.serialize_example`) walks
every step of every episode in Python: on Dark Room it spent ~0.25 s per task (4 actors x 30
episodes), as much as the batched PPO learners that made them, and its writer thread held the
GIL against the learners. For the flat features an `ad_histories` episode has (scalars, fixed-
shape tensors, text, and one `steps` sequence of them) the encoding is only: flatten the nested
dict to 'a/b' keys, cast each value to its declared dtype, check its shape, and store it as an
int64, float or bytes list. `ExampleEncoder` does exactly that, in TFDS's feature order, so its
bytes are identical to TFDS's (tests/generation/test_example_encoding.py compares them on every
environment's features); nested sequences (ragged features) are refused at construction.
`Image` features (Watermaze's frames) are PNG-encoded with the op TFDS uses
(`tf.io.encode_png`, default compression), a whole sequence of frames in one call.
"""

from typing import Any, Dict, List, Tuple

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds


class ExampleEncodingError(ValueError):
  """An example does not match the dataset's features."""


def _flat_specs(features: tfds.features.FeaturesDict) -> List[Tuple[str, np.dtype, tuple]]:
  specs = []
  for key, info in tfds.core.utils.flatten_nest_dict(features.get_serialized_info()).items():
    if info.sequence_rank > 1:
      raise NotImplementedError(
          f'Feature {key!r} is a nested sequence (ragged); ExampleEncoder handles flat features '
          'only. Use TFDS\'s ExampleSerializer for it.')
    specs.append((key, np.dtype(info.np_dtype), tuple(info.shape)))
  return specs


def _image_features(feature, prefix: str = '') -> Dict[str, tfds.features.Image]:
  """Flat key ('steps/observation') -> Image feature, for every Image in `feature`."""
  if isinstance(feature, tfds.features.Image):
    return {prefix: feature}
  if isinstance(feature, tfds.features.Sequence):  # Dataset (RLDS steps) is a Sequence.
    return _image_features(feature.feature, prefix)
  if isinstance(feature, tfds.features.FeaturesDict):
    images = {}
    for key, inner in feature.items():
      images.update(_image_features(inner, f'{prefix}/{key}' if prefix else key))
    return images
  return {}


@tf.function(input_signature=[tf.TensorSpec([None, None, None, None], tf.uint8)])
def _encode_pngs(frames):
  return tf.map_fn(tf.io.encode_png, frames, fn_output_signature=tf.string)


class ExampleEncoder:
  """`encode(example) -> bytes`, byte-identical to TFDS's encode + serialize for flat features."""

  def __init__(self, features: tfds.features.FeaturesDict):
    self._specs = _flat_specs(features)
    self._keys = {key for key, _, _ in self._specs}
    self._images = _image_features(features)

  def encode(self, example: Dict[str, Any]) -> bytes:
    flat = tfds.core.utils.flatten_nest_dict(example)  # TFDS's own keys and order.
    if flat.keys() != self._keys:
      missing, extra = sorted(self._keys - flat.keys()), sorted(flat.keys() - self._keys)
      raise ExampleEncodingError(
          f'Example keys do not match the dataset features: missing {missing}, unexpected '
          f'{extra}. Build episodes with ad_tf.generation.rlds_episodes.')
    feature = {}
    for key, dtype, shape in self._specs:
      if key in self._images:
        feature[key] = self._image(key, flat[key], self._images[key], shape)
        continue
      feature[key] = self._feature(key, flat[key], dtype, shape)
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()

  @staticmethod
  def _image(key: str, value: Any, image: tfds.features.Image, shape: tuple) -> tf.train.Feature:
    frames = np.asarray(value)
    frame_shape = tuple(image.shape)
    if shape == ():  # One image, not a sequence of them.
      frames = frames[None]
    if frames.dtype != np.uint8 or frames.shape[1:] != frame_shape:
      raise ExampleEncodingError(
          f'Feature {key!r} holds {"frames" if shape else "a frame"} of shape '
          f'{frames.shape[1:]} and dtype {frames.dtype}; the dataset declares uint8 {frame_shape}.')
    encoded = _encode_pngs(tf.constant(frames)).numpy().tolist() if len(frames) else []
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=encoded))

  @staticmethod
  def _feature(key: str, value: Any, dtype: np.dtype, shape: tuple) -> tf.train.Feature:
    if dtype.kind in 'OSU':
      if isinstance(value, str):
        value = value.encode('utf-8')
      if not isinstance(value, bytes) or shape:
        raise ExampleEncodingError(f'Feature {key!r} must be one str or bytes, got {value!r}.')
      return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
    array = np.asarray(value)
    if array.dtype != dtype:
      if not np.can_cast(array.dtype, dtype, casting='same_kind'):
        raise ExampleEncodingError(
            f'Feature {key!r} has dtype {array.dtype}; the dataset declares {dtype}.')
      array = array.astype(dtype)
    if len(array.shape) != len(shape) or any(
        want is not None and want != got for want, got in zip(shape, array.shape)):
      raise ExampleEncodingError(
          f'Feature {key!r} has shape {array.shape}; the dataset declares {shape} (None: any).')
    if dtype == np.uint64:  # tf.train.Example has no uint64: TFDS bit-casts it to int64.
      array = array.view(np.int64)
    if dtype.kind in 'biu':
      return tf.train.Feature(int64_list=tf.train.Int64List(
          value=array.astype(np.int64).ravel().tolist()))
    return tf.train.Feature(float_list=tf.train.FloatList(value=array.ravel().tolist()))
