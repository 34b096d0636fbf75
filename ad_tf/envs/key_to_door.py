"""Dark Key-to-Door (AD paper, section 4.1).

A 9x9 grid with the Dark Room actions; every episode lasts 50 steps and starts at a cell drawn
uniformly at random. The agent observes only its own (x, y). Reward 1 on the first step that
ends on the key cell; after that (on a later step) reward 1 on the first step that ends on the
door cell; 0 otherwise. A task is a (key, door) pair of cells, which may coincide, so there are
81^2 tasks. The start of episode e is `counter_random.hash(seed, e, -1) mod 81`, so a
PyEnvironment and the batched TF environment with the same seed start in the same cells.
"""

import itertools
from typing import List

import numpy as np
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from ad_tf.envs import batched_environment
from ad_tf.envs import counter_random
from ad_tf.envs import family
from ad_tf.envs import grid
from ad_tf.envs import specs

# The `step` argument of the hash that draws an episode's start cell.
_START_DRAW = -1


def start_cell_index_np(seed, episode, size: int):
  return counter_random.hash_np(seed, episode, _START_DRAW) % (size * size)


class KeyToDoorEnvironment(family.SpecPyEnvironment):
  """One Key-to-Door task as a tf_agents PyEnvironment (episodes end by time limit)."""

  def __init__(self, key, door, seed: int, size: int = 9, episode_length: int = 50,
               name: str = 'key_to_door'):
    super().__init__(grid.env_spec(name, size, episode_length))
    self._name = name
    self._size = size
    self._episode_length = episode_length
    self._seed = seed
    self._key = grid.validate_cell(name, {'key': key}, 'key', size)
    self._door = grid.validate_cell(name, {'door': door}, 'door', size)
    self._episode = -1

  def _reset(self):
    self._episode += 1
    index = int(start_cell_index_np(self._seed, self._episode, self._size))
    self._position = np.array([index % self._size, index // self._size], dtype=np.int32)
    self._t = 0
    self._has_key = False
    self._door_opened = False
    return ts.restart(self._position.copy())

  def _step(self, action):
    action = family.check_action(self._name, action, grid.NUM_ACTIONS, grid.ACTIONS_HELP)
    self._position = grid.move_np(self._position, action, self._size)
    reward = 0.0
    if not self._has_key:
      if np.array_equal(self._position, self._key):
        self._has_key = True
        reward = 1.0
    elif not self._door_opened and np.array_equal(self._position, self._door):
      self._door_opened = True
      reward = 1.0
    self._t += 1
    if self._t >= self._episode_length:
      return ts.truncation(self._position.copy(), np.float32(reward))
    return ts.transition(self._position.copy(), np.float32(reward))


class BatchedKeyToDoor(batched_environment.BatchedEnvironment):
  """Key-to-Door for B tasks at once, in TF ops."""

  def __init__(self, spec: specs.EnvSpec):
    self.spec = spec
    self._size = spec.observation.grid_size

  def task_state(self, tasks):
    return {'key': tf.cast(tasks['key'], tf.int32), 'door': tf.cast(tasks['door'], tf.int32)}

  def _start(self, state):
    index = counter_random.hash_tf(state['seed'], state['episode'], _START_DRAW)
    index = tf.cast(index % (self._size * self._size), tf.int32)
    state['position'] = tf.stack([index % self._size, index // self._size], axis=-1)
    state['has_key'] = tf.zeros_like(index, tf.bool)
    state['door_opened'] = tf.zeros_like(index, tf.bool)
    return state

  def _transition(self, state, action):
    position = grid.move_tf(state['position'], action, self._size)
    at_key = tf.reduce_all(tf.equal(position, state['key']), axis=-1)
    at_door = tf.reduce_all(tf.equal(position, state['door']), axis=-1)
    takes_key = tf.logical_and(tf.logical_not(state['has_key']), at_key)
    opens_door = tf.logical_and(state['has_key'],
                                tf.logical_and(tf.logical_not(state['door_opened']), at_door))
    state['position'] = position
    state['has_key'] = tf.logical_or(state['has_key'], takes_key)
    state['door_opened'] = tf.logical_or(state['door_opened'], opens_door)
    return state, tf.cast(tf.logical_or(takes_key, opens_door), tf.float32)

  def observe(self, state):
    return state['position']


class KeyToDoorFamily(family.FiniteTaskFamily):
  """Key-to-Door tasks (one per (key, door) pair) and both implementations."""

  # The key pays first, so a return of 1 means the key was found and 2 that the door opened too.
  milestones = {'key found': 1.0, 'door opened': 2.0}

  def __init__(self, size: int = 9, episode_length: int = 50, name: str = 'key_to_door'):
    self.spec = grid.env_spec(name, size, episode_length)
    self.size = size

  def validate_task(self, task):
    if not isinstance(task, dict):
      raise ValueError(f'{self.name}: a task is a dict {{"key": [x, y], "door": [x, y]}}, '
                       f'got {task!r}.')
    return {'key': grid.validate_cell(self.name, task, 'key', self.size),
            'door': grid.validate_cell(self.name, task, 'door', self.size)}

  def oracle_return(self, task) -> float:
    # Expected over the uniform start cell: the key needs max(d(start, key), 1) steps and the
    # door max(d(key, door), 1) more (it must be a later step than the key's).
    to_door = max(grid.manhattan(task['key'], task['door']), 1)
    total = 0.0
    for start in grid.all_cells(self.size):
      to_key = max(grid.manhattan(start, task['key']), 1)
      total += float(to_key <= self.episode_length)
      total += float(to_key + to_door <= self.episode_length)
    return total / (self.size * self.size)

  def all_tasks(self) -> List[family.Task]:
    cells = grid.all_cells(self.size)
    return [{'key': key, 'door': door} for key, door in itertools.product(cells, cells)]

  def py_environment(self, task, seed):
    return KeyToDoorEnvironment(task['key'], task['door'], seed, self.size, self.episode_length,
                                self.name)

  def batched(self):
    return BatchedKeyToDoor(self.spec)
