"""`Source.learn_in_groups`: tasks in `tasks_per_call` groups, each task's histories its own."""

import numpy as np
import pytest

from ad_tf.sources import ppo

TASKS = [{'goal': np.array(goal, np.int32)} for goal in ([1, 7], [6, 2], [0, 8])]


def test_learn_in_groups_cuts_tasks_into_calls_and_keeps_their_order():
  settings = dict(num_actors=2, num_iterations=3, fc_layer_params=(8,))
  source = ppo.PpoSource('darkroom', tasks_per_call=2, **settings)
  groups = list(source.learn_in_groups(TASKS, [5, 6, 7]))
  assert [len(group) for group in groups] == [2, 1]
  alone = ppo.PpoSource('darkroom', **settings)
  for histories, task, seed in zip(groups[0] + groups[1], TASKS, [5, 6, 7]):
    np.testing.assert_array_equal(histories.actions, alone.learn(task, seed).actions)
  with pytest.raises(ValueError, match='one seed per task'):
    next(source.learn_in_groups(TASKS, [5, 6]))
