r"""Exports the trained AD model as a SavedModel for TF Serving (root_dir/export/<version>/).

  python -m ad_tf.bin.export --root_dir=runs/exp --gin_file=gin/darkroom.gin
"""

from absl import app

import ad_tf  # pylint: disable=unused-import  (quiet TF start-up, TFDS registration)
from ad_tf.bin import binary_utils
from ad_tf.export import export


def main(argv):
  del argv
  binary_utils.run_configured(export.export)


if __name__ == '__main__':
  app.run(main)
