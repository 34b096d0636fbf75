"""Sampling actions from logits, row by row, as a pure function of (row seed, step).

Gumbel-max with uniforms from `counter_random` keyed by (row seed, step, action): a row's action
depends only on its own logits, seed and step, never on which other rows share the batch. The
in-process evaluation and the exported SavedModel (where TF Serving may batch any rows together)
therefore draw the same actions.
"""

import tensorflow as tf

from ad_tf.envs import counter_random


def sample(logits: tf.Tensor, row_seeds: tf.Tensor, steps: tf.Tensor) -> tf.Tensor:
  """logits [B, A], row_seeds [B] int64, steps [B] -> actions [B] int32."""
  num_actions = tf.shape(logits)[-1]
  actions = tf.range(num_actions, dtype=tf.int64)[None]
  uniform = counter_random.uniform_tf(row_seeds[:, None], tf.cast(steps, tf.int64)[:, None],
                                      actions)
  uniform = tf.clip_by_value(uniform, 1e-12, 1.0 - 1e-12)
  gumbel = -tf.math.log(-tf.math.log(uniform))
  return tf.argmax(tf.cast(logits, tf.float64) + gumbel, axis=-1, output_type=tf.int32)
