"""The adversarial bandit through every stage on gin/bandit_tiny.gin: UCB1 histories, AD and ED,
the evaluation in and out of distribution with the paper's normalisation, and the export played
over gRPC and REST exactly as in process."""

import json
import os
import subprocess
import sys

import numpy as np
import portpicker
import pytest
import tensorflow_datasets as tfds

import ad_tf.envs
from ad_tf import experiment
from ad_tf.methods import in_context
from ad_tf.model import loading
from serving import prediction_service
from serving import predictors
from tests.tiny_runs import REPO

TINY = os.path.join(REPO, 'gin', 'bandit_tiny.gin')
METHODS = {'AD', 'ED', 'RL2', 'source', 'thompson', 'random'}


def run_pipeline(root):
  return subprocess.run([sys.executable, '-m', 'ad_tf.bin.pipeline', f'--root_dir={root}',
                         f'--gin_file={TINY}'], cwd=REPO, capture_output=True, text=True,
                        timeout=900)


@pytest.fixture(scope='module')
def pipeline_run(tmp_path_factory):
  root = str(tmp_path_factory.mktemp('bandit'))
  result = run_pipeline(root)
  assert result.returncode == 0, result.stderr[-3000:]
  return root, result


def test_dataset_is_the_first_100_pulls_of_each_ucb_learner(pipeline_run):
  root, _ = pipeline_run
  histories = tfds.load('ad_histories/bandit', data_dir=experiment.tfds_dir(root), split='train')
  episodes = list(histories)
  assert len(episodes) == 8 * 2  # 8 tasks x 2 learners, one episode each.
  for episode in episodes:
    actions = [int(step['action']) for step in episode['steps']]
    assert len(actions) == 101 and int(episode['source_episode']) == 0
    assert actions[:10] == list(range(10))  # UCB1 tries every arm once, lowest index first.
  expert = tfds.load('ad_histories/bandit_expert', data_dir=experiment.tfds_dir(root),
                     split='train')
  assert {int(e['source_episode']) for e in expert} == {4}  # The last of 5.


def test_evaluation_in_and_out_of_distribution_normalised_by_ucb(pipeline_run):
  root, result = pipeline_run
  with open(experiment.results_path(root)) as f:
    results = json.load(f)
  assert set(results['splits']) == {'train', 'test'}
  for split, favoured in (('train', 1), ('test', 0)):
    section = results['splits'][split]
    assert section['num_runs'] >= 24 and set(section['methods']) == METHODS
    best = [int(np.argmax(task['probs'])) for task in section['tasks']]
    assert np.mean(np.array(best) % 2 == favoured) > 0.8
    scores = section['normalised_scores']
    assert scores['random'] == 0.0 and scores['source'] == 1.0 and set(scores) == METHODS
    for summary in section['methods'].values():
      assert summary['on_evaluation_runs'] and len(summary['cumulative_regret']) == 100
  assert os.path.getsize(os.path.join(root, 'eval', 'regret.png')) > 10_000
  assert 'score' in result.stdout and 'in distribution: fresh tasks' in result.stdout
  again = run_pipeline(root)
  assert again.returncode == 0 and 'Evaluation is up to date' in again.stderr


@pytest.fixture(scope='module')
def served(pipeline_run):
  root, _ = pipeline_run
  grpc_port, rest_port = portpicker.pick_unused_port(), portpicker.pick_unused_port()
  server = prediction_service.serve_base_path(experiment.export_dir(root), 'ad', grpc_port,
                                             rest_port)
  yield f'localhost:{grpc_port}', f'localhost:{rest_port}', root
  server.stop()


def test_served_bandit_rollouts_equal_the_in_process_evaluation(served):
  grpc_target, rest_target, root = served
  task = ad_tf.envs.held_out_tasks('bandit', 1, seed=0)[0]
  model, record, _ = loading.restore(root, 'bandit')
  seed, episodes = 11, 2
  in_process = in_context.episode_returns(in_context.rollout(
      model, ad_tf.envs.load_batched('bandit'), ad_tf.envs.stack_tasks('bandit', [task]),
      np.array([seed]), episodes, record.context_length, policy_seeds=np.array([seed])), 100)
  for predictor in (predictors.GrpcPredictor(grpc_target, 'ad'),
                    predictors.RestPredictor(rest_target, 'ad')):
    returns = predictors.in_context_rollout(predictor, 'bandit', task, episodes, seed, seed)
    np.testing.assert_array_equal(returns, in_process[0])


def test_rollout_client_plays_the_bandit(served):
  grpc_target, _, _ = served
  shown = subprocess.run([sys.executable, '-m', 'serving.rollout_client', f'--target={grpc_target}',
                          '--env=bandit', '--episodes=1'], cwd=REPO, capture_output=True,
                         text=True, timeout=300)
  assert shown.returncode == 0, shown.stderr[-2000:]
  assert 'episode   1: return' in shown.stdout
