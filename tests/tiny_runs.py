"""Running the real binaries on gin/darkroom_tiny.gin, and experiments sharing one dataset."""

import json
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


def run_benchmark(module, *flags, timeout=600):
  """Runs `python -m benchmarks.<module>` with `flags`; returns the finished process."""
  return subprocess.run([sys.executable, '-m', f'benchmarks.{module}', *flags], cwd=REPO,
                        capture_output=True, text=True, timeout=timeout)


def benchmark_figures(module, *flags, timeout=600) -> dict:
  """`run_benchmark`, which must succeed: the JSON object on its last line."""
  result = run_benchmark(module, *flags, timeout=timeout)
  assert result.returncode == 0, result.stderr[-3000:]
  return json.loads(result.stdout.strip().splitlines()[-1])


def experiment_root(dataset_root, path) -> str:
  """A new experiment directory that reads `dataset_root`'s datasets (linked, never written)."""
  os.makedirs(path, exist_ok=True)
  os.symlink(os.path.join(dataset_root, 'tfds'), os.path.join(path, 'tfds'))
  return str(path)
