"""benchmarks.source_entropy on the tiny dataset: one figure per kept episode, each an entropy
of a 5-action distribution, and one clear error for a missing dataset."""

import math

from ad_tf import experiment
from ad_tf.data import history_windows
from tests.tiny_runs import benchmark_figures
from tests.tiny_runs import run_benchmark


def test_one_entropy_per_kept_episode_within_the_action_bounds(tiny_dataset_root):
  figures = benchmark_figures('source_entropy', f'--root_dir={tiny_dataset_root}',
                              '--dataset_config=darkroom')
  builder = history_windows.load_builder(experiment.tfds_dir(tiny_dataset_root), 'darkroom')
  _, num_histories, per_history = history_windows.history_shape(builder)
  assert figures['episodes'] == num_histories * per_history  # The tiny dataset is < 4,000.
  assert len(figures['entropy_by_kept_episode']) == per_history
  assert len(figures['return_by_kept_episode']) == per_history
  for entropy in figures['entropy_by_kept_episode'] + [figures['mean_entropy']]:
    assert 0.0 <= entropy <= math.log(5) + 1e-3
  assert all(value >= 0.0 for value in figures['return_by_kept_episode'])


def test_a_missing_dataset_is_one_clear_error(tmp_path):
  result = run_benchmark('source_entropy', f'--root_dir={tmp_path}', '--dataset_config=darkroom')
  assert result.returncode != 0
  assert 'No complete ad_histories/darkroom dataset' in result.stderr
  assert 'Traceback' not in result.stderr
