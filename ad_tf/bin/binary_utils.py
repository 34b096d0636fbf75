"""What every ad_tf binary shares: the standard flags, gin parsing, deterministic TF, and one
clear error on bad input.

Each binary defines only its execution-specific flags and calls `run_configured(function)`, where
`function(root_dir)` is one `@gin.configurable` library call.
"""

import sys
from typing import Callable, Sequence

from absl import flags
from absl import logging
import gin
import tensorflow as tf

import ad_tf.configurables  # pylint: disable=unused-import

flags.DEFINE_string('root_dir', None, 'Experiment directory (see docs/ARCHITECTURE.md).')
flags.DEFINE_multi_string('gin_file', [], 'Gin config files, e.g. gin/darkroom.gin.')
flags.DEFINE_multi_string('gin_bindings', [], 'Gin bindings, e.g. "train.num_steps=100".')
flags.mark_flag_as_required('root_dir')
FLAGS = flags.FLAGS


def parse_gin(gin_files: Sequence[str], gin_bindings: Sequence[str]) -> None:
  """Parses gin files and bindings, or exits with one line saying which binding is wrong."""
  try:
    gin.parse_config_files_and_bindings(gin_files, gin_bindings)
  except (ValueError, IOError, KeyError) as error:
    first_line = str(error).strip().splitlines()[0]
    sys.exit(f'error: bad gin configuration: {first_line}\n'
             f'  (files: {list(gin_files)}, bindings: {list(gin_bindings)})')


def run(function: Callable[[], object]) -> object:
  """Runs `function` with deterministic TF ops; bad input exits non-zero with one message.

  Every ad_tf input error (GenerationError, DatasetError, TrainingError, ExportError, ...) is a
  ValueError whose message says what was wrong and what to do.
  """
  logging.set_verbosity(logging.INFO)
  # Every library seeds its own randomness; the global seed only satisfies op determinism.
  tf.random.set_seed(0)
  tf.config.experimental.enable_op_determinism()
  try:
    return function()
  except ValueError as error:
    sys.exit(f'error: {error}')


def run_configured(function: Callable[[str], object]) -> object:
  """Parses --gin_file/--gin_bindings, then runs `function(--root_dir)` (see `run`)."""
  parse_gin(FLAGS.gin_file, FLAGS.gin_bindings)
  return run(lambda: function(FLAGS.root_dir))
