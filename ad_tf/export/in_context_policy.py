"""The AD transformer as a stateless-server policy: explicit context state in, action out.

TF Serving keeps nothing between requests, so each row's in-context state travels with every
call as tensors whose names start with `state_`:

  state_observation [B, c, *obs], state_time [B, c], state_prev_action [B, c],
  state_prev_reward [B, c]   the context's step inputs (`step_tokens.step_input_specs` gives
                             each one's shape and dtype: the observation's come from the
                             environment's spec);
  state_position [B]         where the next token goes (the context holds `position` tokens);
  state_step [B]             steps this row has taken (0: initial state);
  state_seed [B] int64       the row's action-sampling seed (get_initial_state gives 0..B-1;
                             a client may overwrite it to choose its own).

`action(observation, prev_action, prev_reward, state_*)` appends the step token (the previous
call's action and reward, ignored for a row in its initial state), slides the context exactly as
the in-process evaluation does (drop one episode when full), runs the model over the row's
context, samples the action with `action_sampling` and returns `action`, `logits` and the new
`state_*`. Rows are independent: TF Serving may batch any rows together. The model is run over
the whole context each call rather than from a key/value cache, because keras_nlp's cache index
is shared by a batch while served rows sit at different positions.
"""

from typing import Dict

import tensorflow as tf

from ad_tf.model import action_sampling
from ad_tf.model import step_tokens


class InContextPolicy(tf.Module):
  """Signatures `get_initial_state`, `action` (also `serving_default`) for TF Serving."""

  def __init__(self, model: tf.keras.Model, context_length: int):
    super().__init__(name='in_context_policy')
    self.model = model
    self._context = context_length
    # The context slides by one episode when full, as in the in-process evaluation.
    self._slide = model.env_spec.episode_length
    self._none_action = step_tokens.none_action(model.env_spec)
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
    c = self._context
    context = {f'state_{key}': tf.TensorSpec([None, c, *spec.shape], spec.dtype, f'state_{key}')
               for key, spec in step_tokens.step_input_specs(self.model.env_spec).items()}
    return {
        **context,
        'state_position': tf.TensorSpec([None], tf.int32, 'state_position'),
        'state_step': tf.TensorSpec([None], tf.int32, 'state_step'),
        'state_seed': tf.TensorSpec([None], tf.int64, 'state_seed'),
    }

  def _get_initial_state(self, batch_size):
    state = {name: tf.zeros([batch_size, *spec.shape[1:]], spec.dtype)
             for name, spec in self.state_spec().items()}
    state['state_seed'] = tf.range(tf.cast(batch_size, tf.int64))
    return state

  def _action(self, observation, prev_action, prev_reward, state):
    initial = tf.equal(state['state_step'], 0)
    prev_action = tf.where(initial, self._none_action, prev_action)
    prev_reward = tf.where(initial, 0.0, prev_reward)
    buffers = {key: state[f'state_{key}'] for key in step_tokens.STEP_INPUT_KEYS}
    position = state['state_position']
    full = tf.equal(position, self._context)
    buffers = {k: tf.where(tf.reshape(full, [-1] + [1] * (v.shape.rank - 1)),
                           tf.roll(v, -self._slide, axis=1), v) for k, v in buffers.items()}
    position = tf.where(full, self._context - self._slide, position)
    token = {'observation': observation,
             'time': state['state_step'] % self.model.episode_length,
             'prev_action': prev_action, 'prev_reward': prev_reward}
    here = tf.equal(tf.range(self._context)[None], position[:, None])
    buffers = {k: tf.where(tf.reshape(here, [-1, self._context] + [1] * (v.shape.rank - 2)),
                           tf.cast(token[k][:, None], v.dtype), v)
               for k, v in buffers.items()}
    logits = tf.gather(self.model(buffers, training=False), position, axis=1, batch_dims=1)
    action = action_sampling.sample(logits, state['state_seed'], state['state_step'])
    new_state = {f'state_{k}': v for k, v in buffers.items()}
    new_state.update({'state_position': position + 1, 'state_step': state['state_step'] + 1,
                      'state_seed': state['state_seed']})
    return {'action': action, 'logits': logits, **new_state}
