"""The actors of one source run: B copies of one task in a batched environment."""

from typing import Dict

import numpy as np

import ad_tf.envs
from ad_tf.envs import batched_environment


def initial_state(env: batched_environment.BatchedEnvironment, env_name: str,
                  task: Dict[str, np.ndarray], seed: int,
                  num_actors: int) -> batched_environment.State:
  """Every actor on `task`; actor a gets environment seed `seed * num_actors + a`."""
  tasks = ad_tf.envs.stack_tasks(env_name, [task] * num_actors)
  seeds = np.int64(seed) * num_actors + np.arange(num_actors, dtype=np.int64)
  return env.initial_state(tasks, seeds)
