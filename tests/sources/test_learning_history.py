"""LearningHistories: episode selection and assembly from batched collection."""

import numpy as np

from ad_tf.sources import learning_history


def test_from_time_major_episodes_and_select_episodes():
  # Two episodes of L = 2 steps for A = 3 actors, time-major as a batched loop collects them.
  episodes = [(np.full((3, 3, 2), e), np.full((2, 3), e), np.full((2, 3), float(e)),
               np.full((2, 3, 5), 0.2)) for e in range(2)]
  episodes[1][1][:, 2] = 7  # Actor 2's actions in episode 1.
  histories = learning_history.LearningHistories.from_time_major_episodes(episodes)
  assert histories.observations.shape == (3, 2, 3, 2)
  assert histories.actions.shape == (3, 2, 2) and histories.num_actors == 3
  assert histories.action_probs.shape == (3, 2, 2, 5)
  assert histories.actions[2, 1].tolist() == [7, 7] and histories.actions[1, 1].tolist() == [1, 1]
  np.testing.assert_array_equal(histories.returns(), [[0, 2], [0, 2], [0, 2]])
  last = histories.select_episodes(np.array([1]))
  assert last.num_episodes == 1 and last.actions[2, 0].tolist() == [7, 7]
