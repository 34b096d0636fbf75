"""Small helpers for environment tests: drive a PyEnvironment by action names."""

import numpy as np

from ad_tf.envs import grid

UP, DOWN, LEFT, RIGHT, NOOP = range(5)


def run_actions(env, actions):
  """Steps `env` through `actions` (already reset); returns (observations, rewards, time_steps)."""
  steps = [env.step(np.int32(a)) for a in actions]
  return ([s.observation.tolist() for s in steps], [float(s.reward) for s in steps], steps)


def path(start, target):
  """Actions that walk from `start` to `target`: first along x, then along y."""
  dx, dy = int(target[0]) - int(start[0]), int(target[1]) - int(start[1])
  return ([RIGHT] * dx if dx > 0 else [LEFT] * -dx) + ([UP] * dy if dy > 0 else [DOWN] * -dy)


assert grid.ACTION_NAMES == ('up', 'down', 'left', 'right', 'no-op')
