"""Across-episode training windows cut from `ad_histories/<config>` with tf.data.

Each shard holds one task's histories, contiguous and in episode order (as `ad_tf.generation`
writes them), so a shard's consecutive RLDS episodes are regrouped into whole learning histories
with a plain `batch`, one history in memory at a time; the order is checked, not assumed. The
shards are read in a seeded random order, reshuffled every pass, `cycle_length` at a time with
their histories interleaved, so every part of training (and a short run such as ED's) sees tasks
from the whole dataset, not the first shards in file order. Each history becomes one step
sequence (the last RLDS step of every episode, the final observation, is not a decision and is
dropped) with its step inputs (`model.step_tokens`). Random windows of `context_length` steps are
cut from it: stateless random starts keyed by (seed, history read), so the stream is the same
for a seed on every run. Windows are shuffled, batched to the global batch size and prefetched.

Image frames are stored PNG-encoded; each history's frames are decoded once, before its windows
are cut (a window of 100 steps from a 500-step history would otherwise decode each frame ~6x per
pass). Decoded windows are large (100 Watermaze frames are 2 MB), so the shuffle buffer is capped
by `max_shuffle_buffer_bytes`, not only by its number of windows; or, with `histories_per_group`,
batches are drawn from groups of decoded histories with no buffer of windows at all.
"""

import os
from typing import Dict, Tuple

from absl import logging
import gin
import rlds
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow_datasets.core import example_parser

import ad_tf  # pylint: disable=unused-import  (registers ad_histories)
import ad_tf.envs
from ad_tf import experiment
from ad_tf.envs import specs
from ad_tf.generation import rlds_episodes
from ad_tf.generation import sharded_writer
from ad_tf.model import step_tokens


class DatasetError(ValueError):
  """The dataset is missing or does not fit the training configuration."""


def damaged_dataset_message(data_dir: str, config_name: str, damaged=(), error=None) -> str:
  """What to say when `ad_histories/<config_name>` has damaged shards (`damaged`: their
  problems, found against the records generation wrote) or reading it hit a bad record
  (`error`), and how to repair it."""
  damaged = list(damaged) or sharded_writer.damaged_shards(
      os.path.join(data_dir, 'ad_histories', config_name, experiment.DATASET_VERSION))
  if damaged:
    what = '; '.join(damaged[:3]) + (f' (and {len(damaged) - 3} more)' if len(damaged) > 3 else '')
  else:
    what = f'a shard is damaged ({error.message.strip() if error else "unknown"})'
  return (f'ad_histories/{config_name} cannot be read: {what}. Re-run python -m '
          'ad_tf.bin.generate with the root_dir and gin file that made it: it generates only '
          'the damaged shards again; then re-run this command (it resumes).')


def check_intact(data_dir: str, config_name: str) -> None:
  """Raises DatasetError if a shard of the dataset differs from what generation wrote (size and
  SHA-256 against its record): TFRecord readers do not check the CRC of a record's data, so a
  changed byte would otherwise be read as data."""
  damaged = sharded_writer.damaged_shards(
      os.path.join(data_dir, 'ad_histories', config_name, experiment.DATASET_VERSION))
  if damaged:
    raise DatasetError(damaged_dataset_message(data_dir, config_name, damaged))


def load_builder(data_dir: str, config_name: str) -> tfds.core.DatasetBuilder:
  """The prepared `ad_histories/<config_name>` builder, or one clear DatasetError."""
  version_dir = os.path.join(data_dir, 'ad_histories', config_name)
  if not tf.io.gfile.glob(os.path.join(version_dir, '*', 'dataset_info.json')):
    raise DatasetError(
        f'No complete ad_histories/{config_name} dataset under {data_dir}. Generate it first: '
        f'python -m ad_tf.bin.generate --root_dir=ROOT --gin_file=gin/<env>.gin (data_dir is '
        'ROOT/tfds).')
  return tfds.builder(f'ad_histories/{config_name}', data_dir=data_dir)


