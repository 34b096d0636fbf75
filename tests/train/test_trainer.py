"""The trainer: learns, is replica-count invariant, runs multi-worker, resumes after kill -9."""

import glob
import json
import os
import signal
import subprocess
import sys
import time

import gin
import numpy as np
import portpicker
import pytest
import tensorflow as tf

import ad_tf  # pylint: disable=unused-import
import ad_tf.configurables  # pylint: disable=unused-import
import ad_tf.envs
from ad_tf import experiment
from ad_tf.data import history_windows
from ad_tf.model import loading
from ad_tf.train import trainer
from tests.tiny_runs import REPO
from tests.tiny_runs import TINY_GIN as TINY
from tests.tiny_runs import experiment_root

# No dropout or masking: runs that see the same data must compute the same numbers.
DETERMINISTIC = ['AlgorithmDistillationTransformer.dropout=0.0',
                 'AlgorithmDistillationTransformer.attention_dropout=0.0',
                 'AlgorithmDistillationTransformer.sequence_mask_prob=0.0']


def run(binary, root_dir, *bindings, flags=(), env=None, wait=True):
  command = [sys.executable, '-m', f'ad_tf.bin.{binary}', f'--root_dir={root_dir}',
             f'--gin_file={TINY}', *flags] + [f'--gin_bindings={b}' for b in bindings]
  kwargs = dict(cwd=REPO, env={**os.environ, **(env or {})})
  if not wait:
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
  return subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)


def losses(directory, name='metrics.jsonl'):
  with open(os.path.join(directory, name)) as f:
    return [json.loads(line)['loss'] for line in f]


def final_weights(checkpoint_dir):
  reader = tf.train.load_checkpoint(checkpoint_dir)
  names = sorted(n for n in reader.get_variable_to_shape_map()
                 if n.startswith('model/') and 'OPTIMIZER_SLOT' not in n)
  return {n: reader.get_tensor(n) for n in names}


def test_tiny_model_overfits_a_tiny_dataset(tmp_path):
  root = str(tmp_path)
  one_history = ['generate.num_tasks=1', 'PpoSource.num_actors=1', 'PpoSource.num_iterations=4']
  assert run('generate', root, *one_history).returncode == 0
  gin.parse_config_files_and_bindings([TINY], one_history + DETERMINISTIC + [
      'train.num_steps=300', 'train.batch_size=16', 'train.peak_learning_rate=3e-3',
      'train.warmup_steps=20', 'train.log_every=50', 'train.checkpoint_every=1000',
      'AlgorithmDistillationTransformer.embedding_dim=64',
      'AlgorithmDistillationTransformer.feedforward_dim=128'])
  trainer.train(root)
  with open(os.path.join(experiment.train_dir(root, 'darkroom'), 'metrics.jsonl')) as f:
    final = json.loads(f.readlines()[-1])
  assert final['accuracy'] >= 0.95, final


@pytest.fixture(scope='module')
def one_device_run(tiny_dataset_root, tmp_path_factory):
  """The tiny config trained on one device (the reference the distributed runs must equal)."""
  one = experiment_root(tiny_dataset_root, tmp_path_factory.mktemp('one_device'))
  single = run('train', one, *DETERMINISTIC)
  assert single.returncode == 0, single.stderr[-3000:]
  return experiment.train_dir(one, 'darkroom')


def test_mirrored_on_two_devices_matches_one_device(tiny_dataset_root, one_device_run, tmp_path):
  two = experiment_root(tiny_dataset_root, tmp_path / 'two')
  result = run('train', two, *DETERMINISTIC, flags=['--strategy=mirrored',
                                                    '--num_logical_cpus=2'])
  assert result.returncode == 0, result.stderr
  np.testing.assert_allclose(losses(experiment.train_dir(two, 'darkroom')),
                             losses(one_device_run), rtol=1e-4)


