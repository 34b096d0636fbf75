"""Dark Room and Dark Room Hard (AD paper, section 4.1).

Dark Room: a 9x9 grid; actions up/down/left/right/no-op (see `grid`); every episode lasts 20
steps and starts with the agent at the centre (4, 4). The agent observes only its own (x, y).
The reward is 1 on every step that ends on the goal cell, else 0. A task is a goal cell, so
there are 81 tasks.

Dark Room Hard: the same on a 17x17 grid starting at (8, 8), with the reward of 1 given only
the first time the goal is reached in an episode.
"""

from typing import List

import numpy as np
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from ad_tf.envs import batched_environment
from ad_tf.envs import family
from ad_tf.envs import grid
from ad_tf.envs import specs


class DarkRoomEnvironment(family.SpecPyEnvironment):
  """One Dark Room task as a tf_agents PyEnvironment (episodes end by time limit)."""

  def __init__(self, goal, size: int = 9, episode_length: int = 20,
               reward_once: bool = False, name: str = 'darkroom'):
    super().__init__(grid.env_spec(name, size, episode_length))
    self._name = name
    self._size = size
    self._episode_length = episode_length
    self._reward_once = reward_once
    self._goal = grid.validate_cell(name, {'goal': goal}, 'goal', size)
    self._position = None

  def _reset(self):
    self._position = np.full((2,), self._size // 2, dtype=np.int32)
    self._t = 0
    self._rewarded = False
    return ts.restart(self._position.copy())

  def _step(self, action):
    action = family.check_action(self._name, action, grid.NUM_ACTIONS, grid.ACTIONS_HELP)
    self._position = grid.move_np(self._position, action, self._size)
    on_goal = bool(np.array_equal(self._position, self._goal))
    reward = on_goal and not (self._reward_once and self._rewarded)
    self._rewarded = self._rewarded or on_goal
    self._t += 1
    if self._t >= self._episode_length:
      return ts.truncation(self._position.copy(), np.float32(reward))
    return ts.transition(self._position.copy(), np.float32(reward))


class BatchedDarkRoom(batched_environment.BatchedEnvironment):
  """Dark Room for B goals at once, in TF ops."""

  def __init__(self, spec: specs.EnvSpec, reward_once: bool):
    self.spec = spec
    self._size = spec.observation.grid_size
    self._reward_once = reward_once

  def task_state(self, tasks):
    return {'goal': tf.cast(tasks['goal'], tf.int32)}

  def _start(self, state):
    batch = tf.shape(state['goal'])[0]
    state['position'] = tf.fill([batch, 2], self._size // 2)
    state['rewarded'] = tf.zeros([batch], tf.bool)
    return state

  def _transition(self, state, action):
    state['position'] = grid.move_tf(state['position'], action, self._size)
    on_goal = tf.reduce_all(tf.equal(state['position'], state['goal']), axis=-1)
    reward = on_goal
    if self._reward_once:
      reward = tf.logical_and(on_goal, tf.logical_not(state['rewarded']))
    state['rewarded'] = tf.logical_or(state['rewarded'], on_goal)
    return state, tf.cast(reward, tf.float32)

  def observe(self, state):
    return state['position']


class DarkRoomFamily(family.FiniteTaskFamily):
  """Dark Room tasks (one per goal cell) and both implementations."""

  def __init__(self, name: str = 'darkroom', size: int = 9, episode_length: int = 20,
               reward_once: bool = False):
    self.spec = grid.env_spec(name, size, episode_length)
    self.size = size
    self.reward_once = reward_once
    # Dark Room pays on every step on the goal, Dark Room Hard once: either way a return of at
    # least 1 means the goal was reached.
    self.milestones = {'goal found': 1.0}

  def validate_task(self, task):
    if not isinstance(task, dict):
      raise ValueError(f'{self.name}: a task is a dict {{"goal": [x, y]}}, got {task!r}.')
    return {'goal': grid.validate_cell(self.name, task, 'goal', self.size)}

  def oracle_return(self, task) -> float:
    # Reaching the goal takes d steps (at least one step even when it is the start cell); every
    # step from then on earns 1, or only the first one in Hard.
    distance = grid.manhattan(task['goal'], [self.size // 2] * 2)
    first_reward_step = max(distance, 1)
    if first_reward_step > self.episode_length:
      return 0.0
    if self.reward_once:
      return 1.0
    return float(self.episode_length - first_reward_step + 1)

  def all_tasks(self) -> List[family.Task]:
    return [{'goal': cell} for cell in grid.all_cells(self.size)]

  def py_environment(self, task, seed):
    del seed  # Dark Room is deterministic given the task.
    return DarkRoomEnvironment(task['goal'], self.size, self.episode_length, self.reward_once,
                               self.name)

  def batched(self):
    return BatchedDarkRoom(self.spec, self.reward_once)
