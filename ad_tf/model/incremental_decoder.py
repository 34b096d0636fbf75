"""One-token decoding from key/value caches: in place for rollouts, as explicit state for serving.

keras_nlp's self-attention cache (`AlgorithmDistillationTransformer.call_with_cache`) is a
functional tensor [B, 2, max_length, heads, head_dim] per layer: every decoded token slices it,
writes one position with `slice_update` and re-stacks keys and values, so each step copies every
layer's whole cache several times, and attends over all max_length positions under a mask. At
context 200 and 100 rollouts those copies, not the arithmetic, are most of a step.

`IncrementalDecoder` keeps the same keys and values in `tf.Variable`s [B, heads, max_length,
head_dim] per layer, writes one position per token in place (strided-slice assignment) and attends
over the filled prefix only, so no mask is needed: every row is at the same position, as in the
in-process evaluation. `decode_rows` is the same step as a pure function of explicit key/value
tensors with a position per row, which is what a stateless server needs (export's
`InContextPolicy` carries the caches as state tensors between calls): it writes each row's
position with a one-hot select and masks the positions after it.

Both compute with the model's own weights (read from the keras_nlp layers at call time, so a
restored checkpoint is used as is) and give the same logits as `model(...)` over the whole context
(tested to 1e-5). `prefill` fills positions 0..S-1 in one pass through keras_nlp's cache path,
which is how a context is re-filled after it slides.
"""

# The keras_nlp layers' sublayers hold the weights these decoders compute with.
# pylint: disable=protected-access

from typing import Dict, List, Tuple

import tensorflow as tf

from ad_tf.model import transformer as transformer_lib

#: Per layer: fused Q/K/V kernel and bias, attention output kernel and bias (`layer_weights`).
LayerWeights = Tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]


def _layer_norm(x: tf.Tensor, layer: tf.keras.layers.LayerNormalization) -> tf.Tensor:
  mean, variance = tf.nn.moments(x, [-1], keepdims=True)
  return (x - mean) * tf.math.rsqrt(variance + layer.epsilon) * layer.gamma + layer.beta


def head_dim(model: transformer_lib.AlgorithmDistillationTransformer) -> int:
  return model.embedding_dim // model.num_heads


def layer_weights(model: transformer_lib.AlgorithmDistillationTransformer
                  ) -> List[LayerWeights]:
  """Per layer: fused Q/K/V kernel [D, 3D] (query pre-scaled by 1/sqrt(head_dim)) and bias,
  and the attention output kernel [D, D] and bias. Compute once per rollout, outside the loop.
  """
  dim = model.embedding_dim
  scale = 1.0 / tf.sqrt(tf.cast(head_dim(model), tf.float32))
  weights = []
  for block in model.blocks:
    attention = block._self_attention_layer
    query, key, value = (attention._query_dense, attention._key_dense, attention._value_dense)
    kernel = tf.concat([tf.reshape(query.kernel, [dim, dim]) * scale,
                        tf.reshape(key.kernel, [dim, dim]),
                        tf.reshape(value.kernel, [dim, dim])], axis=1)
    bias = tf.concat([tf.reshape(query.bias, [dim]) * scale, tf.reshape(key.bias, [dim]),
                      tf.reshape(value.bias, [dim])], axis=0)
    output = attention._output_dense
    weights.append((kernel, bias, tf.reshape(output.kernel, [dim, dim]), output.bias))
  return weights


def _embed(model, token: Dict[str, tf.Tensor], position: tf.Tensor) -> tf.Tensor:
  """Step inputs [B] at `position` (scalar or [B]) -> token embeddings [B, D]."""
  x = model.step_embedding({k: v[:, None] for k, v in token.items()})[:, 0]
  return x + tf.gather(model.position_embedding.position_embeddings, position)


def _finish_block(block, x: tf.Tensor, attended: tf.Tensor, output_kernel: tf.Tensor,
                  output_bias: tf.Tensor) -> tf.Tensor:
  """The block after attention: output projection, residual + norm, feed-forward + norm."""
  x = _layer_norm(x + tf.matmul(attended, output_kernel) + output_bias,
                  block._self_attention_layer_norm)
  hidden = block._feedforward_intermediate_dense(x)
  return _layer_norm(x + block._feedforward_output_dense(hidden), block._feedforward_layer_norm)


def prefill_caches(model: transformer_lib.AlgorithmDistillationTransformer,
                   inputs: Dict[str, tf.Tensor]) -> Tuple[tf.Tensor, List[tf.Tensor],
                                                          List[tf.Tensor]]:
  """Step inputs [B, S] at positions 0..S-1 -> logits [B, S, A] and, per layer, their keys and
  values [B, heads, S, head_dim]."""
  batch = tf.shape(inputs['time'])[0]
  logits, cache = model.call_with_cache(inputs, model.initial_cache(batch), 0)
  length = tf.shape(logits)[1]
  keys = [tf.transpose(layer[:, 0, :length], [0, 2, 1, 3]) for layer in cache]
  values = [tf.transpose(layer[:, 1, :length], [0, 2, 1, 3]) for layer in cache]
  return logits, keys, values


