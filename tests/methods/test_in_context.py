"""In-context rollouts: reproducible for a seed, cache equal to full recompute, within the rules."""

import numpy as np
import pytest

import ad_tf.envs
from ad_tf.methods import in_context
from ad_tf.model import loading


@pytest.fixture(scope='module')
def model():
  return loading.build_from_hyperparameters(
      ad_tf.envs.get_spec('darkroom'), dict(max_length=40, embedding_dim=32, num_layers=2,
                                            num_heads=4, feedforward_dim=64), seed=0, length=40)


NEAR_CENTRE = [{'goal': [4 + dx, 4 + dy]} for dx, dy in
               ((1, 0), (0, 1), (-1, 0), (0, -1), (1, 1), (-1, -1), (1, -1), (-1, 1))]


def run(model, policy_seeds, full_recompute=False, episodes=3):
  tasks = NEAR_CENTRE  # Close enough that an untrained policy earns rewards that seeds change.
  rewards = in_context.rollout(model, ad_tf.envs.load_batched('darkroom'),
                               ad_tf.envs.stack_tasks('darkroom', tasks), np.arange(8), episodes,
                               40, policy_seeds=policy_seeds, full_recompute=full_recompute)
  return in_context.episode_returns(rewards, 20), tasks


def test_same_seed_same_rollout_other_seed_other_rollout(model):
  a, _ = run(model, np.arange(8))
  b, _ = run(model, np.arange(8))
  c, _ = run(model, np.arange(8) + 100)
  assert a.sum() > 0
  np.testing.assert_array_equal(a, b)
  assert not np.array_equal(a, c)


def test_cached_decoding_equals_full_recompute_through_context_slides(model):
  cached, _ = run(model, np.arange(8), full_recompute=False, episodes=4)  # 80 steps > 40.
  full, _ = run(model, np.arange(8), full_recompute=True, episodes=4)
  assert cached.sum() > 0
  np.testing.assert_array_equal(cached, full)


def test_returns_respect_each_tasks_oracle(model):
  returns, tasks = run(model, np.arange(8))
  oracles = np.array([ad_tf.envs.oracle_return('darkroom', t) for t in tasks])
  assert returns.shape == (8, 3)
  assert (returns >= 0).all() and (returns <= oracles[:, None]).all()


def test_context_longer_than_the_model_is_an_error(model):
  with pytest.raises(ValueError, match="exceeds the model's 40 positions"):
    in_context.rollout(model, ad_tf.envs.load_batched('darkroom'),
                       ad_tf.envs.stack_tasks('darkroom', [{'goal': [0, 0]}]), np.arange(1), 1,
                       60, policy_seeds=np.arange(1))


def test_greedy_rollout_does_not_depend_on_the_sampling_seed(model):
  tasks = ad_tf.envs.stack_tasks('darkroom', NEAR_CENTRE)
  make = lambda seeds: in_context.rollout(model, ad_tf.envs.load_batched('darkroom'), tasks,
                                          np.arange(8), 2, 40, policy_seeds=seeds, greedy=True)
  np.testing.assert_array_equal(make(np.arange(8)), make(np.arange(8) + 100))
