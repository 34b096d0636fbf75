"""ExampleEncoder: the same bytes as TFDS's encode + serialize, on every environment's features."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow_datasets.core import example_serializer
from tensorflow_datasets.rlds import rlds_base

import ad_tf
from ad_tf.generation import example_encoding
from ad_tf.generation import rlds_episodes
from ad_tf.sources import learning_history
from ad_tf_datasets.ad_histories import ad_histories


def features_of(config_name):
  builder = ad_histories.AdHistories(config=config_name, data_dir='/nonexistent')
  return rlds_base.build_info(ad_histories.dataset_config(config_name), builder).features


def random_episodes(env_name, seed=0):
  """Two actors x three episodes of random values with the shapes and dtypes a source writes."""
  env = ad_tf.envs.get_spec(env_name)
  rng = np.random.default_rng(seed)
  actors, episodes, length = 2, 3, env.episode_length
  observation_shape = env.observation.shape
  probs = rng.random((actors, episodes, length, env.num_actions)).astype(np.float32)
  histories = learning_history.LearningHistories(
      observations=rng.integers(-3, 10, (actors, episodes, length + 1) + observation_shape),
      actions=rng.integers(0, env.num_actions, (actors, episodes, length)).astype(np.int32),
      rewards=rng.normal(size=(actors, episodes, length)).astype(np.float32),
      action_probs=probs / probs.sum(-1, keepdims=True))
  task = ad_tf.envs.sample_tasks(env_name, 'train', 1, seed)[0]
  return list(rlds_episodes.episodes(histories, np.array([0, 10, 20]),
                                     observation_dtype=env.observation.dtype, task=task,
                                     task_index=7, seed=12345, source='ppo',
                                     first_history_id=14))


@pytest.mark.parametrize('env_name', ad_tf.envs.ENV_NAMES)
def test_bytes_equal_tfds_encode_and_serialize(env_name):
  features = features_of(env_name)
  tfds_serializer = example_serializer.ExampleSerializer(features.get_serialized_info())
  encoder = example_encoding.ExampleEncoder(features)
  for episode in random_episodes(env_name):
    expected = tfds_serializer.serialize_example(features.encode_example(episode))
    assert encoder.encode(episode) == expected


def test_decodes_back_to_the_episode():
  features = features_of('darkroom')
  episode = random_episodes('darkroom', seed=3)[4]
  decoded = features.deserialize_example(
      example_encoding.ExampleEncoder(features).encode(episode))
  steps = tfds.as_numpy(decoded['steps'].batch(100).get_single_element())
  decoded = tfds.as_numpy({k: v for k, v in decoded.items() if k != 'steps'})
  for key, value in episode['steps'].items():
    np.testing.assert_array_equal(steps[key], value)
  assert decoded['history_id'] == 15 and decoded['source_episode'] == 10
  assert decoded['source'] == b'ppo'
  np.testing.assert_array_equal(decoded['task']['goal'], episode['task']['goal'])


@pytest.mark.parametrize('change, message', [
    (lambda e: e.pop('seed'), r"missing \['seed'\]"),
    (lambda e: e.update(extra=1), r"unexpected \['extra'\]"),
    (lambda e: e['steps'].update(observation=e['steps']['observation'][:, :1]),
     r"'steps/observation' has shape \(21, 1\); the dataset declares \(None, 2\)"),
    (lambda e: e['steps'].update(action=e['steps']['action'].astype(np.float32)),
     r"'steps/action' has dtype float32; the dataset declares int32"),
    (lambda e: e.update(source=3), r"'source' must be one str or bytes"),
])
def test_mismatched_example_is_one_clear_error(change, message):
  episode = random_episodes('darkroom')[0]
  change(episode)
  with pytest.raises(example_encoding.ExampleEncodingError, match=message):
    example_encoding.ExampleEncoder(features_of('darkroom')).encode(episode)


def test_nested_sequences_are_refused():
  features = tfds.features.FeaturesDict({'steps': tfds.features.Dataset(
      {'tokens': tfds.features.Sequence(tf.int64)})})
  with pytest.raises(NotImplementedError, match="'steps/tokens' is a nested sequence"):
    example_encoding.ExampleEncoder(features)
