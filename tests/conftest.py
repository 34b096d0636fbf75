"""Shared test set-up: quiet TF start-up, a clean gin config around every test, and the tiny
config's dataset and exported model made once per session."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import gin  # pylint: disable=g-import-not-at-top,wrong-import-position
import pytest  # pylint: disable=g-import-not-at-top,wrong-import-position

from tests.tiny_runs import experiment_root, run_binary  # pylint: disable=g-import-not-at-top,wrong-import-position


@pytest.fixture(autouse=True)
def clear_gin_config():
  gin.clear_config()
  yield
  gin.clear_config()


@pytest.fixture(scope='session')
def tiny_generation(tmp_path_factory):
  """One run of the real `ad_tf.bin.generate` on the tiny config, once per session, writing
  ad_histories/darkroom (4 tasks x 4 actors x 30 episodes) and darkroom_expert (the last 4
  episodes of each history) in one pass. Returns (root_dir, finished process)."""
  root = str(tmp_path_factory.mktemp('tiny_dataset'))
  result = run_binary('generate', root, 'generate.with_expert=True', 'generate.expert_episodes=4')
  assert result.returncode == 0, result.stderr[-3000:]
  return root, result


@pytest.fixture(scope='session')
def tiny_dataset_root(tiny_generation):
  """`tiny_generation`'s root_dir. Tests that train or export work in
  `experiment_root(tiny_dataset_root, ...)`, so the datasets stay as generated."""
  return tiny_generation[0]


@pytest.fixture(scope='session')
def tiny_export_root(tiny_dataset_root, tmp_path_factory):
  """An experiment whose AD model trained 20 steps on the tiny dataset and is exported (export/20)."""
  root = experiment_root(tiny_dataset_root, tmp_path_factory.mktemp('tiny_export'))
  for binary, bindings in (('train', ['train.num_steps=20']), ('export', [])):
    result = run_binary(binary, root, *bindings)
    assert result.returncode == 0, result.stderr[-3000:]
  return root
