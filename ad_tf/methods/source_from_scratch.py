"""The source algorithm as a baseline: it learns each held-out task from scratch."""

from typing import Callable, Optional

import numpy as np

from ad_tf.methods import method


class SourceFromScratch(method.Method):
  """Fresh source learners on held-out tasks.

  By default each held-out task is learned `seeds_per_task` times by the source's own actors,
  and a row's curve is the mean over its actors (episode index = episodes per actor). With
  `on_evaluation_runs`, every evaluation run is learned instead, by a one-actor source seeded
  with the run's environment seed, so it sees exactly the run's draws (the bandit's UCB
  reference, which normalises the other methods' scores).
  """

  name = 'source'

  def __init__(self, source_factory: Callable, seeds_per_task: int = 1,
               on_evaluation_runs: bool = False):
    self._source_factory = source_factory
    self._seeds_per_task = seeds_per_task
    self._on_evaluation_runs = on_evaluation_runs

  def run(self, runs: method.EvaluationRuns) -> Optional[method.MethodResult]:
    source = self._source_factory(env_name=runs.env_name)
    if self._on_evaluation_runs:
      if source.num_actors != 1:
        raise ValueError(f'The source baseline on the evaluation runs needs one actor per run; '
                         f'{source.name} has num_actors={source.num_actors}.')
      tasks, seeds = runs.tasks, [int(s) for s in runs.env_seeds]
    else:
      pairs = [(task, s) for s in range(self._seeds_per_task) for task in runs.test_tasks]
      tasks, seeds = [task for task, _ in pairs], [10_000 + s for _, s in pairs]
    histories = [h for learned in source.learn_in_groups(tasks, seeds) for h in learned]
    returns = np.stack([h.returns().mean(0) for h in histories])
    step_rewards = np.stack([h.rewards.mean(0).reshape(-1) for h in histories])
    return method.MethodResult(
        episode_returns=returns, oracles=method.oracle_returns(runs.env_name, tasks),
        on_evaluation_runs=self._on_evaluation_runs,
        step_rewards=step_rewards,
        run_returns=np.concatenate([h.returns() for h in histories]),
        info={'algorithm': source.name, 'num_actors': source.num_actors,
              'learner_episodes_per_index': source.num_actors})
