"""An auxiliary training loss: the observation encoder reads the agent's privileged state back.

Watermaze's source acts on its pose; AD sees only frames and has to read where it is from them
to go back to a platform it found. Trained on actions alone, the CPU default's encoder reads
~75% of x's variance from a frame (a linear readout of its embedding), an error of ~0.23 of the
arena's radius against a platform of 0.15 (docs/WATERMAZE.md, W9). This loss asks a linear head
on the observation embedding for the source agent's own features of the state (x, y, cos and sin
of the heading, one-hot position and heading cells: `encoders.agent_features`), on frames the
family draws of states spread over the arena (`EnvironmentFamily.observed_agent_states`), so no
dataset has to store the states. The head only trains the encoder: it is not part of the model
record or the exported model. The draw is a pure function of the step, and each replica takes
its slice of it, so a resumed run sees the same frames and any number of replicas computes the
same update.
"""

from typing import Dict

import tensorflow as tf

from ad_tf.envs import family as family_lib
from ad_tf.model import encoders
from ad_tf.model import transformer

#: Salt of the stateless seeds of the drawn states (any constant; fixed for resumption).
_SEED_SALT = 7_130_529


class StateRegression:
  """`loss(step)`: the squared error, summed over the state features and averaged over
  `batch_size` drawn states, of a linear read-out of the model's observation embedding."""

  def __init__(self, family: family_lib.EnvironmentFamily,
               model: transformer.AlgorithmDistillationTransformer, batch_size: int):
    if family.spec.agent_state is None:
      raise ValueError(f'{family.name} has no privileged agent state to regress '
                       '(train.state_regression_weight > 0 needs one, e.g. watermaze).')
    self._family = family
    self._model = model
    self._batch_size = batch_size
    self._features = encoders.agent_features(family.spec.agent_state)
    self.head = tf.keras.layers.Dense(self._features.size, name='state_regression_head')
    self.head.build([None, model.embedding_dim])

  def drawn(self, step: tf.Tensor) -> Dict[str, tf.Tensor]:
    """The `batch_size` states and observations of `step` (the same on every call)."""
    # (step * 1,000: the seeds of the measured runs, W10-W11, which drew per replica.)
    seed = tf.stack([tf.cast(step, tf.int64) * 1_000, tf.constant(_SEED_SALT, tf.int64)])
    return self._family.observed_agent_states(self._batch_size, seed)

  def loss(self, step: tf.Tensor, replica: tf.Tensor = 0, replicas: int = 1,
           training: bool = True) -> tf.Tensor:
    """This replica's part of the step's loss: its slice of the draw, its mean divided by
    `replicas`, so the parts sum to the whole draw's mean for any number of replicas (as the
    trainer's action loss does)."""
    if self._batch_size % replicas:
      raise ValueError(f'train.state_regression_batch={self._batch_size} does not split across '
                       f'{replicas} replicas.')
    size = self._batch_size // replicas
    drawn = tf.nest.map_structure(lambda x: x[replica * size:(replica + 1) * size],
                                  self.drawn(step))
    targets = self._features.encode(drawn['agent_state'])
    embedding = self._model.step_embedding.observation_embedding(drawn['observation'],
                                                                 training=training)
    errors = tf.reduce_sum(tf.square(self.head(embedding) - targets), axis=-1)
    return tf.reduce_mean(errors) / replicas

  @property
  def trainable_variables(self):
    return self.head.trainable_variables
