"""An environment family: a task space with train/test splits, an oracle, and both
implementations (a tf_agents PyEnvironment per task, a batched TF environment for many)."""

import abc
from typing import Dict, List, Optional

import numpy as np
import tensorflow as tf
from tf_agents.environments import py_environment

from ad_tf.envs import batched_environment
from ad_tf.envs import counter_random
from ad_tf.envs import specs

Task = Dict[str, np.ndarray]
SPLITS = ('train', 'test')
# Salt of the hash that orders a finite task space into its train and test parts.
_SPLIT_SALT = 20221025


class EnvironmentFamily(specs.DeclaresSpec, abc.ABC):
  """Everything the pipeline needs to know about one environment; `spec` declares its
  observations and actions once (see `specs`)."""

  #: What one RLDS episode of this family is, where the name does not say (dataset docs).
  episode_description: str = ''
  #: Per-episode events read off the episode return: name -> the return that means it happened
  #: (Key-to-Door: 'key found' at 1, 'door opened' at 2). Evaluation reports the rate of each.
  milestones: Dict[str, float] = {}
  #: Bumped when the family's dynamics change, so a dataset generated under the old ones is
  #: refused (it is recorded with the dataset's generation settings) instead of silently trained
  #: on. None: the first dynamics, recorded as nothing (datasets made before revisions existed).
  revision: Optional[int] = None

  @abc.abstractmethod
  def validate_task(self, task: Task) -> Task:
    """The task with canonical dtypes, or one ValueError saying what is allowed."""

  @abc.abstractmethod
  def oracle_return(self, task: Task) -> float:
    """The exact best expected return of one episode of `task`."""

  @abc.abstractmethod
  def sample(self, split: str, num: int, rng: np.random.Generator) -> List[Task]:
    """`num` tasks from `split` (already validated by the caller)."""

  def held_out_tasks(self, split: str, num: int, rng: np.random.Generator) -> List[Task]:
    """Evaluation tasks: `num` fresh draws from `split`'s distribution ('test': the held-out
    distribution; 'train': tasks like the training ones but not trained on). Finite families
    override this."""
    return self.sample(split, num, rng)

  def observations_of(self, recorded: np.ndarray) -> np.ndarray:
    """The observations [..., *observation.shape] of what a source's history recorded
    [..., *agent_view.shape]: the observations themselves, unless the family gives its agents a
    privileged state (`EnvSpec.agent_state`), which it then draws as observations."""
    if self.spec.agent_state is None:
      return recorded
    raise NotImplementedError(f'{self.name} declares an agent state but cannot draw it.')

  def observed_agent_states(self, num: int, seed: tf.Tensor) -> Dict[str, tf.Tensor]:
    """{'agent_state': [num, *agent_state.shape], 'observation': [num, *observation.shape]}:
    `num` privileged states spread over where an agent can be and the observations they draw,
    in TF ops from a stateless `seed` [2] (for a training loss that reads the state back from
    the observation). Only families with an agent state they can draw have them."""
    del num, seed
    raise NotImplementedError(f'{self.name} has no agent state it draws as observations '
                              '(only families with `EnvSpec.agent_state` do, e.g. watermaze).')

  @abc.abstractmethod
  def py_environment(self, task: Task, seed: int) -> py_environment.PyEnvironment:
    """One tf_agents PyEnvironment running `task`."""

  @abc.abstractmethod
  def batched(self) -> batched_environment.BatchedEnvironment:
    """The batched TF-native twin of `py_environment`."""


class FiniteTaskFamily(EnvironmentFamily):
  """A family with finitely many tasks, split deterministically into disjoint train/test parts.

  The test split is the `test_fraction` of tasks with the smallest salted hash of their index:
  scattered over the task space, independent of library versions, and the same on every run.
  """

  test_fraction: float = 0.25

  @abc.abstractmethod
  def all_tasks(self) -> List[Task]:
    """Every task of the family, in a fixed order."""

  def split_tasks(self, split: str) -> List[Task]:
    tasks = self.all_tasks()
    num_test = int(np.ceil(self.test_fraction * len(tasks)))
    order = np.argsort(counter_random.hash_np(_SPLIT_SALT, np.arange(len(tasks)), 0),
                       kind='stable')
    chosen = order[:num_test] if split == 'test' else order[num_test:]
    return [tasks[i] for i in np.sort(chosen)]

  def held_out_tasks(self, split: str, num: int, rng: np.random.Generator) -> List[Task]:
    """Every task of the test split, whatever `num`. The train split has no held-out tasks."""
    del num, rng
    if split != 'test':
      raise ValueError(f'{self.name} has finitely many tasks, and every task of its {split!r} '
                       'split may be trained on: only the \'test\' split is held out. Use '
                       'evaluate.splits = [\'test\'].')
    return self.split_tasks('test')

  def sample(self, split: str, num: int, rng: np.random.Generator) -> List[Task]:
    """Balanced sampling: passes over shuffled copies of the split, so every task of the split
    appears floor(num / n) or ceil(num / n) times."""
    pool = self.split_tasks(split)
    picks = []
    while len(picks) < num:
      picks.extend(rng.permutation(len(pool)).tolist())
    return [pool[i] for i in picks[:num]]


class SpecPyEnvironment(py_environment.PyEnvironment):
  """A tf_agents PyEnvironment whose array specs are its family's `EnvSpec`'s (episodes end by
  time limit; tf_agents resets after the last step)."""

  def __init__(self, spec: specs.EnvSpec):
    super().__init__(handle_auto_reset=True)
    self._observation_spec = spec.observation_array_spec()
    self._action_spec = spec.action_array_spec()

  def observation_spec(self):
    return self._observation_spec

  def action_spec(self):
    return self._action_spec


def check_split(name: str, split: str) -> None:
  if split not in SPLITS:
    raise ValueError(f'{name}: unknown split {split!r}; allowed splits are {SPLITS}.')


def resolve_seed(seed: Optional[int]) -> int:
  """`seed`, or a fresh one from OS entropy when None."""
  if seed is None:
    return int(np.random.SeedSequence().entropy % 2**32)
  return int(seed)


def check_action(env_name: str, action, num_actions: int, actions_help: str) -> int:
  """The action as an int, or one ValueError naming the allowed actions."""
  value = np.asarray(action)
  if (value.shape != () or not np.issubdtype(value.dtype, np.integer)
      or not 0 <= int(value) < num_actions):
    raise ValueError(f'{env_name}: action {action!r} is not allowed; an action is one integer '
                     f'in 0..{num_actions - 1} ({actions_help}).')
  return int(value)
