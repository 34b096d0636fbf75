"""The actors of source runs: `num_actors` copies of each task in one batched environment."""

from typing import Dict, Sequence, Tuple

import numpy as np

import ad_tf.envs
from ad_tf.envs import batched_environment


def initial_state(env: batched_environment.BatchedEnvironment, env_name: str,
                  tasks: Sequence[Dict[str, np.ndarray]], seeds: Sequence[int],
                  num_actors: int) -> Tuple[batched_environment.State, np.ndarray]:
  """Rows task-major then actor: actor a of the task with seed s is row seed s * num_actors + a.

  Returns the environment state and each row's seed (which also keys the row's own draws).
  """
  rows = ad_tf.envs.stack_tasks(env_name, [task for task in tasks for _ in range(num_actors)])
  row_seeds = (np.repeat(np.asarray(seeds, np.int64), num_actors) * num_actors
               + np.tile(np.arange(num_actors, dtype=np.int64), len(seeds)))
  return env.initial_state(rows, row_seeds), row_seeds
