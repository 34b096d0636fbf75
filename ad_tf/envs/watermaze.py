"""Watermaze (AD paper, section 4.1; DMLab's rooms_watermaze), built here: DMLab has no wheel.

A circular arena of radius 1 seen first person: RGB frames of 72x96x3 (uint8), 8 actions
(`ACTIONS`), 50-step episodes that start at the centre facing east (+x). A hidden platform, a
disc of radius `PLATFORM_RADIUS` somewhere in the arena, is the task. As in DMLab, the platform
holds an agent that reaches it: DMLab's level (game_scripts/factories/rooms/
navigate_watermaze_factory.lua, `playerMover`) sets the agent's position to the platform's and
cancels its velocity. Here a step that ends on the platform puts the agent at its centre, and
since a move (`STEP`) is shorter than the platform's radius, every later move ends on it again:
the agent stays there, free to turn, for the rest of the episode. Every step that ends on the
platform pays 1 (as Dark Room's goal does), so the return counts the steps after the platform
was found. (DMLab pays 5 such rewards and then restarts the map in a 120-second episode; the
paper's 50-step episodes that reset at the centre leave no room for that.) The walls carry the
landmarks: 8 sectors of distinct colours, each with darker vertical stripes, so the agent can
tell where it is and which way it faces.

Choices against the paper (which gives the frame size, the actions and the episode length):
  * moves are `STEP` = 0.1 (10 steps from the centre to the wall), turns `TURN` = 30 degrees,
    the agent's body has radius `AGENT_RADIUS` and a move that would cross the wall is not made;
  * platform centres lie within `MAX_PLATFORM_DISTANCE` = 0.7 of the centre and at least
    `MIN_PLATFORM_DISTANCE` = 0.3 from it, so the platform is never under the start and a
    straight walk reaches the farthest one in 6 steps, well within 50;
  * the start heading is fixed, so a path of actions always leads to the same place; the
    landmarks still decide where that is;
  * the oracle return is an upper bound from the geometry (`oracle_return`): the agent walks
    straight onto the platform's edge in ceil((distance - radius) / STEP) steps and stays. With
    30-degree turns a real path can need one step more.

Held-out tasks: the arena is cut into `CELL` x `CELL` squares and a quarter of them, chosen by the
same salted hash as the finite families' splits, are the test split; a task belongs to the split
of the square holding its platform's centre, so train and test platforms are disjoint regions
scattered over the arena.

The renderer (`render_np`, `render_tf`) casts one ray per image column against the circular
wall, in float64 in both, so the PyEnvironment and the batched TF twin agree pixel for pixel.
"""

from typing import List

import numpy as np
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from ad_tf.envs import batched_environment
from ad_tf.envs import counter_random
from ad_tf.envs import family
from ad_tf.envs import specs

HEIGHT, WIDTH, CHANNELS = 72, 96, 3
EPISODE_LENGTH = 50
ACTIONS = ('forward', 'backward', 'strafe_left', 'strafe_right', 'rotate_left', 'rotate_right',
           'rotate_left_forward', 'rotate_right_forward')
NUM_ACTIONS = len(ACTIONS)
ACTIONS_HELP = ', '.join(f'{i} {name}' for i, name in enumerate(ACTIONS))

ARENA_RADIUS = 1.0
AGENT_RADIUS = 0.05
STEP = 0.1
TURN = np.pi / 6
PLATFORM_RADIUS = 0.15
MIN_PLATFORM_DISTANCE = 0.3
MAX_PLATFORM_DISTANCE = 0.7
CELL = 0.1

FIELD_OF_VIEW = np.pi / 3
#: Half the wall's height in pixels at unit perpendicular distance (0.4 of the frame at 1).
WALL_SCALE = 0.2 * HEIGHT
NUM_SECTORS = 8
STRIPES_PER_SECTOR = 4
#: The landmark colours, one per wall sector (counter-clockwise from east).
SECTOR_COLOURS = np.array([[230, 60, 50], [240, 200, 40], [70, 190, 80], [40, 170, 220],
                           [60, 80, 220], [170, 70, 210], [240, 130, 190], [240, 240, 240]],
                          np.float64)
SKY = np.array([30, 30, 40], np.float64)
FLOOR = np.array([150, 120, 90], np.float64)

# Per action: (forward move, leftward move, turn), in STEP and TURN units. A rotate-and-move
# action turns first, then moves along the new heading.
_MOVES = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1],
                   [1, 0, 1], [1, 0, -1]], np.float64)

