r"""Trains the AD transformer (or ED on an `<env>_expert` dataset) on `ad_histories`.

  python -m ad_tf.bin.train --root_dir=runs/exp --gin_file=gin/darkroom.gin
  python -m ad_tf.bin.train ... --strategy=mirrored --num_logical_cpus=2

Re-running the same command resumes from the last checkpoint.
"""

from absl import app
from absl import flags
import tensorflow as tf

import ad_tf  # pylint: disable=unused-import  (quiet TF start-up, TFDS registration)
from ad_tf.bin import binary_utils
from ad_tf.train import strategy as strategy_lib
from ad_tf.train import trainer

flags.DEFINE_enum('strategy', 'default', strategy_lib.STRATEGIES, 'tf.distribute strategy.')
flags.DEFINE_string('tpu', '', 'TPU address, with --strategy=tpu.')
flags.DEFINE_integer('num_logical_cpus', 0,
                     'Split the CPU into this many logical devices (to exercise mirrored '
                     'training without accelerators); 0 leaves it whole.')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  if FLAGS.num_logical_cpus:
    cpu = tf.config.list_physical_devices('CPU')[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * FLAGS.num_logical_cpus)
  strategy = strategy_lib.get_strategy(FLAGS.strategy, FLAGS.tpu)
  binary_utils.run_configured(lambda root_dir: trainer.train(root_dir, strategy=strategy))


if __name__ == '__main__':
  app.run(main)
