"""Random and Thompson-sampling reference policies on the bandit, and the paper's normalisation."""

import numpy as np
import pytest

from ad_tf.evaluation import evaluate
from ad_tf.methods import method
from ad_tf.methods import reference_policies


def bandit_runs(num_runs=200, split='test'):
  return evaluate.evaluation_runs('bandit', split, num_episodes=1, seeds_per_task=1,
                                  min_runs=num_runs, seed=0)


def test_random_policy_earns_the_mean_payout():
  runs = bandit_runs()
  result = reference_policies.RandomPolicy().run(runs)
  assert result.step_rewards.shape == (200, 100) and result.on_evaluation_runs
  expected = np.mean([task['probs'].mean() for task in runs.tasks])  # Per pull, in expectation.
  assert abs(result.step_rewards.mean() - expected) < 0.01  # 20,000 pulls: std ~0.0035.
  again = reference_policies.RandomPolicy().run(runs)
  np.testing.assert_array_equal(result.step_rewards, again.step_rewards)


def test_thompson_sampling_learns_the_best_arm():
  runs = bandit_runs()
  result = reference_policies.ThompsonSampling().run(runs)
  best = np.mean([task['probs'].max() for task in runs.tasks])
  assert result.step_rewards[:, -20:].mean() > best - 0.1  # Near the best arm by pull 80.
  assert result.step_rewards[:, :10].mean() < result.step_rewards[:, -20:].mean()


def test_thompson_sampling_refuses_environments_with_observations():
  runs = evaluate.evaluation_runs('darkroom', 'test', 1, 1, 1, 0)
  with pytest.raises(ValueError, match='bandit baseline'):
    reference_policies.ThompsonSampling().run(runs)


def test_normalised_score_by_hand():
  # Random earns 50, the source 80: a method at 65 is halfway (0.5), at 50 zero, at 86 1.2.
  assert evaluate.normalised_score(65.0, 50.0, 80.0) == pytest.approx(0.5)
  assert evaluate.normalised_score(50.0, 50.0, 80.0) == 0.0
  assert evaluate.normalised_score(86.0, 50.0, 80.0) == pytest.approx(1.2)
  result = lambda totals, on_runs=True: method.MethodResult(
      episode_returns=np.array(totals, float)[:, None], oracles=np.ones(len(totals)),
      on_evaluation_runs=on_runs)
  outcomes = {'random': result([40, 60]), 'source': result([70, 90]), 'AD': result([60, 70]),
              'other': result([1, 2], on_runs=False)}
  # Means: random 50, source 80, AD 65; 'other' played other runs and gets no score.
  assert evaluate.normalised_scores(outcomes, num_episodes=1) == pytest.approx(
      {'random': 0.0, 'source': 1.0, 'AD': 0.5})
  assert evaluate.normalised_scores({'AD': outcomes['AD'], 'source': outcomes['source']}, 1) is None
