r"""In-context evaluation of AD, ED and the source on held-out tasks.

  python -m ad_tf.bin.evaluate --root_dir=runs/exp --gin_file=gin/darkroom.gin

Writes root_dir/eval/results.json and root_dir/eval/returns.png.
"""

from absl import app

import ad_tf  # pylint: disable=unused-import  (quiet TF start-up, TFDS registration)
from ad_tf.bin import binary_utils
from ad_tf.evaluation import evaluate


def main(argv):
  del argv
  binary_utils.run_configured(evaluate.evaluate)


if __name__ == '__main__':
  app.run(main)
