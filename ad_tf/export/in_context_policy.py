"""The AD transformer as a stateless-server policy: explicit context state in, action out.

TF Serving keeps nothing between requests, so each row's in-context state travels with every
call as tensors whose names start with `state_`:

  state_observation [B, c, *obs], state_time [B, c], state_prev_action [B, c],
  state_prev_reward [B, c]   the context's step inputs (`step_tokens.step_input_specs` gives
                             each one's shape and dtype: the observation's come from the
                             environment's spec);
  state_keys, state_values [B, layers, heads, c, head_dim] float32
                             every layer's attention keys and values of the context's tokens;
  state_position [B]         where the next token goes (the context holds `position` tokens);
  state_step [B]             steps this row has taken (0: initial state);
  state_seed [B] int64       the row's action-sampling seed (get_initial_state gives 0..B-1;
                             a client may overwrite it to choose its own).

`action(observation, prev_action, prev_reward, state_*)` appends the step token (the previous
call's action and reward, ignored for a row in its initial state), decodes it against the row's
cached keys and values (`incremental_decoder.decode_rows`: one token's work, whatever the context
length), samples the action with `action_sampling` and returns `action`, `logits` and the new
`state_*`. When a row's context is full it slides exactly as the in-process evaluation does: one
episode is dropped and the kept tokens, now at new positions, are re-encoded in one pass
(`prefill_caches`), so that call costs a whole context's pass. Rows are independent and each has
its own position: TF Serving may batch any rows together.
"""

from typing import Dict

import tensorflow as tf

from ad_tf.model import action_sampling
from ad_tf.model import incremental_decoder
from ad_tf.model import step_tokens


def _rows(mask: tf.Tensor, rank: int) -> tf.Tensor:
  """A [B] mask shaped to broadcast against a rank-`rank` tensor with the batch first."""
  return tf.reshape(mask, [-1] + [1] * (rank - 1))


class InContextPolicy(tf.Module):
  """Signatures `get_initial_state`, `action` (also `serving_default`) for TF Serving."""

  def __init__(self, model: tf.keras.Model, context_length: int):
    super().__init__(name='in_context_policy')
    if context_length > model.max_length:
      raise ValueError(f'context_length={context_length} exceeds the model\'s '
                       f'{model.max_length} positions.')
    self.model = model
    self._context = context_length
    # The context slides by one episode when full, as in the in-process evaluation (the whole
    # context when it holds one episode).
    self._slide = min(model.env_spec.episode_length, context_length)
    self._none_action = step_tokens.none_action(model.env_spec)
    # The decoder's fused attention weights, computed once from the exported checkpoint rather
    # than on every call (they are saved beside the model's own variables).
    self._layer_weights = [tuple(tf.Variable(w, trainable=False) for w in layer)
                           for layer in incremental_decoder.layer_weights(model)]
    step_specs = step_tokens.step_input_specs(model.env_spec)
    self.action = tf.function(self._action, input_signature=[
        tf.TensorSpec([None, *step_specs['observation'].shape], step_specs['observation'].dtype,
                      'observation'),
        tf.TensorSpec([None], step_specs['prev_action'].dtype, 'prev_action'),
        tf.TensorSpec([None], step_specs['prev_reward'].dtype, 'prev_reward'),
        self.state_spec()])
    self.get_initial_state = tf.function(
        self._get_initial_state, input_signature=[tf.TensorSpec([], tf.int32, 'batch_size')])

  def state_spec(self) -> Dict[str, tf.TensorSpec]:
    c, model = self._context, self.model
    context = {f'state_{key}': tf.TensorSpec([None, c, *spec.shape], spec.dtype, f'state_{key}')
               for key, spec in step_tokens.step_input_specs(model.env_spec).items()}
    cache_shape = [None, model.num_layers, model.num_heads, c,
                   incremental_decoder.head_dim(model)]
    return {
        **context,
        'state_keys': tf.TensorSpec(cache_shape, tf.float32, 'state_keys'),
        'state_values': tf.TensorSpec(cache_shape, tf.float32, 'state_values'),
        'state_position': tf.TensorSpec([None], tf.int32, 'state_position'),
        'state_step': tf.TensorSpec([None], tf.int32, 'state_step'),
        'state_seed': tf.TensorSpec([None], tf.int64, 'state_seed'),
    }

  def _get_initial_state(self, batch_size):
    state = {name: tf.zeros([batch_size, *spec.shape[1:]], spec.dtype)
             for name, spec in self.state_spec().items()}
    state['state_seed'] = tf.range(tf.cast(batch_size, tf.int64))
    return state

  def _slide_full_rows(self, full, buffers, keys, values):
    """Rows whose context is full drop its first episode and re-encode the kept tokens."""
    rolled = {k: tf.where(_rows(full, v.shape.rank), tf.roll(v, -self._slide, axis=1), v)
              for k, v in buffers.items()}
    kept = self._context - self._slide
    if not kept:  # Decoding starts afresh at position 0: nothing cached is visible any more.
      return rolled, keys, values
    _, kept_keys, kept_values = incremental_decoder.prefill_caches(
        self.model, {k: v[:, :kept] for k, v in rolled.items()})
    pad = [[0, 0], [0, 0], [0, self._slide], [0, 0]]
    kept_keys = tf.stack([tf.pad(k, pad) for k in kept_keys], axis=1)
    kept_values = tf.stack([tf.pad(v, pad) for v in kept_values], axis=1)
    full_rows = _rows(full, keys.shape.rank)
    return rolled, tf.where(full_rows, kept_keys, keys), tf.where(full_rows, kept_values, values)

  def _action(self, observation, prev_action, prev_reward, state):
    initial = tf.equal(state['state_step'], 0)
    prev_action = tf.where(initial, self._none_action, prev_action)
    prev_reward = tf.where(initial, 0.0, prev_reward)
    buffers = {key: state[f'state_{key}'] for key in step_tokens.STEP_INPUT_KEYS}
    keys, values = state['state_keys'], state['state_values']
    position = state['state_position']
    full = tf.equal(position, self._context)
    buffers, keys, values = tf.cond(
        tf.reduce_any(full), lambda: self._slide_full_rows(full, buffers, keys, values),
        lambda: (buffers, keys, values))
    position = tf.where(full, self._context - self._slide, position)
    token = {'observation': observation,
             'time': state['state_step'] % self.model.episode_length,
             'prev_action': prev_action, 'prev_reward': prev_reward}
    here = tf.equal(tf.range(self._context)[None], position[:, None])
    buffers = {k: tf.where(tf.reshape(here, [-1, self._context] + [1] * (v.shape.rank - 2)),
                           tf.cast(token[k][:, None], v.dtype), v)
               for k, v in buffers.items()}
    logits, keys, values = incremental_decoder.decode_rows(
        self.model, self._layer_weights, token, position, keys, values)
    action = action_sampling.sample(logits, state['state_seed'], state['state_step'])
    new_state = {f'state_{k}': v for k, v in buffers.items()}
    new_state.update({'state_keys': keys, 'state_values': values,
                      'state_position': position + 1, 'state_step': state['state_step'] + 1,
                      'state_seed': state['state_seed']})
    return {'action': action, 'logits': logits, **new_state}
