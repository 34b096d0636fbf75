"""DQN (TF-Agents `DqnAgent`) with a real Reverb replay table, as a single-stream source.

For each task a Reverb server on loopback holds a uniform replay table. Every iteration each
actor plays one epsilon-greedy episode on the batched TF environment (in one compiled call);
the transitions go into Reverb through tf_agents' `ReverbAddTrajectoryObserver`, and the learner
takes `train_steps_per_episode` gradient steps on batches sampled from Reverb. Epsilon decays
linearly over the first episodes, so each actor's stream goes from random to greedy.

Reproducibility: action sampling is stateless (keyed by task seed, episode and step) and the
weights are redrawn from the task seed, but Reverb's uniform sampler cannot be seeded, so DQN
histories are statistically, not bitwise, reproducible. PPO and UCB datasets are bitwise
reproducible.
"""

from typing import Dict, Sequence

import gin
import numpy as np
import reverb
import tensorflow as tf
from tf_agents.agents.dqn import dqn_agent
from tf_agents.networks import q_network
from tf_agents.replay_buffers import reverb_replay_buffer
from tf_agents.replay_buffers import reverb_utils
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory

import ad_tf.envs
from ad_tf.model import encoders
from ad_tf.sources import actors
from ad_tf.sources import agent_reset
from ad_tf.sources import learning_history
from ad_tf.sources import source

_TABLE = 'uniform_replay'


