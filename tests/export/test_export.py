"""The exported SavedModel: TF Serving layout, signatures, and the same rollouts as in process."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import ad_tf.envs
import ad_tf.configurables  # pylint: disable=unused-import
from ad_tf.methods import in_context
from ad_tf.model import loading
from tests import tiny_runs

REPO, TINY = tiny_runs.REPO, tiny_runs.TINY_GIN


@pytest.fixture
def exported(tiny_export_root):
  """The session's tiny model: trained 20 steps, exported by `ad_tf.bin.export` (export/20)."""
  return tiny_export_root


def client_style_rollout(policy, tasks, env_seeds, policy_seeds, episodes):
  """All rows batched through the loaded signatures, each row driving its own PyEnvironment."""
  envs = [ad_tf.envs.load('darkroom', t, seed=int(s)) for t, s in zip(tasks, env_seeds)]
  state = policy.signatures['get_initial_state'](batch_size=tf.constant(len(envs)))
  state['state_seed'] = tf.constant(policy_seeds, tf.int64)
  steps = [env.reset() for env in envs]
  prev_action = np.zeros(len(envs), np.int32)
  prev_reward = np.zeros(len(envs), np.float32)
  returns = np.zeros((len(envs), episodes))
  for episode in range(episodes):
    for _ in range(20):
      out = policy.signatures['action'](
          observation=tf.constant(np.stack([s.observation for s in steps])),
          prev_action=tf.constant(prev_action), prev_reward=tf.constant(prev_reward), **state)
      state = {k: v for k, v in out.items() if k.startswith('state_')}
      prev_action = out['action'].numpy()
      steps = [env.step(np.int32(a)) for env, a in zip(envs, prev_action)]
      prev_reward = np.array([s.reward for s in steps], np.float32)
      returns[:, episode] += prev_reward
    steps = [env.reset() for env in envs]
  return returns


def test_layout_and_signatures(exported):
  export_dir = os.path.join(exported, 'export', 'ad')
  versions = os.listdir(export_dir)
  assert versions == ['20']  # The training step of the exported checkpoint.
  shown = subprocess.run(['saved_model_cli', 'show', '--all', '--dir',
                          os.path.join(export_dir, '20')], capture_output=True, text=True,
                         cwd=REPO, env={**os.environ, 'PATH': os.path.dirname(sys.executable)
                                        + os.pathsep + os.environ['PATH']})
  assert shown.returncode == 0, shown.stderr
  for signature in ("signature_def['action']", "signature_def['get_initial_state']",
                    "signature_def['serving_default']", 'state_position', 'state_seed'):
    assert signature in shown.stdout
  again = tiny_runs.run_binary('export', exported)  # Re-exporting the same checkpoint: a no-op.
  assert again.returncode == 0, again.stderr[-3000:]
  assert os.listdir(export_dir) == ['20']


def test_loaded_saved_model_reproduces_in_process_evaluation(exported):
  model, record, _ = loading.restore(exported, 'darkroom')  # No gin binding in scope.
  assert record.context_length == 40
  tasks = ad_tf.envs.get_family('darkroom').split_tasks('test')[:6]
  env_seeds, policy_seeds = np.arange(6) + 100, np.arange(6) + 7
  expected = in_context.episode_returns(in_context.rollout(
      model, ad_tf.envs.load_batched('darkroom'), ad_tf.envs.stack_tasks('darkroom', tasks),
      env_seeds, 3, 40, policy_seeds=policy_seeds), 20)  # 60 steps: the context slides.
  policy = tf.saved_model.load(os.path.join(exported, 'export', 'ad', '20'))
  np.testing.assert_array_equal(client_style_rollout(policy, tasks, env_seeds, policy_seeds, 3),
                                expected)


def test_initial_rows_ignore_previous_action_and_rows_are_independent(exported):
  action = tf.saved_model.load(os.path.join(exported, 'export', 'ad', '20')).signatures['action']
  state = tf.saved_model.load(os.path.join(exported, 'export', 'ad', '20')).signatures[
      'get_initial_state'](batch_size=tf.constant(2))
  observation = tf.constant([[4, 4], [4, 4]], tf.int32)
  a = action(observation=observation, prev_action=tf.constant([0, 0]),
             prev_reward=tf.constant([0.0, 0.0]), **state)
  b = action(observation=observation, prev_action=tf.constant([3, 1]),
             prev_reward=tf.constant([1.0, 1.0]), **state)
  np.testing.assert_array_equal(a['logits'], b['logits'])
  single = {k: v[1:] for k, v in state.items()}
  c = action(observation=observation[1:], prev_action=tf.constant([2]),
             prev_reward=tf.constant([0.0]), **single)
  np.testing.assert_allclose(c['logits'][0], a['logits'][1], atol=1e-5)
  assert int(c['action'][0]) == int(a['action'][1])


def test_rows_at_different_positions_one_sliding_batch_like_each_alone(exported):
  """The state carries each row's key/value caches; a full row slides (and re-encodes its kept
  tokens) in the same call as rows that only decode one token."""
  policy = tf.saved_model.load(os.path.join(exported, 'export', 'ad', '20'))
  action, initial = policy.signatures['action'], policy.signatures['get_initial_state']
  rng = np.random.default_rng(0)

  def advance(state, steps):
    for _ in range(steps):
      out = action(observation=tf.constant(rng.integers(0, 9, [1, 2]), tf.int32),
                   prev_action=tf.constant(rng.integers(0, 5, [1]), tf.int32),
                   prev_reward=tf.constant(rng.integers(0, 2, [1]), tf.float32), **state)
      state = {k: v for k, v in out.items() if k.startswith('state_')}
    return state

  full_row = advance(initial(batch_size=tf.constant(1)), 40)  # Context 40: full, slides next.
  mid_row = advance(initial(batch_size=tf.constant(1)), 13)
  assert full_row['state_keys'].shape[3] == 40  # [B, layers, heads, context, head_dim]
  both = {k: tf.concat([full_row[k], mid_row[k]], axis=0) for k in full_row}
  inputs = dict(observation=tf.constant([[1, 2], [3, 4]], tf.int32),
                prev_action=tf.constant([2, 0]), prev_reward=tf.constant([1.0, 0.0]))
  batched = action(**inputs, **both)
  for row, state in enumerate((full_row, mid_row)):
    alone = action(**{k: v[row:row + 1] for k, v in inputs.items()}, **state)
    np.testing.assert_allclose(batched['logits'][row], alone['logits'][0], atol=1e-5)
    np.testing.assert_allclose(batched['state_keys'][row], alone['state_keys'][0], atol=1e-5)
    assert int(batched['action'][row]) == int(alone['action'][0])
  assert batched['state_position'].numpy().tolist() == [21, 14]  # 40 - 20 kept, + 1; 13 + 1.