def history_shape(builder: tfds.core.DatasetBuilder) -> Tuple[str, int, int]:
  """(env_name, number of histories, episodes per history) from the generation record."""
  generation = builder.info.metadata['generation']
  num_episodes = builder.info.splits['train'].num_examples
  source = generation['source_hyperparameters']
  num_histories = generation['num_tasks'] * source.get('num_actors', 1)
  if num_episodes % num_histories:
    raise DatasetError(f'{builder.data_dir}: {num_episodes} episodes do not split into '
                       f'{num_histories} equal histories; the dataset is not one ad_tf wrote.')
  return generation['env_name'], num_histories, num_episodes // num_histories


def training_steps(episode) -> Dict[str, tf.Tensor]:
  """One RLDS episode (its `steps` a dict of step tensors) -> the steps training reads.

  Every step but the final one: RLDS ends an episode with an is_last step that holds the final
  observation and no action the source took, so it is not a target. The one home of that rule
  (benchmarks.source_entropy reads the dataset through it too).
  """
  steps = episode[rlds.STEPS]
  return {'observation': steps[rlds.OBSERVATION][:-1], 'action': steps[rlds.ACTION][:-1],
          'reward': steps[rlds.REWARD][:-1],
          'action_probs': steps[rlds_episodes.ACTION_PROBS][:-1],
          'history_id': episode['history_id'],
          'episode_index': episode['episode_index']}


def history_step_inputs(history: Dict[str, tf.Tensor],
                        env_spec: specs.EnvSpec) -> Dict[str, tf.Tensor]:
  """Episodes [E, L, ...] of one history -> step inputs and targets over its E * L steps."""
  episodes, length = tf.shape(history['action'])[0], tf.shape(history['action'])[1]
  flat = lambda x: tf.reshape(x, tf.concat([[episodes * length], tf.shape(x)[2:]], 0))
  action, reward = flat(history['action']), flat(history['reward'])
  return {
      'observation': flat(history['observation']),
      'time': tf.tile(tf.range(length), [episodes]),
      'prev_action': tf.concat([[step_tokens.none_action(env_spec)], action[:-1]], 0),
      'prev_reward': tf.concat([[0.0], reward[:-1]], 0),
      'action': action,
      'action_probs': flat(history['action_probs']),
  }


def decoded_history_steps(history: Dict[str, tf.Tensor],
                          env_spec: specs.EnvSpec) -> Dict[str, tf.Tensor]:
  """`history_step_inputs` with frames decoded (once per history, before windows are cut)."""
  steps = history_step_inputs(history, env_spec)
  if env_spec.observation.kind == specs.IMAGE:
    steps['observation'] = decode_frames(steps['observation'], env_spec.observation)
  return steps


def shuffled_histories(builder: tfds.core.DatasetBuilder, seed: int,
                       cycle_length: int) -> tf.data.Dataset:
  """Every history of the dataset, endlessly: shards in a new seeded order on every pass,
  `cycle_length` shards read at a time with their histories interleaved.

  Elements are one history each: `training_steps` fields with a leading episode axis.
  """
  _, _, episodes_per_history = history_shape(builder)
  # Parsed with TFDS's own parser straight into step tensors (cheaper than materialising every
  # episode's `steps` as a nested tf.data.Dataset).
  parser = example_parser.ExampleParser(builder.info.features.get_serialized_info())
  files = [os.fspath(path) for path in builder.info.splits['train'].filepaths]

  def read_shard(path):
    episodes = tf.data.TFRecordDataset(path).map(
        lambda serialized: training_steps(parser.parse_example(serialized)))
    return episodes.batch(episodes_per_history, drop_remainder=True)

  def check_order(history):
    ids, index = history['history_id'], history['episode_index']
    checks = [
        tf.debugging.assert_equal(ids, ids[0], message='ad_histories: a history is not '
                                  'contiguous; the dataset was not written by ad_tf.'),
        tf.debugging.assert_equal(index, tf.range(episodes_per_history, dtype=index.dtype),
                                  message='ad_histories: episodes out of order in a history.')]
    with tf.control_dependencies(checks):
      return {k: tf.identity(v) for k, v in history.items()}

  shards = (tf.data.Dataset.from_tensor_slices(files)
            .shuffle(len(files), seed=seed, reshuffle_each_iteration=True).repeat())
  return shards.interleave(read_shard, cycle_length=min(cycle_length, len(files)),
                           num_parallel_calls=tf.data.AUTOTUNE,
                           deterministic=True).map(check_order)


