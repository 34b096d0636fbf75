"""UCB1 on the bandit: its regret falls along the history, and it follows the UCB1 rule."""

import numpy as np
import pytest

import ad_tf.envs
from ad_tf.sources import ucb


def test_regret_falls_along_the_history():
  source = ucb.UcbSource(num_actors=8, num_episodes=20)
  tasks = ad_tf.envs.sample_tasks('bandit', 'train', 5, seed=0)
  first, last = [], []
  for i, task in enumerate(tasks):
    regret = ad_tf.envs.oracle_return('bandit', task) - source.learn(task, seed=i).returns()
    first.append(regret[:, :2].mean())
    last.append(regret[:, -2:].mean())
  assert np.mean(last) <= 0.3 * np.mean(first)


def test_pulls_every_arm_once_first_then_follows_the_bound():
  probs = np.array([0.1, 0.9, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.05], np.float32)
  histories = ucb.UcbSource(num_actors=1, num_episodes=2).learn({'probs': probs}, seed=0)
  actions, rewards = histories.actions[0].ravel(), histories.rewards[0].ravel()
  assert actions[:10].tolist() == list(range(10))
  counts, sums = np.zeros(10), np.zeros(10)
  for n, (action, reward) in enumerate(zip(actions, rewards)):
    if n >= 10:  # Recompute the UCB1 choice by hand from the history so far.
      score = sums / counts + np.sqrt(2 * np.log(n) / counts)
      assert action == np.argmax(score)
    counts[action] += 1
    sums[action] += reward
  assert np.bincount(actions[100:], minlength=10).argmax() == 1  # Mostly the best arm by then.


def test_rejects_grid_environments():
  with pytest.raises(ValueError, match='not a bandit'):
    ucb.UcbSource(env_name='darkroom')


def test_many_tasks_in_one_call_equal_one_task_at_a_time():
  tasks = ad_tf.envs.sample_tasks('bandit', 'train', 3, seed=1)
  together = ucb.UcbSource(num_actors=2, num_episodes=2, tasks_per_call=3).learn_many(
      tasks, [5, 6, 7])
  for task, seed, histories in zip(tasks, [5, 6, 7], together):
    alone = ucb.UcbSource(num_actors=2, num_episodes=2).learn(task, seed)
    np.testing.assert_array_equal(histories.actions, alone.actions)
    np.testing.assert_array_equal(histories.rewards, alone.rewards)
    np.testing.assert_array_equal(histories.action_probs, alone.action_probs)
    assert histories.observations.shape == (2, 2, 101)


def test_greedy_episodes_play_the_best_mean_without_a_bonus():
  probs = np.array([0.1, 0.9, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.05], np.float32)
  histories = ucb.UcbSource(num_actors=1, num_episodes=3, greedy_episodes=1).learn(
      {'probs': probs}, seed=0)
  actions, rewards = histories.actions[0].ravel(), histories.rewards[0].ravel()
  counts, sums = np.zeros(10), np.zeros(10)
  for n, (action, reward) in enumerate(zip(actions, rewards)):
    if n >= 200:  # The third episode: argmax of the means so far, by hand.
      assert action == np.argmax(sums / counts)
    counts[action] += 1
    sums[action] += reward
  assert len(set(actions[200:].tolist())) <= 2  # The converged policy hardly switches.
  with pytest.raises(ValueError, match='greedy_episodes=4'):
    ucb.UcbSource(num_episodes=3, greedy_episodes=4)
