"""Reference policies that need no training: uniformly random actions, and Thompson sampling for
Bernoulli bandits. Both play the evaluation's runs on the batched environment in one compiled
loop, so they see exactly the draws AD sees."""

import abc
from typing import Callable, Dict, Optional, Tuple

import numpy as np
import tensorflow as tf

import ad_tf.envs
from ad_tf.envs import batched_environment
from ad_tf.envs import specs
from ad_tf.methods import in_context
from ad_tf.methods import method
from ad_tf.model import action_sampling

# Salt of Thompson sampling's posterior draws.
_THOMPSON_SALT = 7_919


def _play(env: batched_environment.BatchedEnvironment, tasks: Dict[str, np.ndarray],
          env_seeds: np.ndarray, num_episodes: int, initial_memory: tf.Tensor,
          act: Callable[[tf.Tensor, tf.Tensor], tf.Tensor],
          learn: Callable[[tf.Tensor, tf.Tensor, tf.Tensor], tf.Tensor]) -> np.ndarray:
  """Runs act(memory, step) -> action, learn(memory, action, reward) -> memory for every step of
  every row; returns the step rewards [rows, num_episodes * episode_length]."""

  @tf.function
  def loop(tasks, env_seeds, memory):
    total = num_episodes * env.episode_length
    state = env.initial_state(tasks, env_seeds)
    rewards = tf.TensorArray(tf.float32, size=total)
    for step in tf.range(total):
      if step % env.episode_length == 0:
        state, _ = env.reset(state)
      action = act(memory, step)
      state, _, reward = env.step(state, action, check_actions=False)
      memory = learn(memory, action, reward)
      rewards = rewards.write(step, reward)
    return tf.transpose(rewards.stack())

  return loop({k: tf.constant(v) for k, v in tasks.items()}, tf.constant(env_seeds, tf.int64),
              initial_memory).numpy()


class _ReferencePolicy(method.Method):
  """A policy defined by its initial memory, `act` and `learn` (see `_play`)."""

  @abc.abstractmethod
  def setup(self, env: batched_environment.BatchedEnvironment, runs: method.EvaluationRuns
            ) -> Tuple[tf.Tensor, Callable, Callable]:
    """The policy's initial memory [rows, ...], `act` and `learn` for these runs."""

  def run(self, runs: method.EvaluationRuns) -> Optional[method.MethodResult]:
    env = ad_tf.envs.load_batched(runs.env_name)
    step_rewards = _play(env, runs.stacked_tasks(), runs.env_seeds, runs.num_episodes,
                         *self.setup(env, runs))
    return method.MethodResult(
        episode_returns=in_context.episode_returns(step_rewards, env.episode_length),
        oracles=runs.oracles(), on_evaluation_runs=True, step_rewards=step_rewards,
        info={'algorithm': self.name})


class RandomPolicy(_ReferencePolicy):
  """Uniformly random actions, drawn per row from (policy seed, step) like the model's."""

  name = 'random'

  def setup(self, env, runs):
    seeds = tf.constant(runs.policy_seeds, tf.int64)
    logits = tf.zeros([runs.num_runs, env.num_actions])

    def act(memory, step):
      del memory
      return action_sampling.sample(logits, seeds, tf.fill([runs.num_runs], step))

    return tf.zeros([runs.num_runs]), act, lambda memory, action, reward: memory


class ThompsonSampling(_ReferencePolicy):
  """Beta(1, 1)-Bernoulli Thompson sampling over the arms of a bandit, one posterior per run that
  carries across the run's episodes; posterior draws keyed by (evaluation seed, step)."""

  name = 'thompson'

  def __init__(self, seed: int = 0):
    self._seed = seed

  def setup(self, env, runs):
    if env.spec.observation.kind != specs.NONE:
      raise ValueError(f'Thompson sampling is a bandit baseline; {runs.env_name!r} observes '
                       f'{env.spec.observation.kind!r}. Drop "thompson" from evaluate.methods.')
    arms = env.num_actions

    def act(memory, step):
      seed = tf.stack([tf.constant(self._seed, tf.int64) * _THOMPSON_SALT,
                       tf.cast(step, tf.int64)])
      draws = tf.random.stateless_gamma([2, runs.num_runs, arms], seed=seed,
                                        alpha=tf.stack([1.0 + memory[0], 1.0 + memory[1]]))
      return tf.argmax(draws[0] / (draws[0] + draws[1]), axis=-1, output_type=tf.int32)

    def learn(memory, action, reward):
      pulled = tf.one_hot(action, arms)
      return memory + tf.stack([pulled * reward[:, None], pulled * (1.0 - reward[:, None])])

    return tf.zeros([2, runs.num_runs, arms]), act, learn
