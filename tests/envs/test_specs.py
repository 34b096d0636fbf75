"""Each family's specs, declared once, are what every stage sees: the environments, the dataset
features, the step tokens, the model and the exported signatures."""

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_datasets.rlds import rlds_base

import ad_tf.envs
from ad_tf.export import in_context_policy
from ad_tf.model import loading
from ad_tf.model import step_tokens
from ad_tf_datasets.ad_histories import ad_histories

ENVS = ad_tf.envs.ENV_NAMES
TINY_MODEL = dict(max_length=8, embedding_dim=8, num_layers=1, num_heads=2, feedforward_dim=8)


@pytest.mark.parametrize('env_name', ENVS)
def test_both_environments_emit_what_the_spec_declares(env_name):
  spec = ad_tf.envs.get_spec(env_name)
  task = ad_tf.envs.sample_tasks(env_name, 'train', 2, seed=0)
  env = ad_tf.envs.load(env_name, task[0], seed=0)
  assert env.observation_spec().shape == spec.observation.shape
  assert env.observation_spec().dtype == spec.observation.dtype
  assert int(env.action_spec().maximum) == spec.num_actions - 1
  observation = np.asarray(env.reset().observation)
  assert observation.shape == spec.observation.shape and observation.dtype == spec.observation.dtype
  batched = ad_tf.envs.load_batched(env_name)
  assert batched.spec == spec
  _, first = batched.reset(batched.initial_state(ad_tf.envs.stack_tasks(env_name, task),
                                                 np.arange(2)))
  assert first.shape == (2, *spec.observation.shape)
  assert first.dtype == spec.observation.tf_dtype


@pytest.mark.parametrize('env_name', ENVS)
@pytest.mark.parametrize('suffix', ['', ad_histories.EXPERT_SUFFIX])
def test_dataset_features_come_from_the_spec(env_name, suffix):
  spec = ad_tf.envs.get_spec(env_name)
  builder = ad_histories.AdHistories(config=env_name + suffix, data_dir='/nonexistent')
  features = rlds_base.build_info(ad_histories.dataset_config(env_name + suffix),
                                  builder).features['steps']
  assert tuple(features['observation'].shape) == spec.observation.shape
  assert features['observation'].np_dtype == spec.observation.dtype
  assert tuple(features['action_probs'].shape) == (spec.num_actions,)


@pytest.mark.parametrize('env_name', ENVS)
def test_step_tokens_model_and_export_signatures_come_from_the_spec(env_name):
  spec = ad_tf.envs.get_spec(env_name)
  token_specs = step_tokens.step_input_specs(spec)
  assert tuple(token_specs['observation'].shape) == spec.observation.shape
  assert token_specs['observation'].dtype == spec.observation.tf_dtype
  zeros = step_tokens.zeros(spec, [3, 5])
  assert zeros['observation'].shape == (3, 5, *spec.observation.shape)
  model = loading.build_from_hyperparameters(spec, TINY_MODEL, seed=0, length=5)
  assert model(zeros).shape == (3, 5, spec.num_actions)
  policy = in_context_policy.InContextPolicy(model, context_length=6)
  observation, prev_action, prev_reward, state = policy.action.input_signature
  assert observation.shape.as_list() == [None, *spec.observation.shape]
  assert observation.dtype == spec.observation.tf_dtype
  assert prev_action.dtype == tf.int32 and prev_reward.dtype == tf.float32
  assert state['state_observation'].shape.as_list() == [None, 6, *spec.observation.shape]
  assert state['state_observation'].dtype == spec.observation.tf_dtype
  initial = policy.get_initial_state(tf.constant(2))
  out = policy.action(tf.zeros([2, *spec.observation.shape], spec.observation.tf_dtype),
                      tf.zeros([2], tf.int32), tf.zeros([2]), initial)
  assert out['logits'].shape == (2, spec.num_actions)
  assert set(out) - {'action', 'logits'} == set(state)
