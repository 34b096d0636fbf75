"""Observations as numbers, chosen from the environment's observation spec (one factory each).

`observation_encoder` gives the transformer's observation embedding (summed into a step token);
`agent_features` gives the float features a source agent's network reads. These two factories
are the only place outside `ad_tf.envs` that looks at an observation's kind.
"""

from typing import Dict, Mapping, Optional

import gin
import numpy as np
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
  `input_pool` > 1 (not in the paper; for CPU budgets) averages input_pool x input_pool pixels
  before the first block. `batch_norm_decay` is the moving statistics' decay (the paper's 0.999):
  evaluation normalises with those statistics, which after n training steps still weigh their
  initial values by decay^n (0.999^2000 = 0.14).
  """

  def __init__(self, embedding_dim: int, channels: int = 128, kernel: int = 5, stride: int = 2,
               num_blocks: int = 3, hidden_units: int = 256, dropout: float = 0.2,
               input_pool: int = 1, batch_norm_decay: float = 0.999, **kwargs):
    super().__init__(**kwargs)
    #: Its sizes, as the model record keeps them: a restored model is rebuilt from these, not
    #: from whatever gin bindings are in scope where it is restored.
    self.hyperparameters = {
        'architecture': 'conv', 'channels': channels, 'kernel': kernel, 'stride': stride,
        'num_blocks': num_blocks,
        'hidden_units': hidden_units, 'dropout': dropout, 'input_pool': input_pool,
        'batch_norm_decay': batch_norm_decay}
    self._blocks = []
    if input_pool > 1:
      self._blocks.append(tf.keras.layers.AveragePooling2D(input_pool, padding='same'))
    for i in range(num_blocks):
      self._blocks += [
          tf.keras.layers.Conv2D(channels, kernel, stride, padding='same', name=f'conv_{i}'),
          tf.keras.layers.BatchNormalization(momentum=batch_norm_decay, epsilon=1e-5,
                                             name=f'norm_{i}'),
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


@gin.configurable
class ColumnObservationEncoder(tf.keras.layers.Layer):
  """uint8 frames [..., H, W, C] -> [..., D], reading each image column whole first.

  Not in the paper; for first-person frames of a ray-cast arena (Watermaze), where a column is
  one slice of wall: its colour says which landmark is in that direction, its height how far the
  wall is. One dense layer of `channels` ReLU units reads each column (all its rows and colours,
  after `input_pool` x `input_pool` averaging), `num_blocks` 1-D convolutions (kernel `kernel`,
  stride 2, ReLU) combine neighbouring columns, then a `hidden_units` ReLU layer and the
  projection to the embedding size D. The Table 3 encoder's square kernels, strides and pooling
  take a 72x96 frame to 1x1 and blur the wall's height; this one keeps it. Trained alone to
  regress the pose, it reads ~96% of x's variance in 500 steps where the Table 3 encoder at the
  CPU default's sizes reads ~72% in 600 (docs/WATERMAZE.md, W9). No BatchNorm or dropout:
  evaluation computes exactly what training did.
  """

  def __init__(self, embedding_dim: int, channels: int = 32, num_blocks: int = 2, kernel: int = 5,
               hidden_units: int = 128, input_pool: int = 2, **kwargs):
    super().__init__(**kwargs)
    self.hyperparameters = {
        'architecture': 'columns', 'channels': channels, 'num_blocks': num_blocks,
        'kernel': kernel, 'hidden_units': hidden_units, 'input_pool': input_pool}
    self._pool = (tf.keras.layers.AveragePooling2D(input_pool, padding='same')
                  if input_pool > 1 else None)
    self._column = tf.keras.layers.Dense(channels, activation='relu', name='column')
    self._blocks = [tf.keras.layers.Conv1D(channels, kernel, 2, padding='same', activation='relu',
                                           name=f'across_columns_{i}') for i in range(num_blocks)]
    self._flatten = tf.keras.layers.Flatten()
    self._hidden = tf.keras.layers.Dense(hidden_units, activation='relu', name='hidden')
    self._projection = tf.keras.layers.Dense(embedding_dim, name='projection')

  def call(self, observation, training=None):
    del training  # No layer behaves differently in training.
    height, width, channels = observation.shape[-3:]
    leading = tf.shape(observation)[:-3]
    x = tf.reshape(tf.cast(observation, tf.float32) / 255.0, [-1, height, width, channels])
    if self._pool is not None:
      x = self._pool(x)
    _, height, width, channels = x.shape
    # [N, H, W, C] -> [N, W, H * C]: one vector per column.
    x = tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [-1, width, height * channels])
    x = self._column(x)
    for block in self._blocks:
      x = block(x)
    x = self._projection(self._hidden(self._flatten(x)))
    return tf.reshape(x, tf.concat([leading, [-1]], 0))


#: The image encoders, by the name gin (`image_encoder_architecture.architecture`) and a model
#: record (its encoder's 'architecture') give them: the paper's Table 3 encoder and the column
#: reader. A record without the name (written before there was a choice) is the Table 3 one.
IMAGE_ENCODERS = {'conv': ImageObservationEncoder, 'columns': ColumnObservationEncoder}


@gin.configurable
def image_encoder_architecture(architecture: str = 'conv') -> str:
  """Which image encoder a model gets when no record names one (gin-configured)."""
  return _known_architecture(architecture, 'gin: image_encoder_architecture.architecture')


def _known_architecture(architecture: str, where: str) -> str:
  if architecture not in IMAGE_ENCODERS:
    raise ValueError(f'Unknown image encoder architecture {architecture!r} ({where}); known: '
                     f'{sorted(IMAGE_ENCODERS)}.')
  return architecture


def _unsupported(spec: specs.ObservationSpec, what: str) -> NotImplementedError:
  return NotImplementedError(f'No {what} for {spec.kind!r} observations yet; supported kinds: '
                             f'{specs.GRID_CELL!r}, {specs.NONE!r}.')


def observation_encoder(spec: specs.ObservationSpec, embedding_dim: int,
                        hyperparameters: Optional[Mapping[str, object]] = None
                        ) -> tf.keras.layers.Layer:
  """The transformer's encoder for observations of `spec`: [B, T, *shape] -> [B, T, D].

  `hyperparameters`: the sizes of an encoder that has some (`encoder_hyperparameters` of a built
  one, e.g. from a model record); None takes the gin-configured ones. Grid and empty
  observations have none to give.
  """
  if hyperparameters and spec.kind != specs.IMAGE:
    raise ValueError(f'The {spec.kind!r} observation encoder has no hyperparameters; got '
                     f'{dict(hyperparameters)}.')
  if spec.kind == specs.GRID_CELL:
    return GridObservationEncoder(spec.grid_size, embedding_dim, name='observation_encoder')
  if spec.kind == specs.NONE:
    return NoObservationEncoder(embedding_dim, name='observation_encoder')
  if spec.kind == specs.IMAGE:
    sizes = dict(hyperparameters or {})
    architecture = (_known_architecture(sizes.pop('architecture', 'conv'), "the model record's "
                                        'observation_encoder') if sizes
                    else image_encoder_architecture())
    return IMAGE_ENCODERS[architecture](embedding_dim, name='observation_encoder', **sizes)
  raise _unsupported(spec, 'transformer encoder')


def encoder_hyperparameters(encoder: tf.keras.layers.Layer) -> Dict[str, object]:
  """The sizes `observation_encoder` needs to rebuild `encoder` ({} for one that has none)."""
  return dict(getattr(encoder, 'hyperparameters', {}))


#: Heading bins of a pose's features (Watermaze turns by 30 degrees: one bin per heading).
POSE_HEADINGS = 12


class AgentFeatures:
  """A source agent's view of observations of one spec: `encode` [B, *shape] -> [B, size].

  Grid cells become one-hot x concatenated with one-hot y (a tabular-friendly input for an MLP);
  observations without information give a single constant feature; a pose (an agent's privileged
  state) gives x, y, cos and sin of the heading, then one-hot x cell, y cell and heading bin.
  """

  def __init__(self, spec: specs.ObservationSpec):
    if spec.kind not in (specs.GRID_CELL, specs.NONE, specs.POSE):
      raise _unsupported(spec, 'source-agent features')
    self._spec = spec
    self.size = {specs.GRID_CELL: 2 * (spec.grid_size or 0), specs.NONE: 1,
                 specs.POSE: 4 + 2 * (spec.grid_size or 0) + POSE_HEADINGS}[spec.kind]
    #: Distinct cells an observation can name (count-based exploration), or None.
    self.num_cells = (spec.grid_size ** 2 * POSE_HEADINGS if spec.kind == specs.POSE
                      else spec.num_cells)

  def tensor_spec(self) -> tf.TensorSpec:
    return tensor_spec.TensorSpec([self.size], tf.float32, name='observation')

  def encode(self, observation: tf.Tensor) -> tf.Tensor:
    if self._spec.kind == specs.NONE:
      return tf.ones([tf.shape(observation)[0], 1], tf.float32)
    if self._spec.kind == specs.POSE:
      x, y, heading = tf.unstack(observation, axis=-1)
      cells = self._pose_cells(observation)
      size = self._spec.grid_size
      continuous = tf.stack([x / self._spec.maximum, y / self._spec.maximum, tf.cos(heading),
                             tf.sin(heading)], axis=-1)
      return tf.concat([tf.cast(continuous, tf.float32),
                        tf.one_hot(cells[..., 0], size), tf.one_hot(cells[..., 1], size),
                        tf.one_hot(cells[..., 2], POSE_HEADINGS)], axis=-1)
    size = self._spec.grid_size
    return tf.concat([tf.one_hot(observation[:, 0], size), tf.one_hot(observation[:, 1], size)],
                     axis=-1)


  def _pose_cells(self, pose: tf.Tensor) -> tf.Tensor:
    """[..., 3] poses -> [..., 3] int32 (x cell, y cell, heading bin)."""
    low, high, size = self._spec.minimum, self._spec.maximum, self._spec.grid_size
    position = tf.cast(tf.floor((pose[..., :2] - low) / (high - low) * size), tf.int32)
    heading = tf.cast(tf.floor(tf.math.floormod(pose[..., 2], 2 * np.pi) / (2 * np.pi)
                               * POSE_HEADINGS + 0.5), tf.int32) % POSE_HEADINGS
    return tf.concat([tf.clip_by_value(position, 0, size - 1), heading[..., None]], axis=-1)

  def cell_index(self, observation: tf.Tensor) -> tf.Tensor:
    """[..., 2] grid cells (or [..., 3] poses) -> [...] indices in 0..num_cells - 1."""
    if self.num_cells is None:
      raise ValueError(f'{self._spec.kind!r} observations name no cells.')
    if self._spec.kind == specs.POSE:
      cells = self._pose_cells(observation)
      return (cells[..., 0] * self._spec.grid_size + cells[..., 1]) * POSE_HEADINGS + cells[..., 2]
    return observation[..., 0] * self._spec.grid_size + observation[..., 1]


def agent_features(spec: specs.ObservationSpec) -> AgentFeatures:
  """The float features a source agent's network reads for observations of `spec`."""
  return AgentFeatures(spec)
