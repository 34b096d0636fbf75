r"""Algorithm Distillation end to end: generate -> train AD -> train ED -> evaluate -> export.

  python -m ad_tf.bin.pipeline --root_dir=runs/demo --gin_file=gin/darkroom_small.gin

Every stage resumes if it was done or interrupted; re-run the same command after a crash.
"""

import glob
import json
import os

from absl import app
from absl import flags

import ad_tf  # pylint: disable=unused-import
from ad_tf import experiment
from ad_tf import pipeline as pipeline_lib
from ad_tf.bin import binary_utils
from ad_tf.evaluation import evaluate
from ad_tf.train import strategy as strategy_lib

flags.DEFINE_enum('strategy', 'default', strategy_lib.STRATEGIES, 'tf.distribute strategy.')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  strategy = strategy_lib.get_strategy(FLAGS.strategy)
  times = binary_utils.run_configured(lambda root_dir: pipeline_lib.pipeline(root_dir, strategy))
  with open(experiment.results_path(FLAGS.root_dir)) as f:
    print('\n' + evaluate.results_table(json.load(f)))
  plots = sorted(glob.glob(os.path.join(experiment.eval_dir(FLAGS.root_dir), '*.png')))
  print('\nPlots: ' + ', '.join(plots))
  print('Wall time per stage (s): ' + ', '.join(f'{k} {v:.0f}' for k, v in times.items()))


if __name__ == '__main__':
  app.run(main)
