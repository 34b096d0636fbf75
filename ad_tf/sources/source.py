"""What every source algorithm offers the generation step."""

from typing import Dict, Iterator, List, Sequence

import numpy as np

from ad_tf.sources import learning_history


class Source:
  """A source RL algorithm: learns tasks from scratch and returns their learning histories.

  Subclasses set `name`, `num_actors`, `env_steps_per_task` and `hyperparameters` (recorded in
  the dataset), and implement `learn` or, if they learn several tasks in one call, `learn_many`
  with `tasks_per_call`.
  """

  name: str
  num_actors: int
  env_steps_per_task: int
  hyperparameters: Dict[str, object]
  #: How many tasks one `learn_many` call takes.
  tasks_per_call: int = 1

  def learn(self, task: Dict[str, np.ndarray], seed: int) -> learning_history.LearningHistories:
    """Learns one task from scratch; returns every actor's history."""
    return self.learn_many([task], [seed])[0]

  def learn_many(self, tasks: Sequence[Dict[str, np.ndarray]],
                 seeds: Sequence[int]) -> List[learning_history.LearningHistories]:
    """Learns each task (at most `tasks_per_call`) with a fresh learner seeded by its seed."""
    return [self.learn(task, seed) for task, seed in zip(tasks, seeds)]

  def learn_in_groups(self, tasks: Sequence[Dict[str, np.ndarray]], seeds: Sequence[int]
                      ) -> Iterator[List[learning_history.LearningHistories]]:
    """Learns the tasks `tasks_per_call` at a time; yields each call's histories, in order."""
    if len(tasks) != len(seeds):
      raise ValueError(f'learn_in_groups takes one seed per task; got {len(tasks)} tasks and '
                       f'{len(seeds)} seeds.')
    for first in range(0, len(tasks), self.tasks_per_call):
      yield self.learn_many(tasks[first:first + self.tasks_per_call],
                            seeds[first:first + self.tasks_per_call])
