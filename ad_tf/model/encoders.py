"""Observations as numbers, chosen from the environment's observation spec (one factory each).

`observation_encoder` gives the transformer's observation embedding (summed into a step token);
`agent_features` gives the float features a source agent's network reads. These two factories
are the only place outside `ad_tf.envs` that looks at an observation's kind.
"""

import gin
import tensorflow as tf
from tf_agents.specs import tensor_spec

from ad_tf.envs import specs


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


@gin.configurable
class ImageObservationEncoder(tf.keras.layers.Layer):
  """uint8 frames [..., H, W, C] -> [..., D]: the paper's Watermaze encoder (Table 3).

  `num_blocks` conv blocks, each Conv2D (`channels`, `kernel`, `stride`, same padding),
  BatchNorm (decay 0.999, eps 1e-5), ReLU, 2x2 max pooling (stride 2) and dropout; then a linear
  layer of `hidden_units` (the paper's final 256-unit layer) and, since every step input is
  summed into one token, a projection to the embedding size D. Frames are scaled to [0, 1].
  """

  def __init__(self, embedding_dim: int, channels: int = 128, kernel: int = 5, stride: int = 2,
               num_blocks: int = 3, hidden_units: int = 256, dropout: float = 0.2, **kwargs):
    super().__init__(**kwargs)
    self._blocks = []
    for i in range(num_blocks):
      self._blocks += [
          tf.keras.layers.Conv2D(channels, kernel, stride, padding='same', name=f'conv_{i}'),
          tf.keras.layers.BatchNormalization(momentum=0.999, epsilon=1e-5, name=f'norm_{i}'),
          tf.keras.layers.ReLU(),
          tf.keras.layers.MaxPool2D(2, 2, padding='same'),
          tf.keras.layers.Dropout(dropout)]
    self._flatten = tf.keras.layers.Flatten()
    self._hidden = tf.keras.layers.Dense(hidden_units, name='hidden')
    self._projection = tf.keras.layers.Dense(embedding_dim, name='projection')

  def call(self, observation, training=None):
    frame_shape = tf.shape(observation)[-3:]
    leading = tf.shape(observation)[:-3]
    x = tf.reshape(tf.cast(observation, tf.float32) / 255.0, tf.concat([[-1], frame_shape], 0))
    for layer in self._blocks:
      x = layer(x, training=training)
    x = self._projection(self._hidden(self._flatten(x)))
    return tf.reshape(x, tf.concat([leading, [-1]], 0))


def _unsupported(spec: specs.ObservationSpec, what: str) -> NotImplementedError:
  return NotImplementedError(f'No {what} for {spec.kind!r} observations yet; supported kinds: '
                             f'{specs.GRID_CELL!r}, {specs.NONE!r}.')


def observation_encoder(spec: specs.ObservationSpec, embedding_dim: int) -> tf.keras.layers.Layer:
  """The transformer's encoder for observations of `spec`: [B, T, *shape] -> [B, T, D]."""
  if spec.kind == specs.GRID_CELL:
    return GridObservationEncoder(spec.grid_size, embedding_dim, name='observation_encoder')
  if spec.kind == specs.NONE:
    return NoObservationEncoder(embedding_dim, name='observation_encoder')
  if spec.kind == specs.IMAGE:
    return ImageObservationEncoder(embedding_dim, name='observation_encoder')
  raise _unsupported(spec, 'transformer encoder')


class AgentFeatures:
  """A source agent's view of observations of one spec: `encode` [B, *shape] -> [B, size].

  Grid cells become one-hot x concatenated with one-hot y (a tabular-friendly input for an MLP);
  observations without information give a single constant feature.
  """

  def __init__(self, spec: specs.ObservationSpec):
    if spec.kind not in (specs.GRID_CELL, specs.NONE):
      raise _unsupported(spec, 'source-agent features')
    self._spec = spec
    self.size = 2 * spec.grid_size if spec.kind == specs.GRID_CELL else 1
    #: Distinct cells an observation can name (count-based exploration), or None.
    self.num_cells = spec.num_cells

  def tensor_spec(self) -> tf.TensorSpec:
    return tensor_spec.TensorSpec([self.size], tf.float32, name='observation')

  def encode(self, observation: tf.Tensor) -> tf.Tensor:
    if self._spec.kind == specs.NONE:
      return tf.ones([tf.shape(observation)[0], 1], tf.float32)
    size = self._spec.grid_size
    return tf.concat([tf.one_hot(observation[:, 0], size), tf.one_hot(observation[:, 1], size)],
                     axis=-1)


  def cell_index(self, observation: tf.Tensor) -> tf.Tensor:
    """[..., 2] grid cells -> [...] indices in 0..num_cells - 1 (x-major)."""
    if self.num_cells is None:
      raise ValueError(f'{self._spec.kind!r} observations name no cells.')
    return observation[..., 0] * self._spec.grid_size + observation[..., 1]


def agent_features(spec: specs.ObservationSpec) -> AgentFeatures:
  """The float features a source agent's network reads for observations of `spec`."""
  return AgentFeatures(spec)
