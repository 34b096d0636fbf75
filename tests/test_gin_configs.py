"""Every gin file parses, is self-consistent, and the per-env files hold the paper's values."""

import glob
import os

import gin
import pytest

import ad_tf.configurables  # pylint: disable=unused-import

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAPER = {'darkroom': (0.5, 0.3, 0.0), 'darkroom_hard': (0.0, 0.5, 0.2),
         'key_to_door': (0.5, 0.3, 0.0), 'bandit': (0.5, 0.3, 0.0),
         'watermaze': (0.5, 0.3, 0.0)}


@pytest.mark.parametrize('path', sorted(glob.glob(os.path.join(REPO, 'gin', '*.gin'))))
def test_gin_file_is_consistent(path):
  os.chdir(REPO)
  gin.parse_config_file(path)
  env_name = gin.query_parameter('generate.env_name')
  assert gin.query_parameter('train.env_name') == env_name
  for function in ('pipeline', 'evaluate', 'export'):
    assert gin.query_parameter(f'{function}.env_name') == env_name
  assert (gin.query_parameter('train.context_length')
          <= gin.query_parameter('AlgorithmDistillationTransformer.max_length'))


@pytest.mark.parametrize('env_name', sorted(PAPER))
def test_paper_values(env_name):
  os.chdir(REPO)
  gin.parse_config_file(os.path.join('gin', f'{env_name}.gin'))
  query = gin.query_parameter
  model = 'AlgorithmDistillationTransformer'
  assert (query(f'{model}.embedding_dim'), query(f'{model}.num_layers'),
          query(f'{model}.num_heads'), query(f'{model}.feedforward_dim'),
          query(f'{model}.dropout')) == (64, 4, 4, 2048, 0.1)
  assert (query(f'{model}.attention_dropout'), query(f'{model}.sequence_mask_prob'),
          query('train.label_smoothing')) == PAPER[env_name]
  assert (query('train.batch_size'), query('train.initial_learning_rate'),
          query('train.peak_learning_rate'), query('train.adam_beta_1'),
          query('train.adam_beta_2'), query('train.clip_norm')) == (128, 2e-6, 3e-4, 0.9, 0.99, 1.0)


def test_watermaze_image_encoder_is_table_3():
  os.chdir(REPO)
  gin.parse_config_file(os.path.join('gin', 'watermaze.gin'))
  query = lambda name: gin.query_parameter(f'ImageObservationEncoder.{name}')
  assert [query(n) for n in ('channels', 'kernel', 'stride', 'num_blocks', 'hidden_units',
                             'dropout')] == [128, 5, 2, 3, 256, 0.2]
  assert gin.query_parameter('image_encoder_architecture.architecture') == 'conv'
  assert gin.query_parameter('train.state_regression_weight') == 0.0
