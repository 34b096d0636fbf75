"""RL² training: it learns, it resumes exactly, its saved policy is the policy it trained, and bad
settings fail before anything runs."""

import json
import os
import subprocess
import sys

import gin
import numpy as np
import pytest
import tensorflow as tf

import ad_tf.envs
from ad_tf import experiment
from ad_tf.evaluation import evaluate
from ad_tf.methods import rl2_policy
from ad_tf.rl2 import agent as agent_lib
from ad_tf.rl2 import training
from ad_tf.rl2 import trials
from tests.tiny_runs import REPO

TINY = ['rl2_agent.lstm_size = (16,)', 'rl2_agent.input_fc_layer_params = (16,)',
        'train_rl2.episodes_per_trial = 2', 'train_rl2.trials_per_iteration = 16',
        'train_rl2.eval_runs = 8', 'train_rl2.eval_every = 2', 'train_rl2.checkpoint_every = 2']


def train(root_dir, *bindings):
  gin.clear_config()
  gin.parse_config_files_and_bindings([], TINY + list(bindings))
  tf.config.experimental.enable_op_determinism()
  return training.train_rl2(str(root_dir))


def metrics(root_dir):
  with open(os.path.join(experiment.rl2_dir(str(root_dir)), experiment.METRICS_FILE)) as f:
    return [json.loads(line) for line in f]


def test_raises_its_return_on_one_task(tmp_path):
  # One Dark Room goal, trials of 2 episodes: plain RL on one task, which PPO learns quickly.
  train(tmp_path, 'train_rl2.num_train_tasks = 1', 'train_rl2.num_iterations = 60',
        'train_rl2.eval_every = 60', 'rl2_agent.learning_rate = 3e-3')
  lines = metrics(tmp_path)
  first = np.mean([line['train_episode_returns'] for line in lines[:3]])
  last = np.mean([line['train_episode_returns'] for line in lines[-3:]])
  assert last > first + 3.0, (first, last)  # A random walk earns ~0.3 of up to ~17.
  record = experiment.read_rl2_record(str(tmp_path))
  assert record.env_steps == 60 * 16 * 2 * 20 and record.num_train_tasks == 1
  assert lines[-1]['env_steps'] == record.env_steps and 'eval_normalised_mean' in lines[-1]
  assert len(lines[-1]['train_normalised_mean']) == 2  # Return / oracle per episode of a trial.
  curve = os.path.join(experiment.rl2_dir(str(tmp_path)), training.TRAINING_CURVE_FILE)
  assert os.path.getsize(curve) > 10_000


def test_saved_policy_reproduces_the_trained_policy(tmp_path):
  train(tmp_path, 'train_rl2.num_iterations = 2')
  # The in-process policy: the same networks restored from the last checkpoint.
  gin.clear_config()
  gin.parse_config_files_and_bindings([], TINY)
  agent = agent_lib.build('darkroom', agent_lib.hyperparameters(), seed=1)
  checkpoint = tf.train.Checkpoint(agent=agent)
  checkpoint.restore(tf.train.latest_checkpoint(
      experiment.rl2_checkpoint_dir(str(tmp_path)))).expect_partial()
  runs = evaluate.evaluation_runs('darkroom', 'test', num_episodes=3, seeds_per_task=1,
                                  min_runs=12, seed=0)
  env = ad_tf.envs.load_batched('darkroom')
  tasks = {k: tf.constant(v) for k, v in runs.stacked_tasks().items()}
  in_process = trials.play(env, env.initial_state(tasks, tf.constant(runs.env_seeds)),
                           trials.policy_logits(agent.collect_policy),
                           agent.collect_policy.get_initial_state(runs.num_runs),
                           tf.constant(runs.policy_seeds), runs.num_episodes)
  saved = tf.saved_model.load(experiment.rl2_policy_dir(str(tmp_path)))
  from_saved = trials.play(env, env.initial_state(tasks, tf.constant(runs.env_seeds)),
                           trials.policy_logits(saved), saved.get_initial_state(runs.num_runs),
                           tf.constant(runs.policy_seeds), runs.num_episodes)
  np.testing.assert_array_equal(from_saved['actions'].numpy(), in_process['actions'].numpy())
  np.testing.assert_allclose(from_saved['logits'].numpy(), in_process['logits'].numpy(),
                             rtol=1e-5, atol=1e-6)
  # The evaluation's RL² method plays the saved policy: the same rewards.
  result = rl2_policy.SavedRl2Policy(str(tmp_path)).run(runs)
  np.testing.assert_array_equal(result.step_rewards, in_process['rewards'].numpy().T)
  assert result.info['episodes_per_trial'] == 2 and result.on_evaluation_runs


def test_evaluation_adds_rl2_once_it_is_trained(tmp_path):
  gin.clear_config()
  settings = dict(env_name='darkroom', methods=['RL2', 'random'], num_episodes=2,
                  seeds_per_task=1, min_runs=4, max_test_tasks=4)
  before = evaluate.evaluate(str(tmp_path), **settings)
  assert list(before['splits']['test']['methods']) == ['random']  # Not trained: left out.
  train(tmp_path, 'train_rl2.num_iterations = 2')
  gin.clear_config()
  after = evaluate.evaluate(str(tmp_path), **settings)
  assert list(after['splits']['test']['methods']) == ['RL2', 'random']
  assert evaluate.evaluate(str(tmp_path), **settings) == after  # Up to date: kept.
  train(tmp_path, 'train_rl2.num_iterations = 4')  # A new policy: evaluated again.
  gin.clear_config()
  again = evaluate.evaluate(str(tmp_path), **settings)
  assert (again['splits']['test']['methods']['RL2']['policy_fingerprint']
          != after['splits']['test']['methods']['RL2']['policy_fingerprint'])


@pytest.mark.parametrize('binding, message', [
    ('train_rl2.episodes_per_trial = 0', 'episodes_per_trial=0 must be >= 1'),
    ('train_rl2.num_train_tasks = 0', 'num_train_tasks=0 must be >= 1'),
    ("train_rl2.env_name = 'nowhere'", 'Unknown environment'),
])
def test_bad_settings_fail_before_training(tmp_path, binding, message):
  with pytest.raises(ValueError, match=message):
    train(tmp_path, binding)
  assert not os.path.exists(experiment.rl2_dir(str(tmp_path)))


def test_binary_reports_bad_settings_in_one_line(tmp_path):
  result = subprocess.run(
      [sys.executable, '-m', 'ad_tf.bin.train_rl2', f'--root_dir={tmp_path}',
       '--gin_file=gin/darkroom_tiny.gin', '--gin_bindings=train_rl2.minibatches=3'],
      cwd=REPO, capture_output=True, text=True, timeout=300)
  assert result.returncode != 0 and 'Traceback' not in result.stderr
  assert result.stderr.strip().splitlines()[-1] == (
      'error: train_rl2.minibatches=3 must be >= 1 and divide trials_per_iteration=8.')
