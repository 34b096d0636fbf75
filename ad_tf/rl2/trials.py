"""RL² trials on the batched TF environment: K episodes of one task as one tf_agents episode.

The recurrent state carries across the episodes of a trial because TF-Agents only resets it at a
FIRST step, and a trial has one: its first step. Every later episode start is a MID step whose
`episode_start` input is 1. A new trial starts with a FIRST step (and, in training, a new task),
so the state resets between trials.

`play` runs one trial in every row inside one `tf.while_loop` (no per-step Python), for training
collection (the in-process policy) and for evaluation (the saved policy) alike: only the function
that maps (time step, policy state) to logits differs. Actions are drawn per row with
`action_sampling` keyed by (row seed, step), so a row's trial depends only on its seeds, and the
saved policy reproduces the in-process one action for action.
"""

from typing import Callable, Dict, Tuple

import tensorflow as tf
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory

from ad_tf.envs import batched_environment
from ad_tf.model import action_sampling
from ad_tf.rl2 import trial_inputs
from ad_tf.sources import ppo_experience

#: (time step, policy state) -> (logits [B, num_actions], next policy state).
LogitsFn = Callable[[ts.TimeStep, object], Tuple[tf.Tensor, object]]


def policy_logits(policy) -> LogitsFn:
  """The LogitsFn of a tf_agents policy, in process or loaded from `PolicySaver`'s SavedModel."""

  def logits_fn(time_step, policy_state):
    step = policy.distribution(time_step, policy_state)
    return step.action.logits, step.state

  return logits_fn


def play(env: batched_environment.BatchedEnvironment, env_state: batched_environment.State,
         logits_fn: LogitsFn, policy_state, row_seeds: tf.Tensor, num_episodes: int,
         first_step: tf.Tensor = 0) -> Dict[str, object]:
  """Plays one trial of `num_episodes` episodes in every row (call inside `tf.function`).

  Args:
    env: the batched environment; `env_state` its state before the trial (any number of
      episodes already played; every episode of the trial starts with `env.reset`).
    logits_fn: the policy (see `policy_logits`); `policy_state` its state at the trial's start
      (`get_initial_state`: the first step is FIRST, which resets it anyway).
    row_seeds: [B] int64 each row's action-sampling seed.
    first_step: the sampling step of the trial's first step (training offsets each iteration).

  Returns:
    'inputs': the agent's inputs, time-major [T + 1, B, ...] (T = num_episodes x episode
      length; item T is what it would read after the last action), 'actions' [T, B],
    'rewards' [T, B], 'logits' [T, B, num_actions], 'env_state' and 'policy_state' after it.
  """
  length = env.episode_length
  total = num_episodes * length
  rows = tf.shape(row_seeds)[0]
  input_spec = trial_inputs.input_spec(env.name)
  inputs = {key: tf.TensorArray(spec.dtype, size=total + 1, element_shape=None)
            for key, spec in input_spec.items()}
  actions = tf.TensorArray(tf.int32, size=total)
  rewards = tf.TensorArray(tf.float32, size=total)
  logits = tf.TensorArray(tf.float32, size=total)
  previous_action = tf.fill([rows], trial_inputs.NO_ACTION)
  previous_reward = tf.zeros([rows])
  observation = env.observe(env_state)
  for t in tf.range(total):
    episode_start = t % length == 0
    if episode_start:
      env_state, observation = env.reset(env_state)
    step_input = trial_inputs.step_inputs(observation, previous_action, previous_reward,
                                          tf.fill([rows], episode_start))
    inputs = {key: inputs[key].write(t, value) for key, value in step_input.items()}
    time_step = ts.TimeStep(tf.fill([rows], tf.where(t == 0, ts.StepType.FIRST, ts.StepType.MID)),
                            tf.zeros([rows]), tf.ones([rows]), step_input)
    step_logits, policy_state = logits_fn(time_step, policy_state)
    action = action_sampling.sample(step_logits, row_seeds,
                                    tf.fill([rows], tf.cast(first_step, tf.int32) + t))
    env_state, observation, reward = env.step(env_state, action, check_actions=False)
    actions = actions.write(t, action)
    rewards = rewards.write(t, reward)
    logits = logits.write(t, step_logits)
    previous_action, previous_reward = action, reward
  last = trial_inputs.step_inputs(observation, previous_action, previous_reward,
                                  tf.zeros([rows], tf.bool))
  inputs = {key: inputs[key].write(total, value).stack() for key, value in last.items()}
  return {'inputs': inputs, 'actions': actions.stack(), 'rewards': rewards.stack(),
          'logits': logits.stack(), 'env_state': env_state, 'policy_state': policy_state}


def experience(trial: Dict[str, object]) -> trajectory.Trajectory:
  """A played trial as PPO's batch-major `Trajectory` of T + 1 items: one tf_agents episode
  (FIRST, then MID across every episode boundary, then the masked boundary item)."""
  return ppo_experience.episode_trajectory(trial['inputs'], trial['actions'], trial['rewards'],
                                           trial['logits'])


def episode_returns(rewards: tf.Tensor, episode_length: int) -> tf.Tensor:
  """Time-major rewards [T, B] -> [B, T / episode_length] each episode's return."""
  per_episode = tf.reshape(tf.transpose(rewards), [tf.shape(rewards)[1], -1, episode_length])
  return tf.reduce_sum(per_episode, axis=-1)