def test_multi_worker_two_processes_compute_what_one_device_does(tiny_dataset_root,
                                                               one_device_run, tmp_path):
  """MultiWorkerMirroredStrategy over 2 local processes (TF_CONFIG on loopback), each with half
  of the same global batch: the same losses and final weights as one device, to float
  tolerance, and the two workers hold the same weights."""
  root = experiment_root(tiny_dataset_root, tmp_path / 'workers')
  ports = [portpicker.pick_unused_port() for _ in range(2)]
  cluster = {'worker': [f'localhost:{p}' for p in ports]}
  workers = [run('train', root, *DETERMINISTIC, flags=['--strategy=multi_worker'], wait=False,
                 env={'TF_CONFIG': json.dumps({'cluster': cluster,
                                               'task': {'type': 'worker', 'index': i}})})
             for i in range(2)]
  for worker in workers:
    _, stderr = worker.communicate(timeout=600)
    assert worker.returncode == 0, stderr.decode()[-3000:]
  directory = experiment.train_dir(root, 'darkroom')
  chief = final_weights(os.path.join(directory, 'checkpoints'))
  other = final_weights(os.path.join(directory, 'worker_1_checkpoints'))
  assert chief.keys() == other.keys() and chief
  for name in chief:
    np.testing.assert_array_equal(chief[name], other[name])
  assert len(losses(directory)) == 6
  np.testing.assert_allclose(losses(directory), losses(one_device_run), rtol=1e-4)
  alone = final_weights(os.path.join(one_device_run, 'checkpoints'))
  assert alone.keys() == chief.keys()
  for name in chief:
    np.testing.assert_allclose(chief[name], alone[name], rtol=1e-4, atol=1e-5, err_msg=name)


# Both ways of shuffling: the shuffle buffer of windows, and groups of 4 histories (Watermaze's
# way), where 40 steps end inside a pass and the kill lands inside a group's batches.
@pytest.mark.parametrize('shuffling', [[], ['history_windows.histories_per_group=4']],
                         ids=['shuffle_buffer', 'history_groups'])
def test_kill_9_then_resume_continues_from_the_last_checkpoint(tiny_dataset_root, tmp_path,
                                                               shuffling):
  reference = experiment_root(tiny_dataset_root, tmp_path / 'ref')
  long_run = DETERMINISTIC + shuffling + ['train.num_steps=40', 'train.checkpoint_every=5']
  assert run('train', reference, *long_run).returncode == 0
  root = experiment_root(tiny_dataset_root, tmp_path / 'killed')
  checkpoints = os.path.join(experiment.train_dir(root, 'darkroom'), 'checkpoints')
  process = run('train', root, *long_run, wait=False)
  deadline = time.time() + 300
  while time.time() < deadline and not glob.glob(os.path.join(checkpoints, 'ckpt-1[05].index')):
    time.sleep(0.05)
  process.send_signal(signal.SIGKILL)
  process.wait()
  saved = int(tf.train.latest_checkpoint(checkpoints).rsplit('-', 1)[1])
  assert 5 <= saved < 40
  result = run('train', root, *long_run)
  assert result.returncode == 0
  assert f'at step {saved}.' in result.stderr
  expected = final_weights(os.path.join(experiment.train_dir(reference, 'darkroom'), 'checkpoints'))
  resumed = final_weights(checkpoints)
  for name in expected:  # Same data stream and step counter: the same model.
    np.testing.assert_allclose(resumed[name], expected[name], atol=1e-5)


def test_ed_is_the_same_binary_on_the_expert_dataset(tiny_dataset_root, tmp_path):
  root = experiment_root(tiny_dataset_root, tmp_path)
  result = run('train', root, 'train.dataset_config="darkroom_expert"', 'train.num_steps=2')
  assert result.returncode == 0, result.stderr
  assert os.path.exists(os.path.join(experiment.train_dir(root, 'darkroom_expert'), 'checkpoints'))


