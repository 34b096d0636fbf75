"""RL² training throughput (env steps/s, collection and PPO update together) of a gin config.

Runs `train_rl2` for a few iterations in a scratch directory and times iterations 2..n from its
metrics.jsonl (the first one traces the compiled step); no held-out evaluation in between.
Usage: python -m benchmarks.rl2_throughput [--gin_file=gin/darkroom_small.gin] [--iterations=6]
  (gin/darkroom.gin: the paper's RL², LSTM 2 x 256 and 256 trials per iteration)
Prints one JSON object on its last line.
"""

import json
import os
import tempfile

from absl import app
from absl import flags
from absl import logging
import gin
import tensorflow as tf

import ad_tf  # pylint: disable=unused-import
import ad_tf.configurables  # pylint: disable=unused-import
from ad_tf import experiment
from ad_tf.rl2 import training
from benchmarks import figures as figures_lib

flags.DEFINE_string('gin_file', 'gin/darkroom_small.gin', 'The config whose RL² to time.')
flags.DEFINE_integer('iterations', 6, 'Iterations to run (the first is not timed).')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  tf.config.experimental.enable_op_determinism()
  gin.parse_config_files_and_bindings([FLAGS.gin_file], [
      f'train_rl2.num_iterations = {FLAGS.iterations}',
      f'train_rl2.eval_every = {FLAGS.iterations + 1}'])
  with tempfile.TemporaryDirectory() as root:
    training.train_rl2(root)
    with open(os.path.join(experiment.rl2_dir(root), experiment.METRICS_FILE)) as f:
      lines = [json.loads(line) for line in f]
  steps = lines[-1]['env_steps'] - lines[0]['env_steps']
  seconds = lines[-1]['wall_time_s'] - lines[0]['wall_time_s']
  figures_lib.report({'gin_file': FLAGS.gin_file, 'timed_iterations': len(lines) - 1,
                      'env_steps_per_iteration': lines[0]['env_steps'],
                      'env_steps_per_s': round(steps / seconds)})


if __name__ == '__main__':
  app.run(main)
