"""PPO (TF-Agents `PPOClipAgent`) as the source algorithm: the analogue of the paper's A3C.

One learner per task drives `num_actors` actors on that same task; every iteration each actor
plays one episode on the batched TF environment, then the learner takes one PPO update on the
whole batch. Each actor's own stream of episodes, in order, is one learning history (the paper
saves each actor's history separately). Collection and the update run in one compiled
`tf.function`, so no per-step Python is involved.

`tasks_per_call` learners (one per task) run together: their networks hold per-learner weights
(`learner_batched_networks`), advantages are normalised per learner, and Adam's epsilon is
divided by the number of learners because TF-Agents' loss is a mean over every learner's rows
(each learner's gradient is 1/N of its own); Adam's update is then exactly a lone learner's.
Nothing else in the update mixes learners, so a task's histories do not depend on which tasks
share its call.

Exploration: with `exploration_bonus` = beta > 0 the learner is trained on the environment's
reward plus a count-based bonus beta / sqrt(n(s')) for arriving in cell s' (n counts the visits
of all the learner's actors so far; #Exploration, Tang et al., 2017), which makes it explore
the room systematically instead of by random walk. With `bonus_until_reward` the bonus stops for
good once any of the learner's actors has been rewarded (from that episode's update on), so the
learner exploits what it found at once instead of weighing the goal against unvisited cells.
Histories always record the environment's reward only.

Agent state: with `episode_reward_inputs` = n > 0 the networks also read how many rewards the
actor has earned so far in the episode, one-hot over 0..n. It is the sufficient statistic of its
own past that a recurrent agent would keep. In Key-to-Door it tells "key not found" from "key
found", which a policy of the position alone cannot: such a policy can only circle a loop that
passes the key and then the door. Nothing of it reaches the dataset. Histories record the
environment's observations, so AD sees only what any agent sees.

Determinism: actions are drawn per row with `action_sampling` keyed by (row seed, step), and each
learner's weights are drawn from its task seed, so a task's histories depend only on its seed and
the configuration (which is what makes resumption after a crash exact).
"""

import time
from typing import Dict, List, Sequence

from absl import logging
import gin
import numpy as np
import tensorflow as tf
from tf_agents.agents.ppo import ppo_agent
from tf_agents.agents.ppo import ppo_clip_agent
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts

import ad_tf.envs
from ad_tf.model import action_sampling
from ad_tf.model import encoders
from ad_tf.sources import actors
from ad_tf.sources import learner_batched_networks
from ad_tf.sources import learning_history
from ad_tf.sources import ppo_experience
from ad_tf.sources import source

#: Seconds between progress lines within a `learn_many` call (a call of the paper's Dark Room
#: configuration, 20 tasks x 100 actors x 500 iterations, runs for many minutes).
PROGRESS_EVERY_S = 60.0


class _LearnerBatchedPpoAgent(ppo_clip_agent.PPOClipAgent):
  """`PPOClipAgent` whose batch holds `num_learners` learners' rows, learner-major.

  Advantages are normalised per learner (a lone PPO learner normalises over its own batch), and
  TF-Agents' whole-batch normalisation, which would mix learners, is left out.
  """

  def __init__(self, *args, num_learners: int, **kwargs):
    super().__init__(*args, **kwargs)
    self._num_learners = num_learners

  def compute_advantages(self, rewards, returns, discounts, value_preds):
    advantages = super().compute_advantages(rewards, returns, discounts, value_preds)
    per_learner = tf.reshape(advantages, [self._num_learners, -1])
    mean, variance = tf.nn.moments(per_learner, axes=[1], keepdims=True)
    normalized = (per_learner - mean) * tf.math.rsqrt(variance + 1e-8)
    return tf.reshape(normalized, tf.shape(advantages))

  def _train(self, experience, weights):
    # `_train` normalises the advantages of the whole batch with this module function; they are
    # normalised per learner already (above). Swapped only while `_train` is traced.
    whole_batch_normalization = ppo_agent._normalize_advantages  # pylint: disable=protected-access
    ppo_agent._normalize_advantages = lambda advantages, **unused: advantages  # pylint: disable=protected-access
    try:
      return super()._train(experience, weights)
    finally:
      ppo_agent._normalize_advantages = whole_batch_normalization  # pylint: disable=protected-access


