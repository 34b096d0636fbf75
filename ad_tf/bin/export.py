r"""Exports the trained AD model as a SavedModel for TF Serving (root_dir/export/<version>/).

  python -m ad_tf.bin.export --root_dir=runs/exp --gin_file=gin/darkroom.gin
"""

from absl import app
from absl import flags

import ad_tf  # pylint: disable=unused-import
from ad_tf.bin import binary_utils
from ad_tf.export import export as export_lib

flags.DEFINE_string('root_dir', None, 'Experiment directory.')
flags.DEFINE_multi_string('gin_file', [], 'Gin config files.')
flags.DEFINE_multi_string('gin_bindings', [], 'Gin bindings.')
flags.mark_flag_as_required('root_dir')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  binary_utils.parse_gin(FLAGS.gin_file, FLAGS.gin_bindings)
  binary_utils.run(lambda: export_lib.export(FLAGS.root_dir))


if __name__ == '__main__':
  app.run(main)
