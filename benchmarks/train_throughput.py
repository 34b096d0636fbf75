"""Training tokens/s: the bare model step, the input pipeline alone and the full trainer, at the
paper's model size or the CPU default's (`--model=cpu_default`: the gin file's model, batch and
context; `--gin_file` picks the environment, gin/darkroom_small.gin by default).

The bare step repeats one in-memory batch through the trainer's own compiled step; the input
pipeline alone draws batches of windows from `ad_histories` (Watermaze's PNG frames decoded) with
no model; the full trainer is `trainer.train`, both together. Target: full >= 0.9 x bare. When
the two share the cores, full ~ 1 / (1 / bare + 1 / input pipeline).
Usage: python -m benchmarks.train_throughput [--steps=40] [--model=cpu_default]
  [--gin_file=gin/watermaze_small.gin --root_dir=R] [--gin_bindings=...]
Prints one JSON object on its last line.
"""

import json
import os
import tempfile
import time
from typing import Callable

from absl import app
from absl import flags
from absl import logging
import gin
import tensorflow as tf

import ad_tf
from benchmarks import figures as figures_lib
import ad_tf.configurables  # pylint: disable=unused-import
from ad_tf import experiment
from ad_tf.data import history_windows
from ad_tf.generation import generate
from ad_tf.model import loading
from ad_tf.train import trainer

flags.DEFINE_integer('steps', 40, 'Timed steps (after 10 warm-up steps).')
flags.DEFINE_string('root_dir', '', "An experiment with the gin file's dataset; a temporary one is "
                    'generated with the gin file if empty.')
flags.DEFINE_string('gin_file', 'gin/darkroom_small.gin', "The environment's CPU default.")
flags.DEFINE_multi_string('gin_bindings', [], 'Bindings after the gin file (e.g. the encoder).')
flags.DEFINE_enum('model', 'paper', ['paper', 'cpu_default'],
                  "paper: the transformer of gin/darkroom.gin (feed-forward 2048, attention "
                  "dropout 0.5) at batch 128; cpu_default: the gin file's model and batch.")
FLAGS = flags.FLAGS
WARMUP = 10


def bare_tokens_per_second(data_dir: str, env_name: str, dataset_config: str, batch_size: int,
                           context: int) -> float:
  strategy = tf.distribute.get_strategy()
  model = loading.build_seeded(loading.configured_model(ad_tf.envs.get_spec(env_name)), 0,
                               context)
  optimizer = tf.keras.optimizers.Adam(3e-4, beta_1=0.9, beta_2=0.99, global_clipnorm=1.0)
  step = tf.Variable(0, dtype=tf.int64)
  train_step = trainer.make_train_step(model, optimizer, strategy, step, 0.0,
                                       batch_size * context)
  batch = next(iter(history_windows.history_windows(data_dir, dataset_config, batch_size,
                                                    context_length=context)))
  return timed_tokens_per_second(lambda: float(train_step(batch)[0]), batch_size * context)


def input_pipeline_tokens_per_second(data_dir: str, dataset_config: str, batch_size: int,
                                     context: int) -> float:
  batches = iter(history_windows.history_windows(data_dir, dataset_config, batch_size,
                                                 context_length=context))
  return timed_tokens_per_second(lambda: next(batches), batch_size * context)


def timed_tokens_per_second(step: Callable[[], object], tokens_per_step: int) -> float:
  """Tokens/s of `FLAGS.steps` calls of `step` (each finished before the next), after WARMUP."""
  for _ in range(WARMUP):
    step()
  start = time.perf_counter()
  for _ in range(FLAGS.steps):
    step()
  return FLAGS.steps * tokens_per_step / (time.perf_counter() - start)


def trainer_tokens_per_second(root_dir: str, dataset_config: str) -> float:
  gin.bind_parameter('train.num_steps', WARMUP + FLAGS.steps)
  gin.bind_parameter('train.log_every', WARMUP)
  gin.bind_parameter('train.checkpoint_every', 10**9)
  directory = experiment.train_dir(root_dir, dataset_config)
  trainer.train(root_dir)
  with open(os.path.join(directory, 'metrics.jsonl')) as f:
    records = [json.loads(line) for line in f][1:]  # The first window includes tracing.
  timed = [r for r in records if r['step'] > WARMUP]
  return sum(r['tokens_per_s'] for r in timed) / len(timed)


def configured_model_size(env_name: str):
  """The timed model's sizes, from the gin config (bound or the constructor's defaults)."""
  hyperparameters = loading.configured_model(ad_tf.envs.get_spec(env_name)).hyperparameters
  return {k: hyperparameters[k] for k in ('embedding_dim', 'num_layers', 'num_heads',
                                          'feedforward_dim')}


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  # Its dataset (and the cpu_default model).
  gin.parse_config_files_and_bindings([FLAGS.gin_file], FLAGS.gin_bindings,
                                      finalize_config=False)  # The benchmark binds more.
  if FLAGS.model == 'paper':
    gin.bind_parameter('AlgorithmDistillationTransformer.feedforward_dim', 2048)
    gin.bind_parameter('AlgorithmDistillationTransformer.attention_dropout', 0.5)
    gin.bind_parameter('train.batch_size', 128)
  env_name = gin.query_parameter('train.env_name')
  dataset_config = gin.query_parameter('train.dataset_config')
  batch_size = gin.query_parameter('train.batch_size')
  context = gin.query_parameter('train.context_length')
  with tempfile.TemporaryDirectory() as scratch:
    root_dir = FLAGS.root_dir or os.path.join(scratch, 'exp')
    if not FLAGS.root_dir:
      generate.generate(root_dir)
    data_dir = experiment.tfds_dir(root_dir)
    bare = bare_tokens_per_second(data_dir, env_name, dataset_config, batch_size, context)
    pipeline = input_pipeline_tokens_per_second(data_dir, dataset_config, batch_size, context)
    training_root = os.path.join(scratch, 'train_run')
    os.makedirs(training_root)
    os.symlink(os.path.abspath(data_dir), experiment.tfds_dir(training_root))
    full = trainer_tokens_per_second(training_root, dataset_config)
  size = configured_model_size(env_name)
  figures = {'env': env_name, 'gin_file': FLAGS.gin_file, 'gin_bindings': FLAGS.gin_bindings,
             'model': f"{FLAGS.model}: embedding {size['embedding_dim']}, {size['num_layers']} "
                      f"layers, {size['num_heads']} heads, feed-forward {size['feedforward_dim']}",
             'batch': batch_size, 'context': context,
             'bare_model_step_tokens_per_s': round(bare),
             'input_pipeline_alone_tokens_per_s': round(pipeline),
             'full_trainer_tokens_per_s': round(full),
             'full_over_bare': round(full / bare, 3)}
  figures_lib.report(figures)


if __name__ == '__main__':
  app.run(main)