@gin.configurable
class PpoSource(source.Source):
  """Runs PPO on tasks, `tasks_per_call` at a time; returns every actor's learning history."""

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
      exploration_bonus: float = 0.0,
      episode_reward_inputs: int = 0,
      bonus_until_reward: bool = False,
      # Optimizer.
      learning_rate: float = 1e-4,
      adam_beta_1: float = 0.9,
      adam_beta_2: float = 0.999,
      adam_epsilon: float = 1e-6,
      # Execution: learners computed together (results do not depend on it).
      tasks_per_call: int = 1):
    self.hyperparameters = {k: list(v) if isinstance(v, (tuple, list)) else v
                            for k, v in locals().items()
                            if k not in ('self', 'env_name', '__class__')}
    if not episode_reward_inputs:  # Off: recorded as before it existed, so datasets made
      del self.hyperparameters['episode_reward_inputs']  # without it keep their metadata.
    self._env = ad_tf.envs.load_batched(env_name)
    self._features = encoders.agent_features(self._env.spec.agent_view)
    if exploration_bonus and self._features.num_cells is None:
      raise ValueError(f'PpoSource.exploration_bonus counts visited cells; {env_name!r} has no '
                       'cells. Use exploration_bonus=0.')
    if bonus_until_reward and not exploration_bonus:
      raise ValueError('PpoSource.bonus_until_reward=True switches the count bonus off at the first '
                       'reward, but exploration_bonus is 0. Set exploration_bonus > 0 or '
                       'bonus_until_reward=False.')
    if tasks_per_call < 1:
      raise ValueError(f'PpoSource.tasks_per_call={tasks_per_call} must be >= 1.')
    self._env_name = env_name
    self.num_actors = num_actors
    self.num_iterations = num_iterations
    self.tasks_per_call = tasks_per_call
    self.env_steps_per_task = num_actors * num_iterations * self._env.episode_length
    self._exploration_bonus = exploration_bonus
    self._bonus_until_reward = bonus_until_reward
    if episode_reward_inputs < 0:
      raise ValueError(f'PpoSource.episode_reward_inputs={episode_reward_inputs} must be >= 0 '
                       '(0: the agent reads its observation only).')
    self._episode_reward_inputs = episode_reward_inputs
    observation_spec = tensor_spec.TensorSpec(
        [self._features.size + (episode_reward_inputs + 1 if episode_reward_inputs else 0)],
        tf.float32, name='observation')
    action_spec = tensor_spec.BoundedTensorSpec(
        (), tf.int32, minimum=0, maximum=self._env.num_actions - 1, name='action')
    self._actor_net = learner_batched_networks.ActorNetwork(
        observation_spec, action_spec, tasks_per_call, fc_layer_params)
    self._value_net = learner_batched_networks.ValueNetwork(
        observation_spec, tasks_per_call, fc_layer_params)
    self._optimizer = tf.keras.optimizers.Adam(
        learning_rate, beta_1=adam_beta_1, beta_2=adam_beta_2,
        epsilon=adam_epsilon / tasks_per_call)
    self._agent = _LearnerBatchedPpoAgent(
        ts.time_step_spec(observation_spec), action_spec,
        optimizer=self._optimizer, actor_net=self._actor_net, value_net=self._value_net,
        importance_ratio_clipping=importance_ratio_clipping, lambda_value=lambda_value,
        discount_factor=discount_factor, entropy_regularization=entropy_regularization,
        num_epochs=num_epochs, use_gae=True, normalize_rewards=False,
        normalize_observations=False, train_step_counter=tf.Variable(0, dtype=tf.int64),
        num_learners=tasks_per_call)
    self._agent.initialize()
    self._optimizer.build(self._agent.trainable_variables)
    num_cells = self._features.num_cells or 1
    self._visits = tf.Variable(tf.zeros([tasks_per_call * num_cells]), trainable=False)
    self._rewarded = tf.Variable(tf.zeros([tasks_per_call], tf.bool), trainable=False)

  @tf.function
  def _iteration(self, env_state: Dict[str, tf.Tensor], row_seeds: tf.Tensor,
                 iteration: tf.Tensor):
    """One episode for every actor of every learner, then one PPO update of every learner.

    Returns the new environment state and what the actors saw, time-major: observations
    [L + 1, B, ...], actions [L, B], rewards [L, B] and the policy's action probabilities
    [L, B, num_actions], with B = learners x actors, learner-major.
    """
    env, policy = self._env, self._agent.collect_policy
    length, rows = env.episode_length, row_seeds.shape[0]
    env_state, _ = env.reset(env_state)
    # What the agent reads, and what its history records: the observation, or the family's
    # privileged agent state (Watermaze: the pose; its frames are drawn when the data is written).
    observation = env.agent_observe(env_state)
    observations = tf.TensorArray(env.spec.agent_view.tf_dtype, size=length + 1).write(
        0, observation)
    actions = tf.TensorArray(tf.int32, size=length)
    rewards = tf.TensorArray(tf.float32, size=length)
    logits = tf.TensorArray(tf.float32, size=length)
    agent_inputs = tf.TensorArray(tf.float32, size=length + 1)
    earned = tf.zeros([rows], tf.int32)  # Rewards so far in this episode, per actor.
    for t in tf.range(length):
      agent_input = self._agent_input(observation, earned)
      agent_inputs = agent_inputs.write(t, agent_input)
      time_step = ts.TimeStep(
          tf.fill([rows], tf.where(t == 0, ts.StepType.FIRST, ts.StepType.MID)),
          tf.zeros([rows]), tf.ones([rows]), agent_input)
      step_logits = policy.distribution(time_step).info['dist_params']['logits']
      step = tf.fill([rows], tf.cast(iteration, tf.int32) * length + t)
      action = action_sampling.sample(step_logits, row_seeds, step)
      env_state, _, reward = env.step(env_state, action, check_actions=False)
      observation = env.agent_observe(env_state)
      earned += tf.cast(reward > 0, tf.int32)
      observations = observations.write(t + 1, observation)
      actions = actions.write(t, action)
      rewards = rewards.write(t, reward)
      logits = logits.write(t, step_logits)
    agent_inputs = agent_inputs.write(length, self._agent_input(observation, earned))
    observations, actions = observations.stack(), actions.stack()
    rewards, logits, agent_inputs = rewards.stack(), logits.stack(), agent_inputs.stack()
    training_rewards = rewards
    if self._exploration_bonus:
      bonus = self._count_bonus(observations[1:])
      if self._bonus_until_reward:
        # A learner whose actors have found the reward (in this episode or before) is trained on
        # the reward alone from then on.
        found = tf.reduce_any(tf.reshape(rewards > 0, [length, self.tasks_per_call, -1]), [0, 2])
        self._rewarded.assign(self._rewarded | found)
        learner = tf.range(rows) // self.num_actors
        bonus *= 1.0 - tf.cast(tf.gather(self._rewarded, learner), tf.float32)[None]
      training_rewards += bonus
    self._agent.train(ppo_experience.episode_trajectory(agent_inputs, actions, training_rewards,
                                                       logits))
    return env_state, observations, actions, rewards, tf.nn.softmax(logits)

  def _agent_input(self, observation: tf.Tensor, earned: tf.Tensor) -> tf.Tensor:
    """What the networks read: the observation's features [, rewards so far one-hot]."""
    features = self._features.encode(observation)
    if not self._episode_reward_inputs:
      return features
    count = tf.minimum(earned, self._episode_reward_inputs)
    return tf.concat([features, tf.one_hot(count, self._episode_reward_inputs + 1)], axis=-1)

  def _count_bonus(self, arrivals: tf.Tensor) -> tf.Tensor:
    """Counts every actor's arrivals [L, B, 2] per learner; returns beta / sqrt(n) [L, B]."""
    rows = arrivals.shape[1]
    learner = tf.range(rows) // self.num_actors
    index = learner[None] * self._features.num_cells + self._features.cell_index(arrivals)
    self._visits.scatter_nd_add(tf.reshape(index, [-1, 1]),
                                tf.ones([tf.size(index)], tf.float32))
    return self._exploration_bonus * tf.math.rsqrt(tf.gather(self._visits, index))

  def _reset(self, seeds: Sequence[int]) -> None:
    """Fresh learners: weights drawn from each task's seed, optimizer and counts zeroed."""
    self._actor_net.reset(seeds)
    self._value_net.reset(seeds)
    for variable in self._optimizer.variables:
      variable.assign(tf.zeros_like(variable))
    self._agent.train_step_counter.assign(0)
    self._visits.assign(tf.zeros_like(self._visits))
    self._rewarded.assign(tf.zeros_like(self._rewarded))

  def learn_many(self, tasks: Sequence[Dict[str, np.ndarray]],
                 seeds: Sequence[int]) -> List[learning_history.LearningHistories]:
    """Trains a fresh learner on each task (at most `tasks_per_call`); returns their histories."""
    count = len(tasks)
    if not 1 <= count <= self.tasks_per_call or len(seeds) != count:
      raise ValueError(f'learn_many takes 1..{self.tasks_per_call} tasks (tasks_per_call) and '
                       f'one seed per task; got {count} tasks and {len(seeds)} seeds.')
    # A partial call fills the remaining learners with copies of its last task (results dropped).
    padding = self.tasks_per_call - count
    tasks, seeds = list(tasks) + [tasks[-1]] * padding, list(seeds) + [seeds[-1]] * padding
    self._reset(seeds)
    env_state, row_seeds = actors.initial_state(self._env, self._env_name, tasks, seeds,
                                                self.num_actors)
    row_seeds = tf.constant(row_seeds)
    episodes = []
    start = time.monotonic()
    for iteration in range(self.num_iterations):
      env_state, *episode = self._iteration(env_state, row_seeds,
                                            tf.constant(iteration, tf.int64))
      episodes.append([x.numpy() for x in episode])
      done, elapsed = iteration + 1, time.monotonic() - start
      logging.log_every_n_seconds(
          logging.INFO, 'PPO, %d task(s): iteration %d/%d | %.0f env steps/s | ETA %.0f s',
          PROGRESS_EVERY_S, count, done, self.num_iterations,
          count * self.num_actors * self._env.episode_length * done / elapsed,
          elapsed * (self.num_iterations - done) / done)
    actors_of = lambda n: slice(n * self.num_actors, (n + 1) * self.num_actors)
    return [learning_history.LearningHistories.from_time_major_episodes(
        [[x[:, actors_of(n)] for x in episode] for episode in episodes]) for n in range(count)]
