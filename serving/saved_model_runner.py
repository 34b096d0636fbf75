"""Runs SavedModel signatures on numpy inputs, with the request checks TF Serving makes.

A version is loaded as tensorflow_model_server loads it: the MetaGraph tagged `serve` into a
TF1 session (`tf.compat.v1.saved_model.load`), and each signature is run through its
SignatureDef's tensor names. Every signature gets a `Session.make_callable` with its inputs and
outputs in a fixed order, which keeps the Python cost of a call to ~0.1 ms (a
`tf.saved_model.load` signature call costs ~0.3 ms before any op runs). Calls from many threads
run concurrently; with batching (`serving.batching`, tensorflow_model_server's
--enable_batching) concurrent calls of a batchable signature are run together.
"""

import dataclasses
import os
from typing import Dict, Optional

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from serving import batching as batching_lib


@dataclasses.dataclass(frozen=True)
class LoadOptions:
  """How versions are loaded and run: tensorflow_model_server's --enable_batching /
  --batching_parameters_file and --tensorflow_{intra,inter}_op_parallelism (0: TF's default)."""
  batching: Optional[batching_lib.BatchingParameters] = None
  intra_op_parallelism: int = 0
  inter_op_parallelism: int = 0

  def session_config(self) -> tf.compat.v1.ConfigProto:
    return tf.compat.v1.ConfigProto(intra_op_parallelism_threads=self.intra_op_parallelism,
                                    inter_op_parallelism_threads=self.inter_op_parallelism)


class RequestError(ValueError):
  """A malformed request (INVALID_ARGUMENT); the message says what was expected."""


class _Signature:
  """One SignatureDef: its input specs and a callable over the loaded session."""

  def __init__(self, session: tf.compat.v1.Session, graph: tf.Graph, name: str, signature_def,
               batching: Optional[batching_lib.BatchingParameters] = None):
    self.name = name
    self.input_names = sorted(signature_def.inputs)
    self.output_names = sorted(signature_def.outputs)
    self.specs = {
        key: tf.TensorSpec(tf.TensorShape(signature_def.inputs[key].tensor_shape),
                           tf.dtypes.as_dtype(signature_def.inputs[key].dtype), key)
        for key in self.input_names}
    self._numpy_dtypes = {key: spec.dtype.as_numpy_dtype for key, spec in self.specs.items()}
    # Plain tuples (None: any size) are ~20x cheaper to check than TensorShape's methods.
    self._shapes = {key: None if spec.shape.rank is None else tuple(spec.shape.as_list())
                    for key, spec in self.specs.items()}
    self._call = session.make_callable(
        [graph.get_tensor_by_name(signature_def.outputs[key].name) for key in self.output_names],
        [graph.get_tensor_by_name(signature_def.inputs[key].name) for key in self.input_names])
    self._batcher = None
    if batching is not None and _batchable(signature_def):
      self._batcher = batching_lib.Batcher(self._run_named, batching, name=f'batch-{name}')
    self._expected = ', '.join(f'{n}: {s.dtype.name}{s.shape.as_list()}'
                               for n, s in self.specs.items())

  def __call__(self, inputs: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    if len(inputs) != len(self.input_names) or any(k not in inputs for k in self.input_names):
      missing = sorted(set(self.input_names) - set(inputs))
      unexpected = sorted(set(inputs) - set(self.input_names))
      raise RequestError(f'Signature {self.name!r}: missing inputs {missing}, unexpected '
                         f'inputs {unexpected}; expected {self._expected}.')
    values, batch_sizes = [], set()
    for key in self.input_names:
      value, spec = np.asarray(inputs[key]), self.specs[key]
      if value.dtype != self._numpy_dtypes[key]:
        raise RequestError(f'Input {key!r} of {self.name!r} has dtype {value.dtype}; '
                           f'expected {spec.dtype.name}{spec.shape.as_list()}.')
      shape = self._shapes[key]
      if shape is not None and (len(shape) != value.ndim or any(
          size is not None and size != actual for size, actual in zip(shape, value.shape))):
        raise RequestError(f'Input {key!r} of {self.name!r} has shape {list(value.shape)}; '
                           f'expected {spec.shape.as_list()} (None: any size).')
      if value.ndim:
        batch_sizes.add(value.shape[0])
      values.append(value)
    if len(batch_sizes) > 1:
      raise RequestError(f'Inputs of {self.name!r} disagree on the batch size: '
                         f'{sorted(batch_sizes)}.')
    try:
      if self._batcher is not None:
        return self._batcher(dict(zip(self.input_names, values)))
      return self._run_named(dict(zip(self.input_names, values)))
    except tf.errors.InvalidArgumentError as error:
      raise RequestError(f'{self.name!r} rejected the inputs: {error.message}') from None

  def _run_named(self, inputs: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    return dict(zip(self.output_names, self._call(*[inputs[k] for k in self.input_names])))

  def close(self) -> None:
    if self._batcher is not None:
      self._batcher.close()


def _batchable(signature_def) -> bool:
  """Whether every input and output of the signature has a leading batch dimension."""
  for info in [*signature_def.inputs.values(), *signature_def.outputs.values()]:
    dims = info.tensor_shape.dim
    if info.tensor_shape.unknown_rank or not dims or dims[0].size != -1:
      return False
  return True


class SavedModelRunner:
  """One version of a model (the SavedModel in `path`), callable by signature name."""

  def __init__(self, path: str, version: int, options: LoadOptions = LoadOptions()):
    self.version = version
    self.path = path
    with tf.io.gfile.GFile(os.path.join(path, 'saved_model.pb'), 'rb') as f:
      saved_model = saved_model_pb2.SavedModel.FromString(f.read())
    #: name -> SignatureDef proto, what GetModelMetadata returns.
    self.signature_defs = dict(saved_model.meta_graphs[0].signature_def)
    self._graph = tf.Graph()
    self._session = tf.compat.v1.Session(graph=self._graph, config=options.session_config())
    with self._graph.as_default():
      meta_graph = tf.compat.v1.saved_model.load(self._session, ['serve'], path)
    self._signatures = {name: _Signature(self._session, self._graph, name, signature_def,
                                            options.batching)
                        for name, signature_def in meta_graph.signature_def.items()
                        if not name.startswith('__')}  # __saved_model_init_op: run by load.

  def input_specs(self, signature_name: str) -> Dict[str, tf.TensorSpec]:
    return self._signature(signature_name).specs

  def _signature(self, name: str) -> _Signature:
    if name not in self._signatures:
      raise RequestError(f'Unknown signature {name!r}; this model serves '
                         f'{sorted(self._signatures)}.')
    return self._signatures[name]

  def run(self, signature_name: str, inputs: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    return self._signature(signature_name)(inputs)

  def close(self) -> None:
    """Stops batching (requests already queued are answered; later ones run unbatched)."""
    for signature in self._signatures.values():
      signature.close()
