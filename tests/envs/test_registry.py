"""The environment registry: names, splits, sampling, errors."""

import numpy as np
import pytest

import ad_tf.envs


def as_keys(tasks):
  return {tuple(np.concatenate([np.ravel(v) for v in t.values()]).tolist()) for t in tasks}


def test_known_names():
  assert set(ad_tf.envs.ENV_NAMES) == {'darkroom', 'darkroom_hard', 'key_to_door', 'bandit',
                                       'watermaze'}


def test_unknown_name_is_one_clear_error():
  for call in (lambda: ad_tf.envs.load('darkroomm', {'goal': [0, 0]}),
               lambda: ad_tf.envs.sample_tasks('cartpole', 'train', 1, 0),
               lambda: ad_tf.envs.load_batched('nope')):
    with pytest.raises(ValueError, match=r"Unknown environment .* known environments are"):
      call()


def test_unknown_split_is_one_clear_error():
  with pytest.raises(ValueError, match="unknown split 'valid'"):
    ad_tf.envs.sample_tasks('darkroom', 'valid', 3, 0)


@pytest.mark.parametrize('name, size', [('darkroom', 81), ('darkroom_hard', 289),
                                        ('key_to_door', 6561)])
def test_finite_splits_are_disjoint_complete_and_hold_out_a_fifth(name, size):
  family = ad_tf.envs.get_family(name)
  train, test = as_keys(family.split_tasks('train')), as_keys(family.split_tasks('test'))
  assert not train & test
  assert len(train) + len(test) == size
  assert len(test) >= 0.2 * size
  assert as_keys(family.split_tasks('test')) == test  # Deterministic.


def test_darkroom_test_goals_are_scattered_over_the_room():
  test = np.array([t['goal'] for t in ad_tf.envs.get_family('darkroom').split_tasks('test')])
  assert len(set(test[:, 0])) >= 6 and len(set(test[:, 1])) >= 6


def test_sampling_is_deterministic_within_the_split_and_balanced():
  a = ad_tf.envs.sample_tasks('darkroom', 'train', 130, seed=3)
  b = ad_tf.envs.sample_tasks('darkroom', 'train', 130, seed=3)
  c = ad_tf.envs.sample_tasks('darkroom', 'train', 130, seed=4)
  assert [t['goal'].tolist() for t in a] == [t['goal'].tolist() for t in b]
  assert [t['goal'].tolist() for t in a] != [t['goal'].tolist() for t in c]
  train = as_keys(ad_tf.envs.get_family('darkroom').split_tasks('train'))
  assert as_keys(a) == train  # 130 samples over 60 train goals: every goal appears.
  counts = np.unique([tuple(t['goal']) for t in a], axis=0, return_counts=True)[1]
  assert counts.min() >= 2 and counts.max() <= 3


def test_stack_tasks_batches_validated_tasks():
  stacked = ad_tf.envs.stack_tasks('key_to_door', [{'key': [1, 2], 'door': [3, 4]},
                                                   {'key': [0, 0], 'door': [8, 8]}])
  assert stacked['key'].shape == (2, 2) and stacked['key'].dtype == np.int32
  with pytest.raises(ValueError, match='outside the 9x9 grid'):
    ad_tf.envs.stack_tasks('key_to_door', [{'key': [1, 2], 'door': [3, 9]}])


def test_held_out_tasks_are_the_test_split_or_fresh_seeded_draws():
  split = ad_tf.envs.get_family('darkroom').split_tasks('test')
  assert as_keys(ad_tf.envs.held_out_tasks('darkroom', 5, seed=0)) == as_keys(split)
  with pytest.raises(ValueError, match='only the .test. split is held out'):
    ad_tf.envs.held_out_tasks('darkroom', 5, seed=0, split='train')
  for split in ('train', 'test'):
    bandit = ad_tf.envs.held_out_tasks('bandit', 7, seed=3, split=split)
    again = ad_tf.envs.held_out_tasks('bandit', 7, seed=3, split=split)
    trained_on = ad_tf.envs.sample_tasks('bandit', split, 7, seed=3)  # What generate draws.
    assert len(bandit) == 7
    for a, b, c in zip(bandit, again, trained_on):
      np.testing.assert_array_equal(a['probs'], b['probs'])
      assert not np.array_equal(a['probs'], c['probs'])
    best = np.array([np.argmax(t['probs']) for t in ad_tf.envs.held_out_tasks(
        'bandit', 400, seed=3, split=split)])
    favoured = 1 if split == 'train' else 0  # Training tasks favour odd arms, test tasks even.
    assert np.mean(best % 2 == favoured) > 0.9


def test_a_held_out_task_sample_is_deterministic_and_inside_the_test_split():
  split = as_keys(ad_tf.envs.get_family('key_to_door').split_tasks('test'))
  sample = ad_tf.envs.held_out_tasks('key_to_door', 1, seed=0, max_tasks=50)
  assert len(sample) == 50 and len(as_keys(sample)) == 50 and as_keys(sample) <= split
  again = ad_tf.envs.held_out_tasks('key_to_door', 1, seed=0, max_tasks=50)
  assert [t['key'].tolist() + t['door'].tolist() for t in sample] == [
      t['key'].tolist() + t['door'].tolist() for t in again]
  assert as_keys(ad_tf.envs.held_out_tasks('key_to_door', 1, seed=1, max_tasks=50)) != as_keys(
      sample)
  # No larger than the split: all of it.
  assert len(ad_tf.envs.held_out_tasks('darkroom', 1, seed=0, max_tasks=1000)) == 21
  with pytest.raises(ValueError, match='max_tasks must be >= 1'):
    ad_tf.envs.held_out_tasks('darkroom', 1, seed=0, max_tasks=0)
