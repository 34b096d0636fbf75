"""Fresh weights for a TF-Agents agent without rebuilding it (and re-tracing its graphs)."""

from typing import Sequence

import numpy as np
import tensorflow as tf


class AgentReset:
  """Remembers an agent's initial variables and redraws them from a seed on demand.

  Every randomly initialised variable gets a stateless uniform draw keyed by (seed, variable
  index), zero-mean with the standard deviation of the layer's own initial draw (the Glorot scale
  for hidden layers, the smaller scale of an output layer). Variables with a constant initial
  value (biases, normalizers, counters) return to it, and optimizer slots to zero. The weights
  for a task are then a function of its seed alone, whatever ran in the process before.
  """

  def __init__(self, variables: Sequence[tf.Variable], optimizer: tf.keras.optimizers.Optimizer):
    self._variables = list(variables)
    self._initial_values = [v.numpy() for v in self._variables]
    self._optimizer = optimizer

  def __call__(self, seed: int) -> None:
    for index, (variable, initial) in enumerate(zip(self._variables, self._initial_values)):
      if variable.dtype.is_floating and initial.size > 1 and initial.std() > 0:
        bound = float(np.sqrt(3.0) * initial.std())
        variable.assign(tf.random.stateless_uniform(
            initial.shape, seed=[seed, index], minval=-bound, maxval=bound, dtype=variable.dtype))
      else:
        variable.assign(initial)
    for variable in self._optimizer.variables:
      variable.assign(tf.zeros_like(variable))
