"""One-token decoding for rollouts, with key/value caches updated in place.

keras_nlp's self-attention cache (`AlgorithmDistillationTransformer.call_with_cache`) is a
functional tensor [B, 2, max_length, heads, head_dim] per layer: every decoded token slices it,
writes one position with `slice_update` and re-stacks keys and values, so each step copies every
layer's whole cache several times, and attends over all max_length positions under a mask. At
context 200 and 100 rollouts those copies, not the arithmetic, are most of a step.

`IncrementalDecoder` keeps the same keys and values in `tf.Variable`s [B, heads, max_length,
head_dim] per layer, writes one position per token in place (strided-slice assignment) and attends
over the filled prefix only, so no mask is needed. It computes with the model's own weights (read
from the keras_nlp layers at call time, so a restored checkpoint is used as is) and gives the same
logits as `model(...)` over the whole context (tested to 1e-5). `prefill` fills positions
0..S-1 in one pass through keras_nlp's cache path, which is how the evaluation re-fills the context
after it slides.

A decoder belongs to one batch size; it is stateful, so run one rollout at a time on it.
"""

# The keras_nlp layers' sublayers hold the weights this decoder computes with.
# pylint: disable=protected-access

from typing import Dict, List, Tuple

import tensorflow as tf

from ad_tf.model import transformer as transformer_lib


def _layer_norm(x: tf.Tensor, layer: tf.keras.layers.LayerNormalization) -> tf.Tensor:
  mean, variance = tf.nn.moments(x, [-1], keepdims=True)
  return (x - mean) * tf.math.rsqrt(variance + layer.epsilon) * layer.gamma + layer.beta


class IncrementalDecoder(tf.Module):
  """Decodes `model` one step at a time for `batch_size` rows, caching keys and values."""

  def __init__(self, model: transformer_lib.AlgorithmDistillationTransformer, batch_size: int):
    super().__init__(name='incremental_decoder')
    if not model.built:
      raise ValueError('Build the model (transformer.build_seeded) before decoding with it.')
    self._model = model
    self.batch_size = batch_size
    self._head_dim = model.embedding_dim // model.num_heads
    shape = [batch_size, model.num_heads, model.max_length, self._head_dim]
    self._keys = [tf.Variable(tf.zeros(shape), trainable=False, name=f'keys_{i}')
                  for i in range(model.num_layers)]
    self._values = [tf.Variable(tf.zeros(shape), trainable=False, name=f'values_{i}')
                    for i in range(model.num_layers)]

  def layer_weights(self) -> List[Tuple[tf.Tensor, ...]]:
    """Per layer: fused Q/K/V kernel [D, 3D] (query pre-scaled by 1/sqrt(head_dim)) and bias,
    and the attention output kernel [D, D] and bias. Compute once per rollout, outside the loop.
    """
    dim = self._model.embedding_dim
    scale = 1.0 / tf.sqrt(tf.cast(self._head_dim, tf.float32))
    weights = []
    for block in self._model.blocks:
      attention = block._self_attention_layer
      query, key, value = (attention._query_dense, attention._key_dense,
                           attention._value_dense)
      kernel = tf.concat([tf.reshape(query.kernel, [dim, dim]) * scale,
                          tf.reshape(key.kernel, [dim, dim]),
                          tf.reshape(value.kernel, [dim, dim])], axis=1)
      bias = tf.concat([tf.reshape(query.bias, [dim]) * scale, tf.reshape(key.bias, [dim]),
                        tf.reshape(value.bias, [dim])], axis=0)
      output = attention._output_dense
      weights.append((kernel, bias, tf.reshape(output.kernel, [dim, dim]), output.bias))
    return weights

  def prefill(self, inputs: Dict[str, tf.Tensor]) -> tf.Tensor:
    """Fills positions 0..S-1 from step inputs [B, S]; returns their logits [B, S, A]."""
    logits, cache = self._model.call_with_cache(
        inputs, self._model.initial_cache(self.batch_size), 0)
    length = tf.shape(logits)[1]
    for keys, values, layer_cache in zip(self._keys, self._values, cache):
      keys[:, :, :length].assign(tf.transpose(layer_cache[:, 0, :length], [0, 2, 1, 3]))
      values[:, :, :length].assign(tf.transpose(layer_cache[:, 1, :length], [0, 2, 1, 3]))
    return logits

  def step(self, token: Dict[str, tf.Tensor], position: tf.Tensor,
           weights: List[Tuple[tf.Tensor, ...]]) -> tf.Tensor:
    """Decodes step inputs [B] at `position` (positions before it filled); logits [B, A]."""
    model = self._model
    batch, heads, head_dim = self.batch_size, model.num_heads, self._head_dim
    x = model.step_embedding({k: v[:, None] for k, v in token.items()})[:, 0]
    x += tf.gather(model.position_embedding.position_embeddings, position)
    for block, keys, values, (qkv_kernel, qkv_bias, output_kernel, output_bias) in zip(
        model.blocks, self._keys, self._values, weights):
      query, key, value = tf.split(tf.matmul(x, qkv_kernel) + qkv_bias, 3, axis=1)
      keys[:, :, position].assign(tf.reshape(key, [batch, heads, head_dim]))
      values[:, :, position].assign(tf.reshape(value, [batch, heads, head_dim]))
      scores = tf.matmul(keys[:, :, :position + 1],
                         tf.reshape(query, [batch, heads, head_dim, 1]))  # [B, H, P, 1]
      probabilities = tf.nn.softmax(scores, axis=2)
      attended = tf.matmul(probabilities, values[:, :, :position + 1], transpose_a=True)
      x = _layer_norm(x + tf.matmul(tf.reshape(attended, [batch, -1]), output_kernel)
                      + output_bias, block._self_attention_layer_norm)
      hidden = block._feedforward_intermediate_dense(x)
      x = _layer_norm(x + block._feedforward_output_dense(hidden),
                      block._feedforward_layer_norm)
    return model.action_head(x)
