"""benchmarks.in_context_analysis on a tiny trained model: its figures are per episode and in
range (it once read per-step rewards as episode returns); its tasks and distance bands by hand.
(Watermaze's run on a tiny model is in tests/test_watermaze_end_to_end.py.)"""

import numpy as np

import ad_tf
from ad_tf.envs import watermaze
from benchmarks import in_context_analysis
from tests.tiny_runs import benchmark_figures


def test_figures_are_per_episode_and_in_range(tiny_export_root):
  figures = benchmark_figures('in_context_analysis', f'--root_dir={tiny_export_root}',
                              '--test_seeds=1', '--train_seeds=1', '--num_episodes=3')
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


def test_watermaze_tasks_are_the_evaluations_platforms_and_fresh_training_ones():
  """Watermaze's platforms are continuous: the test split is the evaluation's own draw (evaluate
  at seed 0 and min_runs 100), the train split as many fresh platforms of the training region."""
  test = in_context_analysis.analysis_tasks('watermaze', 'test')
  expected = ad_tf.envs.held_out_tasks('watermaze', 100, 0, 'test')
  assert len(test) == 100
  for task, other in zip(test, expected):
    np.testing.assert_array_equal(task['platform'], other['platform'])
  train = in_context_analysis.analysis_tasks('watermaze', 'train', max_tasks=7)
  assert len(train) == 7
  assert watermaze.in_split(np.stack([t['platform'] for t in train]), 'train').all()


def test_goal_distance_bands_by_hand():
  """Dark Room Hard (17x17, start at (8, 8)): Manhattan steps in bands of 4; Watermaze: the
  platform's distance from the centre in bands of 0.1; Key-to-Door (random start): none. The
  bands come nearest first, with each band's runs, misses and first-goal median."""
  rooms = [{'goal': np.array([8, 9])}, {'goal': np.array([0, 0])}, {'goal': np.array([12, 8])}]
  assert in_context_analysis.goal_distance_bands('darkroom_hard', rooms) == ['0-3', '16-19', '4-7']
  arena = [{'platform': np.array([0.0, 0.55])}, {'platform': np.array([0.0, -0.35])}]
  assert in_context_analysis.goal_distance_bands('watermaze', arena) == ['0.5-0.6', '0.3-0.4']
  assert in_context_analysis.goal_distance_bands('key_to_door', rooms) is None
  rewarded = np.array([[False, True, True], [False, False, False], [True, False, True]])
  first = np.array([1, -1, 0])
  bands = in_context_analysis.by_goal_distance(['0-3', '16-19', '4-7'], rewarded, first,
                                               rewarded[:, :-1].any(axis=1))
  assert list(bands) == ['0-3', '4-7', '16-19']
  assert bands['16-19'] == {'runs': 1, 'never': 1.0, 'first_goal_median_episode': None,
                            'last_episode': 0.0, 'last_episode_if_found_before': None}
  assert bands['0-3']['first_goal_median_episode'] == 2.0
  assert bands['4-7']['last_episode_if_found_before'] == 1.0
