"""A shard damaged after it was written (truncated, or bytes changed in place) is found on resume
and on read: the error names the file and what to do, and re-running generate re-creates only
the damaged shards, byte for byte."""

import os
import shutil

from ad_tf import experiment
from tests.tiny_runs import run_binary

GENERATE = ('generate.with_expert=True', 'generate.expert_episodes=4')


def copy_of(dataset_root, path):
  shutil.copytree(os.path.join(dataset_root, 'tfds'), os.path.join(path, 'tfds'))
  return str(path)


def shard(root, index, config='darkroom'):
  return os.path.join(experiment.dataset_dir(root, config),
                      f'ad_histories-train.tfrecord-{index:05d}-of-00004')


def test_generate_regenerates_only_damaged_shards(tiny_dataset_root, tmp_path):
  root = copy_of(tiny_dataset_root, tmp_path / 'root')
  original = {i: open(shard(root, i), 'rb').read() for i in range(4)}
  with open(shard(root, 1), 'r+b') as f:  # Truncated, e.g. by a partial copy.
    f.truncate(len(original[1]) // 2)
  flipped = bytearray(original[2])  # Same size, one byte changed.
  flipped[len(flipped) // 2] ^= 0xFF
  with open(shard(root, 2), 'wb') as f:
    f.write(flipped)
  untouched = {i: os.stat(shard(root, i)).st_mtime_ns for i in (0, 3)}
  result = run_binary('generate', root, *GENERATE)
  assert result.returncode == 0, result.stderr[-3000:]
  assert f'{shard(root, 1)} has {len(original[1]) // 2} bytes but was written with' in result.stderr
  assert f'{shard(root, 2)} is corrupt' in result.stderr
  assert 'darkroom: 2 of 4 tasks to generate here' in result.stderr
  for i in range(4):
    assert open(shard(root, i), 'rb').read() == original[i]
  assert {i: os.stat(shard(root, i)).st_mtime_ns for i in (0, 3)} == untouched
  assert os.path.exists(os.path.join(experiment.dataset_dir(root, 'darkroom'),
                                     'dataset_info.json'))
  again = run_binary('generate', root, *GENERATE)  # Now whole: nothing to do.
  assert again.returncode == 0 and 'already complete' in again.stderr
  assert 'removed' not in again.stderr


def test_training_on_a_damaged_shard_names_it_and_the_repair(tiny_dataset_root, tmp_path):
  root = copy_of(tiny_dataset_root, tmp_path / 'root')
  data = bytearray(open(shard(root, 0), 'rb').read())
  data[100] ^= 0xFF  # Inside the first record; TFRecord readers do not check its data CRC.
  with open(shard(root, 0), 'wb') as f:
    f.write(data)
  result = run_binary('train', root, 'train.num_steps=4')
  assert result.returncode != 0 and 'Traceback' not in result.stderr
  message = result.stderr.strip().splitlines()[-1]
  assert message.startswith('error: ad_histories/darkroom cannot be read: ')
  assert f'{shard(root, 0)} is corrupt' in message
  assert 'python -m ad_tf.bin.generate' in message and 'only the damaged shards' in message
