"""PPO really learns: its histories go from random to near-oracle, reproducibly, and learners
that share a call stay independent."""

import logging

import numpy as np
import pytest

import ad_tf.envs
from ad_tf.sources import ppo

GOAL = {'goal': np.array([1, 7], np.int32)}  # Six steps from the centre: oracle 15.
OTHER = {'goal': np.array([6, 2], np.int32)}


def check_histories_follow_the_rules(histories, goal):
  """Every episode starts at the centre, moves by the grid rules and earns the env's reward."""
  np.testing.assert_array_equal(histories.observations[:, :, 0], 4)
  moves = np.abs(np.diff(histories.observations, axis=2)).sum(-1)
  assert moves.max() <= 1
  on_goal = np.all(histories.observations[:, :, 1:] == goal['goal'], axis=-1)
  np.testing.assert_array_equal(histories.rewards, on_goal.astype(np.float32))
  # The recorded distributions are distributions, and the taken action had probability > 0.
  np.testing.assert_allclose(histories.action_probs.sum(-1), 1.0, rtol=1e-5)
  taken = np.take_along_axis(histories.action_probs, histories.actions[..., None], -1)
  assert (taken > 0).all()


def test_history_goes_from_random_to_near_oracle_and_repeats_for_a_seed():
  source = ppo.PpoSource('darkroom', num_actors=20, num_iterations=100, learning_rate=1e-3)
  histories = source.learn(GOAL, seed=3)
  assert histories.actions.shape == (20, 100, 20)
  assert histories.observations.shape == (20, 100, 21, 2)
  assert histories.action_probs.shape == (20, 100, 20, 5)
  returns = histories.returns().mean(axis=0)  # Mean over actors, per episode.
  oracle = ad_tf.envs.oracle_return('darkroom', GOAL)
  assert returns[:10].mean() <= 0.3 * oracle
  assert returns[-10:].mean() >= 0.8 * oracle
  check_histories_follow_the_rules(histories, GOAL)
  # Early on the policy is near uniform; at the end it is sharp.
  assert histories.action_probs[:, 0].max() < 0.5
  assert np.median(histories.action_probs[:, -1].max(-1)) > 0.9
  # Same seed, same histories, even after another task ran in between (fresh weights per task).
  source.learn(OTHER, seed=4)
  again = source.learn(GOAL, seed=3)
  np.testing.assert_array_equal(again.actions[:, :20], histories.actions[:, :20])


def test_learners_sharing_a_call_are_independent():
  """A task's histories are the same alone, or beside any other tasks in one call."""
  settings = dict(num_actors=3, num_iterations=25, fc_layer_params=(32, 32), learning_rate=3e-3)
  alone = ppo.PpoSource('darkroom', tasks_per_call=1, **settings).learn(GOAL, seed=3)
  batched = ppo.PpoSource('darkroom', tasks_per_call=3, **settings)
  first = batched.learn_many([GOAL, OTHER], [3, 4])  # A partial call: one padding learner.
  second = batched.learn_many([OTHER, {'goal': np.array([0, 8], np.int32)}, GOAL], [9, 5, 3])
  assert len(first) == 2 and len(second) == 3
  for histories in (first[0], second[2]):
    np.testing.assert_array_equal(histories.actions, alone.actions)
    np.testing.assert_array_equal(histories.observations, alone.observations)
    np.testing.assert_allclose(histories.action_probs, alone.action_probs, rtol=1e-5)
  assert alone.returns()[:, -5:].mean() > 0  # It really learned something in 25 iterations.
  check_histories_follow_the_rules(second[0], OTHER)
  with pytest.raises(ValueError, match='takes 1..3 tasks'):
    batched.learn_many([GOAL] * 4, [0, 1, 2, 3])


def test_count_bonus_explores_but_histories_keep_the_environment_reward():
  settings = dict(num_actors=3, num_iterations=25, fc_layer_params=(32, 32), learning_rate=3e-3)
  plain = ppo.PpoSource('darkroom', **settings).learn(GOAL, seed=3)
  bonus = ppo.PpoSource('darkroom', exploration_bonus=0.3, **settings).learn(GOAL, seed=3)
  check_histories_follow_the_rules(bonus, GOAL)
  # The first iteration is the same random policy; the bonus changes learning from then on.
  np.testing.assert_array_equal(bonus.actions[:, 0], plain.actions[:, 0])
  assert not np.array_equal(bonus.actions, plain.actions)
  with pytest.raises(ValueError, match='has no cells'):
    ppo.PpoSource('bandit', exploration_bonus=0.1)


