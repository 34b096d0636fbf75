"""Training windows are exact, in-order slices of the learning histories in ad_histories."""

import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

import ad_tf  # pylint: disable=unused-import
import ad_tf.envs
from ad_tf.data import history_windows


@pytest.fixture
def data_dir(tiny_dataset_root):
  """The session's tiny ad_histories/darkroom: 4 tasks x 4 actors x 30 episodes."""
  return os.path.join(tiny_dataset_root, 'tfds')


def histories_from_tfds(data_dir):
  """history_id -> (observations [T, 2], actions [T], rewards [T]) via plain tfds.load."""
  ds = tfds.load('ad_histories/darkroom', data_dir=data_dir, split='train')
  episodes = {}
  for episode in tfds.as_numpy(ds.map(lambda e: {**e, 'steps': e['steps'].batch(100).get_single_element()})):
    episodes.setdefault(int(episode['history_id']), {})[int(episode['episode_index'])] = episode['steps']
  histories = {}
  for history, by_index in episodes.items():
    steps = [by_index[i] for i in sorted(by_index)]
    histories[history] = tuple(np.concatenate([s[k][:-1] for s in steps])
                               for k in ('observation', 'action', 'reward', 'action_probs'))
  return histories


@pytest.mark.parametrize('histories_per_group', [0, 4])  # A buffer of windows; groups.
def test_windows_are_contiguous_slices_with_previous_action_and_reward(data_dir,
                                                                      histories_per_group):
  histories = histories_from_tfds(data_dir)
  ds = history_windows.history_windows(data_dir, 'darkroom', 16, context_length=50,
                                       windows_per_history=4, shuffle_buffer=8, seed=1,
                                       histories_per_group=histories_per_group)
  for inputs, targets in tfds.as_numpy(ds.take(4)):
    for b in range(16):
      matches = []
      for observations, actions, rewards, probs in histories.values():
        for start in range(len(actions) - 50 + 1):
          if (np.array_equal(actions[start:start + 50], targets['action'][b]) and
              np.array_equal(observations[start:start + 50], inputs['observation'][b])):
            matches.append((actions, rewards, probs, start))
      assert matches, 'every window is a slice of some history'
      actions, rewards, probs, start = matches[0]
      # The policy targets are the source's distributions at the same steps.
      np.testing.assert_array_equal(targets['action_probs'][b], probs[start:start + 50])
      np.testing.assert_allclose(targets['action_probs'][b].sum(-1), 1.0, rtol=1e-5)
      chosen = np.take_along_axis(targets['action_probs'][b], targets['action'][b][:, None], 1)
      assert (chosen > 0).all()
      expected_prev = actions[start - 1] if start else 5
      assert inputs['prev_action'][b, 0] == expected_prev
      np.testing.assert_array_equal(inputs['prev_action'][b, 1:], actions[start:start + 49])
      np.testing.assert_array_equal(inputs['prev_reward'][b, 1:], rewards[start:start + 49])
      np.testing.assert_array_equal(inputs['time'][b], (start + np.arange(50)) % 20)


def test_same_seed_same_stream(data_dir):
  make = lambda seed: list(tfds.as_numpy(history_windows.history_windows(
      data_dir, 'darkroom', 8, context_length=40, shuffle_buffer=16, seed=seed).take(3)))
  a, b, c = make(0), make(0), make(1)
  for (xa, ya), (xb, yb) in zip(a, b):
    np.testing.assert_array_equal(ya['action'], yb['action'])
    np.testing.assert_array_equal(xa['observation'], xb['observation'])
  assert any(not np.array_equal(ya['action'], yc['action']) for (_, ya), (_, yc) in zip(a, c))


