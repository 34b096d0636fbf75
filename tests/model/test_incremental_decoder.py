"""IncrementalDecoder: in-place cached decoding gives the model's own logits."""

import numpy as np
import pytest
import tensorflow as tf

from ad_tf.model import incremental_decoder
from tests.model.test_transformer import make_model
from tests.model.test_transformer import random_inputs


def _step(inputs, t):
  return {k: tf.constant(v[:, t]) for k, v in inputs.items()}


def test_step_by_step_equals_full_causal_recompute():
  model, inputs = make_model(), random_inputs()
  full = model(inputs).numpy()
  decoder = incremental_decoder.IncrementalDecoder(model, 3)
  weights = decoder.layer_weights()
  steps = [decoder.step(_step(inputs, t), tf.constant(t), weights).numpy() for t in range(40)]
  np.testing.assert_allclose(np.stack(steps, axis=1), full, atol=1e-5)


def test_prefill_then_steps_equal_full_and_overwrite_an_older_context():
  model, inputs, other = make_model(), random_inputs(seed=0), random_inputs(seed=1)
  full = model(inputs).numpy()
  decoder = incremental_decoder.IncrementalDecoder(model, 3)
  weights = decoder.layer_weights()
  for t in range(40):  # Fill every position with another context first.
    decoder.step(_step(other, t), tf.constant(t), weights)
  prefix = decoder.prefill({k: tf.constant(v[:, :25]) for k, v in inputs.items()})
  np.testing.assert_allclose(prefix.numpy(), full[:, :25], atol=1e-5)
  for t in range(25, 40):
    np.testing.assert_allclose(decoder.step(_step(inputs, t), tf.constant(t), weights).numpy(),
                               full[:, t], atol=1e-5)


def test_inside_a_compiled_loop_equals_full():
  model, inputs = make_model(num_layers=3), random_inputs(batch=5, seed=3)
  full = model(inputs).numpy()
  decoder = incremental_decoder.IncrementalDecoder(model, 5)

  @tf.function
  def decode_all(inputs):
    weights = decoder.layer_weights()
    logits = tf.TensorArray(tf.float32, size=40)
    for t in tf.range(40):
      logits = logits.write(t, decoder.step({k: v[:, t] for k, v in inputs.items()}, t, weights))
    return tf.transpose(logits.stack(), [1, 0, 2])

  tensors = {k: tf.constant(v) for k, v in inputs.items()}
  np.testing.assert_allclose(decode_all(tensors).numpy(), full, atol=1e-5)


def test_an_unbuilt_model_is_an_error():
  with pytest.raises(ValueError, match='build_seeded'):
    incremental_decoder.IncrementalDecoder(make_model(), 2)


def test_decode_rows_with_a_position_per_row_equals_full():
  """Explicit caches, rows at different positions (the served policy's case)."""
  model, inputs = make_model(), random_inputs(batch=3, seed=4)
  full = model(inputs).numpy()
  _, keys, values = incremental_decoder.prefill_caches(
      model, {k: tf.constant(v[:, :40]) for k, v in inputs.items()})
  keys, values = tf.stack(keys, axis=1), tf.stack(values, axis=1)  # [B, L, H, 40, head_dim]
  weights = incremental_decoder.layer_weights(model)
  positions = np.array([5, 39, 22], np.int32)
  # Garbage after each row's position must not matter: it is about to be overwritten or unseen.
  garbage = tf.random.normal(keys.shape, seed=1)
  after = (np.arange(40)[None] >= positions[:, None])[:, None, None, :, None]
  keys, values = tf.where(after, garbage, keys), tf.where(after, garbage, values)
  token = {k: tf.constant(v[np.arange(3), positions]) for k, v in inputs.items()}
  logits, new_keys, new_values = incremental_decoder.decode_rows(model, weights, token,
                                                                 tf.constant(positions), keys,
                                                                 values)
  np.testing.assert_allclose(logits.numpy(), full[np.arange(3), positions], atol=1e-5)
  assert new_keys.shape == keys.shape
  # Row 0's next token, decoded from the returned caches, also equals the full pass.
  token = {k: tf.constant(v[:1, 6]) for k, v in inputs.items()}
  logits, _, _ = incremental_decoder.decode_rows(model, weights, token, tf.constant([6]),
                                                 new_keys[:1], new_values[:1])
  np.testing.assert_allclose(logits.numpy()[0], full[0, 6], atol=1e-5)
