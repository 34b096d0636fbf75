"""What an environment family declares once about its observations and actions.

Everything downstream is derived from these specs: the PyEnvironment's array specs, the RLDS
dataset features, the step-token schema and the transformer's observation encoder, the source
agents' input features and the exported SavedModel's signatures. Only `ad_tf.envs` and the
encoder factories (`ad_tf.model.encoders`) look at the observation's `kind`.

Kinds:
  'grid_cell' (x, y) int32 [2] on a square grid of `grid_size` (Dark Room, Key-to-Door);
  'none'      an int32 scalar that carries no information (the bandit);
  'image'     uint8 [height, width, channels] pixels;
  'pose'      float64 (x, y, heading) in a square [minimum, maximum]^2, heading in [0, 2 pi):
              never an observation, only an agent's privileged state (`EnvSpec.agent_state`).
"""

import dataclasses
from typing import Optional, Tuple

import numpy as np
import tensorflow as tf
from tf_agents.specs import array_spec

GRID_CELL = 'grid_cell'
NONE = 'none'
IMAGE = 'image'
POSE = 'pose'
OBSERVATION_KINDS = (GRID_CELL, NONE, IMAGE, POSE)


@dataclasses.dataclass(frozen=True)
class ObservationSpec:
  """One observation: its kind, shape (no batch dimension), dtype and value range."""

  kind: str
  shape: Tuple[int, ...]
  dtype: np.dtype
  minimum: int
  maximum: int
  #: Side of the square grid, for 'grid_cell' observations; for 'pose', the cells per side that
  #: a source agent's features and its count bonus cut the square into.
  grid_size: Optional[int] = None

  def __post_init__(self):
    if self.kind not in OBSERVATION_KINDS:
      raise ValueError(f'Unknown observation kind {self.kind!r}; known kinds are '
                       f'{OBSERVATION_KINDS}.')

  @property
  def tf_dtype(self) -> tf.DType:
    return tf.as_dtype(self.dtype)

  @property
  def num_cells(self) -> Optional[int]:
    """How many distinct cells there are ('grid_cell' only; None otherwise)."""
    return self.grid_size ** 2 if self.kind == GRID_CELL else None


def grid_cell(size: int) -> ObservationSpec:
  return ObservationSpec(GRID_CELL, (2,), np.dtype(np.int32), 0, size - 1, grid_size=size)


def no_observation() -> ObservationSpec:
  return ObservationSpec(NONE, (), np.dtype(np.int32), 0, 0)


def image(height: int, width: int, channels: int = 3) -> ObservationSpec:
  return ObservationSpec(IMAGE, (height, width, channels), np.dtype(np.uint8), 0, 255)


def pose(half_side: int, cells_per_side: int) -> ObservationSpec:
  return ObservationSpec(POSE, (3,), np.dtype(np.float64), -half_side, half_side,
                         grid_size=cells_per_side)


@dataclasses.dataclass(frozen=True)
class EnvSpec:
  """An environment family's interface: observation, discrete actions, fixed episode length."""

  name: str
  observation: ObservationSpec
  num_actions: int
  episode_length: int
  #: What a source agent reads instead of the observation, if anything (Watermaze: its pose,
  #: while AD sees only frames). Learning histories record it; the dataset stores observations.
  agent_state: Optional[ObservationSpec] = None

  @property
  def agent_view(self) -> ObservationSpec:
    """What a source agent reads: its privileged state if the family has one, else the
    observation."""
    return self.agent_state or self.observation

  def observation_array_spec(self) -> array_spec.BoundedArraySpec:
    obs = self.observation
    return array_spec.BoundedArraySpec(obs.shape, obs.dtype, minimum=obs.minimum,
                                       maximum=obs.maximum, name='observation')

  def action_array_spec(self) -> array_spec.BoundedArraySpec:
    return array_spec.BoundedArraySpec((), np.int32, minimum=0, maximum=self.num_actions - 1,
                                       name='action')

  def zero_observation(self) -> np.ndarray:
    return np.zeros(self.observation.shape, self.observation.dtype)


class DeclaresSpec:
  """Mixin of whatever has an environment's `spec`: its name, actions and episode length."""

  #: The observation and action specs, declared once.
  spec: EnvSpec

  @property
  def name(self) -> str:
    return self.spec.name

  @property
  def num_actions(self) -> int:
    return self.spec.num_actions

  @property
  def episode_length(self) -> int:
    return self.spec.episode_length
