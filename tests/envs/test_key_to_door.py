"""Key-to-Door against the paper's rules, with hand-worked episodes."""

import collections

import numpy as np
import pytest
from tf_agents.environments import utils as env_utils

import ad_tf.envs
from tests.envs.rollout_helpers import LEFT, NOOP, RIGHT, path, run_actions

SEED = 7


def start_of_first_episode(seed=SEED):
  env = ad_tf.envs.load('key_to_door', {'key': [0, 0], 'door': [0, 0]}, seed=seed)
  return env.reset().observation.tolist()


def env_with(key, door, seed=SEED):
  env = ad_tf.envs.load('key_to_door', {'key': key, 'door': door}, seed=seed)
  env.reset()
  return env


def far_cell(start, dx):
  """A cell in the same row as `start`, dx columns away towards the middle of the grid."""
  return [start[0] + dx if start[0] < 4 else start[0] - dx, start[1]]


def test_start_depends_only_on_seed_and_episode():
  start = start_of_first_episode()
  assert env_with([3, 3], [5, 5]).current_time_step().observation.tolist() == start


def test_key_then_door_pays_one_each():
  start = start_of_first_episode()
  key, door = far_cell(start, 2), far_cell(start, 4)
  env = env_with(key, door)
  _, rewards, steps = run_actions(env, path(start, key) + path(key, door))
  assert rewards == [0.0, 1.0, 0.0, 1.0]
  _, later, _ = run_actions(env, path(door, key) + path(key, door) + [NOOP])
  assert sum(later) == 0.0  # Each reward only the first time in an episode.
  assert not steps[-1].is_last()


def test_door_before_key_pays_nothing():
  start = start_of_first_episode()
  door, key = far_cell(start, 2), far_cell(start, 4)
  env = env_with(key, door)
  _, rewards, _ = run_actions(env, path(start, door) + path(door, key) + path(key, door))
  assert rewards == [0.0, 0.0, 0.0, 1.0, 0.0, 1.0]  # Door (no key): 0; key: 1; door again: 1.


def test_key_and_door_on_the_same_cell_need_a_later_step_for_the_door():
  start = start_of_first_episode()
  cell = far_cell(start, 1)
  env = env_with(cell, cell)
  _, rewards, _ = run_actions(env, path(start, cell) + [NOOP, NOOP])
  assert rewards == [1.0, 1.0, 0.0]


def test_episode_lasts_50_steps_and_starts_vary():
  env = ad_tf.envs.load('key_to_door', {'key': [0, 0], 'door': [8, 8]}, seed=SEED)
  starts = collections.Counter()
  for _ in range(400):
    starts[tuple(env.reset().observation.tolist())] += 1
    _, _, steps = run_actions(env, [LEFT, RIGHT] * 25)
    assert steps[-1].is_last() and not any(s.is_last() for s in steps[:-1])
  assert len(starts) >= 75  # ~81 * (1 - exp(-400/81)) cells seen if uniform.
  assert max(starts.values()) < 20


def test_oracle_is_two():
  family = ad_tf.envs.get_family('key_to_door')
  tasks = family.all_tasks()
  assert len(tasks) == 81**2
  rng = np.random.default_rng(0)
  for i in rng.choice(len(tasks), 30, replace=False):
    assert ad_tf.envs.oracle_return('key_to_door', tasks[i]) == 2.0


def test_validate_py_environment():
  env_utils.validate_py_environment(env_with([1, 1], [7, 2]), episodes=3)


@pytest.mark.parametrize('task, message', [
    ({'key': [0, 0]}, "has no 'door'"),
    ({'key': [0, 9], 'door': [1, 1]}, 'outside the 9x9 grid'),
    ({'goal': [0, 0]}, "has no 'key'"),
])
def test_bad_task_is_one_clear_error(task, message):
  with pytest.raises(ValueError, match=message):
    ad_tf.envs.load('key_to_door', task, seed=0)
