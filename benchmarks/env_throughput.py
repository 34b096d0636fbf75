"""Environment steps/s: the tf_agents PyEnvironment vs the batched TF env inside a compiled loop.

Usage: python -m benchmarks.env_throughput [--env=darkroom] [--batch_sizes=100,1000]
Prints one JSON object on its last line.
"""

import time

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

import ad_tf.envs
from benchmarks import figures as figures_lib

flags.DEFINE_string('env', 'darkroom', 'Environment name.')
flags.DEFINE_list('batch_sizes', ['100', '1000'], 'Batch sizes of the batched TF environment.')
flags.DEFINE_integer('episodes', 20, 'Episodes per timed run of the batched environment.')
flags.DEFINE_integer('python_steps', 20000, 'Steps timed on the PyEnvironment.')
FLAGS = flags.FLAGS


def python_steps_per_second(name: str, num_steps: int) -> float:
  task = ad_tf.envs.sample_tasks(name, 'train', 1, seed=0)[0]
  env = ad_tf.envs.load(name, task, seed=0)
  actions = np.random.default_rng(0).integers(
      0, ad_tf.envs.get_family(name).num_actions, num_steps).astype(np.int32)
  env.reset()
  start = time.perf_counter()
  for action in actions:
    env.step(action)
  return num_steps / (time.perf_counter() - start)


def batched_steps_per_second(name: str, batch_size: int, episodes: int) -> float:
  env = ad_tf.envs.load_batched(name)
  tasks = ad_tf.envs.stack_tasks(name, ad_tf.envs.sample_tasks(name, 'train', batch_size, 0))
  seeds = tf.range(batch_size)

  @tf.function
  def run(seed):
    def episode_body(episode, state, total):
      state, _ = env.reset(state)

      def step_body(t, state, total):
        action = tf.random.stateless_uniform(
            [batch_size], tf.stack([seed, episode * env.episode_length + t]),
            maxval=env.num_actions, dtype=tf.int32)
        state, _, reward = env.step(state, action)
        return t + 1, state, total + reward

      _, state, total = tf.while_loop(lambda t, *_: t < env.episode_length, step_body,
                                      (0, state, total))
      return episode + 1, state, total

    state = env.initial_state(tasks, seeds)
    _, _, total = tf.while_loop(lambda e, *_: e < episodes, episode_body,
                                (0, state, tf.zeros([batch_size])))
    return tf.reduce_sum(total)

  run(0)  # Trace and warm up.
  best = float('inf')
  for repeat in range(3):
    start = time.perf_counter()
    run(repeat + 1).numpy()
    best = min(best, time.perf_counter() - start)
  return batch_size * episodes * env.episode_length / best


def main(argv):
  del argv
  figures = {'env': FLAGS.env,
             'python_env_steps_per_s': round(python_steps_per_second(FLAGS.env,
                                                                     FLAGS.python_steps))}
  for batch_size in map(int, FLAGS.batch_sizes):
    figures[f'batched_tf_B{batch_size}_steps_per_s'] = round(
        batched_steps_per_second(FLAGS.env, batch_size, FLAGS.episodes))
  figures_lib.report(figures)


if __name__ == '__main__':
  app.run(main)
