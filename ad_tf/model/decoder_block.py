"""A keras_nlp `TransformerDecoder` with its own attention-dropout rate and a faster attention.

The paper sets attention dropout (0.5) apart from the residual dropout (0.1); keras_nlp's decoder
uses one rate for both, so this block sets the self-attention layer's rate after it is built.

Its self-attention layer is keras_nlp's `CachedMultiHeadAttention` with the two einsums
(`[B, T, H, D] x [B, S, H, D] -> [B, H, T, S]` and back) done as one transpose of each operand
and batched matmuls on the [B, H, T, D] layout. The math, the weights and the masking (Keras'
own masked softmax) are the same; on 2 CPU cores TF's einsum of these shapes also transposes the
larger score tensor, and the matmuls make a training step 15-25% faster
(`python -m benchmarks.train_throughput --model=cpu_default`; docs/IN_CONTEXT_RL.md, item 29).
"""

import keras_nlp
from keras_nlp.src.backend import ops
from keras_nlp.src.layers.modeling import cached_multi_head_attention
import tensorflow as tf


class MatmulAttention(cached_multi_head_attention.CachedMultiHeadAttention):
  """`CachedMultiHeadAttention` computed with batched matmuls instead of einsums."""

  def call(self, query, value, key=None, attention_mask=None, cache=None,
           cache_update_index=None, training=None):
    if not getattr(self, '_built_from_signature', True):  # Built on first call, as keras_nlp's.
      self._build_from_signature(query=query, value=value, key=key)
    if key is None:
      key = value
    query = self._query_dense(query)
    if cache is not None:
      if cache_update_index is None:
        key, value = cache[:, 0, ...], cache[:, 1, ...]
      else:
        start = [0, cache_update_index, 0, 0]
        key = ops.slice_update(cache[:, 0, ...], start, self._key_dense(key))
        value = ops.slice_update(cache[:, 1, ...], start, self._value_dense(value))
        cache = tf.stack((key, value), axis=1)
    elif cache_update_index is not None:
      raise ValueError('`cache_update_index` needs a `cache`; got cache=None, '
                       f'cache_update_index={cache_update_index}.')
    else:
      key, value = self._key_dense(key), self._value_dense(value)
    heads_first = [0, 2, 1, 3]  # [B, T, H, D] <-> [B, H, T, D]
    query = tf.transpose(query * (1.0 / float(self._key_dim) ** 0.5), heads_first)
    scores = tf.matmul(query, tf.transpose(key, heads_first), transpose_b=True)  # [B, H, T, S]
    scores = self._dropout_layer(self._masked_softmax(scores, attention_mask), training=training)
    output = tf.transpose(tf.matmul(scores, tf.transpose(value, heads_first)), heads_first)
    output = self._output_dense(output)
    return (output, cache) if cache is not None else output


class DecoderBlock(keras_nlp.layers.TransformerDecoder):
  """Post-norm decoder-only block (no cross-attention) with a separate attention dropout."""

  def __init__(self, attention_dropout: float = 0.0, **kwargs):
    super().__init__(**kwargs)
    self.attention_dropout = attention_dropout

  def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
    super().build(decoder_sequence_shape, encoder_sequence_shape)
    attention = self._self_attention_layer  # pylint: disable=protected-access
    attention._dropout_layer.rate = self.attention_dropout  # pylint: disable=protected-access
    # keras_nlp builds a `CachedMultiHeadAttention`; same weights and config, matmul `call`.
    attention.__class__ = MatmulAttention

  def get_config(self):
    return {**super().get_config(), 'attention_dropout': self.attention_dropout}


tf.keras.utils.get_custom_objects()['ad_tf>DecoderBlock'] = DecoderBlock
