"""Watermaze through every stage on gin/watermaze_tiny.gin: PPO on the pose, a dataset of PNG
frames read back with tfds.load, AD and ED on pixels, the source baseline, the evaluation on
held-out platforms, the export, whose signature takes frames, and the in-context analysis."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from ad_tf import experiment
from ad_tf.data import history_windows
from ad_tf.envs import watermaze
from tests.tiny_runs import REPO
from tests.tiny_runs import benchmark_figures
from tests.tiny_runs import experiment_root
from tests.tiny_runs import run_binary

TINY = os.path.join(REPO, 'gin', 'watermaze_tiny.gin')


@pytest.fixture(scope='module')
def pipeline_root(tmp_path_factory):
  root = str(tmp_path_factory.mktemp('watermaze'))
  result = subprocess.run([sys.executable, '-m', 'ad_tf.bin.pipeline', f'--root_dir={root}',
                           f'--gin_file={TINY}'], cwd=REPO, capture_output=True, text=True,
                          timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  return root


def test_the_dataset_holds_the_frames_the_agent_saw(pipeline_root):
  episodes = list(tfds.load('ad_histories/watermaze', split='train',
                            data_dir=experiment.tfds_dir(pipeline_root)))
  assert len(episodes) == 2 * 2 * 3  # 2 tasks x 2 actors x 3 kept episodes (every 2nd of 6).
  start = watermaze.render_np(0.0, 0.0, 0.0)[0]  # Every episode starts at the centre, east.
  for episode in episodes:
    frames = np.stack([step['observation'].numpy() for step in episode['steps']])
    assert frames.shape == (51, 72, 96, 3) and frames.dtype == np.uint8
    np.testing.assert_array_equal(frames[0], start)
    assert watermaze.in_split(episode['task']['platform'].numpy()[None], 'train')[0]
  # PNG frames: the shards are small (a raw frame alone is 20,736 bytes).
  version_dir = experiment.dataset_dir(pipeline_root, 'watermaze')
  size = sum(os.path.getsize(os.path.join(version_dir, name)) for name in os.listdir(version_dir)
             if '.tfrecord-' in name)
  assert size < 12 * 51 * 2000


@pytest.mark.parametrize('histories_per_group', [0, 2])  # A buffer of windows; groups.
def test_training_windows_are_decoded_slices_of_the_histories(pipeline_root,
                                                               histories_per_group):
  data_dir = experiment.tfds_dir(pipeline_root)
  histories = {}  # history_id -> its decision steps' frames [T, 72, 96, 3], in episode order.
  for episode in tfds.load('ad_histories/watermaze', split='train', data_dir=data_dir):
    frames = np.stack([step['observation'].numpy() for step in episode['steps']])[:-1]
    histories.setdefault(int(episode['history_id']), {})[int(episode['episode_index'])] = frames
  histories = {h: np.concatenate([e[i] for i in sorted(e)]) for h, e in histories.items()}
  windows = history_windows.history_windows(data_dir, 'watermaze', 4, context_length=60,
                                            windows_per_history=2, shuffle_buffer=4, seed=3,
                                            histories_per_group=histories_per_group)
  for inputs, _ in tfds.as_numpy(windows.take(2)):
    assert inputs['observation'].shape == (4, 60, 72, 96, 3)
    assert inputs['observation'].dtype == np.uint8
    for window in inputs['observation']:
      assert any(np.array_equal(window, frames[start:start + 60])
                 for frames in histories.values() for start in range(len(frames) - 59))


def test_ad_reads_columns_and_regresses_the_pose_and_resumes_with_its_head(pipeline_root,
                                                                           tmp_path):
  record = experiment.read_model_record(pipeline_root, 'watermaze')
  assert record.model['observation_encoder']['architecture'] == 'columns'
  root = experiment_root(pipeline_root, tmp_path)
  for steps in (2, 4):  # The second run resumes from the first one's checkpoint.
    result = run_binary('train', root, f'train.num_steps={steps}', gin_file=TINY)
    assert result.returncode == 0, result.stderr[-3000:]
  directory = experiment.train_dir(root, 'watermaze')
  with open(os.path.join(directory, experiment.METRICS_FILE)) as f:
    metrics = [json.loads(line) for line in f]
  assert [m['step'] for m in metrics] == [1, 2, 3, 4]
  assert all(m['state_regression_loss'] > 0 for m in metrics)
  checkpoint = tf.train.load_checkpoint(experiment.checkpoint_dir(root, 'watermaze'))
  assert any(name.startswith('state_regression_head/')
             for name in checkpoint.get_variable_to_shape_map())


def test_the_encoder_probe_reads_the_pose_from_a_trained_models_embedding(pipeline_root):
  figures = benchmark_figures('watermaze_encoder_probe', f'--root_dir={pipeline_root}')
  assert figures['observation_encoder']['architecture'] == 'columns'
  for target in ('x', 'y', 'cos_heading', 'sin_heading'):
    assert figures[f'linear_r2_{target}'] <= 1.0 and figures[f'linear_rmse_{target}'] >= 0.0


def test_every_method_is_evaluated_on_held_out_platforms(pipeline_root):
  with open(experiment.results_path(pipeline_root)) as f:
    results = json.load(f)['splits']['test']
  assert set(results['methods']) == {'AD', 'ED', 'source'}
  for task in results['tasks']:
    assert watermaze.in_split(np.array([task['platform']]), 'test')[0]
  assert all(0 <= m['normalised_mean'][-1] <= 1 for m in results['methods'].values())


def test_the_export_takes_frames(pipeline_root):
  versions = os.listdir(experiment.export_dir(pipeline_root, 'ad'))
  policy = tf.saved_model.load(os.path.join(experiment.export_dir(pipeline_root, 'ad'),
                                            versions[0]))
  state = policy.signatures['get_initial_state'](batch_size=tf.constant(1))
  frame = watermaze.render_tf(tf.zeros([1], tf.float64), tf.zeros([1], tf.float64),
                              tf.zeros([1], tf.float64))
  out = policy.signatures['action'](observation=frame, prev_action=tf.constant([0]),
                                    prev_reward=tf.constant([0.0]), **state)
  assert out['logits'].shape == (1, 8) and 0 <= int(out['action'][0]) < 8


def test_the_in_context_analysis_runs_on_platforms(pipeline_root):
  """benchmarks.in_context_analysis takes a Watermaze model: platforms drawn as the evaluation
  draws them, the platform found as the goal, bands of the platform's distance (0.3-0.7)."""
  figures = benchmark_figures('in_context_analysis', f'--root_dir={pipeline_root}',
                              '--dataset_config=watermaze', '--max_tasks=2', '--test_seeds=1',
                              '--train_seeds=1', '--num_episodes=2')
  assert figures['env'] == 'watermaze' and figures['test_runs'] == figures['train_runs'] == 2
  for split in ('test', 'train'):
    assert 0.0 <= figures[f'{split}_episode_1'] <= 1.0
    bands = figures[f'{split}_by_goal_distance']
    assert sum(band['runs'] for band in bands.values()) == 2
    assert all(0.3 <= float(label.split('-')[0]) < 0.7 for label in bands)