@gin.configurable
def history_windows(
    data_dir: str,
    config_name: str,
    global_batch_size: int,
    # Data
    context_length: int = 80,
    windows_per_history: int = 32,
    shuffle_buffer: int = 4096,
    max_shuffle_buffer_bytes: int = 2**30,
    histories_per_group: int = 0,
    cycle_length: int = 16,
    seed: int = 0) -> tf.data.Dataset:
  """An endless dataset of (step inputs, targets) batches of shape [batch, context].

  Targets are the source's action `action` [batch, context] and the distribution it was drawn
  from, `action_probs` [batch, context, num_actions].

  Args:
    data_dir: the TFDS data_dir (root_dir/tfds).
    config_name: 'darkroom', 'darkroom_expert', ...
    global_batch_size: windows per batch, over all replicas.
    context_length: steps per window (the paper needs 2-4 episodes).
    windows_per_history: windows cut from each history per pass over the data.
    shuffle_buffer: windows in the shuffle buffer, at most as many as fit in
      `max_shuffle_buffer_bytes` (`shuffle_buffer_windows`).
    max_shuffle_buffer_bytes: memory the shuffle buffer may hold (1 GiB: 4,096 Dark Room windows
      are ~16 MB; Watermaze's decoded windows of 100 frames cap it at ~500).
    histories_per_group: 0 for the shuffle buffer of windows; K > 0 to draw each batch instead
      from a group of K consecutive histories read (`group_batches`), for large observations
      such as decoded frames, where a buffer of windows costs more than the decoding.
    cycle_length: shards (tasks) read at a time, their histories interleaved.
    seed: window starts and shuffling.
  """
  builder = load_builder(data_dir, config_name)
  check_intact(data_dir, config_name)
  env_name, _, episodes_per_history = history_shape(builder)
  env_spec = ad_tf.envs.get_spec(env_name)
  if context_length > episodes_per_history * env_spec.episode_length:
    raise DatasetError(f'context_length={context_length} is longer than a whole history of '
                       f'ad_histories/{config_name} ({episodes_per_history} episodes of '
                       f'{env_spec.episode_length} steps).')

  def cut_windows(read_index, steps):
    num_steps = tf.shape(steps['action'])[0]
    starts = tf.random.stateless_uniform(
        [windows_per_history], seed=tf.stack([seed, read_index]),
        maxval=num_steps - context_length + 1, dtype=tf.int32)
    index = starts[:, None] + tf.range(context_length)[None]
    windows = {k: tf.gather(v, index) for k, v in steps.items()}
    return tf.data.Dataset.from_tensor_slices(windows)

  def inputs_and_targets(w):
    return ({k: w[k] for k in step_tokens.STEP_INPUT_KEYS},
            {k: w[k] for k in ('action', 'action_probs')})

  steps = shuffled_histories(builder, seed, cycle_length).map(
      lambda history: decoded_history_steps(history, env_spec),
      num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  if histories_per_group:
    if histories_per_group * windows_per_history < global_batch_size:
      raise DatasetError(
          f'history_windows.histories_per_group={histories_per_group} x windows_per_history='
          f'{windows_per_history} windows make less than one batch of {global_batch_size}; '
          'raise either, or set histories_per_group=0 (a shuffle buffer of windows).')
    batches = (steps.batch(histories_per_group, drop_remainder=True).enumerate()
               .flat_map(lambda i, group: group_batches(
                   group, tf.cast(i, tf.int32), seed, context_length, windows_per_history,
                   global_batch_size)))
  else:
    buffer = shuffle_buffer_windows(env_spec, context_length, shuffle_buffer,
                                    max_shuffle_buffer_bytes)
    batches = (steps.enumerate()
               .flat_map(lambda i, history: cut_windows(tf.cast(i, tf.int32), history))
               .shuffle(buffer, seed=seed)
               .batch(global_batch_size, drop_remainder=True))
  return (batches.map(inputs_and_targets, num_parallel_calls=tf.data.AUTOTUNE,
                      deterministic=True)
          .prefetch(tf.data.AUTOTUNE))


def group_batches(group: Dict[str, tf.Tensor], group_index: tf.Tensor, seed: int,
                  context_length: int, windows_per_history: int,
                  batch_size: int) -> tf.data.Dataset:
  """Batches of windows from one group of histories (step inputs [K, T, ...]).

  Every history of the group gives `windows_per_history` windows at stateless random starts
  keyed by (seed, group read); the K * windows_per_history windows are dealt to batches in a
  random order (the remainder short of a batch is dropped), each batch gathered straight from
  the group's tensors. No window is ever an element of its own, so no buffer of decoded windows
  is kept or copied: a window-shuffle buffer of Watermaze frames costs ~4x the decoding
  (107 against 27 ms per batch of 32 windows of 100 frames, 2026-12-03).
  """
  num_histories = tf.shape(group['action'])[0]
  num_steps = tf.shape(group['action'])[1]
  num_windows = num_histories * windows_per_history
  key = tf.stack([seed, group_index])
  starts = tf.random.stateless_uniform([num_windows], seed=key,
                                       maxval=num_steps - context_length + 1, dtype=tf.int32)
  order = tf.argsort(tf.random.stateless_uniform([num_windows], seed=key + [0, 2**30]))
  which = tf.gather(tf.repeat(tf.range(num_histories), windows_per_history), order)
  num_batches = num_windows // batch_size
  which = tf.reshape(which[:num_batches * batch_size], [num_batches, batch_size])
  starts = tf.reshape(starts[:num_batches * batch_size], [num_batches, batch_size])

  def gather_batch(history, start):
    time_index = start[:, None] + tf.range(context_length)[None]  # [B, C]
    index = tf.stack([tf.broadcast_to(history[:, None], tf.shape(time_index)), time_index], -1)
    return {k: tf.gather_nd(v, index) for k, v in group.items()}

  return tf.data.Dataset.from_tensor_slices((which, starts)).map(gather_batch)


def window_bytes(env_spec: specs.EnvSpec, context_length: int) -> int:
  """Memory of one decoded training window: its step inputs and targets."""
  per_step = sum(spec.shape.num_elements() * spec.dtype.size
                 for spec in step_tokens.step_input_specs(env_spec).values())
  per_step += 8 + 4 * env_spec.num_actions  # action (int64) and action_probs (float32)
  return context_length * per_step


def shuffle_buffer_windows(env_spec: specs.EnvSpec, context_length: int, shuffle_buffer: int,
                           max_shuffle_buffer_bytes: int) -> int:
  """The shuffle buffer in windows: `shuffle_buffer`, or fewer if that many windows would need
  more than `max_shuffle_buffer_bytes` (logged, as it mixes fewer histories per batch)."""
  size = window_bytes(env_spec, context_length)
  fitting = max(1, max_shuffle_buffer_bytes // size)
  if fitting < shuffle_buffer:
    logging.info('history_windows: shuffle buffer of %d windows, not %d: %d windows of %.1f MB '
                 'fit in max_shuffle_buffer_bytes=%d.', fitting, shuffle_buffer, fitting,
                 size / 2**20, max_shuffle_buffer_bytes)
  return min(shuffle_buffer, fitting)


def decode_frames(encoded: tf.Tensor, observation: specs.ObservationSpec) -> tf.Tensor:
  """PNG frames [...] (tf.string, as an `Image` feature stores them) -> uint8 [..., H, W, C]."""
  flat = tf.reshape(encoded, [-1])
  frames = tf.map_fn(lambda png: tf.io.decode_png(png, channels=observation.shape[-1]), flat,
                     fn_output_signature=tf.TensorSpec(observation.shape, tf.uint8))
  return tf.reshape(frames, tf.concat([tf.shape(encoded), observation.shape], 0))
