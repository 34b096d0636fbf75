"""The root_dir layout and the model record: one home for every path, and a record that
round-trips and fails clearly when missing."""

import json
import os

import pytest

from ad_tf import experiment


def test_layout_is_the_documented_one():
  root = '/r'
  assert experiment.dataset_dir(root, 'bandit') == '/r/tfds/ad_histories/bandit/1.0.0'
  assert experiment.checkpoint_dir(root, 'darkroom_expert') == '/r/train/darkroom_expert/checkpoints'
  assert experiment.results_path(root) == '/r/eval/results.json'
  assert experiment.export_dir(root) == '/r/export/ad'
  assert experiment.export_dir(root, 'ed') == '/r/export/ed'
  assert experiment.served_model_name('darkroom') == 'ad'
  assert experiment.served_model_name('darkroom_expert') == 'ed'
  assert experiment.pipeline_times_path(root) == '/r/pipeline_times.json'


def test_model_record_round_trips(tmp_path):
  record = experiment.ModelRecord(env_name='bandit', dataset_config='bandit', context_length=100,
                                  model={'max_length': 100, 'embedding_dim': 16}, seed=3,
                                  gin_config='train.num_steps = 6')
  experiment.write_model_record(str(tmp_path), record)
  assert experiment.read_model_record(str(tmp_path), 'bandit') == record
  assert not os.path.exists(os.path.join(experiment.train_dir(str(tmp_path), 'bandit'),
                                         'model_record.json.tmp'))


def test_a_missing_or_foreign_record_is_one_clear_error(tmp_path):
  with pytest.raises(experiment.ExperimentError, match='model_record.json is missing.*ad_tf.bin.train'):
    experiment.read_model_record(str(tmp_path), 'darkroom')
  directory = experiment.train_dir(str(tmp_path), 'darkroom')
  os.makedirs(directory)
  with open(os.path.join(directory, 'model_record.json'), 'w') as f:
    json.dump({'env': 'darkroom'}, f)
  with pytest.raises(experiment.ExperimentError, match='not a model record'):
    experiment.read_model_record(str(tmp_path), 'darkroom')
