"""TF-Agents networks that hold N independent learners' weights, for N tasks learning at once.

A source algorithm learns one task per learner. Running N learners one after the other costs N
times the per-call overhead of TF-Agents' many small ops, which on a CPU dominates networks this
small. Here every layer holds a kernel [N, in, out] and a bias [N, out]: the batch is split into N
equal, contiguous, learner-major groups (rows n * R / N .. (n + 1) * R / N - 1 belong to learner
n) and each group goes through its own learner's weights with one batched matmul. Gradients of
learner n's weights come only from its own rows, so with a loss that treats rows alike (TF-Agents'
PPO loss is a mean over rows; see `ppo`) the N learners are independent learners computed
together.

Rows keep their order through TF-Agents' agents as long as nothing shuffles the batch: PPO trains
on the whole batch in order, which is what these networks are for.

Initial weights come from `reset(seeds)`: learner n's weights are stateless draws keyed by
seeds[n] alone, so a learner starts the same whatever else shares its batch.
"""

from typing import Optional, Sequence

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from tf_agents.networks import network
from tf_agents.networks import utils
from tf_agents.specs import distribution_spec
from tf_agents.specs import tensor_spec
from tf_agents.utils import nest_utils


class LearnerDense(tf.keras.layers.Layer):
  """A dense layer per learner: [N, rows, in] -> [N, rows, units]."""

  def __init__(self, num_learners: int, units: int, init_std: float,
               activation: Optional[str] = None, **kwargs):
    super().__init__(**kwargs)
    self.num_learners = num_learners
    self.units = units
    self.init_std = init_std
    self.activation = tf.keras.activations.get(activation)

  def build(self, input_shape):
    inputs = int(input_shape[-1])
    self.kernel = self.add_weight(name='kernel', shape=[self.num_learners, inputs, self.units],
                                  initializer='zeros')
    self.bias = self.add_weight(name='bias', shape=[self.num_learners, self.units],
                                initializer='zeros')

  def call(self, x):
    return self.activation(tf.einsum('nri,niu->nru', x, self.kernel) + self.bias[:, None])

  def reset(self, seeds: np.ndarray, salt: int) -> None:
    """Kernel of learner n: uniform, zero-mean, std `init_std`, keyed by (seeds[n], salt)."""
    bound = float(np.sqrt(3.0) * self.init_std)
    shape = self.kernel.shape[1:]
    self.kernel.assign(tf.stack([
        tf.random.stateless_uniform(shape, seed=[int(seed), salt], minval=-bound, maxval=bound)
        for seed in seeds]))
    self.bias.assign(tf.zeros_like(self.bias))


class _LearnerMlp(tf.keras.layers.Layer):
  """Hidden ReLU layers (He-scaled, as TF-Agents' EncodingNetwork) and a linear output layer."""

  def __init__(self, num_learners: int, input_size: int, fc_layer_params: Sequence[int],
               output_size: int, output_init_std, **kwargs):
    super().__init__(**kwargs)
    self.num_learners = num_learners
    sizes = [input_size] + list(fc_layer_params)
    self.hidden = [LearnerDense(num_learners, units, np.sqrt(2.0 / fan_in), 'relu',
                                name=f'hidden_{i}')
                   for i, (fan_in, units) in enumerate(zip(sizes[:-1], sizes[1:]))]
    self.output_layer = LearnerDense(num_learners, output_size, output_init_std(sizes[-1]),
                                     name='output')
    self.output_size = output_size

  def call(self, features):
    """features [R, in] (R a multiple of N, learner-major) -> [R, output_size]."""
    rows = features.shape[0]
    if rows == 1 and self.num_learners > 1:
      # TF-Agents' `create_variables` probes a network with one row to learn its output spec:
      # run that row through every learner and keep learner 0's output.
      features = tf.tile(features, [self.num_learners, 1])
      return self.call(features)[:1]
    x = tf.reshape(features, [self.num_learners, -1, features.shape[-1]])
    for layer in self.hidden:
      x = layer(x)
    return tf.reshape(self.output_layer(x), [-1, self.output_size])

  def reset(self, seeds: np.ndarray, salt: int) -> None:
    for index, layer in enumerate(self.hidden + [self.output_layer]):
      layer.reset(seeds, salt + index)


def _squashed_call(net: network.Network, mlp: _LearnerMlp, observation):
  """Runs `mlp` on observations with any outer dims; returns [outer..., out]."""
  outer_rank = nest_utils.get_outer_rank(observation, net.input_tensor_spec)
  squash = utils.BatchSquash(outer_rank)
  return squash.unflatten(mlp(squash.flatten(tf.cast(observation, tf.float32))))


class ActorNetwork(network.DistributionNetwork):
  """Per-learner MLP policy over discrete actions (a Categorical over logits)."""

  def __init__(self, observation_spec: tf.TensorSpec,
               action_spec: tensor_spec.BoundedTensorSpec, num_learners: int,
               fc_layer_params: Sequence[int], name: str = 'LearnerBatchedActorNetwork'):
    num_actions = int(action_spec.maximum - action_spec.minimum + 1)
    output_spec = distribution_spec.DistributionSpec(
        tfp.distributions.Categorical,
        {'logits': tensor_spec.TensorSpec([num_actions], tf.float32, name=name + '_logits')},
        sample_spec=action_spec, dtype=action_spec.dtype)
    super().__init__(input_tensor_spec=observation_spec, state_spec=(), output_spec=output_spec,
                     name=name)
    # Logits start small, as TF-Agents' CategoricalProjectionNetwork (variance scale 0.1).
    self._mlp = _LearnerMlp(num_learners, observation_spec.shape[-1], fc_layer_params,
                            num_actions, lambda fan_in: np.sqrt(0.1 / fan_in), name='mlp')

  def call(self, observation, step_type=None, network_state=(), training=False):
    del step_type, training
    logits = _squashed_call(self, self._mlp, observation)
    return self.output_spec.build_distribution(logits=logits), network_state

  def reset(self, seeds: np.ndarray) -> None:
    self._mlp.reset(seeds, salt=0)


class ValueNetwork(network.Network):
  """Per-learner MLP state-value function."""

  def __init__(self, observation_spec: tf.TensorSpec, num_learners: int,
               fc_layer_params: Sequence[int], name: str = 'LearnerBatchedValueNetwork'):
    super().__init__(input_tensor_spec=observation_spec, state_spec=(), name=name)
    # The value head starts near zero, as TF-Agents' ValueNetwork (uniform +-0.03).
    self._mlp = _LearnerMlp(num_learners, observation_spec.shape[-1], fc_layer_params, 1,
                            lambda fan_in: 0.03 / np.sqrt(3.0), name='mlp')

  def call(self, observation, step_type=None, network_state=(), training=False):
    del step_type, training
    return _squashed_call(self, self._mlp, observation)[..., 0], network_state

  def reset(self, seeds: np.ndarray) -> None:
    self._mlp.reset(seeds, salt=1000)
