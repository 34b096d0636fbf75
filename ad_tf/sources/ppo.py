"""PPO (TF-Agents `PPOClipAgent`) as the source algorithm: the analogue of the paper's A3C.

One learner per task drives `num_actors` actors on that same task; every iteration each actor
plays one episode on the batched TF environment, then the learner takes one PPO update on the
whole batch. Each actor's own stream of episodes, in order, is one learning history (the paper
saves each actor's history separately). Collection and the update run in one compiled
`tf.function`, so no per-step Python is involved.

Determinism: actions are sampled with `tf.random.stateless_categorical` keyed by
(task seed, iteration, step), and the agent's weights are re-drawn per task from the task seed,
so a task's histories depend only on its seed and the configuration, not on what the process ran
before (which is what makes resumption after a crash exact).
"""

from typing import Dict, Sequence

import gin
import numpy as np
import tensorflow as tf
from tf_agents.agents.ppo import ppo_clip_agent
from tf_agents.networks import actor_distribution_network
from tf_agents.networks import value_network
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import policy_step
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory

import ad_tf.envs
from ad_tf.sources import actors
from ad_tf.sources import agent_observation
from ad_tf.sources import agent_reset
from ad_tf.sources import learning_history


@gin.configurable
class PpoSource:
  """Runs PPO on one task at a time and returns every actor's learning history."""

  name = 'ppo'

  def __init__(
      self,
      env_name: str,
      # Source agent (paper, Appendix M, Table 4).
      num_actors: int = 100,
      num_iterations: int = 200,
      fc_layer_params: Sequence[int] = (128, 128, 128),
      lambda_value: float = 0.95,
      discount_factor: float = 0.99,
      entropy_regularization: float = 0.01,
      importance_ratio_clipping: float = 0.2,
      num_epochs: int = 4,
      normalize_rewards: bool = True,
      # Optimizer.
      learning_rate: float = 1e-4,
      adam_beta_1: float = 0.9,
      adam_beta_2: float = 0.999,
      adam_epsilon: float = 1e-6):
    self.hyperparameters = {k: list(v) if isinstance(v, (tuple, list)) else v
                            for k, v in locals().items() if k not in ('self', 'env_name')}
    self._env = ad_tf.envs.load_batched(env_name)
    self._env_name = env_name
    self.num_actors = num_actors
    self.num_iterations = num_iterations
    self.env_steps_per_task = num_actors * num_iterations * self._env.episode_length
    observation_spec = agent_observation.spec(self._env)
    action_spec = tensor_spec.BoundedTensorSpec(
        (), tf.int32, minimum=0, maximum=self._env.num_actions - 1, name='action')
    actor_net = actor_distribution_network.ActorDistributionNetwork(
        observation_spec, action_spec, fc_layer_params=tuple(fc_layer_params))
    value_net = value_network.ValueNetwork(observation_spec,
                                           fc_layer_params=tuple(fc_layer_params))
    self._optimizer = tf.keras.optimizers.Adam(
        learning_rate, beta_1=adam_beta_1, beta_2=adam_beta_2, epsilon=adam_epsilon)
    self._agent = ppo_clip_agent.PPOClipAgent(
        ts.time_step_spec(observation_spec), action_spec,
        optimizer=self._optimizer, actor_net=actor_net, value_net=value_net,
        importance_ratio_clipping=importance_ratio_clipping, lambda_value=lambda_value,
        discount_factor=discount_factor, entropy_regularization=entropy_regularization,
        num_epochs=num_epochs, use_gae=True, normalize_rewards=normalize_rewards,
        normalize_observations=False, train_step_counter=tf.Variable(0, dtype=tf.int64))
    self._agent.initialize()
    self._reset_agent = agent_reset.AgentReset(self._agent.variables, self._optimizer)

  @tf.function
  def _iteration(self, env_state: Dict[str, tf.Tensor], sample_seed: tf.Tensor):
    """One episode for every actor, then one PPO update on all of them.

    Returns the new environment state and what the actors saw, time-major: observations
    [L + 1, A, ...], actions [L, A], rewards [L, A].
    """
    env, policy = self._env, self._agent.collect_policy
    length, actors = env.episode_length, self.num_actors
    env_state, observation = env.reset(env_state)
    observations = tf.TensorArray(env.observation_dtype, size=length + 1).write(0, observation)
    actions = tf.TensorArray(tf.int32, size=length)
    rewards = tf.TensorArray(tf.float32, size=length)
    logits = tf.TensorArray(tf.float32, size=length)
    for t in tf.range(length):
      time_step = ts.TimeStep(
          tf.fill([actors], tf.where(t == 0, ts.StepType.FIRST, ts.StepType.MID)),
          tf.zeros([actors]), tf.ones([actors]), agent_observation.encode(env, observation))
      step_logits = policy.distribution(time_step).info['dist_params']['logits']
      seed = tf.stack([sample_seed[0], sample_seed[1] * (length + 1) + tf.cast(t, tf.int64)])
      action = tf.cast(tf.random.stateless_categorical(step_logits, 1, seed=seed)[:, 0],
                       tf.int32)
      env_state, observation, reward = env.step(env_state, action)
      observations = observations.write(t + 1, observation)
      actions = actions.write(t, action)
      rewards = rewards.write(t, reward)
      logits = logits.write(t, step_logits)
    observations, actions = observations.stack(), actions.stack()
    rewards, logits = rewards.stack(), logits.stack()
    self._agent.train(self._experience(observations, actions, rewards, logits))
    return env_state, observations, actions, rewards

  def _experience(self, observations, actions, rewards, logits) -> trajectory.Trajectory:
    """The episode as a batch-major PPO `Trajectory` of L + 1 items.

    Items 0..L-1 are the transitions; item L is the boundary (LAST -> FIRST) that carries the
    final observation for the value bootstrap and is masked out of the loss.
    """
    length, actors = self._env.episode_length, self.num_actors
    step_types = tf.constant([ts.StepType.FIRST] + [ts.StepType.MID] * (length - 1)
                             + [ts.StepType.LAST])
    next_step_types = tf.constant([ts.StepType.MID] * (length - 1) + [ts.StepType.LAST]
                                  + [ts.StepType.FIRST])

    def batch_major(x):  # [L + 1, A, ...] -> [A, L + 1, ...]
      return tf.transpose(x, [1, 0] + list(range(2, x.shape.rank)))

    def with_boundary(x):  # Appends the (masked) boundary item's zeros.
      return tf.concat([x, tf.zeros_like(x[:1])], axis=0)

    encoded = tf.map_fn(lambda o: agent_observation.encode(self._env, o), observations,
                        fn_output_signature=tf.float32)
    per_step = lambda types: batch_major(tf.tile(types[:, None], [1, actors]))
    return trajectory.Trajectory(
        step_type=per_step(step_types),
        observation=batch_major(encoded),
        action=batch_major(with_boundary(actions)),
        policy_info={'dist_params': {'logits': batch_major(with_boundary(logits))}},
        next_step_type=per_step(next_step_types),
        reward=batch_major(with_boundary(rewards)),
        discount=tf.ones([actors, length + 1]))

  def learn(self, task: Dict[str, np.ndarray], seed: int) -> learning_history.LearningHistories:
    """Trains a fresh agent on `task`; returns the learning histories of all its actors."""
    self._reset_agent(seed)
    env_state = actors.initial_state(self._env, self._env_name, task, seed, self.num_actors)
    episodes = []
    for iteration in range(self.num_iterations):
      env_state, *episode = self._iteration(
          env_state, tf.constant([seed, iteration], tf.int64))
      episodes.append([x.numpy() for x in episode])
    return learning_history.LearningHistories.from_time_major_episodes(episodes)
