"""Runs SavedModel signatures on numpy inputs, with the request checks TF Serving makes."""

import os
from typing import Dict

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2


class RequestError(ValueError):
  """A malformed request (INVALID_ARGUMENT); the message says what was expected."""


class SavedModelRunner:
  """One version of a model (the SavedModel in `path`), callable by signature name."""

  def __init__(self, path: str, version: int):
    self.version = version
    self.path = path
    self._loaded = tf.saved_model.load(path)
    self.signatures = dict(self._loaded.signatures)
    with tf.io.gfile.GFile(os.path.join(path, 'saved_model.pb'), 'rb') as f:
      saved_model = saved_model_pb2.SavedModel.FromString(f.read())
    #: name -> SignatureDef proto, what GetModelMetadata returns.
    self.signature_defs = dict(saved_model.meta_graphs[0].signature_def)

  def input_specs(self, signature_name: str) -> Dict[str, tf.TensorSpec]:
    if signature_name not in self.signatures:
      raise RequestError(f'Unknown signature {signature_name!r}; this model serves '
                         f'{sorted(self.signatures)}.')
    return self.signatures[signature_name].structured_input_signature[1]

  def run(self, signature_name: str, inputs: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    specs = self.input_specs(signature_name)
    expected = ', '.join(f'{n}: {s.dtype.name}{s.shape.as_list()}' for n, s in sorted(specs.items()))
    missing, unexpected = sorted(set(specs) - set(inputs)), sorted(set(inputs) - set(specs))
    if missing or unexpected:
      raise RequestError(f'Signature {signature_name!r}: missing inputs {missing}, unexpected '
                         f'inputs {unexpected}; expected {expected}.')
    tensors = {}
    for name, spec in specs.items():
      value = np.asarray(inputs[name])
      if value.dtype != spec.dtype.as_numpy_dtype:
        raise RequestError(f'Input {name!r} of {signature_name!r} has dtype {value.dtype}; '
                           f'expected {spec.dtype.name}{spec.shape.as_list()}.')
      if not spec.shape.is_compatible_with(value.shape):
        raise RequestError(f'Input {name!r} of {signature_name!r} has shape {list(value.shape)}; '
                           f'expected {spec.shape.as_list()} (None: any size).')
      tensors[name] = tf.constant(value)
    batch_sizes = {v.shape[0] for v in tensors.values() if v.shape.rank}
    if len(batch_sizes) > 1:
      raise RequestError(f'Inputs of {signature_name!r} disagree on the batch size: '
                         f'{sorted(batch_sizes)}.')
    try:
      outputs = self.signatures[signature_name](**tensors)
    except tf.errors.InvalidArgumentError as error:
      raise RequestError(f'{signature_name!r} rejected the inputs: {error.message}') from None
    return {name: value.numpy() for name, value in outputs.items()}
