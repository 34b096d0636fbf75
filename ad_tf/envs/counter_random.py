"""Counter-based randomness shared by the Python and the batched TF environments.

Random starts (Key-to-Door) and Bernoulli rewards (bandit) are a pure function of
(seed, episode, step). The same integer arithmetic runs on numpy arrays and on TF tensors, so
a PyEnvironment and its batched TF twin draw exactly the same numbers, and a batched rollout
inside `tf.while_loop` needs no random-generator state.
"""

from typing import Any, Callable

import numpy as np
import tensorflow as tf

_MASK32 = 2**32
# Multiplier of a well-mixing 32-bit integer hash; every product of it with a 32-bit value fits
# in int64, so numpy and TF compute identical results without overflow.
_MULTIPLIER = 0x45D9F3B


def _mix32(x: Any, xor: Callable, right_shift: Callable) -> Any:
  for _ in range(2):
    x = (xor(x, right_shift(x, 16)) * _MULTIPLIER) % _MASK32
  return xor(x, right_shift(x, 16))


def _hash(seed: Any, episode: Any, step: Any, xor: Callable, right_shift: Callable) -> Any:
  h = _mix32(seed % _MASK32, xor, right_shift)
  h = _mix32(xor(h, episode % _MASK32), xor, right_shift)
  return _mix32(xor(h, (step + 1) % _MASK32), xor, right_shift)


def hash_np(seed, episode, step) -> np.ndarray:
  """32-bit hash of (seed, episode, step) as int64 numpy values in [0, 2**32)."""
  args = [np.asarray(v, dtype=np.int64) for v in (seed, episode, step)]
  return _hash(*args, xor=np.bitwise_xor, right_shift=np.right_shift)


def hash_tf(seed, episode, step) -> tf.Tensor:
  """Same as `hash_np`, with TF ops (usable inside `tf.function`)."""
  args = [tf.cast(v, tf.int64) for v in (seed, episode, step)]
  return _hash(*args, xor=tf.bitwise.bitwise_xor, right_shift=tf.bitwise.right_shift)


def uniform_np(seed, episode, step) -> np.ndarray:
  """A uniform float64 in [0, 1) determined by (seed, episode, step)."""
  return hash_np(seed, episode, step).astype(np.float64) / _MASK32


def uniform_tf(seed, episode, step) -> tf.Tensor:
  """Same as `uniform_np`, as a float64 tensor."""
  return tf.cast(hash_tf(seed, episode, step), tf.float64) / _MASK32
