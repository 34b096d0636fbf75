"""UCB1 (Auer et al., 2002) as the bandit's source algorithm, as the paper distills UCB.

Each actor is an independent UCB1 learner on the task. Its statistics carry over from episode to
episode, so an actor's stream of episodes is a learning history: early episodes explore every
arm, later ones exploit the best. Arms never pulled are pulled first (lowest index first); then
the arm maximising mean + c * sqrt(2 ln n / n_a) is pulled, ties to the lowest index. The whole
history runs in one compiled TF loop on the batched bandit; UCB itself is deterministic, so a
history depends only on the task and the seed that drives the bandit's Bernoulli draws.
"""

from typing import Dict, List, Sequence

import gin
import numpy as np
import tensorflow as tf

import ad_tf.envs
from ad_tf.envs import specs
from ad_tf.sources import actors
from ad_tf.sources import learning_history
from ad_tf.sources import source


@gin.configurable
class UcbSource(source.Source):
  """Runs `num_actors` UCB1 learners on each task for `num_episodes` episodes each.

  The last `greedy_episodes` episodes play the learner's converged policy: the arm with the best
  mean so far, no exploration bonus (the expert data ED trains on; UCB1's own bonus still
  explores after hundreds of pulls). `tasks_per_call` tasks run in one compiled loop (execution
  only: UCB1 is deterministic and the bandit's draws are keyed by each row's seed, so histories
  do not depend on it).
  """

  name = 'ucb'

  def __init__(self, env_name: str = 'bandit', num_actors: int = 1, num_episodes: int = 50,
               exploration: float = 1.0, greedy_episodes: int = 0, tasks_per_call: int = 1):
    self.hyperparameters = {'num_actors': num_actors, 'num_episodes': num_episodes,
                            'exploration': exploration, 'greedy_episodes': greedy_episodes}
    if not 0 <= greedy_episodes <= num_episodes:
      raise ValueError(f'UcbSource.greedy_episodes={greedy_episodes} must be in '
                       f'0..{num_episodes} (num_episodes).')
    self._env = ad_tf.envs.load_batched(env_name)
    if self._env.spec.observation.kind != specs.NONE:
      raise ValueError(f'UcbSource is a bandit algorithm and env_name={env_name!r} is not a '
                       f'bandit: it observes {self._env.spec.observation.kind!r}, a bandit '
                       'nothing.')
    self._env_name = env_name
    self.num_actors = num_actors
    self.num_episodes = num_episodes
    self.tasks_per_call = tasks_per_call
    self.env_steps_per_task = num_actors * num_episodes * self._env.episode_length
    self._exploration = exploration
    self._greedy_from = (num_episodes - greedy_episodes) * self._env.episode_length

  @tf.function
  def _run(self, env_state: Dict[str, tf.Tensor]):
    env, rows, arms = self._env, env_state['seed'].shape[0], self._env.num_actions
    length = env.episode_length
    actions = tf.TensorArray(tf.int32, size=self.num_episodes * length)
    rewards = tf.TensorArray(tf.float32, size=self.num_episodes * length)
    counts = tf.zeros([rows, arms])
    sums = tf.zeros([rows, arms])
    for step in tf.range(self.num_episodes * length):
      if step % length == 0:
        env_state, _ = env.reset(env_state)
      total = tf.cast(step, tf.float32)
      bonus = self._exploration * tf.sqrt(2.0 * tf.math.log(tf.maximum(total, 1.0))
                                          / tf.maximum(counts, 1.0))
      if step >= self._greedy_from:  # The converged policy: the best mean, no bonus.
        bonus = tf.zeros_like(bonus)
      score = tf.where(counts > 0, sums / tf.maximum(counts, 1.0) + bonus, np.inf)
      action = tf.argmax(score, axis=-1, output_type=tf.int32)  # First maximum: lowest index.
      env_state, _, reward = env.step(env_state, action)
      pulled = tf.one_hot(action, arms)
      counts += pulled
      sums += pulled * reward[:, None]
      actions = actions.write(step, action)
      rewards = rewards.write(step, reward)
    return actions.stack(), rewards.stack()

  def learn_many(self, tasks: Sequence[Dict[str, np.ndarray]],
                 seeds: Sequence[int]) -> List[learning_history.LearningHistories]:
    """Fresh UCB1 learners on each task, all in one compiled loop."""
    env_state, _ = actors.initial_state(self._env, self._env_name, tasks, seeds,
                                        self.num_actors)
    actions, rewards = self._run(env_state)
    # [episodes * L, tasks * actors] -> [tasks, actors, episodes, L]
    shape = [self.num_episodes, self._env.episode_length, len(tasks), self.num_actors]
    actions = np.transpose(actions.numpy().reshape(shape), [2, 3, 0, 1])
    rewards = np.transpose(rewards.numpy().reshape(shape), [2, 3, 0, 1])
    observation = self._env.spec.zero_observation()  # The bandit's observation is empty.
    observations = np.broadcast_to(
        observation, [self.num_actors, self.num_episodes, self._env.episode_length + 1,
                      *observation.shape])
    one_hot = np.eye(self._env.num_actions, dtype=np.float32)  # UCB1 is greedy.
    return [learning_history.LearningHistories(observations, actions[n], rewards[n],
                                               one_hot[actions[n]])
            for n in range(len(tasks))]
