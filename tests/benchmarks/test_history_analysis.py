"""benchmarks.history_analysis on the tiny dataset, read back with tfds.load (its figures by
hand: tests/evaluation/test_evaluate.py)."""

from tests.tiny_runs import benchmark_figures
from tests.tiny_runs import run_benchmark


def test_reads_every_history_of_the_tiny_dataset(tiny_dataset_root, tmp_path):
  figures = benchmark_figures('history_analysis', f'--root_dir={tiny_dataset_root}',
                              '--dataset_config=darkroom', '--percent=100')
  # gin/darkroom_tiny.gin: 4 tasks x 4 actors, 30 episodes each, all kept.
  assert (figures['env'], figures['histories'], figures['kept_episodes']) == ('darkroom', 16, 30)
  assert all(0.0 <= rate <= 1.0 for rate in figures['goal_rate_per_kept_episode'])
  missing = run_benchmark('history_analysis', f'--root_dir={tmp_path}')
  assert missing.returncode != 0
  assert 'No complete ad_histories/key_to_door dataset' in missing.stderr
