"""Dark Room and Dark Room Hard against the paper's rules, with hand-worked episodes."""

import numpy as np
import pytest
from tf_agents.environments import utils as env_utils

import ad_tf.envs
from tests.envs.rollout_helpers import DOWN, LEFT, NOOP, RIGHT, UP, path, run_actions


def reset(name, goal):
  env = ad_tf.envs.load(name, {'goal': goal})
  return env, env.reset()


def test_starts_at_the_centre_and_observes_only_its_position():
  env, first = reset('darkroom', [0, 0])
  assert first.observation.tolist() == [4, 4]
  assert first.is_first()
  assert env.observation_spec().shape == (2,)
  _, hard_first = reset('darkroom_hard', [0, 0])
  assert hard_first.observation.tolist() == [8, 8]


def test_action_directions():
  env, _ = reset('darkroom', [0, 0])
  observations, _, _ = run_actions(env, [UP, RIGHT, DOWN, DOWN, LEFT, LEFT, NOOP])
  assert observations == [[4, 5], [5, 5], [5, 4], [5, 3], [4, 3], [3, 3], [3, 3]]


def test_walking_into_a_wall_stays_put():
  env, _ = reset('darkroom', [8, 8])
  observations, rewards, _ = run_actions(env, [LEFT] * 6 + [DOWN] * 6)
  assert observations[3] == [0, 4]
  assert observations[4] == [0, 4] and observations[5] == [0, 4]  # Two bumps into x = 0.
  assert observations[-1] == [0, 0]
  assert rewards == [0.0] * 12


def test_staying_on_the_goal_earns_every_step_until_the_episode_ends():
  env, _ = reset('darkroom', [4, 6])
  observations, rewards, steps = run_actions(env, [UP, UP] + [NOOP] * 18)
  assert rewards == [0.0] + [1.0] * 19  # Arrives on step 2, then 18 more steps on the goal.
  assert observations[-1] == [4, 6]
  assert steps[-1].is_last() and not any(s.is_last() for s in steps[:-1])
  assert float(steps[-1].discount) == 1.0  # A time limit, not a terminal state.


def test_leaving_the_goal_stops_the_reward_and_returning_restarts_it():
  env, _ = reset('darkroom', [5, 4])
  _, rewards, _ = run_actions(env, [RIGHT, RIGHT, LEFT, NOOP])
  assert rewards == [1.0, 0.0, 1.0, 1.0]


def test_goal_at_the_centre_pays_every_step():
  env, _ = reset('darkroom', [4, 4])
  _, rewards, _ = run_actions(env, [NOOP] * 20)
  assert sum(rewards) == 20.0


def test_episode_is_20_steps_then_resets_to_the_centre():
  env, _ = reset('darkroom', [0, 0])
  _, _, steps = run_actions(env, [UP] * 20)
  assert steps[-1].is_last()
  restarted = env.step(np.int32(UP))  # tf_agents auto-reset: the next step starts an episode.
  assert restarted.is_first()
  assert restarted.observation.tolist() == [4, 4]


def test_hard_pays_only_the_first_arrival_in_an_episode():
  env, _ = reset('darkroom_hard', [8, 10])
  _, rewards, _ = run_actions(env, [UP, UP, NOOP, DOWN, UP] + [NOOP] * 15)
  assert rewards == [0.0, 1.0] + [0.0] * 18
  next_episode = run_actions(env, [NOOP])  # Resets.
  del next_episode
  _, rewards, _ = run_actions(env, [UP, UP] + [NOOP] * 18)
  assert sum(rewards) == 1.0  # Paid again in the next episode.


def test_hard_grid_is_17_wide():
  env, _ = reset('darkroom_hard', [16, 16])
  observations, rewards, _ = run_actions(env, path([8, 8], [16, 16]) + [RIGHT, UP])
  assert observations[-1] == [16, 16]
  assert rewards[15] == 1.0 and sum(rewards) == 1.0


@pytest.mark.parametrize('goal, oracle', [
    ([4, 4], 20.0),   # Centre: a reward on every one of the 20 steps.
    ([4, 5], 20.0),   # One step away: arrives on step 1, then stays.
    ([0, 0], 13.0),   # Eight steps away: steps 8..20.
    ([8, 0], 13.0),
    ([2, 7], 16.0),   # Five steps away.
])
def test_oracle_hand_worked(goal, oracle):
  assert ad_tf.envs.oracle_return('darkroom', {'goal': goal}) == oracle


def test_oracle_is_achieved_by_walking_straight_to_the_goal():
  for goal in ([0, 0], [2, 7], [4, 4], [8, 3]):
    env, _ = reset('darkroom', goal)
    actions = path([4, 4], goal) or [NOOP]
    _, rewards, _ = run_actions(env, (actions + [NOOP] * 20)[:20])
    assert sum(rewards) == ad_tf.envs.oracle_return('darkroom', {'goal': goal})


def test_mean_oracle_over_all_goals():
  tasks = ad_tf.envs.get_family('darkroom').all_tasks()
  assert len(tasks) == 81
  mean = np.mean([ad_tf.envs.oracle_return('darkroom', t) for t in tasks])
  assert mean == pytest.approx(16.54, abs=0.005)
  hard = ad_tf.envs.get_family('darkroom_hard').all_tasks()
  assert len(hard) == 17 * 17
  assert {ad_tf.envs.oracle_return('darkroom_hard', t) for t in hard} == {1.0}


@pytest.mark.parametrize('name', ['darkroom', 'darkroom_hard'])
def test_validate_py_environment(name):
  env = ad_tf.envs.load(name, {'goal': [1, 2]})
  env_utils.validate_py_environment(env, episodes=3)


@pytest.mark.parametrize('goal, message', [
    ([9, 0], 'outside the 9x9 grid'),
    ([-1, 3], 'outside the 9x9 grid'),
    ([1, 2, 3], 'must be two integers'),
    ([1.5, 2.0], 'must be two integers'),
])
def test_bad_goal_is_one_clear_error(goal, message):
  with pytest.raises(ValueError, match=message):
    ad_tf.envs.load('darkroom', {'goal': goal})


@pytest.mark.parametrize('action', [5, -1, 2.0, [1, 2]])
def test_bad_action_is_one_clear_error(action):
  env, _ = reset('darkroom', [0, 0])
  with pytest.raises(ValueError, match=r'allowed.*0\.\.4 \(0 up, 1 down, 2 left, 3 right, 4 no-op\)'):
    env.step(np.asarray(action))
