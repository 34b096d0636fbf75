"""RL² trials: the LSTM state carries across the episodes of a trial and resets between trials;
the inputs say what the agent saw before."""

import numpy as np
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

import ad_tf.envs
from ad_tf.rl2 import agent as agent_lib
from ad_tf.rl2 import trial_inputs
from ad_tf.rl2 import trials

ENV = 'darkroom'
EPISODES = 3


def tiny_agent(seed=0):
  return agent_lib.build(ENV, agent_lib.hyperparameters(lstm_size=(16,),
                                                        input_fc_layer_params=(16,)), seed)


def play_trial(agent, policy_state=None, rows=4):
  env = ad_tf.envs.load_batched(ENV)
  tasks = ad_tf.envs.sample_tasks(ENV, 'train', rows, 0)
  stacked = {k: tf.constant(v) for k, v in ad_tf.envs.stack_tasks(ENV, tasks).items()}
  policy = agent.collect_policy
  if policy_state is None:
    policy_state = policy.get_initial_state(rows)
  seeds = tf.range(rows, dtype=tf.int64) + 5
  return trials.play(env, env.initial_state(stacked, seeds), trials.policy_logits(policy),
                     policy_state, seeds, EPISODES)


def unroll(agent, inputs, reset_at=()):
  """The actor's logits step by step over recorded inputs [T + 1, B], FIRST at step 0 and at
  every step in `reset_at`, MID elsewhere."""
  policy = agent.collect_policy
  rows = inputs[trial_inputs.OBSERVATION].shape[1]
  state = policy.get_initial_state(rows)
  logits = []
  for t in range(inputs[trial_inputs.OBSERVATION].shape[0] - 1):
    step_type = ts.StepType.FIRST if t == 0 or t in reset_at else ts.StepType.MID
    time_step = ts.TimeStep(tf.fill([rows], step_type), tf.zeros([rows]), tf.ones([rows]),
                            {k: v[t] for k, v in inputs.items()})
    step = policy.distribution(time_step, state)
    logits.append(step.action.logits)
    state = step.state
  return np.stack(logits)


def test_inputs_hold_the_previous_step_across_episode_boundaries():
  trial = play_trial(tiny_agent())
  length = ad_tf.envs.get_spec(ENV).episode_length
  inputs = {k: v.numpy() for k, v in trial['inputs'].items()}
  actions, rewards = trial['actions'].numpy(), trial['rewards'].numpy()
  total = EPISODES * length
  assert actions.shape == (total, 4) and inputs['observation'].shape == (total + 1, 4, 2)
  starts = np.zeros(total + 1)
  starts[0:total:length] = 1
  np.testing.assert_array_equal(inputs['episode_start'], np.tile(starts[:, None], [1, 4]))
  np.testing.assert_array_equal(inputs['previous_action'][0], trial_inputs.NO_ACTION)
  np.testing.assert_array_equal(inputs['previous_reward'][0], 0.0)
  # From step 1 on (episode starts included) the inputs hold the step before.
  np.testing.assert_array_equal(inputs['previous_action'][1:], actions)
  np.testing.assert_array_equal(inputs['previous_reward'][1:], rewards)
  # Every episode starts at the room's start cell (the reset happened).
  for start in range(0, total, length):
    np.testing.assert_array_equal(inputs['observation'][start], inputs['observation'][0])


def test_state_carries_across_episodes_within_a_trial():
  agent = tiny_agent()
  trial = play_trial(agent)
  length = ad_tf.envs.get_spec(ENV).episode_length
  played = trial['logits'].numpy()
  carried = unroll(agent, trial['inputs'])
  np.testing.assert_allclose(carried, played, rtol=1e-5, atol=1e-6)
  # Had the state been reset at the second episode's start, its logits would differ.
  reset = unroll(agent, trial['inputs'], reset_at=(length,))
  np.testing.assert_allclose(reset[:length], played[:length], rtol=1e-5, atol=1e-6)
  assert np.abs(reset[length:] - played[length:]).max() > 1e-3


def test_state_resets_between_trials():
  agent = tiny_agent()
  first = play_trial(agent)
  # A second trial handed the first one's final state starts with a FIRST step, which resets
  # it: the same draws give the same trial as from a fresh state.
  second = play_trial(agent, policy_state=first['policy_state'])
  assert any(np.abs(s.numpy()).max() > 0 for s in tf.nest.flatten(first['policy_state']))
  np.testing.assert_array_equal(second['actions'].numpy(), first['actions'].numpy())
  np.testing.assert_allclose(second['logits'].numpy(), first['logits'].numpy(), rtol=1e-6)


def test_experience_is_one_episode_per_trial():
  trial = play_trial(tiny_agent())
  experience = trials.experience(trial)
  total = EPISODES * ad_tf.envs.get_spec(ENV).episode_length
  step_types = experience.step_type.numpy()
  assert step_types.shape == (4, total + 1)
  np.testing.assert_array_equal(step_types[:, 0], ts.StepType.FIRST)
  np.testing.assert_array_equal(step_types[:, 1:total], ts.StepType.MID)
  np.testing.assert_array_equal(step_types[:, total], ts.StepType.LAST)
  np.testing.assert_array_equal(experience.reward.numpy()[:, :total],
                                trial['rewards'].numpy().T)
