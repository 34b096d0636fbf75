"""The AD transformer: causal, cache-consistent, masking only in training."""

import numpy as np
import pytest
import tensorflow as tf

import ad_tf.envs
from ad_tf.model import transformer


def make_model(env_name='darkroom', **overrides):
  config = dict(max_length=40, embedding_dim=32, num_layers=2, num_heads=4, feedforward_dim=64,
                dropout=0.0, attention_dropout=0.0, sequence_mask_prob=0.0)
  config.update(overrides)
  return transformer.AlgorithmDistillationTransformer(env_spec=ad_tf.envs.get_spec(env_name),
                                                      **config)


def random_inputs(batch=3, length=40, seed=0):
  rng = np.random.default_rng(seed)
  return {'observation': rng.integers(0, 9, (batch, length, 2)).astype(np.int32),
          'time': np.tile(np.arange(length) % 20, (batch, 1)).astype(np.int32),
          'prev_action': rng.integers(0, 6, (batch, length)).astype(np.int32),
          'prev_reward': rng.integers(0, 2, (batch, length)).astype(np.float32)}


def test_cached_step_by_step_equals_full_causal_recompute():
  model, inputs = make_model(), random_inputs()
  full = model(inputs).numpy()
  cache, steps = model.initial_cache(3), []
  for t in range(40):
    logits, cache = model.call_with_cache({k: v[:, t:t + 1] for k, v in inputs.items()}, cache, t)
    steps.append(logits.numpy())
  np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-4)


def test_prefix_fill_then_incremental_equals_full():
  model, inputs = make_model(), random_inputs()
  full = model(inputs).numpy()
  prefix, cache = model.call_with_cache({k: v[:, :25] for k, v in inputs.items()},
                                        model.initial_cache(3), 0)
  np.testing.assert_allclose(prefix.numpy(), full[:, :25], atol=1e-4)
  logits, _ = model.call_with_cache({k: v[:, 25:26] for k, v in inputs.items()}, cache, 25)
  np.testing.assert_allclose(logits.numpy()[:, 0], full[:, 25], atol=1e-4)


def test_future_steps_do_not_change_past_logits():
  model = make_model()
  a, b = random_inputs(seed=0), random_inputs(seed=0)
  b['prev_action'][:, 30:] = (b['prev_action'][:, 30:] + 1) % 6
  b['observation'][:, 30:] = (b['observation'][:, 30:] + 1) % 9
  out_a, out_b = model(a).numpy(), model(b).numpy()
  np.testing.assert_allclose(out_a[:, :30], out_b[:, :30], atol=1e-5)
  assert np.abs(out_a[:, 30:] - out_b[:, 30:]).max() > 1e-3


def test_sequence_masking_and_dropout_act_only_in_training():
  model, inputs = make_model(sequence_mask_prob=0.5, dropout=0.1, attention_dropout=0.5), random_inputs()
  np.testing.assert_allclose(model(inputs, training=False), model(inputs, training=False))
  assert np.abs(model(inputs, training=True) - model(inputs, training=False)).max() > 1e-3
  assert model.blocks[0]._self_attention_layer._dropout_layer.rate == 0.5  # pylint: disable=protected-access
  assert model.blocks[0]._feedforward_dropout.rate == 0.1  # pylint: disable=protected-access


@pytest.mark.parametrize('mask_rewarded_steps', [True, False])
def test_rewarded_steps_are_kept_in_view_only_when_asked(mask_rewarded_steps):
  # Every token masked (probability 1), except, with mask_rewarded_steps=False, the ones that
  # carry a reward: those are the tokens of the unmasked model.
  model = make_model(sequence_mask_prob=1.0, mask_rewarded_steps=mask_rewarded_steps)
  inputs = random_inputs()
  model(inputs)  # Builds the mask embedding.
  masked = model._tokens(inputs, 0, training=True).numpy()  # pylint: disable=protected-access
  plain = model._tokens(inputs, 0, training=False).numpy()  # pylint: disable=protected-access
  positions = model.position_embedding(tf.constant(plain)).numpy()
  rewarded = inputs['prev_reward'] != 0
  assert 0 < rewarded.sum() < rewarded.size
  mask_token = model.mask_embedding.numpy() + positions
  np.testing.assert_allclose(masked[~rewarded], np.broadcast_to(mask_token, plain.shape)[~rewarded],
                             atol=1e-6)
  if mask_rewarded_steps:
    np.testing.assert_allclose(masked[rewarded], np.broadcast_to(mask_token, plain.shape)[rewarded],
                               atol=1e-6)
  else:
    np.testing.assert_allclose(masked[rewarded], plain[rewarded], atol=1e-6)


@pytest.mark.parametrize('sequence_mask_prob', [0.0, 0.3])
def test_mask_embedding_is_trained_only_with_sequence_masking(sequence_mask_prob):
  # With no masking it gets no gradient, so it is not a trained variable; either way the model has
  # the same variables, so checkpoints of both settings have the same layout.
  model = make_model(sequence_mask_prob=sequence_mask_prob)
  model(random_inputs())
  trained = {v.name for v in model.trainable_variables}
  assert (model.mask_embedding.name in trained) == (sequence_mask_prob > 0)
  assert model.mask_embedding.name in {v.name for v in model.variables}
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(model(random_inputs(), training=True))
  gradients = tape.gradient(loss, model.trainable_variables)
  assert all(g is not None for g in gradients)


def test_bandit_model_has_no_observation_input_dependence():
  model = make_model('bandit')
  inputs = {'observation': np.zeros((2, 40), np.int32),
            'time': np.tile(np.arange(40), (2, 1)).astype(np.int32),
            'prev_action': np.full((2, 40), 3, np.int32),
            'prev_reward': np.ones((2, 40), np.float32)}
  assert model(inputs).shape == (2, 40, 10)


def test_longer_than_positions_is_an_error():
  model = make_model()
  with pytest.raises((tf.errors.InvalidArgumentError, ValueError)):
    model(random_inputs(length=41))
