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

flags.DEFINE_string('root_dir', None, 'Experiment directory (the dataset goes to root_dir/tfds).')
flags.DEFINE_multi_string('gin_file', [], 'Gin config files.')
flags.DEFINE_multi_string('gin_bindings', [], 'Gin bindings, e.g. "generate.num_tasks=10".')
flags.DEFINE_integer('task_shard', 0, 'Which part of the tasks this process generates.')
flags.DEFINE_integer('num_task_shards', 1, 'Into how many parts the tasks are split.')
flags.mark_flag_as_required('root_dir')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  binary_utils.parse_gin(FLAGS.gin_file, FLAGS.gin_bindings)
  binary_utils.run(lambda: generate_lib.generate(
      FLAGS.root_dir, task_shard=FLAGS.task_shard, num_task_shards=FLAGS.num_task_shards))


if __name__ == '__main__':
  app.run(main)