_SPLIT_SALT = 20221026


#: Cells per side of the square around the arena in a source agent's pose features.
AGENT_CELLS = 20


def env_spec() -> specs.EnvSpec:
  return specs.EnvSpec('watermaze', specs.image(HEIGHT, WIDTH, CHANNELS), NUM_ACTIONS,
                       EPISODE_LENGTH, agent_state=specs.pose(int(ARENA_RADIUS), AGENT_CELLS))


def _ray_angles() -> np.ndarray:
  """Each column's ray angle relative to the heading, left edge first (float64 [WIDTH])."""
  return FIELD_OF_VIEW * (0.5 - (np.arange(WIDTH) + 0.5) / WIDTH)


_ROW_OFFSETS = np.arange(HEIGHT) + 0.5 - HEIGHT / 2  # Down is positive.
_FLOOR_ROWS = FLOOR[None] * (0.35 + 0.65 * np.clip(_ROW_OFFSETS / (HEIGHT / 2), 0, 1))[:, None]


# The renderer, written once over an array module (numpy or a tf shim with the same names), so
# the two implementations are the same formulas in the same order.
def _render(xp, x, y, heading):
  """Frames [B, H, W, 3] uint8 of poses x, y, heading [B] (float64)."""
  angles = heading[:, None] + xp.constant(_ray_angles())[None]  # [B, W]
  dx, dy = xp.cos(angles), xp.sin(angles)
  px, py = x[:, None], y[:, None]
  along = px * dx + py * dy
  # The ray p + t d leaves the disc |.| <= R at t = -p.d + sqrt((p.d)^2 - |p|^2 + R^2) >= 0.
  t = -along + xp.sqrt(along * along - (px * px + py * py) + ARENA_RADIUS ** 2)
  perpendicular = t * xp.cos(angles - heading[:, None])
  half_height = WALL_SCALE / perpendicular  # [B, W]
  hit = xp.atan2(py + t * dy, px + t * dx)  # (-pi, pi]
  position = (hit + np.pi) / (2 * np.pi) * NUM_SECTORS  # [0, NUM_SECTORS]
  sector = xp.mod(xp.floor(position), NUM_SECTORS)
  stripe = xp.mod(xp.floor(position * STRIPES_PER_SECTOR), 2)
  shade = (1.0 - 0.35 * stripe) / (1.0 + 0.4 * t)  # [B, W]
  wall = xp.gather(xp.constant(SECTOR_COLOURS), sector) * shade[..., None]  # [B, W, 3]
  rows = xp.constant(_ROW_OFFSETS)[None, :, None]  # [1, H, 1]
  is_wall = xp.abs(rows) < half_height[:, None, :]  # [B, H, W]
  background = xp.where(rows[..., None] < 0, xp.constant(SKY)[None, None, None],
                        xp.constant(_FLOOR_ROWS)[None, :, None])  # [1, H, 1, 3]
  frame = xp.where(is_wall[..., None], wall[:, None], background)
  return xp.to_uint8(xp.floor(xp.clip(frame, 0.0, 255.0) + 0.5))


class _Numpy:
  constant = staticmethod(lambda v: np.asarray(v, np.float64))
  cos, sin, sqrt, floor, abs, where = np.cos, np.sin, np.sqrt, np.floor, np.abs, np.where
  atan2 = staticmethod(np.arctan2)
  mod = staticmethod(np.mod)
  clip = staticmethod(np.clip)
  gather = staticmethod(lambda table, index: table[index.astype(np.int64)])
  to_uint8 = staticmethod(lambda v: v.astype(np.uint8))


class _Tensorflow:
  constant = staticmethod(lambda v: tf.constant(v, tf.float64))
  cos, sin, sqrt, floor, abs, where = tf.cos, tf.sin, tf.sqrt, tf.floor, tf.abs, tf.where
  atan2 = staticmethod(tf.atan2)
  mod = staticmethod(tf.math.floormod)
  clip = staticmethod(tf.clip_by_value)
  gather = staticmethod(lambda table, index: tf.gather(table, tf.cast(index, tf.int64)))
  to_uint8 = staticmethod(lambda v: tf.cast(v, tf.uint8))


def render_np(x, y, heading) -> np.ndarray:
  """Frames [B, 72, 96, 3] uint8 of poses [B] (or one frame from scalars)."""
  x, y, heading = (np.atleast_1d(np.asarray(v, np.float64)) for v in (x, y, heading))
  return _render(_Numpy, x, y, heading)


