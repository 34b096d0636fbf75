"""Fresh weights for a TF-Agents agent without rebuilding it (and re-tracing its graphs)."""

from typing import Sequence

import numpy as np
import tensorflow as tf


class AgentReset:
  """Remembers an agent's initial variables and redraws them from a seed on demand.

  Each kernel is redrawn uniformly within the bound of its layer's own initial draw (the Glorot
  limit for hidden layers, the smaller scale of an output layer); every other variable (biases,
  normalizers, counters) returns to its initial value, and optimizer slots to zero.
  """

  def __init__(self, variables: Sequence[tf.Variable], optimizer: tf.keras.optimizers.Optimizer):
    self._variables = list(variables)
    self._initial_values = [v.numpy() for v in self._variables]
    self._optimizer = optimizer

  def __call__(self, seed: int) -> None:
    for index, (variable, initial) in enumerate(zip(self._variables, self._initial_values)):
      if 'kernel' in variable.name:
        bound = float(np.abs(initial).max())
        variable.assign(tf.random.stateless_uniform(
            initial.shape, seed=[seed, index], minval=-bound, maxval=bound))
      else:
        variable.assign(initial)
    for variable in self._optimizer.variables:
      variable.assign(tf.zeros_like(variable))
