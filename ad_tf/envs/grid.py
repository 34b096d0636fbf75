"""Movement on the square grids of Dark Room and Key-to-Door.

Coordinates are (x, y) with 0 <= x, y < size. Actions: 0 up (y + 1), 1 down (y - 1),
2 left (x - 1), 3 right (x + 1), 4 no-op. A move into a wall leaves the agent where it is.
"""

import numpy as np
import tensorflow as tf

from ad_tf.envs import specs

ACTION_NAMES = ('up', 'down', 'left', 'right', 'no-op')
NUM_ACTIONS = len(ACTION_NAMES)
MOVES = np.array([[0, 1], [0, -1], [-1, 0], [1, 0], [0, 0]], dtype=np.int32)
ACTIONS_HELP = ', '.join(f'{i} {n}' for i, n in enumerate(ACTION_NAMES))


def move_np(position: np.ndarray, action: int, size: int) -> np.ndarray:
  """The cell reached from `position` by `action` (walls stop the agent)."""
  return np.clip(position + MOVES[action], 0, size - 1).astype(np.int32)


def move_tf(position: tf.Tensor, action: tf.Tensor, size: int) -> tf.Tensor:
  """Batched `move_np`: position [B, 2] int32, action [B] int32."""
  return tf.clip_by_value(position + tf.gather(MOVES, action), 0, size - 1)


def manhattan(a, b) -> int:
  return int(np.abs(np.asarray(a) - np.asarray(b)).sum())


def all_cells(size: int) -> np.ndarray:
  """Every cell of the grid, [size * size, 2], ordered by (y, x)."""
  ys, xs = np.meshgrid(np.arange(size), np.arange(size), indexing='ij')
  return np.stack([xs.ravel(), ys.ravel()], axis=-1).astype(np.int32)


def validate_cell(env_name: str, task: dict, key: str, size: int) -> np.ndarray:
  """`task[key]` as int32 [2] inside the grid, or one ValueError saying what is allowed."""
  if key not in task:
    raise ValueError(f'{env_name}: task {task!r} has no {key!r}; expected a dict with '
                     f'{key!r}: [x, y] (integers in 0..{size - 1}).')
  value = np.asarray(task[key])
  if value.shape != (2,) or not np.issubdtype(value.dtype, np.integer):
    raise ValueError(f'{env_name}: task[{key!r}] = {task[key]!r} must be two integers [x, y] '
                     f'(got shape {value.shape}, dtype {value.dtype}).')
  if value.min() < 0 or value.max() >= size:
    raise ValueError(f'{env_name}: task[{key!r}] = {value.tolist()} is outside the '
                     f'{size}x{size} grid; x and y must be in 0..{size - 1}.')
  return value.astype(np.int32)


def env_spec(name: str, size: int, episode_length: int) -> specs.EnvSpec:
  """The spec of a grid environment: the agent's own cell observed, the five moves."""
  return specs.EnvSpec(name, specs.grid_cell(size), NUM_ACTIONS, episode_length)