def render_tf(x, y, heading) -> tf.Tensor:
  """`render_np` in TF ops: frames [B, 72, 96, 3] uint8 of float64 poses [B]."""
  return _render(_Tensorflow, tf.cast(x, tf.float64), tf.cast(y, tf.float64),
                 tf.cast(heading, tf.float64))


def move_np(x, y, heading, action):
  """The pose after `action` (float64 scalars); a move into the wall is not made."""
  forward, left, turn = _MOVES[action]
  heading = heading + turn * TURN
  nx = x + STEP * (forward * np.cos(heading) - left * np.sin(heading))
  ny = y + STEP * (forward * np.sin(heading) + left * np.cos(heading))
  if nx * nx + ny * ny > (ARENA_RADIUS - AGENT_RADIUS) ** 2:
    nx, ny = x, y
  return nx, ny, np.mod(heading, 2 * np.pi)


def move_tf(x, y, heading, action):
  """`move_np` for [B] poses and actions."""
  moves = tf.gather(tf.constant(_MOVES), action)
  forward, left, turn = moves[:, 0], moves[:, 1], moves[:, 2]
  heading = heading + turn * TURN
  nx = x + STEP * (forward * tf.cos(heading) - left * tf.sin(heading))
  ny = y + STEP * (forward * tf.sin(heading) + left * tf.cos(heading))
  blocked = nx * nx + ny * ny > (ARENA_RADIUS - AGENT_RADIUS) ** 2
  return (tf.where(blocked, x, nx), tf.where(blocked, y, ny),
          tf.math.floormod(heading, 2 * np.pi))


def on_platform(x, y, platform) -> bool:
  return (x - platform[0]) ** 2 + (y - platform[1]) ** 2 <= PLATFORM_RADIUS ** 2


def held_np(x, y, platform):
  """(x, y, whether on the platform) after a move: the platform holds an agent that reached it
  at its centre (the module's docstring)."""
  if on_platform(x, y, platform):
    return float(platform[0]), float(platform[1]), True
  return x, y, False


def held_tf(x, y, platform):
  """`held_np` for [B] positions and platforms [B, 2] (float64)."""
  centre_x, centre_y = platform[:, 0], platform[:, 1]
  on = on_platform(x, y, (centre_x, centre_y))
  return tf.where(on, centre_x, x), tf.where(on, centre_y, y), on


class WatermazeEnvironment(family.SpecPyEnvironment):
  """One Watermaze task (a platform centre) as a tf_agents PyEnvironment."""

  def __init__(self, platform):
    super().__init__(env_spec())
    self._platform = np.asarray(platform, np.float64)

  def pose(self):
    return self._x, self._y, self._heading

  def _frame(self):
    return render_np(self._x, self._y, self._heading)[0]

  def _reset(self):
    self._x, self._y, self._heading = 0.0, 0.0, 0.0
    self._t = 0
    return ts.restart(self._frame())

  def _step(self, action):
    action = family.check_action('watermaze', action, NUM_ACTIONS, ACTIONS_HELP)
    x, y, self._heading = move_np(self._x, self._y, self._heading, action)
    self._x, self._y, on = held_np(x, y, self._platform)
    reward = np.float32(on)
    self._t += 1
    if self._t >= EPISODE_LENGTH:
      return ts.truncation(self._frame(), reward)
    return ts.transition(self._frame(), reward)


class BatchedWatermaze(batched_environment.BatchedEnvironment):
  """Watermaze for B platforms at once, in TF ops (float64 poses)."""

  def __init__(self):
    self.spec = env_spec()

  def task_state(self, tasks):
    return {'platform': tf.cast(tasks['platform'], tf.float64)}

  def _start(self, state):
    zeros = tf.zeros([tf.shape(state['platform'])[0]], tf.float64)
    state['x'], state['y'], state['heading'] = zeros, zeros, zeros
    return state

  def _transition(self, state, action):
    x, y, state['heading'] = move_tf(state['x'], state['y'], state['heading'], action)
    state['x'], state['y'], on = held_tf(x, y, state['platform'])
    return state, tf.cast(on, tf.float32)

  def observe(self, state):
    return render_tf(state['x'], state['y'], state['heading'])

  def agent_observe(self, state):
    return tf.stack([state['x'], state['y'], state['heading']], axis=-1)  # float64: exact.


_RENDER_BATCH = 512


@tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float64)])
def _render_batch(poses):
  return render_tf(poses[:, 0], poses[:, 1], poses[:, 2])


