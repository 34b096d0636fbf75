"""What every ad_tf binary shares: gin parsing, deterministic TF, one clear error on bad input."""

import sys
from typing import Callable, Sequence

from absl import logging
import gin
import tensorflow as tf

import ad_tf.configurables  # pylint: disable=unused-import


def parse_gin(gin_files: Sequence[str], gin_bindings: Sequence[str]) -> None:
  """Parses gin files and bindings, or exits with one line saying which binding is wrong."""
  try:
    gin.parse_config_files_and_bindings(gin_files, gin_bindings)
  except (ValueError, IOError, KeyError) as error:
    first_line = str(error).strip().splitlines()[0]
    sys.exit(f'error: bad gin configuration: {first_line}\n'
             f'  (files: {list(gin_files)}, bindings: {list(gin_bindings)})')


def run(function: Callable[[], object], expected_errors=(ValueError,)) -> object:
  """Runs `function` with deterministic TF ops; bad input exits non-zero with one message."""
  logging.set_verbosity(logging.INFO)
  # Every library seeds its own randomness; the global seed only satisfies op determinism.
  tf.random.set_seed(0)
  tf.config.experimental.enable_op_determinism()
  try:
    return function()
  except expected_errors as error:
    sys.exit(f'error: {error}')
