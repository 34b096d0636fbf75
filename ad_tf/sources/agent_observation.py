"""What a source agent's network sees: environment observations as float features.

Grid positions become one-hot x concatenated with one-hot y (a tabular-friendly input for an MLP);
environments without observations (the bandit) give a single constant feature.
"""

import tensorflow as tf
from tf_agents.specs import tensor_spec

from ad_tf.envs import batched_environment


def spec(env: batched_environment.BatchedEnvironment) -> tf.TensorSpec:
  size = 1 if env.grid_size is None else 2 * env.grid_size
  return tensor_spec.TensorSpec([size], tf.float32, name='observation')


def encode(env: batched_environment.BatchedEnvironment, observation: tf.Tensor) -> tf.Tensor:
  """[B, *obs_shape] int32 -> [B, features] float32."""
  if env.grid_size is None:
    return tf.ones([tf.shape(observation)[0], 1], tf.float32)
  return tf.concat([tf.one_hot(observation[:, 0], env.grid_size),
                    tf.one_hot(observation[:, 1], env.grid_size)], axis=-1)
