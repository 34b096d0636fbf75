"""Step tokens: what the transformer reads at each step of a learning history.

Token t embeds, summed: the observation o_t (per-environment encoder), the step's index within
its episode, the previous action a_{t-1} and the previous reward r_{t-1}; the model predicts a_t
from tokens 0..t. The previous action and reward cross episode boundaries, so the first token of
an episode carries how the last one ended. At the very start of a history there is no previous
step: `prev_action` is then `num_actions` (a 'none' action) and `prev_reward` 0.

A step-inputs dict has int32 'observation' [B, T, *obs_shape], 'time' [B, T], 'prev_action'
[B, T] and float32 'prev_reward' [B, T].
"""

from typing import Dict, Optional

import tensorflow as tf

STEP_INPUT_KEYS = ('observation', 'time', 'prev_action', 'prev_reward')


class GridObservationEncoder(tf.keras.layers.Layer):
  """(x, y) cell of a square grid -> embed(x) + embed(y)."""

  def __init__(self, grid_size: int, embedding_dim: int, **kwargs):
    super().__init__(**kwargs)
    self.grid_size = grid_size
    self._x = tf.keras.layers.Embedding(grid_size, embedding_dim, name='x')
    self._y = tf.keras.layers.Embedding(grid_size, embedding_dim, name='y')

  def call(self, observation):
    return self._x(observation[..., 0]) + self._y(observation[..., 1])


class NoObservationEncoder(tf.keras.layers.Layer):
  """For environments whose observation carries no information (the bandit)."""

  def __init__(self, embedding_dim: int, **kwargs):
    super().__init__(**kwargs)
    self._dim = embedding_dim

  def call(self, observation):
    return tf.zeros(tf.concat([tf.shape(observation), [self._dim]], 0))


def observation_encoder(grid_size: Optional[int], embedding_dim: int) -> tf.keras.layers.Layer:
  """The encoder for an environment's observations (a pixel encoder would plug in here)."""
  if grid_size is None:
    return NoObservationEncoder(embedding_dim, name='observation_encoder')
  return GridObservationEncoder(grid_size, embedding_dim, name='observation_encoder')


class StepEmbedding(tf.keras.layers.Layer):
  """Step inputs [B, T, ...] -> token embeddings [B, T, D]."""

  def __init__(self, num_actions: int, episode_length: int, grid_size: Optional[int],
               embedding_dim: int, **kwargs):
    super().__init__(**kwargs)
    self._observation = observation_encoder(grid_size, embedding_dim)
    self._time = tf.keras.layers.Embedding(episode_length, embedding_dim, name='time')
    self._prev_action = tf.keras.layers.Embedding(num_actions + 1, embedding_dim,
                                                  name='prev_action')
    self._prev_reward = tf.keras.layers.Dense(embedding_dim, name='prev_reward')

  def call(self, inputs: Dict[str, tf.Tensor]) -> tf.Tensor:
    return (self._observation(inputs['observation']) + self._time(inputs['time'])
            + self._prev_action(inputs['prev_action'])
            + self._prev_reward(inputs['prev_reward'][..., None]))
