"""The adversarial bandit: Bernoulli arms, episode length, and the two task distributions."""

import numpy as np
import pytest
from tf_agents.environments import utils as env_utils

import ad_tf.envs


def pull_episode(probs, arms, seed=0):
  env = ad_tf.envs.load('bandit', {'probs': probs}, seed=seed)
  env.reset()
  return [env.step(np.int32(a)) for a in arms]


def test_certain_arms_always_or_never_pay():
  probs = [0.0] * 10
  probs[3] = 1.0
  steps = pull_episode(probs, [3] * 50 + [4] * 50)
  rewards = [float(s.reward) for s in steps]
  assert rewards == [1.0] * 50 + [0.0] * 50


def test_episode_is_100_pulls():
  steps = pull_episode([0.5] * 10, [0] * 100)
  assert steps[-1].is_last() and not any(s.is_last() for s in steps[:-1])
  assert all(int(s.observation) == 0 for s in steps)  # No information in the observation.


def test_pull_frequency_matches_the_probability():
  env = ad_tf.envs.load('bandit', {'probs': [0.3] * 10}, seed=1)
  rewards = []
  for _ in range(100):
    env.reset()
    rewards += [float(env.step(np.int32(a)).reward) for a in np.arange(100) % 10]
  mean = np.mean(rewards)  # 10,000 pulls: std of the mean is 0.0046.
  assert abs(mean - 0.3) < 0.02


def test_episodes_draw_fresh_rewards_and_seeds_reproduce():
  a = [float(s.reward) for s in pull_episode([0.5] * 10, [0] * 100, seed=5)]
  b = [float(s.reward) for s in pull_episode([0.5] * 10, [0] * 100, seed=5)]
  c = [float(s.reward) for s in pull_episode([0.5] * 10, [0] * 100, seed=6)]
  assert a == b and a != c


@pytest.mark.parametrize('split, best_parity', [('train', 1), ('test', 0)])
def test_best_arm_parity_is_favoured_in_95_percent_of_tasks(split, best_parity):
  tasks = ad_tf.envs.sample_tasks('bandit', split, 4000, seed=0)
  best = np.array([np.argmax(t['probs']) for t in tasks])
  favoured = np.mean(best % 2 == best_parity)
  assert abs(favoured - 0.95) < 0.015  # Std of the fraction: 0.0034.
  assert len(set(best[best % 2 == best_parity])) == 5  # Spread over all arms of that parity.


def test_oracle_is_100_times_the_best_probability():
  probs = np.linspace(0.0, 0.9, 10)
  assert ad_tf.envs.oracle_return('bandit', {'probs': probs}) == pytest.approx(90.0)


def test_validate_py_environment():
  env = ad_tf.envs.load('bandit', {'probs': np.full(10, 0.5)}, seed=0)
  env_utils.validate_py_environment(env, episodes=2)


@pytest.mark.parametrize('probs, message', [
    ([0.5] * 9, 'must be 10 numbers'),
    ([1.5] + [0.5] * 9, r'must lie in \[0, 1\]'),
])
def test_bad_task_is_one_clear_error(probs, message):
  with pytest.raises(ValueError, match=message):
    ad_tf.envs.load('bandit', {'probs': probs})


def test_bad_arm_is_one_clear_error():
  env = ad_tf.envs.load('bandit', {'probs': [0.5] * 10}, seed=0)
  env.reset()
  with pytest.raises(ValueError, match=r'0\.\.9'):
    env.step(np.int32(10))
