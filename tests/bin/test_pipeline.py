"""`ad_tf.bin.pipeline` end to end on the tiny config: every stage, outputs, resumption."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import ad_tf.envs
from tests.tiny_runs import benchmark_figures

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_pipeline(root):
  return subprocess.run([sys.executable, '-m', 'ad_tf.bin.pipeline', f'--root_dir={root}',
                         '--gin_file=gin/darkroom_tiny.gin'], cwd=REPO, capture_output=True,
                        text=True, timeout=900)


def test_pipeline_runs_every_stage_and_resumes(tmp_path):
  root = str(tmp_path)
  first = run_pipeline(root)
  assert first.returncode == 0, first.stderr[-3000:]
  with open(os.path.join(root, 'eval', 'results.json')) as f:
    results = json.load(f)['splits']['test']
  assert set(results['methods']) == {'AD', 'ED', 'RL2', 'source'}
  assert results['num_runs'] >= 100 and results['num_test_tasks'] == 21
  for name, summary in results['methods'].items():
    assert summary['num_runs'] >= (21 if name == 'source' else 100)
    oracle_scaled = np.array(summary['normalised_mean'])
    assert ((0 <= oracle_scaled) & (oracle_scaled <= 1)).all()
  assert os.path.getsize(os.path.join(root, 'eval', 'returns.png')) > 10_000
  assert os.listdir(os.path.join(root, 'export', 'ad')) == ['6']
  assert os.listdir(os.path.join(root, 'export', 'ed')) == ['3']  # ED: its own served model.
  assert 'final / oracle' in first.stdout and 'returns.png' in first.stdout
  assert 'AD ' in first.stdout and 'ED ' in first.stdout and 'source ' in first.stdout
  # A second run finds every stage done: nothing is regenerated or retrained.
  second = run_pipeline(root)
  assert second.returncode == 0
  assert 'already complete' in second.stderr and 'already exported' in second.stderr
  assert 'Evaluation is up to date' in second.stderr
  assert 'Resumed from' in second.stderr and 'step 6/6' not in second.stderr
  assert 'RL² is trained (2 iterations)' in second.stderr


def test_pipeline_with_the_dqn_source_on_reverb(tmp_path):
  """gin/darkroom_dqn.gin's source (DQN on a real Reverb table) through every stage, tiny."""
  tiny = ['generate.num_tasks=2', 'DqnSource.num_episodes=12', 'DqnSource.batch_size=16',
          'DqnSource.train_steps_per_episode=2', 'DqnSource.fc_layer_params=(16,)',
          'DqnSource.epsilon_decay_episodes=6', 'evaluate.source_factory=None',
          'evaluate.num_episodes=2', 'evaluate.seeds_per_task=1', 'evaluate.min_runs=21',
          'train.context_length=40', 'AlgorithmDistillationTransformer.max_length=40',
          'AlgorithmDistillationTransformer.feedforward_dim=16', 'train.batch_size=4',
          'train.num_steps=3', 'train.warmup_steps=1', 'pipeline.expert_episodes=2',
          'pipeline.ed_num_steps=2']
  result = subprocess.run(
      [sys.executable, '-m', 'ad_tf.bin.pipeline', f'--root_dir={tmp_path}',
       '--gin_file=gin/darkroom_dqn.gin'] + [f'--gin_bindings={b}' for b in tiny],
      cwd=REPO, capture_output=True, text=True, timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  with open(os.path.join(tmp_path, 'tfds', 'ad_histories', 'darkroom', '1.0.0',
                         'generation.json')) as f:
    generation = json.load(f)
  assert generation['source'] == 'dqn' and generation['num_tasks'] == 2
  with open(os.path.join(tmp_path, 'eval', 'results.json')) as f:
    assert set(json.load(f)['splits']['test']['methods']) == {'AD', 'ED'}
  assert os.listdir(os.path.join(tmp_path, 'export', 'ad')) == ['3']


@pytest.mark.parametrize('env_name, milestones', [
    ('key_to_door', ['key found', 'door opened']), ('darkroom_hard', ['goal found'])])
def test_tiny_config_runs_every_stage_on_a_sample_of_held_out_tasks(tmp_path, env_name,
                                                                   milestones):
  """gin/<env>_tiny.gin (which includes <env>_small.gin) through every stage; every method,
  the source too, plays the same 6-task sample of the held-out split."""
  result = subprocess.run(
      [sys.executable, '-m', 'ad_tf.bin.pipeline', f'--root_dir={tmp_path}',
       f'--gin_file=gin/{env_name}_tiny.gin'], cwd=REPO, capture_output=True, text=True,
      timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  with open(os.path.join(tmp_path, 'eval', 'results.json')) as f:
    results = json.load(f)
  section = results['splits']['test']
  assert results['env'] == env_name and section['num_test_tasks'] == 6
  expected_tasks = [{k: v.tolist() for k, v in task.items()}
                    for task in ad_tf.envs.held_out_tasks(env_name, 1, 0, max_tasks=6)]
  assert section['tasks'] == expected_tasks
  assert set(section['methods']) == {'AD', 'ED', 'source'}
  for name, summary in section['methods'].items():
    assert list(summary['milestone_rates']) == milestones
    for rates in summary['milestone_rates'].values():
      assert len(rates) == len(summary['mean']) and all(0 <= r <= 1 for r in rates)
  # The source learned exactly the 6 sampled tasks, each with its 2 actors.
  assert section['methods']['source']['num_runs'] == 6
  assert os.path.getsize(os.path.join(tmp_path, 'eval', 'milestones.png')) > 10_000
  assert os.listdir(os.path.join(tmp_path, 'export', 'ad')) == ['6']
  assert milestones[-1] in result.stdout
  if env_name == 'key_to_door':
    # The in-context analysis reads the door as the goal, on evaluate's own sample of tasks.
    figures = benchmark_figures(
        'in_context_analysis', f'--root_dir={tmp_path}', '--dataset_config=key_to_door',
        '--max_tasks=3', '--test_seeds=1', '--train_seeds=1', '--num_episodes=3')
    assert figures['env'] == 'key_to_door'
    assert figures['test_runs'] == figures['train_runs'] == 3
    for split in ('test', 'train'):
      for name in ('never_rewarded', 'after_goal_again', 'lost_goal_reached'):
        value = figures[f'{split}_{name}']
        assert value is None or 0.0 <= value <= 1.0