@pytest.mark.parametrize('bindings, message', [
    (['train.env_name="darkroom_hard"'], "holds 'darkroom' data but the model is configured for "
                                         "'darkroom_hard'"),
    (['train.context_length=60'], 'longer than the model\'s 40 positions'),
    (['train.dataset_config="key_to_door"'], 'No complete ad_histories/key_to_door dataset'),
    (['train.imitation_target="policies"'], "train.imitation_target='policies' is not one of"),
    (['train.state_regression_weight=1.0'], 'darkroom has no privileged agent state'),
    (['train.state_regression_weight=-1.0'], 'train.state_regression_weight=-1.0 must be >= 0'),
])
def test_bad_input_is_one_clear_error_before_training(tiny_dataset_root, tmp_path, bindings,
                                                      message):
  root = experiment_root(tiny_dataset_root, tmp_path)
  result = run('train', root, *bindings)
  assert result.returncode != 0
  assert message in result.stderr
  assert not glob.glob(os.path.join(root, 'train', '*', 'checkpoints', '*.index'))


def test_each_imitation_target_trains_and_changes_the_loss(tiny_dataset_root):
  """Same windows, same initial weights, three targets: the sampled action (the paper), the
  source's distribution, and the sampled action smoothed until a reward is in view. Each is a
  different cross-entropy. In-process on the trainer's own step (a binary per target costs ~20 s
  of start-up each)."""
  gin.parse_config_files_and_bindings([TINY], DETERMINISTIC)
  env_spec = ad_tf.envs.get_spec('darkroom')
  batches = list(history_windows.history_windows(
      experiment.tfds_dir(tiny_dataset_root), 'darkroom', 8, context_length=40).take(3))
  strategy = tf.distribute.get_strategy()
  targets = {'action': ('action', 0.0), 'policy': ('policy', 0.0),
             'search_smoothed': ('action', 0.2)}
  by_target = {}
  for name, (target, search_smoothing) in targets.items():
    model = loading.configured_model(env_spec)
    loading.build_seeded(model, 0, 40)
    optimizer = tf.keras.optimizers.Adam(1e-3)
    step = tf.Variable(0, dtype=tf.int64)
    train_step = trainer.make_train_step(model, optimizer, strategy, step, 0.0, 8 * 40, target,
                                         search_smoothing)
    before = [v.numpy() for v in model.trainable_variables]
    by_target[name] = [float(train_step(batch)[0]) for batch in batches]
    assert int(step.numpy()) == 3
    assert any(not np.array_equal(b, v.numpy()) for b, v in zip(before, model.trainable_variables))
  for name in ('policy', 'search_smoothed'):
    assert all(np.isfinite(by_target[name]))
    assert by_target[name] != by_target['action']


def test_search_label_smoothing_smooths_only_until_a_reward_is_in_view():
  labels = tf.one_hot([[0, 1, 2, 3], [4, 4, 4, 4]], 5)
  # Token t holds r_{t-1}: the first row's reward (taken at step 1) is in view from token 2 on;
  # the second row's window starts right after a reward, in view from token 0.
  prev_reward = tf.constant([[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
  smoothed = trainer.smooth_before_first_reward(labels, prev_reward, 0.5).numpy()
  np.testing.assert_allclose(smoothed[0, 0], [0.6, 0.1, 0.1, 0.1, 0.1], rtol=1e-6)
  np.testing.assert_allclose(smoothed[0, 1], [0.1, 0.6, 0.1, 0.1, 0.1], rtol=1e-6)
  np.testing.assert_array_equal(smoothed[0, 2:], labels.numpy()[0, 2:])
  np.testing.assert_array_equal(smoothed[1], labels.numpy()[1])
  np.testing.assert_allclose(smoothed.sum(-1), 1.0, rtol=1e-6)


def test_search_label_smoothing_out_of_range_is_one_clear_error(tmp_path):
  message = r'train.search_label_smoothing=1.0 must be in \[0, 1\)'
  with pytest.raises(trainer.TrainingError, match=message):
    trainer.train(str(tmp_path), search_label_smoothing=1.0)
  assert not os.listdir(tmp_path)
