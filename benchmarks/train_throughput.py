"""Training tokens/s: the bare model step vs the full trainer, at the paper's model size or the
CPU default's (`--model=cpu_default`: gin/darkroom_small.gin's model, batch and context).

The bare step repeats one in-memory batch through the trainer's own compiled step; the full
trainer is `trainer.train` reading windows from `ad_histories` (the input pipeline included).
Target: full >= 0.9 x bare.
Usage: python -m benchmarks.train_throughput [--steps=40] [--model=cpu_default]
Prints one JSON object on its last line.
"""

import json
import os
import tempfile
import time

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
flags.DEFINE_string('root_dir', '', 'An experiment with a darkroom dataset; a temporary one with '
                    'gin/darkroom_small.gin data is made if empty.')
flags.DEFINE_enum('model', 'paper', ['paper', 'cpu_default'],
                  "paper: gin/darkroom.gin's model at batch 128; cpu_default: "
                  "gin/darkroom_small.gin's model and batch (64).")
FLAGS = flags.FLAGS
WARMUP = 10


def bare_tokens_per_second(data_dir: str, batch_size: int, context: int) -> float:
  strategy = tf.distribute.get_strategy()
  model = loading.build_seeded(loading.configured_model(ad_tf.envs.get_spec('darkroom')), 0,
                               context)
  optimizer = tf.keras.optimizers.Adam(3e-4, beta_1=0.9, beta_2=0.99, global_clipnorm=1.0)
  step = tf.Variable(0, dtype=tf.int64)
  train_step = trainer.make_train_step(model, optimizer, strategy, step, 0.0,
                                       batch_size * context)
  batch = next(iter(history_windows.history_windows(data_dir, 'darkroom', batch_size,
                                                    context_length=context)))
  for _ in range(WARMUP):
    train_step(batch)
  start = time.perf_counter()
  for _ in range(FLAGS.steps):
    loss, _ = train_step(batch)
  float(loss)
  return FLAGS.steps * batch_size * context / (time.perf_counter() - start)


def trainer_tokens_per_second(root_dir: str) -> float:
  gin.bind_parameter('train.num_steps', WARMUP + FLAGS.steps)
  gin.bind_parameter('train.log_every', WARMUP)
  gin.bind_parameter('train.checkpoint_every', 10**9)
  directory = experiment.train_dir(root_dir, 'darkroom')
  trainer.train(root_dir)
  with open(os.path.join(directory, 'metrics.jsonl')) as f:
    records = [json.loads(line) for line in f][1:]  # The first window includes tracing.
  timed = [r for r in records if r['step'] > WARMUP]
  return sum(r['tokens_per_s'] for r in timed) / len(timed)


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  gin.parse_config_file('gin/darkroom_small.gin')  # Its dataset (and the cpu_default model).
  if FLAGS.model == 'paper':
    gin.bind_parameter('AlgorithmDistillationTransformer.feedforward_dim', 2048)
    gin.bind_parameter('AlgorithmDistillationTransformer.attention_dropout', 0.5)
    gin.bind_parameter('train.batch_size', 128)
  batch_size = gin.query_parameter('train.batch_size')
  context = gin.query_parameter('train.context_length')
  with tempfile.TemporaryDirectory() as scratch:
    root_dir = FLAGS.root_dir or os.path.join(scratch, 'exp')
    if not FLAGS.root_dir:
      generate.generate(root_dir)
    data_dir = experiment.tfds_dir(root_dir)
    bare = bare_tokens_per_second(data_dir, batch_size, context)
    training_root = os.path.join(scratch, 'train_run')
    os.makedirs(training_root)
    os.symlink(os.path.abspath(data_dir), experiment.tfds_dir(training_root))
    full = trainer_tokens_per_second(training_root)
  feedforward = gin.query_parameter('AlgorithmDistillationTransformer.feedforward_dim')
  figures = {'model': f'{FLAGS.model}: embedding 64, 4 layers, 4 heads, '
                      f'feed-forward {feedforward}',
             'batch': batch_size, 'context': context,
             'bare_model_step_tokens_per_s': round(bare),
             'full_trainer_tokens_per_s': round(full),
             'full_over_bare': round(full / bare, 3)}
  figures_lib.report(figures)


if __name__ == '__main__':
  app.run(main)
