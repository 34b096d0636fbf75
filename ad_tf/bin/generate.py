r"""Generates the `ad_histories` dataset: source RL agents' learning histories as RLDS in TFDS.

  python -m ad_tf.bin.generate --root_dir=runs/exp --gin_file=gin/darkroom.gin
  python -m ad_tf.bin.generate ... --task_shard=1 --num_task_shards=4   # one part of four
  python -m ad_tf.bin.generate ... --runner=beam \
      --beam_pipeline_options="--direct_num_workers=2 --direct_running_mode=multi_processing"

Re-running the same command resumes after a crash.
"""

from absl import app
from absl import flags

import ad_tf  # pylint: disable=unused-import  (quiet TF start-up, TFDS registration)
from ad_tf.bin import binary_utils
from ad_tf.generation import generate as generate_lib

flags.DEFINE_integer('task_shard', 0, 'Which part of the tasks this process generates.')
flags.DEFINE_integer('num_task_shards', 1, 'Into how many parts the tasks are split.')
flags.DEFINE_enum('runner', None, list(generate_lib.RUNNERS),
                  'Where the tasks run: this process (local, the default) or an Apache Beam '
                  'pipeline (beam; needs the [beam] extra). Overrides generate.runner.')
flags.DEFINE_string('beam_pipeline_options', None,
                    'Beam pipeline options as on a command line, e.g. "--direct_num_workers=2 '
                    '--direct_running_mode=multi_processing" or Dataflow\'s.')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  execution = {name: getattr(FLAGS, name) for name in ('runner', 'beam_pipeline_options')
               if getattr(FLAGS, name) is not None}
  binary_utils.run_configured(lambda root_dir: generate_lib.generate(
      root_dir, task_shard=FLAGS.task_shard, num_task_shards=FLAGS.num_task_shards,
      **execution))


if __name__ == '__main__':
  app.run(main)