def decode_rows(model: transformer_lib.AlgorithmDistillationTransformer,
                weights: List[LayerWeights], token: Dict[str, tf.Tensor], position: tf.Tensor,
                keys: tf.Tensor, values: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
  """One token per row at that row's `position` [B], from explicit caches.

  keys, values: [B, layers, heads, C, head_dim], each row's positions before its `position`
  filled (what comes after is ignored). Returns logits [B, A] and the caches with `position`
  written.
  """
  heads, dim = model.num_heads, head_dim(model)
  context = keys.shape[3]
  write = tf.one_hot(position, context, on_value=True, off_value=False)[:, None, :, None]
  visible = (tf.range(context)[None] <= position[:, None])[:, None, :, None]  # [B, 1, C, 1]
  x = _embed(model, token, position)
  new_keys, new_values = [], []
  for layer, (block, (qkv_kernel, qkv_bias, output_kernel, output_bias)) in enumerate(
      zip(model.blocks, weights)):
    query, key, value = tf.split(tf.matmul(x, qkv_kernel) + qkv_bias, 3, axis=1)
    layer_keys = tf.where(write, tf.reshape(key, [-1, heads, 1, dim]), keys[:, layer])
    layer_values = tf.where(write, tf.reshape(value, [-1, heads, 1, dim]), values[:, layer])
    # Products and sums rather than batched matmuls and softmax: for one query row, oneDNN's
    # kernels cost 50-60 us each in fixed overhead, several times this arithmetic.
    scores = tf.reduce_sum(layer_keys * tf.reshape(query, [-1, heads, 1, dim]), axis=3,
                           keepdims=True)  # [B, H, C, 1]
    scores = tf.where(visible, scores, float('-inf'))
    weights_ = tf.exp(scores - tf.reduce_max(scores, axis=2, keepdims=True))
    attended = tf.reduce_sum(weights_ * layer_values, axis=2) / tf.reduce_sum(weights_, axis=2)
    x = _finish_block(block, x, tf.reshape(attended, [-1, heads * dim]), output_kernel,
                      output_bias)
    new_keys.append(layer_keys)
    new_values.append(layer_values)
  return model.action_head(x), tf.stack(new_keys, axis=1), tf.stack(new_values, axis=1)


class IncrementalDecoder(tf.Module):
  """Decodes `model` one step at a time for `batch_size` rows, caching keys and values."""

  def __init__(self, model: transformer_lib.AlgorithmDistillationTransformer, batch_size: int):
    super().__init__(name='incremental_decoder')
    if not model.built:
      raise ValueError('Build the model (transformer.build_seeded) before decoding with it.')
    self._model = model
    self.batch_size = batch_size
    shape = [batch_size, model.num_heads, model.max_length, head_dim(model)]
    self._keys = [tf.Variable(tf.zeros(shape), trainable=False, name=f'keys_{i}')
                  for i in range(model.num_layers)]
    self._values = [tf.Variable(tf.zeros(shape), trainable=False, name=f'values_{i}')
                    for i in range(model.num_layers)]

  def layer_weights(self) -> List[LayerWeights]:
    return layer_weights(self._model)

  def prefill(self, inputs: Dict[str, tf.Tensor]) -> tf.Tensor:
    """Fills positions 0..S-1 from step inputs [B, S]; returns their logits [B, S, A]."""
    logits, keys, values = prefill_caches(self._model, inputs)
    length = tf.shape(logits)[1]
    for variable, layer_keys in zip(self._keys, keys):
      variable[:, :, :length].assign(layer_keys)
    for variable, layer_values in zip(self._values, values):
      variable[:, :, :length].assign(layer_values)
    return logits

  def step(self, token: Dict[str, tf.Tensor], position: tf.Tensor,
           weights: List[LayerWeights]) -> tf.Tensor:
    """Decodes step inputs [B] at `position` (positions before it filled); logits [B, A]."""
    model = self._model
    batch, heads, dim = self.batch_size, model.num_heads, head_dim(model)
    x = _embed(model, token, position)
    for block, keys, values, (qkv_kernel, qkv_bias, output_kernel, output_bias) in zip(
        model.blocks, self._keys, self._values, weights):
      query, key, value = tf.split(tf.matmul(x, qkv_kernel) + qkv_bias, 3, axis=1)
      keys[:, :, position].assign(tf.reshape(key, [batch, heads, dim]))
      values[:, :, position].assign(tf.reshape(value, [batch, heads, dim]))
      scores = tf.matmul(keys[:, :, :position + 1],
                         tf.reshape(query, [batch, heads, dim, 1]))  # [B, H, P, 1]
      probabilities = tf.nn.softmax(scores, axis=2)
      attended = tf.matmul(probabilities, values[:, :, :position + 1], transpose_a=True)
      x = _finish_block(block, x, tf.reshape(attended, [batch, -1]), output_kernel, output_bias)
    return model.action_head(x)
