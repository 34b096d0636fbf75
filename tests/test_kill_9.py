"""SIGKILL at any point of evaluate, export and train_rl2, then the same command again: the
finished artifacts equal an uninterrupted run's, and nothing partial is ever taken as done.
(Generation and AD training have their own kill -9 tests, in tests/generation and tests/train.)"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import tensorflow as tf

from ad_tf import experiment
from tests.tiny_runs import REPO
from tests.tiny_runs import TINY_GIN
from tests.tiny_runs import run_binary

EVALUATE = ('evaluate.num_episodes=2', 'evaluate.seeds_per_task=1', 'evaluate.min_runs=21',
            "evaluate.methods=['AD', 'random']")
RL2 = ('train_rl2.num_iterations=6', 'train_rl2.checkpoint_every=1', 'train_rl2.eval_every=6')


def start(binary, root, *bindings):
  return subprocess.Popen(
      [sys.executable, '-m', f'ad_tf.bin.{binary}', f'--root_dir={root}',
       f'--gin_file={TINY_GIN}'] + [f'--gin_bindings={b}' for b in bindings],
      cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_when(process, condition, timeout=300):
  """SIGKILLs `process` as soon as `condition()` holds; whether it was still running then."""
  deadline = time.time() + timeout
  while time.time() < deadline and process.poll() is None and not condition():
    time.sleep(0.01)
  running = process.poll() is None
  process.send_signal(signal.SIGKILL)
  process.wait()
  return running


def trained_copy(tiny_export_root, path):
  """An experiment with the tiny dataset and the tiny AD model, nothing evaluated or exported."""
  os.makedirs(path)
  os.symlink(os.path.join(tiny_export_root, 'tfds'), os.path.join(path, 'tfds'))
  os.symlink(os.path.join(tiny_export_root, experiment.TRAIN_DIR),
             os.path.join(path, experiment.TRAIN_DIR))
  return str(path)


def variables(saved_model_dir):
  reader = tf.train.load_checkpoint(os.path.join(saved_model_dir, 'variables', 'variables'))
  return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
          if not name.startswith('_CHECKPOINTABLE_OBJECT_GRAPH')}


def assert_same_variables(saved_model_dir, expected_dir):
  expected, actual = variables(expected_dir), variables(saved_model_dir)
  assert actual.keys() == expected.keys()
  for name in expected:
    np.testing.assert_array_equal(actual[name], expected[name])


def test_export_killed_mid_save(tiny_export_root, tmp_path):
  root = trained_copy(tiny_export_root, tmp_path / 'killed')
  version = os.path.join(experiment.export_dir(root), '20')
  process = start('export', root)
  assert kill_when(process, lambda: os.path.exists(version + '.tmp')), 'kill before the end'
  assert not os.path.exists(version)  # Only the staging directory: never served.
  assert run_binary('export', root).returncode == 0
  assert_same_variables(version, os.path.join(experiment.export_dir(tiny_export_root), '20'))


def test_evaluate_killed_before_its_results(tiny_export_root, tmp_path):
  reference = trained_copy(tiny_export_root, tmp_path / 'reference')
  assert run_binary('evaluate', reference, *EVALUATE).returncode == 0
  root = trained_copy(tiny_export_root, tmp_path / 'killed')
  process = start('evaluate', root, *EVALUATE)
  started = time.time()
  assert kill_when(process, lambda: time.time() - started > 6), 'kill mid-run'
  if os.path.exists(experiment.results_path(root)):  # Whole or absent, never half-written.
    json.load(open(experiment.results_path(root)))
  assert run_binary('evaluate', root, *EVALUATE).returncode == 0
  load = lambda r: json.load(open(experiment.results_path(r)))['splits']['test']['methods']
  for name, summary in load(reference).items():
    assert load(root)[name]['mean'] == summary['mean'], name


def test_train_rl2_killed_between_checkpoints(tmp_path):
  reference = tmp_path / 'reference'
  assert run_binary('train_rl2', reference, *RL2).returncode == 0
  root = tmp_path / 'killed'
  checkpoints = experiment.rl2_checkpoint_dir(str(root))
  process = start('train_rl2', root, *RL2)
  assert kill_when(process, lambda: tf.io.gfile.glob(os.path.join(checkpoints, 'ckpt-2.index')))
  assert not os.path.exists(experiment.rl2_policy_dir(str(root)))
  result = run_binary('train_rl2', root, *RL2)
  assert result.returncode == 0 and 'RL²: resumed from' in result.stderr
  expected = variables(experiment.rl2_policy_dir(str(reference)))
  for name, value in variables(experiment.rl2_policy_dir(str(root))).items():
    np.testing.assert_array_equal(value, expected[name], err_msg=name)
  metrics = lambda r: open(os.path.join(experiment.rl2_dir(str(r)), experiment.METRICS_FILE)
                           ).read().splitlines()
  resumed = [json.loads(line) for line in metrics(root)]
  assert [line['iteration'] for line in resumed][-4:] == [3, 4, 5, 6]
  for a, b in zip([json.loads(line) for line in metrics(reference)][-4:], resumed[-4:]):
    assert a['loss'] == b['loss'] and a['train_episode_returns'] == b['train_episode_returns']
  # (That the same command again does nothing is tests/bin/test_pipeline.py's resumption check.)
