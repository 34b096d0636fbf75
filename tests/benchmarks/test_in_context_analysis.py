"""benchmarks.in_context_analysis on a tiny trained model: its figures are per episode and in
range (it once read per-step rewards as episode returns)."""

import json
import subprocess
import sys

from tests.tiny_runs import REPO


def test_figures_are_per_episode_and_in_range(tiny_export_root):
  result = subprocess.run(
      [sys.executable, '-m', 'benchmarks.in_context_analysis', f'--root_dir={tiny_export_root}',
       '--test_seeds=1', '--train_seeds=1', '--num_episodes=3'], cwd=REPO, capture_output=True,
      text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  figures = json.loads(result.stdout.strip().splitlines()[-1])
  assert figures['env'] == 'darkroom'  # From the model's record, not a flag.
  assert figures['test_runs'] == 21
  for split in ('test', 'train'):
    assert 0.0 <= figures[f'{split}_episode_1'] <= 1.0
    median = figures[f'{split}_first_reward_median_episode']
    assert median is None or 1 <= median <= 3
  # Dark Room starts at the centre: the runs split by the goal's distance from it (0..8 steps).
  bands = figures['test_by_goal_distance']
  assert list(bands) == ['0-3', '4-7', '8-11']
  assert sum(band['runs'] for band in bands.values()) == 21
  for band in bands.values():
    assert 0.0 <= band['never'] <= 1.0 and 0.0 <= band['last_episode'] <= 1.0
  for name in ('after_goal_again', 'after_goal_1_miss', 'after_goal_2_misses'):
    assert figures[f'test_{name}'] is None or 0.0 <= figures[f'test_{name}'] <= 1.0
