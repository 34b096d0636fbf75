"""The decoder block: keras_nlp's decoder, its attention computed with matmuls, same results."""

import numpy as np
import pytest
import tensorflow as tf
from keras_nlp.src.layers.modeling import cached_multi_head_attention

from ad_tf.model import decoder_block


def attention_pair(num_heads=4, key_dim=8, width=32, length=12, seed=0):
  """A MatmulAttention and a keras_nlp CachedMultiHeadAttention holding the same weights."""
  ours = decoder_block.MatmulAttention(num_heads=num_heads, key_dim=key_dim)
  reference = cached_multi_head_attention.CachedMultiHeadAttention(num_heads=num_heads,
                                                                    key_dim=key_dim)
  x = tf.random.stateless_normal([2, length, width], seed=[seed, 1])
  ours(x, x)
  reference(x, x)
  reference.set_weights(ours.get_weights())
  return ours, reference, x


def causal(batch, length):
  return tf.linalg.band_part(tf.ones([batch, length, length], tf.int32), -1, 0)


def test_matmul_attention_equals_keras_nlp_attention_without_cache():
  ours, reference, x = attention_pair()
  mask = causal(2, 12)
  np.testing.assert_allclose(ours(x, x, attention_mask=mask).numpy(),
                             reference(x, x, attention_mask=mask).numpy(), atol=1e-6)
  # And without a mask (full attention): the masking really is Keras' own.
  np.testing.assert_allclose(ours(x, x).numpy(), reference(x, x).numpy(), atol=1e-6)
  assert not np.allclose(ours(x, x).numpy(), ours(x, x, attention_mask=mask).numpy())


def test_matmul_attention_equals_keras_nlp_attention_with_a_cache():
  ours, reference, x = attention_pair()
  cache = tf.random.stateless_normal([2, 2, 12, 4, 8], seed=[3, 4])
  step = x[:, 5:6]
  mask = tf.cast(tf.range(12) <= 5, tf.int32)[None, None, :] * tf.ones([2, 1, 1], tf.int32)
  out, new_cache = ours(step, step, attention_mask=mask, cache=cache, cache_update_index=5)
  ref_out, ref_cache = reference(step, step, attention_mask=mask, cache=cache,
                                 cache_update_index=5)
  np.testing.assert_allclose(out.numpy(), ref_out.numpy(), atol=1e-6)
  np.testing.assert_allclose(new_cache.numpy(), ref_cache.numpy(), atol=1e-6)
  # A cache without an update index is read as it is.
  out, same = ours(step, step, attention_mask=mask, cache=new_cache)
  ref_out, _ = reference(step, step, attention_mask=mask, cache=new_cache)
  np.testing.assert_allclose(out.numpy(), ref_out.numpy(), atol=1e-6)
  assert same is new_cache


def test_cache_update_index_without_a_cache_is_one_clear_error():
  ours, _, x = attention_pair()
  with pytest.raises(ValueError, match='cache_update_index'):
    ours(x, x, cache_update_index=3)


def test_block_uses_matmul_attention_with_its_own_dropout_rate():
  block = decoder_block.DecoderBlock(attention_dropout=0.5, intermediate_dim=16, num_heads=2,
                                     dropout=0.1)
  block(tf.zeros([1, 4, 8]))
  attention = block._self_attention_layer  # pylint: disable=protected-access
  assert isinstance(attention, decoder_block.MatmulAttention)
  assert attention._dropout_layer.rate == 0.5  # pylint: disable=protected-access
  assert block.get_config()['attention_dropout'] == 0.5
