"""Watermaze: geometry by hand-worked cases, rewards, the wall, the split, and the TF and Py
twins equal pixel for pixel."""

import numpy as np
import pytest
import tensorflow as tf

import ad_tf.envs
from ad_tf.envs import watermaze

FORWARD, BACKWARD, ROTATE_LEFT = 0, 1, 4


def shaded(colour, t, stripe=0):
  """A wall pixel as the renderer shades it at distance t (rounded to uint8)."""
  return np.floor(np.asarray(colour) * (1 - 0.35 * stripe) / (1 + 0.4 * t) + 0.5)


@pytest.mark.parametrize('heading, sector', [(0.0, 4), (np.pi / 2, 6), (np.pi, 0),
                                             (-np.pi / 2, 2)])
def test_the_centre_columns_show_the_wall_colours_either_side_of_the_heading(heading, sector):
  """From the centre the wall is at distance 1 in every direction. Hit angle phi is in sector
  floor((phi + pi) / (2 pi) * 8), so the compass directions are sector boundaries: column 47 looks
  0.3 degrees left of the heading (east: sector 4, north 6, west 0, south 2), column 48 0.3
  degrees right, into the last (darker, 4 per sector) stripe of the sector before."""
  frame = watermaze.render_np(0.0, 0.0, heading)[0]
  assert frame.shape == (72, 96, 3) and frame.dtype == np.uint8
  left = shaded(watermaze.SECTOR_COLOURS[sector], 1.0)
  right = shaded(watermaze.SECTOR_COLOURS[(sector - 1) % 8], 1.0, stripe=1)
  np.testing.assert_array_equal(frame[36, 47], left)
  np.testing.assert_array_equal(frame[36, 48], right)
  # The wall is 2 x 14.4 rows high at distance 1: rows 22..49 are wall, 0..21 sky, 50.. floor.
  np.testing.assert_array_equal(frame[22, 47], left)
  np.testing.assert_array_equal(frame[49, 47], left)
  np.testing.assert_array_equal(frame[21, 47], watermaze.SKY)
  assert frame[50, 47].tolist() != left.tolist() and frame[50, 47].tolist() != frame[21, 47].tolist()


def test_a_nearer_wall_is_taller_and_brighter():
  far, near = watermaze.render_np(0.0, 0.0, 0.0)[0], watermaze.render_np(0.8, 0.0, 0.0)[0]
  wall_rows = lambda frame: int((frame[:, 47] == frame[36, 47]).all(-1).sum())
  assert wall_rows(far) == 28  # 2 x 14.4 / 1 rows.
  assert wall_rows(near) == 72  # 2 x 14.4 / 0.2 rows: the whole column.
  # At distance 0.2 the same sector's colour is shaded 1 / 1.08 instead of 1 / 1.4.
  np.testing.assert_array_equal(near[36, 47], shaded(watermaze.SECTOR_COLOURS[4], 0.2))


def walk(env, actions, reset=True):
  if reset:
    env.reset()
  return [float(env.step(np.int32(a)).reward) for a in actions]


def test_walking_onto_the_platform_pays_and_the_platform_holds_the_agent_at_its_centre():
  env = watermaze.WatermazeEnvironment([0.4, 0.0])
  # x = 0.1, 0.2 are off the platform (radius 0.15); 0.3 is on it, and DMLab's platform then
  # holds the agent at its centre.
  assert walk(env, [FORWARD, FORWARD, FORWARD]) == [0, 0, 1]
  assert env.pose() == (pytest.approx(0.4), 0.0, 0.0)
  # Every move from the centre (0.1) ends on the platform (radius 0.15): held, and paid, again;
  # turns still turn.
  assert walk(env, [BACKWARD, FORWARD, 2, 3, 6, 7, ROTATE_LEFT], reset=False) == [1] * 7
  x, y, heading = env.pose()
  assert (x, y) == (pytest.approx(0.4), 0.0) and heading == pytest.approx(np.pi / 6)  # +30 -30 +30.


def test_the_twins_hold_the_agent_alike():
  task = {'platform': np.array([0.4, 0.0], np.float32)}
  actions = [FORWARD, FORWARD, FORWARD, BACKWARD, ROTATE_LEFT, 2, FORWARD, 7]
  env = ad_tf.envs.load_batched('watermaze')
  state = env.initial_state(ad_tf.envs.stack_tasks('watermaze', [task]), tf.range(1))
  state, _ = env.reset(state)
  py_env = ad_tf.envs.load('watermaze', task, seed=0)
  py_env.reset()
  for action in actions:
    state, frames, rewards = env.step(state, tf.constant([action], tf.int32))
    step = py_env.step(np.int32(action))
    np.testing.assert_array_equal(step.observation, frames.numpy()[0])
    assert float(step.reward) == float(rewards.numpy()[0])
  assert float(state['x'][0]) == float(np.float32(0.4)) and float(step.reward) == 1.0


