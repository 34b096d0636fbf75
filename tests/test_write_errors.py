"""A write error (a full disk, a file size limit) during generate, train's checkpointing and
export: one clear error line and a non-zero exit, nothing partly written taken as complete, and
the same command, once the limit is lifted, finishes from what was complete.

The failure is real: the binary runs under RLIMIT_FSIZE (`ulimit -f`) with SIGXFSZ ignored, so
the kernel fails the write that would grow a file past the limit with EFBIG, as a full disk fails
one with ENOSPC.
"""

import os
import resource
import signal
import subprocess
import sys

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from ad_tf import experiment
from ad_tf.generation import sharded_writer
from tests.test_kill_9 import trained_copy
from tests.test_kill_9 import assert_same_variables
from tests.tiny_runs import REPO
from tests.tiny_runs import TINY_GIN
from tests.tiny_runs import experiment_root
from tests.tiny_runs import run_binary


def run_with_file_size_limit(limit_bytes, binary, root, *bindings):
  def limit():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG from write() instead of a kill.
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
  return subprocess.run(
      [sys.executable, '-m', f'ad_tf.bin.{binary}', f'--root_dir={root}',
       f'--gin_file={TINY_GIN}'] + [f'--gin_bindings={b}' for b in bindings],
      cwd=REPO, capture_output=True, text=True, timeout=600, preexec_fn=limit)


def assert_one_clear_error(result, path_part):
  assert result.returncode != 0
  last = result.stderr.strip().splitlines()[-1]
  assert last.startswith('error: writing ') and 'File too large' in last, last
  assert path_part in last and 're-run the same command' in last, last
  assert 'Traceback' not in result.stderr


def test_generate_fails_cleanly_and_the_rerun_completes_the_dataset(tmp_path):
  root = str(tmp_path / 'root')
  bindings = ('generate.num_tasks=2', 'PpoSource.tasks_per_call=2')
  failed = run_with_file_size_limit(64 * 1024, 'generate', root, *bindings)  # Shards: ~130 KB.
  assert_one_clear_error(failed, 'ad_histories-train.tfrecord-')
  version_dir = os.path.join(root, 'tfds', 'ad_histories', 'darkroom',
                             experiment.DATASET_VERSION)
  complete = [p for p in tf.io.gfile.glob(os.path.join(version_dir, '*.tfrecord-*'))
              if '.tmp-' not in p]
  assert not complete  # The truncated shard kept its temporary name.
  assert run_binary('generate', root, *bindings).returncode == 0
  assert not tf.io.gfile.glob(os.path.join(version_dir, '*.tmp-*'))  # Cleaned up.
  assert sharded_writer.damaged_shards(version_dir) == []
  episodes = tfds.load('ad_histories/darkroom', split='train',
                       data_dir=os.path.join(root, 'tfds'))
  histories = {}
  for episode in episodes:
    key = (int(episode['task_index']), int(episode['actor']))
    histories.setdefault(key, set()).add(int(episode['episode_index']))
  # 2 tasks x 4 actors, every history whole: its 30 episodes (gin/darkroom_tiny.gin).
  assert sorted(histories) == [(t, a) for t in range(2) for a in range(4)]
  assert all(indices == set(range(30)) for indices in histories.values())


def test_a_failed_checkpoint_is_never_restored_and_the_rerun_equals_an_uninterrupted_run(
    tiny_dataset_root, tiny_export_root, tmp_path):
  root = experiment_root(tiny_dataset_root, tmp_path / 'failed')
  # The session's tiny model trained these 20 steps uninterrupted.
  failed = run_with_file_size_limit(256 * 1024, 'train', root, 'train.num_steps=20')
  assert_one_clear_error(failed, 'checkpoints')  # Checkpoints: ~630 KB.
  assert experiment.latest_checkpoint(root, 'darkroom') is None
  assert run_binary('train', root, 'train.num_steps=20').returncode == 0
  expected = tf.train.load_checkpoint(experiment.latest_checkpoint(tiny_export_root, 'darkroom'))
  actual = tf.train.load_checkpoint(experiment.latest_checkpoint(root, 'darkroom'))
  names = [n for n in expected.get_variable_to_shape_map() if n.startswith('model/')]
  assert names
  for name in names:
    np.testing.assert_array_equal(actual.get_tensor(name), expected.get_tensor(name))


def test_export_fails_cleanly_and_is_never_served_half_written(tiny_export_root, tmp_path):
  root = trained_copy(tiny_export_root, tmp_path / 'failed')
  version = os.path.join(experiment.export_dir(root), '20')
  failed = run_with_file_size_limit(256 * 1024, 'export', root)  # saved_model.pb: ~900 KB.
  assert_one_clear_error(failed, version + '.tmp')
  assert not os.path.exists(version)
  assert run_binary('export', root).returncode == 0
  assert_same_variables(version, os.path.join(experiment.export_dir(tiny_export_root), '20'))
