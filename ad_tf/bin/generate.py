r"""Generates the `ad_histories` dataset: source RL agents' learning histories as RLDS in TFDS.

  python -m ad_tf.bin.generate --root_dir=runs/exp --gin_file=gin/darkroom.gin
  python -m ad_tf.bin.generate ... --task_shard=1 --num_task_shards=4   # one part of four

Re-running the same command resumes after a crash.
"""

from absl import app
from absl import flags

import ad_tf  # pylint: disable=unused-import  (quiet TF start-up, TFDS registration)
from ad_tf.bin import binary_utils
from ad_tf.generation import generate as generate_lib

flags.DEFINE_integer('task_shard', 0, 'Which part of the tasks this process generates.')
flags.DEFINE_integer('num_task_shards', 1, 'Into how many parts the tasks are split.')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  binary_utils.run_configured(lambda root_dir: generate_lib.generate(
      root_dir, task_shard=FLAGS.task_shard, num_task_shards=FLAGS.num_task_shards))


if __name__ == '__main__':
  app.run(main)
