"""Source-data generation speed: Dark Room PPO with 100 actors, learner updates included, and
the wall time of generating the CPU default dataset (gin/darkroom_small.gin) end to end.

Usage: python -m benchmarks.generate_throughput [--tasks=3]
Prints one JSON object on its last line.
"""

import os
import resource
import tempfile
import time

from absl import app
from absl import flags
from absl import logging
import gin
import tensorflow as tf

import ad_tf
from benchmarks import figures as figures_lib
from ad_tf.generation import generate
from ad_tf.sources import ppo

flags.DEFINE_integer('tasks', 3, 'Tasks timed for the 100-actor PPO figure (after a warm-up).')
flags.DEFINE_string('gin_file', 'gin/darkroom_small.gin', 'The CPU default dataset config.')
FLAGS = flags.FLAGS


def ppo_steps_per_second(num_tasks: int) -> float:
  source = ppo.PpoSource('darkroom', num_actors=100, num_iterations=100)
  tasks = ad_tf.envs.sample_tasks('darkroom', 'train', num_tasks + 1, seed=0)
  source.learn(tasks[0], seed=0)  # Traces the graphs once.
  start = time.perf_counter()
  for index, task in enumerate(tasks[1:], start=1):
    source.learn(task, seed=index)
  return num_tasks * source.env_steps_per_task / (time.perf_counter() - start)


def default_dataset_seconds() -> tuple:
  gin.parse_config_file(FLAGS.gin_file)
  with tempfile.TemporaryDirectory() as root:
    start = time.perf_counter()
    generate.generate(root)
    seconds = time.perf_counter() - start
    steps = gin.query_parameter('generate.num_tasks') * ppo.PpoSource(
        'darkroom').env_steps_per_task
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(root)
               for f in files)
  return seconds, steps, size


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  tf.random.set_seed(0)
  tf.config.experimental.enable_op_determinism()
  figures = {'ppo_100_actors_env_steps_per_s': round(ppo_steps_per_second(FLAGS.tasks))}
  seconds, steps, size = default_dataset_seconds()
  figures.update({
      'default_dataset': FLAGS.gin_file,
      'default_dataset_seconds': round(seconds, 1),
      'default_dataset_env_steps': steps,
      'default_dataset_env_steps_per_s_incl_tracing_and_writing': round(steps / seconds),
      'default_dataset_mbytes': round(size / 2**20, 1),
      'peak_rss_mbytes': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
  })
  figures_lib.report(figures)


if __name__ == '__main__':
  app.run(main)
