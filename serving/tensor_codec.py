"""numpy arrays <-> TensorProtos, the encoding TF Serving's gRPC API carries.

`tf.make_tensor_proto` / `tf.make_ndarray` accept every Python value and TensorProto encoding,
and cost ~25 us per tensor in Python: with the AD policy's 13 inputs and 15 outputs that is most
of a served step's overhead. Numeric arrays go as `tensor_content` (raw little-endian bytes, what
`make_tensor_proto` writes for them and what tensorflow_model_server accepts and returns), so the
fast paths here are one bytes copy each; anything else (strings, `*_val` fields, half floats)
falls back to TensorFlow's own functions.
"""

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2
from tensorflow.core.framework import types_pb2

_DTYPES = {np.dtype(np.float32): types_pb2.DT_FLOAT, np.dtype(np.float64): types_pb2.DT_DOUBLE,
           np.dtype(np.int32): types_pb2.DT_INT32, np.dtype(np.int64): types_pb2.DT_INT64,
           np.dtype(np.uint8): types_pb2.DT_UINT8, np.dtype(np.bool_): types_pb2.DT_BOOL}
_NUMPY = {enum: dtype for dtype, enum in _DTYPES.items()}
_LITTLE_ENDIAN = np.little_endian


def to_proto(value) -> tensor_pb2.TensorProto:
  """A numpy array (or scalar) as a TensorProto."""
  array = np.asarray(value)
  enum = _DTYPES.get(array.dtype)
  if enum is None or not _LITTLE_ENDIAN:
    return tf.make_tensor_proto(array)
  proto = tensor_pb2.TensorProto(dtype=enum, tensor_content=array.tobytes())
  for size in array.shape:
    proto.tensor_shape.dim.add(size=size)
  return proto


def to_ndarray(proto: tensor_pb2.TensorProto) -> np.ndarray:
  """A TensorProto as a numpy array; raises ValueError/TypeError on a malformed one."""
  dtype = _NUMPY.get(proto.dtype)
  if dtype is None or not proto.tensor_content or not _LITTLE_ENDIAN:
    return tf.make_ndarray(proto)
  shape = [dim.size for dim in proto.tensor_shape.dim]
  if any(size < 0 for size in shape) or proto.tensor_shape.unknown_rank:
    raise ValueError(f'a tensor to decode needs a known shape; got {shape}')
  content = proto.tensor_content
  if len(content) != dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
    raise ValueError(f'tensor_content holds {len(content)} bytes; shape {shape} of '
                     f'{dtype.name} needs {dtype.itemsize * int(np.prod(shape))}')
  return np.frombuffer(content, dtype).reshape(shape)
