"""What every ad_tf binary shares: the standard flags, gin parsing, deterministic TF, and one
clear error on bad input.

Each binary defines only its execution-specific flags and calls `run_configured(function)`, where
`function(root_dir)` is one `@gin.configurable` library call.
"""

import errno
import re
import sys
import tokenize
from typing import Callable, Optional, Sequence

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
  except (ValueError, IOError, KeyError, SyntaxError, tokenize.TokenError) as error:
    if isinstance(error, tokenize.TokenError):  # An unclosed bracket: gin's tokenizer gives up.
      first_line = 'unclosed bracket or quote'
    else:
      first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    first_line = re.sub(r'\s*\(line \d+\)', '', first_line).rstrip('.')
    where = _culprit(gin_files, gin_bindings) or f'the gin files {list(gin_files)}'
    sys.exit(f'error: bad gin configuration in {where}: {first_line}. Fix it and re-run; '
             'nothing was run.')


def _culprit(gin_files: Sequence[str], gin_bindings: Sequence[str]) -> str:
  """The first binding that fails on its own (after the files), or '' if none does."""
  for binding in gin_bindings:
    with gin.unlock_config():
      gin.clear_config()
      try:
        gin.parse_config_files_and_bindings(gin_files, [binding])
      except (ValueError, IOError, KeyError, SyntaxError, tokenize.TokenError):
        return f'--gin_bindings={binding!r}'
  return ''


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
    sys.exit(f'error: {without_gin_context(str(error))}')
  except (OSError, tf.errors.OpError) as error:
    failure = storage_failure(error)
    if failure is None:
      raise
    sys.exit(f'error: {failure}. Nothing partly written is taken as complete (shards, '
             'checkpoints and exports are renamed into place only when whole): make room or '
             'lift the limit, then re-run the same command; it resumes from what is complete.')


#: errno -> what the OS said, for the write failures a user can fix and then resume after.
_STORAGE_ERRNOS = {errno.ENOSPC: 'No space left on device', errno.EFBIG: 'File too large',
                   errno.EDQUOT: 'Disk quota exceeded', errno.EROFS: 'Read-only file system',
                   errno.EACCES: 'Permission denied', errno.EIO: 'Input/output error'}


def storage_failure(error: Exception) -> Optional[str]:
  """'writing <path> failed: <reason>' if `error` is a storage failure (a full disk, a file
  size limit, a read-only or forbidden directory), else None.

  Python raises OSError with an errno; TensorFlow's file system raises an OpError whose message
  is '<path>; <reason>' (the reason being strerror's text).
  """
  if isinstance(error, OSError):
    if error.errno not in _STORAGE_ERRNOS:
      return None
    return f'writing {error.filename or "a file"} failed: {_STORAGE_ERRNOS[error.errno]}'
  message = error.message.strip()
  for reason in _STORAGE_ERRNOS.values():
    if reason in message:
      path = message.split(';')[0].strip() if ';' in message else 'a file'
      return f'writing {path} failed: {reason}'
  return None


def without_gin_context(message: str) -> str:
  """The message without the 'In call to configurable ...' lines gin appends to errors raised
  inside configurables: they name a function object, not the input that was wrong."""
  kept = [line for line in message.splitlines()
          if not line.strip().startswith('In call to configurable')]
  return '\n'.join(kept).rstrip()


def run_configured(function: Callable[[str], object]) -> object:
  """Parses --gin_file/--gin_bindings, then runs `function(--root_dir)` (see `run`)."""
  parse_gin(FLAGS.gin_file, FLAGS.gin_bindings)
  return run(lambda: function(FLAGS.root_dir))
