"""In-context rollouts: the frozen transformer fills its own context and improves with no update.

B runs (task x seed) step together on the batched TF environment inside one `tf.while_loop`.
Each step's token (observation, step in episode, previous action, previous reward) is decoded
incrementally by an `IncrementalDecoder` (keys and values cached in place; see its module for
why not keras_nlp's functional cache step by step); the action is sampled from the policy with
`action_sampling` (per row, keyed by the row's seed and step, so a seed reproduces a rollout and
the exported SavedModel reproduces it too).

The context holds the last `context_length` steps, as in training. When it is full, it slides:
the oldest `slide` steps (default: one episode) are dropped and the cache is re-filled from the
newest `context_length - slide` steps in one forward pass (keras_nlp's cache path), after which
decoding continues incrementally. Positions restart at 0 after a slide, which training also sees
(windows start anywhere in a history). `full_recompute=True` instead runs the model over the
whole context at every step (the reference the cached path is measured against).
"""

from typing import Dict, Optional
import weakref

import numpy as np
import tensorflow as tf

from ad_tf.envs import batched_environment
from ad_tf.model import action_sampling
from ad_tf.model import incremental_decoder
from ad_tf.model import step_tokens


# model -> {batch size: IncrementalDecoder}: a rollout reuses its decoder's variables and its trace.
_DECODERS = weakref.WeakKeyDictionary()


def _decoder(model: tf.keras.Model, batch_size: int) -> incremental_decoder.IncrementalDecoder:
  decoders = _DECODERS.setdefault(model, {})
  if batch_size not in decoders:
    decoders[batch_size] = incremental_decoder.IncrementalDecoder(model, batch_size)
  return decoders[batch_size]


def _context_buffers(env_spec, batch: int, context_length: int) -> Dict[str, tf.TensorArray]:
  """Per step input, a TensorArray of `context_length` slots of [batch, ...] (all zeros).

  A slot is written in O(1) (a TensorList item), where writing step t into a [B, T, ...] tensor
  costs a pass over the whole tensor: for Watermaze's frames (100 runs x 200 steps x 20,736
  bytes) that pass was most of the evaluation's time."""
  return {key: tf.TensorArray(spec.dtype, size=context_length,
                              element_shape=[batch, *spec.shape]).unstack(
                                  tf.zeros([context_length, batch, *spec.shape], spec.dtype))
          for key, spec in step_tokens.step_input_specs(env_spec).items()}


def _batch_major(time_major: tf.Tensor) -> tf.Tensor:
  """[T, B, ...] -> [B, T, ...]."""
  return tf.transpose(time_major, [1, 0] + list(range(2, time_major.shape.rank)))


def rollout(model: tf.keras.Model, env: batched_environment.BatchedEnvironment,
            tasks: Dict[str, np.ndarray], env_seeds: np.ndarray, num_episodes: int,
            context_length: int, policy_seeds: np.ndarray, slide: Optional[int] = None,
            full_recompute: bool = False, greedy: bool = False) -> np.ndarray:
  """Runs B in-context rollouts; returns every step's reward [B, num_episodes * episode_length].

  Args:
    model: the frozen AD transformer.
    env: the batched environment; `tasks` and `env_seeds` [B] give each row its task and the
      environment's own randomness.
    num_episodes: episodes per run.
    context_length: steps of context (at most the model's positions).
    policy_seeds: [B] each row's action-sampling seed.
    slide: steps dropped when the context is full (default: one episode; the whole context
      when it holds one episode).
    full_recompute: recompute the whole context every step instead of using the cache.
    greedy: take the most likely action instead of sampling.
  """
  slide = slide or env.episode_length
  if not 0 < slide <= context_length:
    raise ValueError(f'slide={slide} must be in 1..{context_length} (context_length).')
  if context_length > model.max_length:
    raise ValueError(f'context_length={context_length} exceeds the model\'s {model.max_length} '
                     'positions.')
  decoder = None if full_recompute else _decoder(model, len(env_seeds))
  rewards = _rollout_graph(model, decoder, env, {k: tf.constant(v) for k, v in tasks.items()},
                           tf.constant(env_seeds, tf.int64), num_episodes, context_length,
                           tf.constant(policy_seeds, tf.int64), slide, full_recompute, greedy)
  return rewards.numpy()


def episode_returns(step_rewards: np.ndarray, episode_length: int) -> np.ndarray:
  """Per-step rewards [B, E * L] -> episode returns [B, E]."""
  return step_rewards.reshape(step_rewards.shape[0], -1, episode_length).sum(-1)


@tf.function
def _rollout_graph(model, decoder, env, tasks, env_seeds, num_episodes, context_length,
                   policy_seeds, slide, full_recompute, greedy):
  batch = env_seeds.shape[0]  # Static: one trace per batch size.
  length = env.episode_length
  total_steps = num_episodes * length
  env_state = env.initial_state(tasks, env_seeds)
  env_state, observation = env.reset(env_state)
  buffers = _context_buffers(env.spec, batch, context_length)
  weights = None if full_recompute else decoder.layer_weights()  # Once, outside the loop.
  prev_action = tf.fill([batch], step_tokens.none_action(env.spec))
  prev_reward = tf.zeros([batch])
  rewards = tf.TensorArray(tf.float32, size=total_steps)
  position = tf.constant(0)

  def slide_context(buffers):
    kept = context_length - slide
    rolled = {k: tf.roll(v.stack(), -slide, axis=0) for k, v in buffers.items()}  # [T, B, ...]
    buffers = {k: tf.TensorArray(v.dtype, size=context_length, element_shape=v.shape[1:])
                  .unstack(v) for k, v in rolled.items()}
    if kept and not full_recompute:  # With nothing kept, decoding starts afresh at position 0.
      decoder.prefill({k: _batch_major(v[:kept]) for k, v in rolled.items()})
    return buffers

  for step in tf.range(total_steps):
    if position == context_length:
      buffers = slide_context(buffers)
      position = context_length - slide
    token = {'observation': observation, 'time': tf.fill([batch], step % length),
             'prev_action': prev_action, 'prev_reward': prev_reward}
    buffers = {k: buffers[k].write(position, tf.cast(token[k], buffers[k].dtype))
               for k in step_tokens.STEP_INPUT_KEYS}
    if full_recompute:
      inputs = {k: _batch_major(v.stack()) for k, v in buffers.items()}
      logits = tf.gather(model(inputs, training=False), position, axis=1)
    else:
      logits = decoder.step(token, position, weights)
    if greedy:
      action = tf.argmax(logits, axis=-1, output_type=tf.int32)
    else:
      action = action_sampling.sample(logits, policy_seeds, tf.fill([batch], step))
    # Sampled or argmax over num_actions logits: in range by construction.
    env_state, observation, reward = env.step(env_state, action, check_actions=False)
    rewards = rewards.write(step, reward)
    prev_action, prev_reward = action, reward
    position += 1
    if (step + 1) % length == 0:
      env_state, observation = env.reset(env_state)
  return tf.transpose(rewards.stack())
