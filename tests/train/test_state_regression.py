"""The auxiliary state regression: what the family draws, and that the loss teaches an encoder to
read the pose from frames."""

import numpy as np
import pytest
import tensorflow as tf

import ad_tf.envs
from ad_tf.envs import watermaze
from ad_tf.model import loading
from ad_tf.model import transformer
from ad_tf.train import state_regression


def test_watermaze_draws_reachable_poses_at_its_headings_and_their_frames():
  family = ad_tf.envs.get_family('watermaze')
  drawn = family.observed_agent_states(64, tf.constant([3, 4], tf.int64))
  poses = drawn['agent_state'].numpy()
  assert poses.shape == (64, 3) and poses.dtype == np.float64
  assert drawn['observation'].shape == (64, 72, 96, 3) and drawn['observation'].dtype == tf.uint8
  # Where the agent's centre can be (a move that would leave this disc is refused)...
  radius = np.hypot(poses[:, 0], poses[:, 1])
  assert radius.max() <= watermaze.ARENA_RADIUS - watermaze.AGENT_RADIUS and radius.min() >= 0
  assert radius.max() > 0.8  # ... all of it, the wall's neighbourhood included.
  # ... facing one of the 12 headings it can face (30-degree turns from east).
  turns = poses[:, 2] / watermaze.TURN
  np.testing.assert_allclose(turns, np.round(turns), atol=1e-9)
  assert set(np.round(turns).astype(int)) <= set(range(12)) and len(set(np.round(turns))) > 6
  # The frames are the environment's own, pixel for pixel.
  np.testing.assert_array_equal(drawn['observation'].numpy(),
                                watermaze.render_np(poses[:, 0], poses[:, 1], poses[:, 2]))
  # A pure function of the seed.
  again = family.observed_agent_states(64, tf.constant([3, 4], tf.int64))
  other = family.observed_agent_states(64, tf.constant([3, 5], tf.int64))
  np.testing.assert_array_equal(again['agent_state'].numpy(), poses)
  assert not np.allclose(other['agent_state'].numpy(), poses)


def test_a_family_without_an_agent_state_has_none_to_regress():
  darkroom = ad_tf.envs.get_family('darkroom')
  with pytest.raises(NotImplementedError, match='darkroom has no agent state'):
    darkroom.observed_agent_states(4, tf.constant([0, 0], tf.int64))
  model = transformer.AlgorithmDistillationTransformer(darkroom.spec, max_length=4)
  with pytest.raises(ValueError, match='darkroom has no privileged agent state'):
    state_regression.StateRegression(darkroom, model, 4)


def _column_model_and_regression(width, channels, hidden_units, batch_size):
  """A one-layer Watermaze model of embedding and feed-forward size `width` with a column
  encoder, built from seed 0, and its state regression on `batch_size` drawn poses."""
  family = ad_tf.envs.get_family('watermaze')
  model = transformer.AlgorithmDistillationTransformer(
      family.spec, max_length=4, embedding_dim=width, num_layers=1, num_heads=2,
      feedforward_dim=width, observation_encoder={
          'architecture': 'columns', 'channels': channels, 'hidden_units': hidden_units})
  loading.build_seeded(model, seed=0, length=4)
  return model, state_regression.StateRegression(family, model, batch_size=batch_size)


def test_the_state_loss_alone_teaches_the_column_encoder_to_read_the_pose():
  """Trained on the regression only, the embedding comes to hold the pose: the loss on fresh
  draws falls by over a quarter in 150 steps (the one-hot cells are most of it and slow)."""
  model, regression = _column_model_and_regression(width=32, channels=16, hidden_units=64,
                                                   batch_size=32)
  variables = [v for v in model.trainable_variables if 'observation_encoder' in v.name]
  assert variables
  variables += regression.trainable_variables
  optimizer = tf.keras.optimizers.Adam(3e-3)

  @tf.function
  def train(step):
    with tf.GradientTape() as tape:
      loss = regression.loss(step)
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss

  held_out = lambda: np.mean([float(regression.loss(tf.constant(10_000 + i, tf.int64),
                                                    training=False)) for i in range(4)])
  before = held_out()
  for step in range(150):
    train(tf.constant(step, tf.int64))
  assert held_out() < 0.75 * before


def test_replicas_share_one_draw_so_their_parts_sum_to_the_whole_loss():
  """Each replica takes its slice of the step's draw: any number of replicas computes the same
  loss (and so the same update), and a resumed run draws what the uninterrupted one did."""
  _, regression = _column_model_and_regression(width=16, channels=4, hidden_units=8,
                                               batch_size=8)
  step = tf.constant(5, tf.int64)
  whole = float(regression.loss(step))
  parts = [float(regression.loss(step, replica, 2)) for replica in range(2)]
  np.testing.assert_allclose(sum(parts), whole, rtol=1e-5)
  assert parts[0] != parts[1]  # Different slices of the draw.
  assert float(regression.loss(step)) == whole  # The same draw again.
  with pytest.raises(ValueError, match='state_regression_batch=8 does not split across 3'):
    regression.loss(step, 0, 3)
