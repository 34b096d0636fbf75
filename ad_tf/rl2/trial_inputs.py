"""What an RL² agent reads at every step of a trial, declared once from the environment's spec.

A trial is K episodes of one task. Its recurrent agent sees, at step t: the observation o_t, the
previous action a_{t-1} and reward r_{t-1} (which cross episode boundaries within the trial, so
the first step of an episode still knows how the last one ended), and whether t starts an
episode. At the first step of a trial there is no previous step: the previous action is -1 (its
one-hot is all zeros) and the previous reward 0.

The inputs are a dict of raw tensors (`input_spec`): the saved policy takes the environment's own
observation, not features, so a client needs nothing of ad_tf to call it. The networks turn them
into floats with `preprocessing_layers` (one Keras layer per key, concatenated): the observation
through the source agents' features (`encoders.agent_features`), the previous action one-hot.
"""

from typing import Dict

import tensorflow as tf
from tf_agents.specs import tensor_spec

import ad_tf.envs
from ad_tf.model import encoders

OBSERVATION = 'observation'
PREVIOUS_ACTION = 'previous_action'
PREVIOUS_REWARD = 'previous_reward'
EPISODE_START = 'episode_start'
#: The previous action at the first step of a trial (no previous step).
NO_ACTION = -1


def input_spec(env_name: str) -> Dict[str, tf.TensorSpec]:
  """The agent's input at one step (no batch dimension), as tf_agents specs."""
  spec = ad_tf.envs.get_spec(env_name)
  observation = spec.observation
  return {
      OBSERVATION: tensor_spec.BoundedTensorSpec(
          observation.shape, observation.tf_dtype, observation.minimum, observation.maximum,
          name=OBSERVATION),
      PREVIOUS_ACTION: tensor_spec.BoundedTensorSpec(
          (), tf.int32, NO_ACTION, spec.num_actions - 1, name=PREVIOUS_ACTION),
      PREVIOUS_REWARD: tensor_spec.TensorSpec((), tf.float32, name=PREVIOUS_REWARD),
      EPISODE_START: tensor_spec.TensorSpec((), tf.float32, name=EPISODE_START),
  }


def step_inputs(observation: tf.Tensor, previous_action: tf.Tensor, previous_reward: tf.Tensor,
                episode_start: tf.Tensor) -> Dict[str, tf.Tensor]:
  """One step's inputs for a batch of rows (each [B, ...])."""
  return {OBSERVATION: observation,
          PREVIOUS_ACTION: tf.cast(previous_action, tf.int32),
          PREVIOUS_REWARD: tf.cast(previous_reward, tf.float32),
          EPISODE_START: tf.cast(episode_start, tf.float32)}


class ObservationFeatures(tf.keras.layers.Layer):
  """Observations of `env_name` -> the float features a source agent reads [B, size]."""

  def __init__(self, env_name: str, **kwargs):
    super().__init__(**kwargs)
    self.env_name = env_name
    self._features = encoders.agent_features(ad_tf.envs.get_spec(env_name).observation)

  def call(self, observation):
    return self._features.encode(observation)

  def get_config(self):  # tf_agents copies preprocessing layers through their config.
    return {**super().get_config(), 'env_name': self.env_name}


class OneHot(tf.keras.layers.Layer):
  """int [B] -> one-hot float [B, depth] (all zeros for NO_ACTION)."""

  def __init__(self, depth: int, **kwargs):
    super().__init__(**kwargs)
    self.depth = depth

  def call(self, values):
    return tf.one_hot(values, self.depth)

  def get_config(self):
    return {**super().get_config(), 'depth': self.depth}


class AsFeature(tf.keras.layers.Layer):
  """A scalar per row [B] -> one float feature [B, 1]."""

  def call(self, values):
    return tf.cast(values, tf.float32)[:, None]


def preprocessing_layers(env_name: str) -> Dict[str, tf.keras.layers.Layer]:
  """One layer per input key; their outputs are concatenated (`preprocessing_combiner`)."""
  num_actions = ad_tf.envs.get_spec(env_name).num_actions
  return {OBSERVATION: ObservationFeatures(env_name),
          PREVIOUS_ACTION: OneHot(num_actions),
          PREVIOUS_REWARD: AsFeature(),
          EPISODE_START: AsFeature()}


def preprocessing_combiner() -> tf.keras.layers.Layer:
  return tf.keras.layers.Concatenate(axis=-1)
