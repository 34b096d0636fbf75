"""Environments by name, in the spirit of tf_agents' `suite_gym.load`."""

from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np
from tf_agents.environments import py_environment

from ad_tf.envs import bandit
from ad_tf.envs import batched_environment
from ad_tf.envs import darkroom
from ad_tf.envs import family
from ad_tf.envs import key_to_door
from ad_tf.envs import specs
from ad_tf.envs import watermaze

_FAMILIES: Dict[str, family.EnvironmentFamily] = {
    'darkroom': darkroom.DarkRoomFamily(),
    'darkroom_hard': darkroom.DarkRoomFamily(
        name='darkroom_hard', size=17, episode_length=20, reward_once=True),
    'key_to_door': key_to_door.KeyToDoorFamily(),
    'bandit': bandit.BanditFamily(),
    'watermaze': watermaze.WatermazeFamily(),
}
ENV_NAMES = tuple(_FAMILIES)


def get_family(name: str) -> family.EnvironmentFamily:
  """The environment family called `name`, or one ValueError listing the known names."""
  if name not in _FAMILIES:
    raise ValueError(f'Unknown environment {name!r}; known environments are {ENV_NAMES}.')
  return _FAMILIES[name]


def get_spec(name: str) -> specs.EnvSpec:
  """The observation and action specs of environment `name`."""
  return get_family(name).spec


def load(name: str, task: Mapping[str, np.ndarray],
         seed: Optional[int] = None) -> py_environment.PyEnvironment:
  """A tf_agents PyEnvironment for one task of environment `name`.

  Args:
    name: one of `ENV_NAMES`.
    task: e.g. {'goal': [x, y]}, {'key': [x, y], 'door': [x, y]} or {'probs': [10]}.
    seed: drives the environment's own randomness (Key-to-Door starts, bandit rewards); None
      draws one from OS entropy.
  """
  env_family = get_family(name)
  return env_family.py_environment(env_family.validate_task(dict(task)),
                                   family.resolve_seed(seed))


def load_batched(name: str) -> batched_environment.BatchedEnvironment:
  """The batched TF-native environment of `name` (see `batched_environment`)."""
  return get_family(name).batched()


def sample_tasks(name: str, split: str, num: int, seed: int) -> List[family.Task]:
  """`num` tasks of `name` from the 'train' or 'test' split, deterministic for a seed."""
  env_family = get_family(name)
  family.check_split(name, split)
  if num < 0:
    raise ValueError(f'{name}: cannot sample {num} tasks; num must be >= 0.')
  return env_family.sample(split, int(num), np.random.default_rng(seed))


# Salt of the evaluation's task draws, so they never repeat `sample_tasks`' draws for one seed.
_HELD_OUT_SALT = 3_892


def held_out_tasks(name: str, num: int, seed: int, split: str = 'test',
                   max_tasks: Optional[int] = None) -> List[family.Task]:
  """Evaluation tasks of `name` from `split`: the whole test split if the task space is finite,
  else `num` fresh draws (from a stream that `sample_tasks` never uses, so none is trained on).

  `max_tasks` keeps a sample of at most that many of them (Key-to-Door's test split has 1,641
  tasks): drawn without replacement from `seed` alone and kept in the split's order, so every
  method and every re-run gets the same tasks.
  """
  family.check_split(name, split)
  tasks = get_family(name).held_out_tasks(split, int(num),
                                          np.random.default_rng([seed, _HELD_OUT_SALT]))
  return keep_sample(name, tasks, max_tasks, [seed, _HELD_OUT_SALT, 1])


def keep_sample(name: str, tasks: List[family.Task], max_tasks: Optional[int],
                rng_seed) -> List[family.Task]:
  """At most `max_tasks` of `tasks` (all of them for None), drawn without replacement from
  `rng_seed` alone and kept in their order."""
  if max_tasks is None or max_tasks >= len(tasks):
    return tasks
  if max_tasks < 1:
    raise ValueError(f'{name}: cannot keep {max_tasks} tasks; max_tasks must be >= 1 '
                     '(or None for all of them).')
  chosen = np.random.default_rng(rng_seed).choice(len(tasks), max_tasks, replace=False)
  return [tasks[i] for i in np.sort(chosen)]


def oracle_return(name: str, task: Mapping[str, np.ndarray]) -> float:
  """The exact best expected episode return of `task`."""
  env_family = get_family(name)
  return env_family.oracle_return(env_family.validate_task(dict(task)))


def stack_tasks(name: str, tasks: Sequence[Mapping[str, np.ndarray]]) -> Dict[str, np.ndarray]:
  """Validated tasks stacked into arrays with a leading batch dimension, for `load_batched`."""
  env_family = get_family(name)
  validated = [env_family.validate_task(dict(task)) for task in tasks]
  if not validated:
    raise ValueError(f'{name}: no tasks to stack; pass at least one task.')
  return {key: np.stack([task[key] for task in validated]) for key in validated[0]}
