"""Whole played episodes as the batch-major `Trajectory` TF-Agents' PPO trains on.

Both PPO users here play whole episodes on the batched environment, time-major: the source
(one environment episode) and RL² (one trial of K episodes, which is one tf_agents episode).
"""

import tensorflow as tf
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory


def episode_trajectory(observations, actions: tf.Tensor, rewards: tf.Tensor,
                       logits: tf.Tensor) -> trajectory.Trajectory:
  """One episode per row as a PPO `Trajectory` of T + 1 items, batch-major.

  Args:
    observations: what the agent read, time-major [T + 1, B, ...] (a tensor or a nest); item T
      is what it would read after its last action.
    actions, rewards: [T, B]; logits: [T, B, num_actions], the collect policy's.

  Items 0..T-1 are the transitions (FIRST, then MID); item T is the boundary (LAST -> FIRST) that
  carries the final observation and is masked out of the loss. The episode ends there: PPO does
  not bootstrap past it.
  """
  total = actions.shape[0]
  rows = tf.shape(actions)[1]
  step_types = tf.constant([ts.StepType.FIRST] + [ts.StepType.MID] * (total - 1)
                           + [ts.StepType.LAST])
  next_step_types = tf.constant([ts.StepType.MID] * (total - 1) + [ts.StepType.LAST]
                                + [ts.StepType.FIRST])

  def batch_major(x):  # [T + 1, B, ...] -> [B, T + 1, ...]
    return tf.transpose(x, [1, 0] + list(range(2, x.shape.rank)))

  def with_boundary(x):  # Appends the (masked) boundary item's zeros.
    return tf.concat([x, tf.zeros_like(x[:1])], axis=0)

  per_step = lambda types: batch_major(tf.tile(types[:, None], [1, rows]))
  return trajectory.Trajectory(
      step_type=per_step(step_types),
      observation=tf.nest.map_structure(batch_major, observations),
      action=batch_major(with_boundary(actions)),
      policy_info={'dist_params': {'logits': batch_major(with_boundary(logits))}},
      next_step_type=per_step(next_step_types),
      reward=batch_major(with_boundary(rewards)),
      discount=tf.ones([rows, total + 1]))
