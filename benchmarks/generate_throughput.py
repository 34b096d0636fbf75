"""Source-data generation speed: Dark Room PPO with 100 actors on one task, learner updates
included; the CPU default source (gin/darkroom_small.gin: `tasks_per_call` learners batched in
one graph) in env steps/s and seconds per task; the cost of turning one call's histories into
TFRecord bytes, with TFDS's generic encoder and with `ExampleEncoder` (which generation uses); the
wall time of generating the CPU default dataset end to end; and memory: the peak RSS of
`ad_tf.bin.generate` for a dataset and for one 4x larger (flat if episodes stream to disk).

Usage: python -m benchmarks.generate_throughput [--tasks=3] [--parts=ppo,batched,encoding,dataset]
Prints one JSON object on its last line.
"""

import os
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags
from absl import logging
import gin
import psutil
import tensorflow as tf

import ad_tf
from benchmarks import figures as figures_lib
import ad_tf.configurables  # pylint: disable=unused-import  (the gin file configures generate)
from ad_tf.generation import example_encoding
from ad_tf.generation import generate
from ad_tf.generation import rlds_episodes
from ad_tf.sources import ppo
from ad_tf_datasets.ad_histories import ad_histories
from tensorflow_datasets.core import example_serializer
from tensorflow_datasets.rlds import rlds_base

flags.DEFINE_integer('tasks', 3, 'Tasks timed for the 100-actor PPO figure (after a warm-up).')
flags.DEFINE_string('gin_file', 'gin/darkroom_small.gin', 'The CPU default dataset config.')
flags.DEFINE_integer('batched_calls', 2, 'learn_many calls timed for the CPU default source.')
flags.DEFINE_list('parts', ['ppo', 'batched', 'encoding', 'dataset'],
                  'Which figures to measure (encoding needs batched).')
FLAGS = flags.FLAGS


def ppo_steps_per_second(num_tasks: int) -> float:
  source = ppo.PpoSource('darkroom', num_actors=100, num_iterations=100)
  tasks = ad_tf.envs.sample_tasks('darkroom', 'train', num_tasks + 1, seed=0)
  source.learn(tasks[0], seed=0)  # Traces the graphs once.
  start = time.perf_counter()
  for index, task in enumerate(tasks[1:], start=1):
    source.learn(task, seed=index)
  return num_tasks * source.env_steps_per_task / (time.perf_counter() - start)


def batched_ppo_figures(num_calls: int) -> tuple:
  """The gin-configured CPU default source: `tasks_per_call` tasks per `learn_many` call.

  Returns (figures, (tasks, histories) of the last call)."""
  source = ppo.PpoSource('darkroom')
  per_call = source.tasks_per_call
  tasks = ad_tf.envs.sample_tasks('darkroom', 'train', per_call * (num_calls + 1), seed=0)
  source.learn_many(tasks[:per_call], seeds=list(range(per_call)))  # Traces the graphs once.
  start = time.perf_counter()
  for call in range(1, num_calls + 1):
    group = tasks[call * per_call:(call + 1) * per_call]
    learned = source.learn_many(group, seeds=list(range(call * per_call, (call + 1) * per_call)))
  seconds = time.perf_counter() - start
  return {
      'default_source_tasks_per_call': per_call,
      'default_source_env_steps_per_s': round(
          num_calls * per_call * source.env_steps_per_task / seconds),
      'default_source_seconds_per_task': round(seconds / (num_calls * per_call), 3),
  }, (group, learned)