def _cell_hash(platform: np.ndarray) -> np.ndarray:
  """The salted hash of the CELL x CELL square holding each platform centre [N, 2]."""
  cells = np.floor((np.asarray(platform, np.float64) + ARENA_RADIUS) / CELL).astype(np.int64)
  index = cells[..., 0] * int(round(2 * ARENA_RADIUS / CELL)) + cells[..., 1]
  return counter_random.hash_np(_SPLIT_SALT, index, 0)


def in_split(platform, split: str) -> np.ndarray:
  """Whether each platform centre [N, 2] lies in a square of `split` (a quarter are 'test')."""
  is_test = _cell_hash(platform) % 4 == 0
  return is_test if split == 'test' else ~is_test


class WatermazeFamily(family.EnvironmentFamily):
  """Watermaze tasks (a continuous platform centre) and both implementations."""

  episode_description = 'one 50-step episode of first-person frames in the circular arena'
  #: 2: the platform holds the agent that reaches it (DMLab's); 1 let it walk off.
  revision = 2

  def __init__(self):
    self.spec = env_spec()
    self.milestones = {'platform found': 1.0}

  def validate_task(self, task):
    if not isinstance(task, dict) or 'platform' not in task:
      raise ValueError(f'watermaze: a task is a dict {{"platform": [x, y]}}, got {task!r}.')
    platform = np.asarray(task['platform'], np.float64)
    distance = float(np.hypot(*platform)) if platform.shape == (2,) else -1.0
    if not MIN_PLATFORM_DISTANCE - 1e-9 <= distance <= MAX_PLATFORM_DISTANCE + 1e-9:
      raise ValueError(f'watermaze: platform {task["platform"]!r} must be [x, y] at a distance '
                       f'in {MIN_PLATFORM_DISTANCE}..{MAX_PLATFORM_DISTANCE} from the centre.')
    return {'platform': platform.astype(np.float32)}

  def oracle_return(self, task) -> float:
    distance = float(np.hypot(*np.asarray(task['platform'], np.float64)))
    steps = max(1, int(np.ceil((distance - PLATFORM_RADIUS) / STEP - 1e-9)))
    return float(EPISODE_LENGTH - steps + 1)

  def sample(self, split: str, num: int, rng: np.random.Generator) -> List[family.Task]:
    tasks = []
    while len(tasks) < num:
      radius = np.sqrt(rng.uniform(MIN_PLATFORM_DISTANCE ** 2, MAX_PLATFORM_DISTANCE ** 2))
      angle = rng.uniform(-np.pi, np.pi)
      platform = np.array([radius * np.cos(angle), radius * np.sin(angle)])
      if in_split(platform[None], split)[0]:
        tasks.append({'platform': platform.astype(np.float32)})
    return tasks

  def observations_of(self, recorded: np.ndarray) -> np.ndarray:
    """Frames [..., 72, 96, 3] of recorded poses [..., 3] (x, y, heading), drawn in batches."""
    poses = np.asarray(recorded, np.float64).reshape(-1, 3)
    frames = [_render_batch(tf.constant(poses[i:i + _RENDER_BATCH])).numpy()
              for i in range(0, len(poses), _RENDER_BATCH)]
    frames = np.concatenate(frames) if frames else np.zeros([0, HEIGHT, WIDTH, CHANNELS], np.uint8)
    return frames.reshape(*np.shape(recorded)[:-1], HEIGHT, WIDTH, CHANNELS)

  def observed_agent_states(self, num, seed):
    """Poses uniform over the disc the agent's centre can reach, at the headings it can face
    (multiples of the 30-degree turn from the start's east), and their frames."""
    position_seed, heading_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    radius_angle = tf.random.stateless_uniform([2, num], position_seed, dtype=tf.float64)
    radius = tf.sqrt(radius_angle[0]) * (ARENA_RADIUS - AGENT_RADIUS)
    angle = (2 * radius_angle[1] - 1) * np.pi
    headings = int(round(2 * np.pi / TURN))
    heading = tf.cast(tf.random.stateless_uniform([num], heading_seed, 0, headings, tf.int32),
                      tf.float64) * TURN
    poses = tf.stack([radius * tf.cos(angle), radius * tf.sin(angle), heading], axis=-1)
    return {'agent_state': poses, 'observation': _render_batch(poses)}

  def py_environment(self, task, seed):
    del seed  # Deterministic given the task.
    return WatermazeEnvironment(task['platform'])

  def batched(self):
    return BatchedWatermaze()
