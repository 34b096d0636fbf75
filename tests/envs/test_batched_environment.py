"""The batched TF environments reproduce their PyEnvironments exactly, inside tf.function."""

import numpy as np
import pytest
import tensorflow as tf

import ad_tf.envs

NUM_TASKS = 40
NUM_EPISODES = 3


def rollout_batched(name, tasks, seeds, actions):
  """Observations [E, L + 1, B, ...] and rewards [E, L, B] for actions [E, L, B], compiled."""
  env = ad_tf.envs.load_batched(name)
  stacked = ad_tf.envs.stack_tasks(name, tasks)

  @tf.function
  def run(actions):
    state = env.initial_state(stacked, seeds)
    observations, rewards = [], []
    for episode in range(actions.shape[0]):
      state, observation = env.reset(state)
      episode_obs, episode_rewards = [observation], []
      for t in range(actions.shape[1]):
        state, observation, reward = env.step(state, actions[episode, t])
        episode_obs.append(observation)
        episode_rewards.append(reward)
      observations.append(tf.stack(episode_obs))
      rewards.append(tf.stack(episode_rewards))
    return tf.stack(observations), tf.stack(rewards)

  observations, rewards = run(tf.constant(actions))
  return observations.numpy(), rewards.numpy()


def rollout_python(name, task, seed, actions):
  env = ad_tf.envs.load(name, task, seed=seed)
  observations, rewards = [], []
  for episode_actions in actions:
    first = env.reset()
    episode_obs, episode_rewards = [first.observation], []
    for action in episode_actions:
      step = env.step(np.int32(action))
      episode_obs.append(step.observation)
      episode_rewards.append(float(step.reward))
    assert step.is_last()
    observations.append(episode_obs)
    rewards.append(episode_rewards)
  return np.array(observations), np.array(rewards)


@pytest.mark.parametrize('name', ['darkroom', 'darkroom_hard', 'key_to_door', 'bandit'])
def test_batched_equals_python_on_random_actions(name):
  rng = np.random.default_rng(0)
  family = ad_tf.envs.get_family(name)
  tasks = ad_tf.envs.sample_tasks(name, 'train', NUM_TASKS, seed=1)
  seeds = rng.integers(0, 2**31, NUM_TASKS)
  actions = rng.choice(family.num_actions, size=(NUM_EPISODES, family.episode_length, NUM_TASKS))
  observations, rewards = rollout_batched(name, tasks, seeds, actions)
  assert rewards.sum() > 0
  for b in range(NUM_TASKS):
    expected_obs, expected_rewards = rollout_python(name, tasks[b], seeds[b], actions[:, :, b])
    np.testing.assert_array_equal(observations[:, :, b], expected_obs)
    np.testing.assert_array_equal(rewards[:, :, b], expected_rewards)


def test_batched_returns_reach_the_oracle_on_the_optimal_path():
  # Dark Room: walk x then y to the goal and stay; each row's return equals its oracle.
  tasks = ad_tf.envs.get_family('darkroom').all_tasks()
  env = ad_tf.envs.load_batched('darkroom')
  state = env.initial_state(ad_tf.envs.stack_tasks('darkroom', tasks), tf.zeros([81]))
  state, observation = env.reset(state)
  total = tf.zeros([81])
  for _ in range(env.episode_length):
    delta = state['goal'] - observation
    action = tf.where(delta[:, 0] > 0, 3, tf.where(delta[:, 0] < 0, 2, tf.where(
        delta[:, 1] > 0, 0, tf.where(delta[:, 1] < 0, 1, 4))))
    state, observation, reward = env.step(state, action)
    total += reward
  oracles = [ad_tf.envs.oracle_return('darkroom', t) for t in tasks]
  np.testing.assert_array_equal(total.numpy(), oracles)


def test_batched_action_out_of_range_is_an_error():
  env = ad_tf.envs.load_batched('darkroom')
  state = env.initial_state(ad_tf.envs.stack_tasks('darkroom', [{'goal': [0, 0]}]), [0])
  state, _ = env.reset(state)
  with pytest.raises(tf.errors.InvalidArgumentError, match=r'allowed actions are 0\.\.4'):
    env.step(state, tf.constant([5]))
