"""UCB1 (Auer et al., 2002) as the bandit's source algorithm, as the paper distills UCB.

Each actor is an independent UCB1 learner on the task. Its statistics carry over from episode to
episode, so an actor's stream of episodes is a learning history: early episodes explore every
arm, later ones exploit the best. Arms never pulled are pulled first (lowest index first); then
the arm maximising mean + c * sqrt(2 ln n / n_a) is pulled, ties to the lowest index. The whole
history runs in one compiled TF loop on the batched bandit; UCB itself is deterministic, so a
history depends only on the task and the seed that drives the bandit's Bernoulli draws.
"""

from typing import Dict

import gin
import numpy as np
import tensorflow as tf

import ad_tf.envs
from ad_tf.sources import actors
from ad_tf.sources import learning_history
from ad_tf.sources import source


@gin.configurable
class UcbSource(source.Source):
  """Runs `num_actors` UCB1 learners on one task for `num_episodes` episodes each."""

  name = 'ucb'

  def __init__(self, env_name: str = 'bandit', num_actors: int = 1, num_episodes: int = 50,
               exploration: float = 1.0):
    self.hyperparameters = {'num_actors': num_actors, 'num_episodes': num_episodes,
                            'exploration': exploration}
    self._env = ad_tf.envs.load_batched(env_name)
    if self._env.grid_size is not None:
      raise ValueError(f'UcbSource is a bandit algorithm; env_name={env_name!r} is not a bandit.')
    self._env_name = env_name
    self.num_actors = num_actors
    self.num_episodes = num_episodes
    self.env_steps_per_task = num_actors * num_episodes * self._env.episode_length
    self._exploration = exploration

  @tf.function
  def _run(self, env_state: Dict[str, tf.Tensor]):
    env, actors, arms = self._env, self.num_actors, self._env.num_actions
    length = env.episode_length
    actions = tf.TensorArray(tf.int32, size=self.num_episodes * length)
    rewards = tf.TensorArray(tf.float32, size=self.num_episodes * length)
    counts = tf.zeros([actors, arms])
    sums = tf.zeros([actors, arms])
    for step in tf.range(self.num_episodes * length):
      if step % length == 0:
        env_state, _ = env.reset(env_state)
      total = tf.cast(step, tf.float32)
      bonus = self._exploration * tf.sqrt(2.0 * tf.math.log(tf.maximum(total, 1.0))
                                          / tf.maximum(counts, 1.0))
      score = tf.where(counts > 0, sums / tf.maximum(counts, 1.0) + bonus, np.inf)
      action = tf.argmax(score, axis=-1, output_type=tf.int32)  # First maximum: lowest index.
      env_state, _, reward = env.step(env_state, action)
      pulled = tf.one_hot(action, arms)
      counts += pulled
      sums += pulled * reward[:, None]
      actions = actions.write(step, action)
      rewards = rewards.write(step, reward)
    return actions.stack(), rewards.stack()

  def learn(self, task: Dict[str, np.ndarray], seed: int) -> learning_history.LearningHistories:
    env_state, _ = actors.initial_state(self._env, self._env_name, [task], [seed],
                                        self.num_actors)
    actions, rewards = self._run(env_state)
    shape = [self.num_episodes, self._env.episode_length, self.num_actors]
    actions = np.transpose(actions.numpy().reshape(shape), [2, 0, 1])
    rewards = np.transpose(rewards.numpy().reshape(shape), [2, 0, 1])
    observations = np.zeros([self.num_actors, self.num_episodes, self._env.episode_length + 1],
                            np.int32)  # The bandit's observation carries no information.
    action_probs = np.eye(self._env.num_actions, dtype=np.float32)[actions]  # UCB1 is greedy.
    return learning_history.LearningHistories(observations, actions, rewards, action_probs)
