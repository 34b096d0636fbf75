r"""In-context evaluation of AD, ED and the source on held-out tasks.

  python -m ad_tf.bin.evaluate --root_dir=runs/exp --gin_file=gin/darkroom.gin

Writes root_dir/eval/results.json and root_dir/eval/returns.png.
"""

from absl import app
from absl import flags

import ad_tf  # pylint: disable=unused-import
from ad_tf.bin import binary_utils
from ad_tf.evaluation import evaluate as evaluate_lib

flags.DEFINE_string('root_dir', None, 'Experiment directory.')
flags.DEFINE_multi_string('gin_file', [], 'Gin config files.')
flags.DEFINE_multi_string('gin_bindings', [], 'Gin bindings.')
flags.mark_flag_as_required('root_dir')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  binary_utils.parse_gin(FLAGS.gin_file, FLAGS.gin_bindings)
  binary_utils.run(lambda: evaluate_lib.evaluate(FLAGS.root_dir))


if __name__ == '__main__':
  app.run(main)
