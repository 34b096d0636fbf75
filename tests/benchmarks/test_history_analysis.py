"""benchmarks.history_analysis: the follow-through figures by hand, and a run on the tiny
dataset read back with tfds.load."""

import json
import subprocess
import sys

import numpy as np

from benchmarks import history_analysis
from tests.tiny_runs import REPO


def test_follow_through_by_hand():
  goal = np.array([[False, True, True, False],
                   [False, False, False, False],
                   [True, False, True, True]])
  figures = history_analysis.follow_through(goal)
  assert figures['goal_rate_per_kept_episode'] == [0.333, 0.333, 0.667, 0.333]
  # After a goal: T->T, T->F (first history), T->F, T->T (third): 2 of 4.
  assert (figures['again'], figures['again_pairs']) == (0.5, 4)
  # After each history's first goal: episode 3 of the first (T), episode 2 of the third (F).
  assert (figures['after_first'], figures['after_first_pairs']) == (0.5, 2)
  assert figures['never'] == 0.333
  assert history_analysis.follow_through(np.zeros((2, 3), bool))['again'] is None


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