def test_the_wall_blocks():
  env = watermaze.WatermazeEnvironment([0.0, 0.5])
  env.reset()
  for _ in range(12):
    env.step(np.int32(FORWARD))
  x, y, _ = env.pose()
  assert x == pytest.approx(0.9) and y == 0.0  # 1.0 would cross the wall (radius 1 - 0.05).


def test_rotations_turn_by_30_degrees_and_rotate_forward_moves_along_the_new_heading():
  x, y, heading = watermaze.move_np(0.0, 0.0, 0.0, ROTATE_LEFT)
  assert (x, y) == (0.0, 0.0) and heading == pytest.approx(np.pi / 6)
  x, y, heading = watermaze.move_np(0.0, 0.0, 0.0, 6)  # rotate_left_forward
  assert (x, y) == pytest.approx((0.1 * np.cos(np.pi / 6), 0.1 * np.sin(np.pi / 6)))


def test_the_oracle_is_reached_by_a_straight_walk():
  family = ad_tf.envs.get_family('watermaze')
  task = family.validate_task({'platform': [0.7, 0.0]})
  assert family.oracle_return(task) == 45.0  # On the platform from step ceil(0.55 / 0.1) = 6.
  env = family.py_environment(task, 0)
  assert sum(walk(env, [FORWARD] * 6 + [ROTATE_LEFT, 5] * 22)) == 45.0


def test_tf_and_py_twins_agree_pixel_for_pixel():
  tasks = ad_tf.envs.sample_tasks('watermaze', 'train', 6, seed=3)
  actions = np.random.default_rng(0).integers(0, 8, (6, 50)).astype(np.int32)
  env = ad_tf.envs.load_batched('watermaze')
  state = env.initial_state(ad_tf.envs.stack_tasks('watermaze', tasks), tf.range(6))
  state, frames = env.reset(state)
  batched_frames, batched_rewards = [frames.numpy()], []
  for t in range(50):
    state, frames, rewards = env.step(state, tf.constant(actions[:, t]))
    batched_frames.append(frames.numpy())
    batched_rewards.append(rewards.numpy())
  for row, task in enumerate(tasks):
    py_env = ad_tf.envs.load('watermaze', task, seed=row)
    step = py_env.reset()
    np.testing.assert_array_equal(step.observation, batched_frames[0][row])
    for t in range(50):
      step = py_env.step(actions[row, t])
      np.testing.assert_array_equal(step.observation, batched_frames[t + 1][row])
      assert float(step.reward) == batched_rewards[t][row]
    assert step.is_last()


def test_splits_are_disjoint_regions_and_sampling_is_deterministic():
  train = ad_tf.envs.sample_tasks('watermaze', 'train', 400, seed=0)
  test = ad_tf.envs.sample_tasks('watermaze', 'test', 400, seed=0)
  train_points = np.stack([t['platform'] for t in train])
  test_points = np.stack([t['platform'] for t in test])
  assert watermaze.in_split(test_points, 'test').all()
  assert not watermaze.in_split(train_points, 'test').any()
  distances = np.hypot(*test_points.T)
  assert (distances >= 0.3 - 1e-6).all() and (distances <= 0.7 + 1e-6).all()
  again = ad_tf.envs.sample_tasks('watermaze', 'test', 400, seed=0)
  np.testing.assert_array_equal(test_points, np.stack([t['platform'] for t in again]))
  # About a quarter of the annulus is held out.
  grid = np.random.default_rng(1).uniform(-0.7, 0.7, (20000, 2))
  grid = grid[(np.hypot(*grid.T) >= 0.3) & (np.hypot(*grid.T) <= 0.7)]
  assert 0.15 < watermaze.in_split(grid, 'test').mean() < 0.35


def test_a_platform_outside_the_annulus_is_one_clear_error():
  with pytest.raises(ValueError, match='distance in 0.3..0.7'):
    ad_tf.envs.load('watermaze', {'platform': [0.9, 0.0]})


def test_recorded_poses_are_drawn_as_the_frames_the_environment_showed():
  env = ad_tf.envs.load_batched('watermaze')
  tasks = ad_tf.envs.stack_tasks('watermaze', ad_tf.envs.sample_tasks('watermaze', 'train', 3, 0))
  state = env.initial_state(tasks, tf.range(3))
  state, frames = env.reset(state)
  poses, shown = [env.agent_observe(state).numpy()], [frames.numpy()]
  actions = np.random.default_rng(2).integers(0, 8, (20, 3)).astype(np.int32)
  for action in actions:
    state, frames, _ = env.step(state, tf.constant(action))
    poses.append(env.agent_observe(state).numpy())
    shown.append(frames.numpy())
  poses, shown = np.stack(poses, axis=1), np.stack(shown, axis=1)  # [B, T, ...]
  assert poses.dtype == np.float64 and poses.shape == (3, 21, 3)
  np.testing.assert_array_equal(ad_tf.envs.get_family('watermaze').observations_of(poses), shown)


def test_other_families_record_their_observations_as_they_are():
  recorded = np.arange(12, dtype=np.int32).reshape(3, 2, 2)
  assert ad_tf.envs.get_family('darkroom').observations_of(recorded) is recorded
