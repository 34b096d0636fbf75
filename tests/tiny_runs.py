"""Running the real binaries on gin/darkroom_tiny.gin, and experiments sharing one dataset."""

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_GIN = os.path.join(REPO, 'gin', 'darkroom_tiny.gin')


def run_binary(binary, root_dir, *bindings, timeout=600, gin_file=TINY_GIN):
  """Runs `python -m ad_tf.bin.<binary>` (on the tiny config by default); returns the finished
  process."""
  return subprocess.run(
      [sys.executable, '-m', f'ad_tf.bin.{binary}', f'--root_dir={root_dir}',
       f'--gin_file={gin_file}'] + [f'--gin_bindings={b}' for b in bindings],
      cwd=REPO, capture_output=True, text=True, timeout=timeout)


def experiment_root(dataset_root, path) -> str:
  """A new experiment directory that reads `dataset_root`'s datasets (linked, never written)."""
  os.makedirs(path, exist_ok=True)
  os.symlink(os.path.join(dataset_root, 'tfds'), os.path.join(path, 'tfds'))
  return str(path)