def test_bonus_until_reward_stops_the_bonus_at_the_learners_first_reward():
  settings = dict(num_actors=3, num_iterations=25, fc_layer_params=(32, 32), learning_rate=3e-3,
                  exploration_bonus=0.3)
  always = ppo.PpoSource('darkroom', **settings).learn(GOAL, seed=3)
  source = ppo.PpoSource('darkroom', bonus_until_reward=True, tasks_per_call=2, **settings)
  until, other = source.learn_many([GOAL, OTHER], [3, 4])
  check_histories_follow_the_rules(until, GOAL)
  check_histories_follow_the_rules(other, OTHER)
  # Up to and including the first episode in which any actor is rewarded, both learners were
  # trained on the same bonus; that episode's update is the first without it.
  first = int(np.argmax(until.rewards.sum(axis=(0, 2)) > 0))
  assert 0 < first < 20
  np.testing.assert_array_equal(until.actions[:, :first + 1], always.actions[:, :first + 1])
  assert not np.array_equal(until.actions[:, first + 1:], always.actions[:, first + 1:])
  # The switch is per learner: OTHER's learner is the same as when it runs alone.
  alone = ppo.PpoSource('darkroom', bonus_until_reward=True, **settings).learn(OTHER, seed=4)
  np.testing.assert_array_equal(other.actions, alone.actions)
  with pytest.raises(ValueError, match='exploration_bonus is 0'):
    ppo.PpoSource('darkroom', bonus_until_reward=True)


def test_a_long_call_reports_progress_with_rate_and_eta(caplog, monkeypatch):
  """Within one learn_many call, each iteration can log its progress (every PROGRESS_EVERY_S)."""
  monkeypatch.setattr(ppo, 'PROGRESS_EVERY_S', 0.0)
  source = ppo.PpoSource('darkroom', num_actors=2, num_iterations=3, tasks_per_call=2)
  with caplog.at_level(logging.INFO, logger='absl'):
    source.learn_many([GOAL], [0])
  lines = [r.getMessage() for r in caplog.records if 'PPO, 1 task(s)' in r.getMessage()]
  assert [line.split(' | ')[0] for line in lines] == [
      f'PPO, 1 task(s): iteration {i}/3' for i in (1, 2, 3)]
  assert lines[-1].endswith('| ETA 0 s') and 'env steps/s' in lines[0]


def test_episode_reward_inputs_let_ppo_learn_key_then_door():
  """Key-to-Door with the rewards-so-far input: the learner opens the door far more often than
  one that reads its position alone, on the same tasks and seeds, and the histories still hold
  the environment's observations (x, y) only."""
  tasks = ad_tf.envs.sample_tasks('key_to_door', 'train', 8, seed=0)
  door_rates = {}
  for inputs in (0, 2):
    source = ppo.PpoSource('key_to_door', num_actors=4, num_iterations=60,
                           fc_layer_params=(64, 64), learning_rate=2e-3, exploration_bonus=0.1,
                           episode_reward_inputs=inputs, tasks_per_call=8)
    learned = source.learn_many(tasks, seeds=list(range(8)))
    assert learned[0].observations.shape[-1] == 2
    door_rates[inputs] = np.mean([(h.returns()[:, -10:] >= 2).mean() for h in learned])
    assert ('episode_reward_inputs' in source.hyperparameters) == bool(inputs)
  assert door_rates[2] >= 0.6 and door_rates[2] >= door_rates[0] + 0.2, door_rates


def test_negative_episode_reward_inputs_is_one_clear_error():
  with pytest.raises(ValueError, match='episode_reward_inputs=-1 must be >= 0'):
    ppo.PpoSource('key_to_door', episode_reward_inputs=-1)


def test_on_watermaze_ppo_reads_the_pose_records_it_and_learns_a_platform():
  """Watermaze declares a privileged agent state: PPO reads (and its histories record) the pose,
  never the frames, and finds the hidden platform from it."""
  task = {'platform': np.array([0.5, 0.2], np.float32)}
  source = ppo.PpoSource('watermaze', num_actors=4, num_iterations=80, fc_layer_params=(64, 64),
                         learning_rate=2e-3, exploration_bonus=0.1)
  histories = source.learn(task, seed=1)
  assert histories.observations.shape == (4, 80, 51, 3)  # (x, y, heading), float64.
  assert histories.observations.dtype == np.float64
  np.testing.assert_array_equal(histories.observations[:, :, 0], 0.0)  # Centre, facing east.
  on_platform = np.hypot(histories.observations[..., 1:, 0] - 0.5,
                         histories.observations[..., 1:, 1] - 0.2) <= 0.15
  np.testing.assert_array_equal(histories.rewards, on_platform.astype(np.float32))
  returns = histories.returns().mean(axis=0)
  oracle = ad_tf.envs.oracle_return('watermaze', task)
  assert returns[:10].mean() <= 0.2 * oracle
  assert returns[-10:].mean() >= 0.5 * oracle
