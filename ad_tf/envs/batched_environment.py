"""The interface of the batched, TF-native environments.

A batched environment steps B tasks at once with pure TF ops, so data generation and in-context
evaluation run whole rollouts inside `tf.function`/`tf.while_loop`. It is functional: all
mutable state (positions, flags, step counters, the tasks themselves) lives in a dict of
tensors with a leading batch dimension that the caller threads through the loop.

Every environment here has a fixed episode length and no early termination, so episode
boundaries are known to the caller: call `reset` to start an episode, then `step` exactly
`episode_length` times. This is the same sequence of observations and rewards that the
matching PyEnvironment emits between a FIRST and a LAST time step.
"""

import abc
from typing import Dict, Mapping, Tuple

import tensorflow as tf

from ad_tf.envs import specs

State = Dict[str, tf.Tensor]


class BatchedEnvironment(specs.DeclaresSpec, abc.ABC):
  """B independent copies of one environment family, stepped together with TF ops; `spec` is
  the family's."""

  @abc.abstractmethod
  def task_state(self, tasks: Mapping[str, tf.Tensor]) -> State:
    """The per-task part of the state from a batch of tasks (validated by the caller)."""

  @abc.abstractmethod
  def _start(self, state: State) -> State:
    """Places the agent for a new episode; `state['episode']` is already the new index."""

  @abc.abstractmethod
  def _transition(self, state: State, action: tf.Tensor) -> Tuple[State, tf.Tensor]:
    """Applies `action` [B] int32; returns the new state and the reward [B] float32."""

  @abc.abstractmethod
  def observe(self, state: State) -> tf.Tensor:
    """The observation [B, *spec.observation.shape] of the current state."""

  def agent_observe(self, state: State) -> tf.Tensor:
    """What a source agent reads [B, *spec.agent_view.shape]: the observation, unless the
    family declares a privileged agent state (`EnvSpec.agent_state`)."""
    return self.observe(state)

  def initial_state(self, tasks: Mapping[str, tf.Tensor], seeds: tf.Tensor) -> State:
    """State before the first episode (call `reset` next); `seeds` [B] drive the environment's
    own randomness."""
    state = dict(self.task_state(tasks))
    seeds = tf.cast(tf.convert_to_tensor(seeds), tf.int64)
    batch = tf.shape(seeds)[0]
    state['seed'] = seeds
    state['episode'] = tf.fill([batch], tf.constant(-1, tf.int64))
    state['t'] = tf.zeros([batch], tf.int32)
    # Placing the agent here too keeps the state's structure fixed across `reset`, as
    # `tf.while_loop` requires; `reset` places it again for the real first episode.
    return self._start(state)

  def reset(self, state: State) -> Tuple[State, tf.Tensor]:
    """Starts the next episode in every row; returns the state and the first observation."""
    state = dict(state)
    state['episode'] = state['episode'] + 1
    state['t'] = tf.zeros_like(state['t'])
    state = self._start(state)
    return state, self.observe(state)

  def step(self, state: State, action: tf.Tensor,
           check_actions: bool = True) -> Tuple[State, tf.Tensor, tf.Tensor]:
    """Takes one action [B] in every row; returns (state, next observation, reward).

    `check_actions=False` skips the range check, for callers whose actions are in range by
    construction (an argmax over num_actions logits) and that compile with XLA, which has no
    Assert op.
    """
    action = tf.cast(action, tf.int32)
    if not check_actions:
      state, reward = self._transition(dict(state), action)
      state['t'] = state['t'] + 1
      return state, self.observe(state), reward
    message = (f'{self.name}: action out of range; allowed actions are '
               f'0..{self.num_actions - 1}')
    with tf.control_dependencies([
        tf.debugging.assert_non_negative(action, message=message),
        tf.debugging.assert_less(action, self.num_actions, message=message)]):
      action = tf.identity(action)
    state, reward = self._transition(dict(state), action)
    state['t'] = state['t'] + 1
    return state, self.observe(state), reward
