"""The evaluation interface every method implements: runs in, per-episode returns out.

An evaluation is a set of runs (`EvaluationRuns`): each run is one held-out task with its own
environment seed (which fixes the environment's own draws, e.g. the bandit's Bernoulli
outcomes) and policy seed. A method plays them and returns a `MethodResult`. Methods that play
exactly the evaluation's runs (AD, ED, the reference policies, a source run on the evaluation's
draws) are directly comparable run by run; a source that learns each held-out task with its own
actors reports per-task curves instead (`on_evaluation_runs=False`).
"""

import abc
import dataclasses
from typing import Any, Dict, List, Optional

import numpy as np

import ad_tf.envs
from ad_tf.envs import family


@dataclasses.dataclass
class EvaluationRuns:
  """Held-out runs of one split.

  Attributes:
    env_name: the environment.
    split: 'test' (held-out tasks) or 'train' (fresh tasks of the training distribution).
    test_tasks: the distinct tasks.
    tasks: the task of each run.
    env_seeds: [runs] each run's environment seed.
    policy_seeds: [runs] each run's action-sampling seed.
    num_episodes: episodes per run.
  """

  env_name: str
  split: str
  test_tasks: List[family.Task]
  tasks: List[family.Task]
  env_seeds: np.ndarray
  policy_seeds: np.ndarray
  num_episodes: int

  @property
  def num_runs(self) -> int:
    return len(self.tasks)

  def stacked_tasks(self) -> Dict[str, np.ndarray]:
    return ad_tf.envs.stack_tasks(self.env_name, self.tasks)

  def oracles(self) -> np.ndarray:
    return oracle_returns(self.env_name, self.tasks)


def oracle_returns(env_name: str, tasks: List[family.Task]) -> np.ndarray:
  """[len(tasks)] each task's oracle episode return."""
  return np.array([ad_tf.envs.oracle_return(env_name, task) for task in tasks])


@dataclasses.dataclass
class MethodResult:
  """What a method did.

  Attributes:
    episode_returns: [rows, episodes] the return of every episode of every row.
    oracles: [rows] the oracle return of each row's task.
    on_evaluation_runs: whether row i is evaluation run i (same task, same draws).
    step_rewards: [rows, episodes * episode_length] every step's reward, if the method has them.
    run_returns: [plays, episodes] the returns of every single play, when a row is a mean over
      several (the source's actors); None when rows are single plays. Event rates (e.g. how often
      Key-to-Door's key is found) are counted over these.
    info: JSON-ready facts for results.json (checkpoint, algorithm, context length, ...).
  """

  episode_returns: np.ndarray
  oracles: np.ndarray
  on_evaluation_runs: bool
  step_rewards: Optional[np.ndarray] = None
  run_returns: Optional[np.ndarray] = None
  info: Dict[str, Any] = dataclasses.field(default_factory=dict)

  def single_play_returns(self) -> np.ndarray:
    return self.episode_returns if self.run_returns is None else self.run_returns


class Method(abc.ABC):
  """One thing to evaluate."""

  #: The name results.json and the tables use ('AD', 'ED', 'source', ...).
  name: str

  @abc.abstractmethod
  def run(self, runs: EvaluationRuns) -> Optional[MethodResult]:
    """Plays `runs`; None if the method is not available (e.g. never trained)."""

  def available(self) -> bool:
    """Whether `run` would play (False: e.g. not trained yet; default: yes)."""
    return True

  def up_to_date(self, info: Dict[str, Any]) -> bool:
    """Whether a stored result with `info` still describes this method (default: yes)."""
    del info
    return True
