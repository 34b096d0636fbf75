"""The adversarial bandit (AD paper, section 4.1).

10 arms (actions 0..9) and 100 pulls per episode. Pulling arm a pays 1 with probability
probs[a], else 0. The observation carries no information (always 0). A task is
{'probs': float32 [10]}, constructed as follows with a numpy Generator:

  1. probs ~ Uniform(0, 1), independently for each arm;
  2. the favoured parity is odd arms (1, 3, 5, 7, 9) for the 'train' split and even arms
     (0, 2, 4, 6, 8) for the 'test' split; with probability 0.95 the task's best arm must have
     the favoured parity, otherwise the other parity;
  3. the largest probability is swapped with the probability of an arm drawn uniformly from
     the required parity, which becomes the best arm.

So the best arm is odd in exactly 95% of training tasks (in expectation) and even in 95% of
evaluation tasks: the evaluation reward is out of distribution, as in the paper. The Bernoulli
draw of pull t of episode e is `counter_random.uniform(seed, e, t) < probs[a]`, shared with the
batched TF environment.
"""

from typing import List

import numpy as np
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from ad_tf.envs import batched_environment
from ad_tf.envs import counter_random
from ad_tf.envs import family
from ad_tf.envs import specs

NUM_ARMS = 10
ARMS_HELP = 'the index of the arm to pull'


def env_spec(name: str, episode_length: int) -> specs.EnvSpec:
  """No observation (the same empty one every pull); one action per arm."""
  return specs.EnvSpec(name, specs.no_observation(), NUM_ARMS, episode_length)


def validate_probs(env_name: str, task) -> np.ndarray:
  if not isinstance(task, dict) or 'probs' not in task:
    raise ValueError(f'{env_name}: a task is a dict {{"probs": [{NUM_ARMS} floats in [0, 1]]}}, '
                     f'got {task!r}.')
  probs = np.asarray(task['probs'])
  if probs.shape != (NUM_ARMS,) or not np.issubdtype(probs.dtype, np.number):
    raise ValueError(f'{env_name}: task["probs"] must be {NUM_ARMS} numbers (one per arm); '
                     f'got shape {probs.shape}, dtype {probs.dtype}.')
  if not np.all((probs >= 0) & (probs <= 1)):
    raise ValueError(f'{env_name}: task["probs"] = {probs.tolist()} must lie in [0, 1].')
  return probs.astype(np.float32)


class BanditEnvironment(family.SpecPyEnvironment):
  """One bandit task as a tf_agents PyEnvironment (episodes end by time limit)."""

  def __init__(self, probs, seed: int, episode_length: int = 100, name: str = 'bandit'):
    super().__init__(env_spec(name, episode_length))
    self._name = name
    self._probs = validate_probs(name, {'probs': probs})
    self._seed = seed
    self._episode_length = episode_length
    self._episode = -1

  def _reset(self):
    self._episode += 1
    self._t = 0
    return ts.restart(np.int32(0))

  def _step(self, action):
    arm = family.check_action(self._name, action, NUM_ARMS, ARMS_HELP)
    draw = counter_random.uniform_np(self._seed, self._episode, self._t)
    reward = np.float32(draw < np.float64(self._probs[arm]))
    self._t += 1
    if self._t >= self._episode_length:
      return ts.truncation(np.int32(0), reward)
    return ts.transition(np.int32(0), reward)


class BatchedBandit(batched_environment.BatchedEnvironment):
  """The bandit for B tasks at once, in TF ops."""

  def __init__(self, spec: specs.EnvSpec):
    self.spec = spec

  def task_state(self, tasks):
    return {'probs': tf.cast(tasks['probs'], tf.float32)}

  def _start(self, state):
    return state

  def _transition(self, state, action):
    draw = counter_random.uniform_tf(state['seed'], state['episode'], state['t'])
    prob = tf.cast(tf.gather(state['probs'], action, batch_dims=1), tf.float64)
    return state, tf.cast(draw < prob, tf.float32)

  def observe(self, state):
    return tf.zeros_like(state['t'])


class BanditFamily(family.EnvironmentFamily):
  """Bandit tasks (see the module docstring for the construction) and both implementations."""

  @property
  def episode_description(self) -> str:
    return (f'One episode is {self.episode_length} pulls of one task (observation always 0; '
            'action: the arm; reward 0 or 1). The source (UCB1) plays several episodes in a row '
            'with its counts carried over; the learning-history config keeps each learner\'s '
            'first episode (source_episode 0), the expert config its last. task.probs holds the '
            'arms\' payout probabilities.')

  def __init__(self, episode_length: int = 100, favoured_fraction: float = 0.95,
               name: str = 'bandit'):
    self.spec = env_spec(name, episode_length)
    self.favoured_fraction = favoured_fraction

  def validate_task(self, task):
    return {'probs': validate_probs(self.name, task)}

  def oracle_return(self, task) -> float:
    return float(self.episode_length * np.max(task['probs']))

  def sample(self, split: str, num: int, rng: np.random.Generator) -> List[family.Task]:
    favoured_parity = 1 if split == 'train' else 0
    tasks = []
    for _ in range(num):
      probs = rng.uniform(size=NUM_ARMS)
      parity = favoured_parity if rng.uniform() < self.favoured_fraction else 1 - favoured_parity
      best = rng.choice(np.arange(parity, NUM_ARMS, 2))
      top = int(np.argmax(probs))
      probs[[top, best]] = probs[[best, top]]
      tasks.append({'probs': probs.astype(np.float32)})
    return tasks

  def py_environment(self, task, seed):
    return BanditEnvironment(task['probs'], seed, self.episode_length, self.name)

  def batched(self):
    return BatchedBandit(self.spec)