def test_every_pass_reads_every_history_once_in_a_new_seeded_order(data_dir):
  builder = history_windows.load_builder(data_dir, 'darkroom')
  all_ids = sorted(histories_from_tfds(data_dir))  # 4 tasks (shards) x 4 actors.
  count = len(all_ids)

  def read_ids(seed):  # 2 shards at a time: passes end together with the cycle (4 % 2 == 0).
    histories = history_windows.shuffled_histories(builder, seed, cycle_length=2)
    return [int(h['history_id'][0]) for h in tfds.as_numpy(histories.take(4 * count))]

  stream = read_ids(0)
  passes = [stream[i * count:(i + 1) * count] for i in range(4)]
  for each in passes:
    assert sorted(each) == all_ids
  # Shards are not read in file order on every pass, and the order changes from pass to pass.
  assert any(each != all_ids for each in passes)
  assert len({tuple(each) for each in passes}) > 1
  # Two shards are read together: their histories alternate.
  first_shards = {stream[0] // 4, stream[1] // 4}
  assert len(first_shards) == 2 and {h // 4 for h in stream[:8]} == first_shards
  assert read_ids(0) == stream and read_ids(1) != stream


def test_missing_dataset_is_one_clear_error(tmp_path):
  with pytest.raises(history_windows.DatasetError, match='Generate it first'):
    history_windows.history_windows(str(tmp_path), 'darkroom', 8)


def test_window_longer_than_a_history_is_an_error(data_dir):
  with pytest.raises(history_windows.DatasetError, match='longer than a whole history'):
    history_windows.history_windows(data_dir, 'darkroom', 8, context_length=601)


def test_the_shuffle_buffer_is_capped_by_its_memory():
  darkroom, watermaze = ad_tf.envs.get_spec('darkroom'), ad_tf.envs.get_spec('watermaze')
  # A Watermaze window of 100 decoded frames is ~2 MB: 1 GiB holds ~500 of them, not 4,096.
  assert 100 * 72 * 96 * 3 < history_windows.window_bytes(watermaze, 100) < 1.01 * 100 * 20736
  capped = history_windows.shuffle_buffer_windows(watermaze, 100, 4096, 2**30)
  assert capped == 2**30 // history_windows.window_bytes(watermaze, 100) and 500 < capped < 520
  # Dark Room's tiny windows never reach the cap; a cap below one window still keeps one.
  assert history_windows.shuffle_buffer_windows(darkroom, 80, 4096, 2**30) == 4096
  assert history_windows.shuffle_buffer_windows(watermaze, 100, 4096, 1000) == 1


def test_a_group_deals_each_history_its_windows_in_a_seeded_random_order(data_dir):
  builder = history_windows.load_builder(data_dir, 'darkroom')
  histories = history_windows.shuffled_histories(builder, 0, cycle_length=2)
  group = next(iter(histories.map(
      lambda h: history_windows.history_step_inputs(h, ad_tf.envs.get_spec('darkroom')))
      .batch(4)))
  deal = lambda seed, index: list(tfds.as_numpy(history_windows.group_batches(
      group, index, seed, context_length=50, windows_per_history=6, batch_size=8)))
  batches = deal(0, 0)
  assert len(batches) == 3  # 4 histories x 6 windows = 24 windows, 3 batches of 8.
  # Which history each window is from: its first step's time in the history is its start.
  actions = group['action'].numpy()
  sources = []
  for batch in batches:
    assert batch['action'].shape == (8, 50) and batch['observation'].shape == (8, 50, 2)
    for window in batch['action']:
      matches = [h for h in range(4) if any(np.array_equal(window, actions[h, s:s + 50])
                                            for s in range(actions.shape[1] - 49))]
      sources.append(matches[0])
  assert sorted(sources) == sorted(list(range(4)) * 6)  # Every history gives its 6 windows,
  assert sources != sorted(sources)                      # dealt in a random order;
  same = deal(0, 0)
  for a, b in zip(batches, same):
    np.testing.assert_array_equal(a['action'], b['action'])  # the same for a seed and read,
  assert any(not np.array_equal(a['action'], b['action'])  # another for another read.
             for a, b in zip(batches, deal(0, 1)))


def test_a_group_smaller_than_a_batch_is_one_clear_error(data_dir):
  with pytest.raises(history_windows.DatasetError, match='less than one batch'):
    history_windows.history_windows(data_dir, 'darkroom', 64, histories_per_group=2,
                                    windows_per_history=16)

