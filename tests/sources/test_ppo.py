"""PPO really learns: its histories go from random to near-oracle, reproducibly."""

import numpy as np

import ad_tf.envs
from ad_tf.sources import ppo

GOAL = {'goal': np.array([1, 7], np.int32)}  # Six steps from the centre: oracle 15.


def test_history_goes_from_random_to_near_oracle_and_repeats_for_a_seed():
  source = ppo.PpoSource('darkroom', num_actors=20, num_iterations=100, learning_rate=1e-3)
  histories = source.learn(GOAL, seed=3)
  assert histories.actions.shape == (20, 100, 20)
  assert histories.observations.shape == (20, 100, 21, 2)
  returns = histories.returns().mean(axis=0)  # Mean over actors, per episode.
  oracle = ad_tf.envs.oracle_return('darkroom', GOAL)
  assert returns[:10].mean() <= 0.3 * oracle
  assert returns[-10:].mean() >= 0.8 * oracle
  # Every episode starts at the centre and each step follows the grid rules.
  np.testing.assert_array_equal(histories.observations[:, :, 0], 4)
  moves = np.abs(np.diff(histories.observations, axis=2)).sum(-1)
  assert moves.max() <= 1
  # The rewards are the environment's: 1 exactly when the step ends on the goal.
  on_goal = np.all(histories.observations[:, :, 1:] == GOAL['goal'], axis=-1)
  np.testing.assert_array_equal(histories.rewards, on_goal.astype(np.float32))
  # Same seed, same histories, even after another task ran in between (fresh weights per task).
  source.learn({'goal': np.array([6, 2], np.int32)}, seed=4)
  again = source.learn(GOAL, seed=3)
  np.testing.assert_array_equal(again.actions[:, :20], histories.actions[:, :20])
