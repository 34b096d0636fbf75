"""Step tokens: what the transformer reads at each step of a learning history (the one schema).

Token t embeds, summed: the observation o_t (the encoder `encoders.observation_encoder` picks
from the observation spec), the step's index within its episode, the previous action a_{t-1}
and the previous reward r_{t-1}; the model predicts a_t from tokens 0..t. The previous action
and reward cross episode boundaries, so the first token of an episode carries how the last one
ended. At the very start of a history there is no previous step: `prev_action` is then
`num_actions` (a 'none' action) and `prev_reward` 0.

`step_input_specs(env_spec)` is the schema every stage uses (the input pipeline, the model, the
in-context rollout and the exported signatures): 'observation' [*obs_shape] of the
observation's dtype, int32 'time' and 'prev_action', float32 'prev_reward', each with whatever
leading [batch, time] dimensions the stage adds.
"""

from typing import Dict, Mapping, Optional, Sequence

import tensorflow as tf

from ad_tf.envs import specs
from ad_tf.model import encoders

STEP_INPUT_KEYS = ('observation', 'time', 'prev_action', 'prev_reward')


def step_input_specs(env_spec: specs.EnvSpec) -> Dict[str, tf.TensorSpec]:
  """Shape (of one step, no leading dimensions) and dtype of each step input."""
  observation = env_spec.observation
  return {'observation': tf.TensorSpec(observation.shape, observation.tf_dtype),
          'time': tf.TensorSpec([], tf.int32),
          'prev_action': tf.TensorSpec([], tf.int32),
          'prev_reward': tf.TensorSpec([], tf.float32)}


def zeros(env_spec: specs.EnvSpec, leading_shape: Sequence[int]) -> Dict[str, tf.Tensor]:
  """All-zero step inputs with `leading_shape` (e.g. [batch, context]) before each step's shape."""
  return {key: tf.zeros([*leading_shape, *spec.shape], spec.dtype)
          for key, spec in step_input_specs(env_spec).items()}


def none_action(env_spec: specs.EnvSpec) -> int:
  """The 'none' previous action of a history's first step."""
  return env_spec.num_actions


class StepEmbedding(tf.keras.layers.Layer):
  """Step inputs [B, T, ...] -> token embeddings [B, T, D]."""

  def __init__(self, env_spec: specs.EnvSpec, embedding_dim: int,
               observation_encoder: Optional[Mapping[str, object]] = None, **kwargs):
    super().__init__(**kwargs)
    self._observation = encoders.observation_encoder(env_spec.observation, embedding_dim,
                                                     observation_encoder)
    self._time = tf.keras.layers.Embedding(env_spec.episode_length, embedding_dim, name='time')
    self._prev_action = tf.keras.layers.Embedding(env_spec.num_actions + 1, embedding_dim,
                                                  name='prev_action')
    self._prev_reward = tf.keras.layers.Dense(embedding_dim, name='prev_reward')

  @property
  def observation_encoder_hyperparameters(self) -> Dict[str, object]:
    """The observation encoder's sizes ({} for encoders that have none), as a plain dict."""
    return encoders.encoder_hyperparameters(self._observation)

  def observation_embedding(self, observation: tf.Tensor, training=None) -> tf.Tensor:
    """The observation's part of a token alone: [..., *obs_shape] -> [..., D]."""
    return self._observation(observation, training=training)

  def call(self, inputs: Dict[str, tf.Tensor]) -> tf.Tensor:
    return (self._observation(inputs['observation']) + self._time(inputs['time'])
            + self._prev_action(inputs['prev_action'])
            + self._prev_reward(inputs['prev_reward'][..., None]))
