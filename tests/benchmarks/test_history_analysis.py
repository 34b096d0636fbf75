"""benchmarks.history_analysis on the tiny dataset, read back with tfds.load (its figures by
hand: tests/evaluation/test_evaluate.py)."""

import json
import subprocess
import sys

from tests.tiny_runs import REPO


def run_analysis(*flags):
  return subprocess.run([sys.executable, '-m', 'benchmarks.history_analysis', *flags], cwd=REPO,
                        capture_output=True, text=True, timeout=600)


def test_reads_every_history_of_the_tiny_dataset(tiny_dataset_root, tmp_path):
  result = run_analysis(f'--root_dir={tiny_dataset_root}', '--dataset_config=darkroom',
                        '--percent=100')
  assert result.returncode == 0, result.stderr[-3000:]
  figures = json.loads(result.stdout.strip().splitlines()[-1])
  # gin/darkroom_tiny.gin: 4 tasks x 4 actors, 30 episodes each, all kept.
  assert (figures['env'], figures['histories'], figures['kept_episodes']) == ('darkroom', 16, 30)
  assert all(0.0 <= rate <= 1.0 for rate in figures['goal_rate_per_kept_episode'])
  missing = run_analysis(f'--root_dir={tmp_path}')
  assert missing.returncode != 0
  assert 'No complete ad_histories/key_to_door dataset' in missing.stderr
