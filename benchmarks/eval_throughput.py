"""In-context evaluation speed: agent-steps/s of 100 parallel rollouts at context 200, with the
key/value cache (IncrementalDecoder) vs recomputing the whole context every step.

`cached` and `full_recompute` time rollouts of context/20 episodes, which fill the context to 200
steps. `cached_sliding` times twice as many episodes: after the first fill the context slides by
one episode at every episode end, and each slide re-computes the cache for the 180 kept steps in
one pass (what a long evaluation pays).

Also times decoding alone (no environment, no sampling) for 200 tokens: keras_nlp's functional
cache (`call_with_cache`, one token at a time) vs the in-place IncrementalDecoder, in ms per token
for 100 rows. Every timed call runs once before (same arguments) so no tracing is timed; cached
figures are the median of 5 timed calls (each takes about a second).

Two models with 200 positions, freshly initialised (speed does not depend on the weights): the
CPU default that the pipeline evaluates (feed-forward 256) and the paper's size (feed-forward
2048); both have embedding 64, 4 layers, 4 heads.
With --watermaze (the default) it also times the sliding rollout on Watermaze's frames.
Usage: python -m benchmarks.eval_throughput [--runs=100] [--context=200] [--nowatermaze]
Prints one JSON object on its last line.
"""

import time

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

import ad_tf
from benchmarks import figures as figures_lib
from ad_tf.methods import in_context
from ad_tf.model import incremental_decoder
from ad_tf.model import loading

flags.DEFINE_integer('runs', 100, 'Parallel rollouts.')
flags.DEFINE_integer('context', 200, 'Context length (steps).')
flags.DEFINE_bool('watermaze', True, 'Also time the sliding rollout on Watermaze\'s frames.')
FLAGS = flags.FLAGS


def steps_per_second(model, env, tasks, num_episodes: int, full_recompute: bool,
                     repeats: int = 1) -> float:
  """Agent-steps/s of one rollout call (the median of `repeats` timed calls)."""
  seeds = np.arange(FLAGS.runs)
  args = dict(num_episodes=num_episodes, context_length=FLAGS.context, policy_seeds=seeds,
              full_recompute=full_recompute)
  in_context.rollout(model, env, tasks, seeds, **args)  # Trace and warm up.
  rates = []
  for _ in range(repeats):
    start = time.perf_counter()
    in_context.rollout(model, env, tasks, seeds, **args)
    rates.append(FLAGS.runs * num_episodes * env.episode_length / (time.perf_counter() - start))
  return float(np.median(rates))


def decode_ms_per_token(model, keras_nlp_cache: bool) -> float:
  """ms per decoded token for FLAGS.runs rows over FLAGS.context tokens (decoding only)."""
  rng = np.random.default_rng(0)
  shape = [FLAGS.runs, FLAGS.context]
  tokens = {'observation': tf.constant(rng.integers(0, 9, shape + [2]), tf.int32),
            'time': tf.constant(np.arange(FLAGS.context)[None] % 20 + np.zeros(shape), tf.int32),
            'prev_action': tf.constant(rng.integers(0, 5, shape), tf.int32),
            'prev_reward': tf.constant(rng.integers(0, 2, shape), tf.float32)}
  decoder = incremental_decoder.IncrementalDecoder(model, FLAGS.runs)

  @tf.function
  def decode_all(tokens):
    cache, weights = model.initial_cache(FLAGS.runs), decoder.layer_weights()
    total = tf.zeros([])
    for t in tf.range(FLAGS.context):
      if keras_nlp_cache:
        logits, cache = model.call_with_cache({k: v[:, t:t + 1] for k, v in tokens.items()},
                                              cache, t)
      else:
        logits = decoder.step({k: v[:, t] for k, v in tokens.items()}, t, weights)
      total += tf.reduce_sum(logits)
    return total

  decode_all(tokens)
  start = time.perf_counter()
  decode_all(tokens).numpy()
  return (time.perf_counter() - start) * 1000 / FLAGS.context


def main(argv):
  del argv
  env = ad_tf.envs.load_batched('darkroom')
  goals = ad_tf.envs.get_family('darkroom').split_tasks('test')
  tasks = ad_tf.envs.stack_tasks('darkroom', [goals[i % len(goals)] for i in range(FLAGS.runs)])
  figures = {'runs': FLAGS.runs, 'context': FLAGS.context}
  for name, feedforward_dim in (('cpu_default_ff256', 256), ('paper_size_ff2048', 2048)):
    model = loading.build_from_hyperparameters(
        env.spec, {'max_length': FLAGS.context, 'feedforward_dim': feedforward_dim},
        seed=0, length=FLAGS.context)
    fill = FLAGS.context // env.episode_length
    cached = steps_per_second(model, env, tasks, fill, full_recompute=False, repeats=5)
    sliding = steps_per_second(model, env, tasks, 2 * fill, full_recompute=False, repeats=5)
    full = steps_per_second(model, env, tasks, fill, full_recompute=True)
    figures.update({f'{name}_cached_agent_steps_per_s': round(cached),
                    f'{name}_cached_sliding_agent_steps_per_s': round(sliding),
                    f'{name}_full_recompute_agent_steps_per_s': round(full),
                    f'{name}_speedup': round(cached / full, 2),
                    f'{name}_decode_ms_per_token_keras_nlp_cache': round(
                        decode_ms_per_token(model, keras_nlp_cache=True), 2),
                    f'{name}_decode_ms_per_token_in_place_cache': round(
                        decode_ms_per_token(model, keras_nlp_cache=False), 2)})
  if FLAGS.watermaze:
    figures['watermaze_cpu_default_cached_sliding_agent_steps_per_s'] = watermaze_steps_per_second()
  figures_lib.report(figures)


def watermaze_steps_per_second() -> int:
  """The same sliding rollout on Watermaze's frames with the CPU default's model sizes (column
  encoder, feed-forward 1,024; gin/watermaze_small.gin): each step also renders and encodes a
  frame per run, and the context holds [runs, 200, 72, 96, 3] of them."""
  env = ad_tf.envs.load_batched('watermaze')
  tasks = ad_tf.envs.stack_tasks('watermaze',
                                 ad_tf.envs.held_out_tasks('watermaze', FLAGS.runs, seed=0))
  model = loading.build_from_hyperparameters(
      env.spec, {'max_length': FLAGS.context, 'feedforward_dim': 1024,
                 'observation_encoder': {'architecture': 'columns'}}, seed=0, length=FLAGS.context)
  episodes = 2 * FLAGS.context // env.episode_length
  return round(steps_per_second(model, env, tasks, episodes, full_recompute=False, repeats=3))


if __name__ == '__main__':
  app.run(main)
