"""The evaluation's figures by hand, and `ad_tf.bin.evaluate` / `ad_tf.bin.export` reading the
trained model's own record: a model trained with one gin file evaluates and exports under
another, with no training binding."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from ad_tf import experiment
from ad_tf.evaluation import evaluate
from tests import tiny_runs

PAPER_GIN = os.path.join(tiny_runs.REPO, 'gin', 'darkroom.gin')  # Context 80, feed-forward 2048.
QUICK = ['evaluate.methods=["AD"]', 'evaluate.num_episodes=3', 'evaluate.seeds_per_task=1',
         'evaluate.min_runs=21']


def test_summary_figures():
  returns = np.array([[0.0, 10.0, 20.0], [0.0, 5.0, 10.0]])
  summary = evaluate.curve_summary(returns, np.array([20.0, 10.0]))
  assert summary['normalised_mean'] == [0.0, 0.5, 1.0]
  assert summary['final_episode_normalised'] == 1.0 and summary['num_runs'] == 2
  assert evaluate.episodes_to_fraction(summary['normalised_mean'], 0.8) == 3
  assert evaluate.episodes_to_fraction([0.1, 0.2], 0.8) is None


def test_data_efficiency_counts_every_episode_of_the_source_learner():
  methods = {'AD': {'episodes_to_0.8_oracle': 12},
             'source': {'episodes_to_0.8_oracle': 65, 'learner_episodes_per_index': 4}}
  assert evaluate.data_efficiency(methods) == {
      'ad_episodes': 12, 'source_learner_episodes': 260, 'ratio': 260 / 12}
  methods['AD']['episodes_to_0.8_oracle'] = None
  assert evaluate.data_efficiency(methods)['ratio'] is None
  assert evaluate.data_efficiency({'AD': methods['AD']}) is None


def test_milestone_rates_count_single_plays_by_their_return():
  # Key-to-Door: 1 = key found, 2 = door opened too; rates per episode over plays.
  returns = np.array([[0.0, 1.0, 2.0], [1.0, 2.0, 2.0], [0.0, 0.0, 1.0], [0.0, 1.0, 2.0]])
  assert evaluate.milestone_rates('key_to_door', returns) == {
      'key found': [0.25, 0.75, 1.0], 'door opened': [0.0, 0.25, 0.75]}
  # Dark Room pays every step on the goal: any return >= 1 is a found goal.
  assert evaluate.milestone_rates('darkroom', np.array([[0.0, 7.0], [1.0, 0.0]])) == {
      'goal found': [0.5, 0.5]}
  assert evaluate.milestone_rates('bandit', np.array([[30.0]])) == {}


def test_the_goal_is_the_last_milestone():
  returns = np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])
  np.testing.assert_array_equal(evaluate.goal_reached('key_to_door', returns),
                                [[False, False, True], [True, False, False]])
  np.testing.assert_array_equal(evaluate.goal_reached('darkroom', np.array([[0.0, 1.0, 7.0]])),
                                [[False, True, True]])
  with pytest.raises(ValueError, match='bandit has no milestones'):
    evaluate.goal_reached('bandit', np.array([[30.0]]))


def test_goal_follow_through_by_hand():
  goal = np.array([[False, True, True, False],
                   [False, False, False, False],
                   [True, False, True, True]])
  figures = evaluate.goal_follow_through(goal)
  assert figures['goal_rate_per_kept_episode'] == [0.333, 0.333, 0.667, 0.333]
  # After a goal: T->T, T->F (first history), T->F, T->T (third): 2 of 4.
  assert (figures['again'], figures['again_pairs']) == (0.5, 4)
  # After each history's first goal: episode 3 of the first (T), episode 2 of the third (F).
  assert (figures['after_first'], figures['after_first_pairs']) == (0.5, 2)
  # A goal, then one miss: episodes 0-1-2 of the third history (T, F -> T): 1 of 1; the first
  # history's T at episode 2, F at 3 has no episode after it.
  assert (figures['after_1_miss'], figures['after_1_miss_pairs']) == (1.0, 1)
  assert (figures['after_2_misses'], figures['after_2_misses_pairs']) == (None, 0)
  assert figures['never'] == 0.333
  two_misses = evaluate.goal_follow_through(np.array([[True, False, False, False, True],
                                                      [True, False, False, True, True]]))
  # T, F, F -> F in the first row (episodes 0-3), T, F, F -> T in the second; and in the first
  # row, episodes 1-4 hold no goal before the misses.
  assert (two_misses['after_2_misses'], two_misses['after_2_misses_pairs']) == (0.5, 2)
  # T, F -> F (first row), T, F -> F (second row).
  assert (two_misses['after_1_miss'], two_misses['after_1_miss_pairs']) == (0.0, 2)
  assert evaluate.goal_follow_through(np.zeros((2, 3), bool))['again'] is None
  # Two episodes hold no goal-miss-miss-outcome run at all (it once failed to broadcast).
  short = evaluate.goal_follow_through(np.array([[True, False], [True, True]]))
  assert (short['again'], short['after_1_miss'], short['after_2_misses']) == (0.5, None, None)


def run(binary, root, *bindings):
  result = tiny_runs.run_binary(binary, root, *bindings, gin_file=PAPER_GIN)
  assert result.returncode == 0, result.stderr[-3000:]
  return result


def test_a_tiny_model_evaluates_and_exports_under_the_paper_config(tiny_export_root, tmp_path):
  root = tiny_runs.experiment_root(tiny_export_root, tmp_path / 'other_config')
  os.symlink(os.path.join(tiny_export_root, experiment.TRAIN_DIR),
             os.path.join(root, experiment.TRAIN_DIR))
  run('evaluate', root, *QUICK)
  with open(experiment.results_path(root)) as f:
    results = json.load(f)
  ad = results['splits']['test']['methods']['AD']
  assert ad['context_length'] == 40 and len(ad['mean']) == 3  # The record's, not darkroom.gin's 80.
  run('export', root)
  signature = tf.saved_model.load(os.path.join(experiment.export_dir(root), '20')).signatures[
      'action']
  assert signature.structured_input_signature[1]['state_observation'].shape.as_list() == [
      None, 40, 2]


def test_evaluation_reruns_when_its_own_settings_change(tiny_export_root, tmp_path):
  root = tiny_runs.experiment_root(tiny_export_root, tmp_path / 'settings')
  os.symlink(os.path.join(tiny_export_root, experiment.TRAIN_DIR),
             os.path.join(root, experiment.TRAIN_DIR))
  run('evaluate', root, *QUICK)
  kept = run('evaluate', root, *QUICK)
  assert 'Evaluation is up to date' in kept.stderr
  changed = run('evaluate', root, *QUICK, 'evaluate.num_episodes=2')
  assert 'Evaluation is up to date' not in changed.stderr
  with open(experiment.results_path(root)) as f:
    assert len(json.load(f)['splits']['test']['methods']['AD']['mean']) == 2
