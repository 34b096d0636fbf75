"""DQN with a real Reverb replay table learns Dark Room within one history."""

import numpy as np

import ad_tf.envs
from ad_tf.sources import dqn

GOAL = {'goal': np.array([2, 6], np.int32)}  # Four steps from the centre: oracle 17.


def test_history_goes_from_random_to_near_oracle():
  source = dqn.DqnSource('darkroom', num_episodes=200, epsilon_decay_episodes=100)
  histories = source.learn(GOAL, seed=3)
  assert histories.actions.shape == (1, 200, 20)
  returns = histories.returns()[0]
  oracle = ad_tf.envs.oracle_return('darkroom', GOAL)
  assert returns[:20].mean() <= 0.3 * oracle
  assert returns[-20:].mean() >= 0.8 * oracle


def test_epsilon_decays_linearly_to_its_floor():
  source = dqn.DqnSource('darkroom', num_episodes=1, epsilon_start=1.0, epsilon_end=0.1,
                         epsilon_decay_episodes=10)
  assert source.epsilon(0) == 1.0
  assert abs(source.epsilon(5) - 0.55) < 1e-9
  assert source.epsilon(10) == source.epsilon(50) == 0.1