def encoding_figures(tasks, histories) -> dict:
  """Seconds per task to encode a call's kept episodes (`generate.subsample_every`) into
  tf.train.Example bytes: TFDS's `encode_example` + `serialize_example` vs `ExampleEncoder`."""
  builder = ad_histories.AdHistories(config='darkroom', data_dir=tempfile.gettempdir())
  features = rlds_base.build_info(ad_histories.dataset_config('darkroom'), builder).features
  generation = {'expert': False,
                'subsample_every': gin.query_parameter('generate.subsample_every')}
  # pylint: disable-next=protected-access
  kept = generate._kept_episodes(histories[0].num_episodes, generation)
  episodes = [episode for index, (task, history) in enumerate(zip(tasks, histories))
              for episode in rlds_episodes.episodes(
                  history.select_episodes(kept), kept,
                  observation_dtype=ad_tf.envs.get_spec('darkroom').observation.dtype, task=task,
                  task_index=index, seed=index, source='ppo',
                  first_history_id=index * history.num_actors)]
  serializer = example_serializer.ExampleSerializer(features.get_serialized_info())
  start = time.perf_counter()
  expected = [serializer.serialize_example(features.encode_example(e)) for e in episodes]
  tfds_seconds = time.perf_counter() - start
  encoder = example_encoding.ExampleEncoder(features)
  start = time.perf_counter()
  encoded = [encoder.encode(e) for e in episodes]
  encoder_seconds = time.perf_counter() - start
  if encoded != expected:
    raise RuntimeError('ExampleEncoder bytes differ from TFDS\'s.')
  return {
      'encode_episodes_per_task': len(episodes) // len(tasks),
      'encode_seconds_per_task_tfds': round(tfds_seconds / len(tasks), 4),
      'encode_seconds_per_task_example_encoder': round(encoder_seconds / len(tasks), 4),
      'encode_speedup': round(tfds_seconds / encoder_seconds, 1),
      'encode_bytes_identical': True,
  }


def run_generate(num_tasks: int) -> tuple:
  """(wall seconds, peak RSS MB, dataset MB) of a generate process writing `num_tasks` tasks of
  the CPU default config."""
  with tempfile.TemporaryDirectory() as root:
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, '-m', 'ad_tf.bin.generate', f'--root_dir={root}',
         f'--gin_file={FLAGS.gin_file}', f'--gin_bindings=generate.num_tasks={num_tasks}'],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
      try:
        peak = max(peak, psutil.Process(process.pid).memory_info().rss)
      except psutil.NoSuchProcess:
        break
      time.sleep(0.1)
    seconds = time.perf_counter() - start
    if process.returncode:
      raise RuntimeError(f'generate failed with exit code {process.returncode}')
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(root)
               for f in files)
  return seconds, peak / 2**20, size / 2**20


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  tf.random.set_seed(0)
  tf.config.experimental.enable_op_determinism()
  figures = {}
  if 'ppo' in FLAGS.parts:
    figures['ppo_100_actors_env_steps_per_s'] = round(ppo_steps_per_second(FLAGS.tasks))
  gin.parse_config_file(FLAGS.gin_file)
  if 'batched' in FLAGS.parts or 'encoding' in FLAGS.parts:
    batched, last_call = batched_ppo_figures(FLAGS.batched_calls)
    figures.update(batched)
    if 'encoding' in FLAGS.parts:
      figures.update(encoding_figures(*last_call))
  if 'dataset' not in FLAGS.parts:
    figures_lib.report(figures)
    return
  num_tasks = gin.query_parameter('generate.num_tasks')
  steps = num_tasks * ppo.PpoSource('darkroom').env_steps_per_task
  seconds, peak, size = run_generate(num_tasks)
  _, quarter_peak, quarter_size = run_generate(num_tasks // 4)
  figures.update({
      'default_dataset': FLAGS.gin_file,
      'default_dataset_seconds': round(seconds, 1),
      'default_dataset_env_steps': steps,
      'default_dataset_env_steps_per_s_incl_start_up_and_writing': round(steps / seconds),
      'default_dataset_mbytes': round(size, 1),
      'generate_peak_rss_mbytes': round(peak),
      f'generate_peak_rss_mbytes_{num_tasks // 4}_tasks_{round(quarter_size, 1)}_mbytes':
          round(quarter_peak),
  })
  figures_lib.report(figures)


if __name__ == '__main__':
  app.run(main)