@gin.configurable
class DqnSource(source.Source):
  """Runs DQN on one task at a time and returns every actor's learning history."""

  name = 'dqn'

  def __init__(
      self,
      env_name: str,
      # Source agent.
      num_actors: int = 1,
      num_episodes: int = 300,
      fc_layer_params: Sequence[int] = (128, 128),
      epsilon_start: float = 1.0,
      epsilon_end: float = 0.05,
      epsilon_decay_episodes: int = 150,
      discount_factor: float = 0.99,
      target_update_period: int = 100,
      # Replay (Reverb).
      replay_capacity: int = 100_000,
      batch_size: int = 64,
      train_steps_per_episode: int = 20,
      # Optimizer.
      learning_rate: float = 1e-3):
    self.hyperparameters = {k: list(v) if isinstance(v, (tuple, list)) else v
                            for k, v in locals().items() if k not in ('self', 'env_name')}
    self._env = ad_tf.envs.load_batched(env_name)
    self._env_name = env_name
    self.num_actors = num_actors
    self.num_episodes = num_episodes
    self.env_steps_per_task = num_actors * num_episodes * self._env.episode_length
    self._epsilon = (epsilon_start, epsilon_end, epsilon_decay_episodes)
    self._replay_capacity = replay_capacity
    self._batch_size = batch_size
    self._train_steps_per_episode = train_steps_per_episode
    self._features = encoders.agent_features(self._env.spec.observation)
    observation_spec = self._features.tensor_spec()
    action_spec = tensor_spec.BoundedTensorSpec(
        (), tf.int32, minimum=0, maximum=self._env.num_actions - 1, name='action')
    self._optimizer = tf.keras.optimizers.Adam(learning_rate)
    self._agent = dqn_agent.DqnAgent(
        ts.time_step_spec(observation_spec), action_spec,
        q_network=q_network.QNetwork(observation_spec, action_spec,
                                     fc_layer_params=tuple(fc_layer_params)),
        optimizer=self._optimizer, gamma=discount_factor,
        target_update_period=target_update_period,
        train_step_counter=tf.Variable(0, dtype=tf.int64))
    self._agent.initialize()
    self._reset_agent = agent_reset.AgentReset(self._agent.variables, self._optimizer)

  def epsilon(self, episode: int) -> float:
    start, end, decay = self._epsilon
    return end + (start - end) * max(0.0, 1.0 - episode / max(decay, 1))

  @tf.function
  def _episode(self, env_state: Dict[str, tf.Tensor], sample_seed: tf.Tensor,
               epsilon: tf.Tensor):
    """One epsilon-greedy episode for every actor: observations [L + 1, A, ...], actions and
    rewards [L, A] and the epsilon-greedy action probabilities [L, A, num_actions], time-major."""
    env, length, actors = self._env, self._env.episode_length, self.num_actors
    env_state, observation = env.reset(env_state)
    observations = tf.TensorArray(env.spec.observation.tf_dtype, size=length + 1).write(
        0, observation)
    actions = tf.TensorArray(tf.int32, size=length)
    rewards = tf.TensorArray(tf.float32, size=length)
    probs = tf.TensorArray(tf.float32, size=length)
    for t in tf.range(length):
      time_step = ts.TimeStep(tf.fill([actors], ts.StepType.MID), tf.zeros([actors]),
                              tf.ones([actors]), self._features.encode(observation))
      greedy = self._agent.policy.action(time_step).action
      seed = tf.stack([sample_seed[0], sample_seed[1] * (length + 1) + tf.cast(t, tf.int64)])
      draws = tf.random.stateless_uniform([2, actors], seed=seed)
      random_action = tf.cast(draws[1] * env.num_actions, tf.int32)
      action = tf.where(draws[0] < epsilon, random_action, greedy)
      env_state, observation, reward = env.step(env_state, action)
      observations = observations.write(t + 1, observation)
      actions = actions.write(t, action)
      rewards = rewards.write(t, reward)
      probs = probs.write(t, epsilon / env.num_actions
                          + (1.0 - epsilon) * tf.one_hot(greedy, env.num_actions))
    return (env_state, observations.stack(), actions.stack(), rewards.stack(), probs.stack())

  @tf.function
  def _train(self, samples) -> None:
    """`train_steps_per_episode` DQN updates on batches sampled from Reverb, compiled."""
    for _ in tf.range(self._train_steps_per_episode):
      self._agent.train(next(samples)[0])

  def _observe(self, observer, observations, actions, rewards) -> None:
    """Feeds each actor's episode (L transitions and the boundary) to the Reverb observer."""
    length = self._env.episode_length
    encoded = self._features.encode(
        tf.reshape(observations, [-1, *self._env.spec.observation.shape]))
    encoded = tf.reshape(encoded, [length + 1, self.num_actors, -1]).numpy()
    for actor in range(self.num_actors):
      for t in range(length + 1):
        boundary = t == length
        observer(trajectory.Trajectory(
            step_type=np.int32(ts.StepType.LAST if boundary else
                               ts.StepType.FIRST if t == 0 else ts.StepType.MID),
            observation=encoded[t, actor],
            action=np.int32(0 if boundary else actions[t, actor]),
            policy_info=(),
            next_step_type=np.int32(ts.StepType.FIRST if boundary else
                                    ts.StepType.LAST if t == length - 1 else ts.StepType.MID),
            reward=np.float32(0.0 if boundary else rewards[t, actor]),
            discount=np.float32(1.0)))

  def learn(self, task: Dict[str, np.ndarray], seed: int) -> learning_history.LearningHistories:
    """Trains a fresh DQN agent on `task` with a fresh Reverb table; returns its histories."""
    self._reset_agent(seed)
    self._agent.initialize()  # Target network := the freshly drawn online network.
    table = reverb.Table(_TABLE, max_size=self._replay_capacity,
                         sampler=reverb.selectors.Uniform(), remover=reverb.selectors.Fifo(),
                         rate_limiter=reverb.rate_limiters.MinSize(self._batch_size))
    server = reverb.Server([table])
    try:
      replay = reverb_replay_buffer.ReverbReplayBuffer(
          self._agent.collect_data_spec, sequence_length=2, table_name=_TABLE,
          local_server=server)
      observer = reverb_utils.ReverbAddTrajectoryObserver(
          replay.py_client, _TABLE, sequence_length=2, stride_length=1)
      samples = iter(replay.as_dataset(sample_batch_size=self._batch_size, num_steps=2))
      env_state, _ = actors.initial_state(self._env, self._env_name, [task], [seed],
                                          self.num_actors)
      episodes = []
      for episode in range(self.num_episodes):
        env_state, *played = self._episode(env_state, tf.constant([seed, episode], tf.int64),
                                           tf.constant(self.epsilon(episode), tf.float32))
        played = [x.numpy() for x in played]
        episodes.append(played)
        self._observe(observer, *played[:3])
        observer.flush()
        if replay.num_frames() >= self._batch_size:
          self._train(samples)
      observer.close()
    finally:
      server.stop()
    return learning_history.LearningHistories.from_time_major_episodes(episodes)
