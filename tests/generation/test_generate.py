"""`ad_tf.bin.generate` end to end: RLDS in TFDS, determinism, kill -9 and resume, shards, errors."""

import functools
import glob
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow_datasets as tfds

import ad_tf  # pylint: disable=unused-import  (registers ad_histories)
import ad_tf.envs
from ad_tf import experiment
from ad_tf.generation import generate
from ad_tf.sources import ppo
from tests.tiny_runs import REPO
from tests.tiny_runs import TINY_GIN as TINY


def run_generate(root_dir, *bindings, extra_flags=(), wait=True):
  command = [sys.executable, '-m', 'ad_tf.bin.generate', f'--root_dir={root_dir}',
             f'--gin_file={TINY}', *extra_flags] + [f'--gin_bindings={b}' for b in bindings]
  if not wait:
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
  return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)


def shard_bytes(root_dir, config='darkroom'):
  paths = sorted(glob.glob(os.path.join(experiment.dataset_dir(root_dir, config),
                                        'ad_histories-train.tfrecord-*')))
  return [open(p, 'rb').read() for p in paths]


def load_episodes(root_dir, config='darkroom'):
  ds = tfds.load(f'ad_histories/{config}', data_dir=os.path.join(root_dir, 'tfds'),
                 split='train')
  return list(tfds.as_numpy(ds.map(lambda e: {**e, 'steps': e['steps'].batch(1000).get_single_element()})))


@pytest.fixture
def reference(tiny_generation):
  """The session's one uninterrupted run of the tiny config (with its expert dataset, 4 episodes
  per history, written in the same pass) that several tests compare against."""
  return tiny_generation


def test_dataset_reads_back_with_tfds_load_as_rlds(reference):
  root, result = reference
  assert 'env steps/s' in result.stderr and 'ETA' in result.stderr
  episodes = load_episodes(root)
  assert len(episodes) == 4 * 4 * 30  # tasks x actors x episodes.
  builder = tfds.builder_from_directory(experiment.dataset_dir(root, 'darkroom'))
  assert builder.info.splits['train'].num_examples == len(episodes)
  info = tfds.builder('ad_histories/darkroom', data_dir=os.path.join(root, 'tfds')).info
  assert 'ppo' in info.description and '16 histories' in info.description
  assert info.metadata['generation']['num_tasks'] == 4
  train_goals = {tuple(t['goal']) for t in
                 ad_tf.envs.get_family('darkroom').split_tasks('train')}
  for episode in episodes:
    steps = episode['steps']
    assert len(steps['action']) == 21
    assert steps['is_first'].tolist() == [True] + [False] * 20
    assert steps['is_last'].tolist() == [False] * 20 + [True]
    assert not steps['is_terminal'].any() and (steps['discount'] == 1).all()
    assert steps['observation'][0].tolist() == [4, 4]
    goal = tuple(episode['task']['goal'])
    assert goal in train_goals
    on_goal = np.all(steps['observation'][1:] == goal, axis=-1)
    np.testing.assert_array_equal(steps['reward'][:-1], on_goal)  # Reward a_t earned at t.
    assert episode['source'] == b'ppo'
    assert episode['history_id'] == episode['task_index'] * 4 + episode['actor']
  # Each history is complete and in order.
  per_history = {}
  for episode in episodes:
    per_history.setdefault(episode['history_id'], []).append(episode['episode_index'])
  assert sorted(per_history) == list(range(16))
  assert all(v == list(range(30)) for v in per_history.values())


def test_same_seed_same_bytes_and_resume_after_kill_9(reference, tmp_path):
  root = str(tmp_path)
  process = run_generate(root, 'generate.num_tasks=4', wait=False)
  records = os.path.join(experiment.dataset_dir(root, 'darkroom'), 'shard_records')
  deadline = time.time() + 300
  while time.time() < deadline and len(glob.glob(os.path.join(records, '*.json'))) < 1:
    time.sleep(0.05)
  process.send_signal(signal.SIGKILL)
  process.wait()
  written = len(glob.glob(os.path.join(records, '*.json')))
  assert 1 <= written < 4, 'the kill should land mid-run'
  result = run_generate(root)
  assert result.returncode == 0, result.stderr
  assert f'({written} already done)' in result.stderr
  assert shard_bytes(root) == shard_bytes(reference[0])
  version_dir = experiment.dataset_dir(root, 'darkroom')
  assert not glob.glob(os.path.join(version_dir, '*.tmp*'))
  assert not glob.glob(os.path.join(version_dir, '*', '*.tmp*'))


def test_task_shards_in_separate_processes_read_back_as_one(reference, tmp_path):
  root = str(tmp_path)
  first = run_generate(root, extra_flags=['--task_shard=0', '--num_task_shards=2'])
  assert first.returncode == 0 and 'This shard is done' in first.stderr
  with pytest.raises(Exception):  # Not loadable until every shard exists.
    load_episodes(root)
  second = run_generate(root, extra_flags=['--task_shard=1', '--num_task_shards=2'])
  assert second.returncode == 0 and 'complete' in second.stderr
  assert shard_bytes(root) == shard_bytes(reference[0])
  assert len(load_episodes(root)) == 4 * 4 * 30


def test_task_shards_running_at_once_write_one_dataset(reference, tmp_path):
  """Two --task_shard processes started together: both claim the dataset, write their shards
  and finalize without tripping over each other's temporary files."""
  root = str(tmp_path)
  bindings = ['generate.with_expert=True', 'generate.expert_episodes=4']
  processes = [run_generate(root, *bindings, wait=False,
                            extra_flags=[f'--task_shard={i}', '--num_task_shards=2'])
               for i in range(2)]
  outputs = [p.communicate(timeout=600)[0].decode() for p in processes]
  assert [p.returncode for p in processes] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
  for config in ('darkroom', 'darkroom_expert'):
    assert shard_bytes(root, config) == shard_bytes(reference[0], config)
    assert not glob.glob(os.path.join(experiment.dataset_dir(root, config), '*.tmp*'))
  assert len(load_episodes(root)) == 4 * 4 * 30


def test_expert_config_and_subsampling(tmp_path):
  root = str(tmp_path)
  result = run_generate(root, 'generate.expert=True', 'generate.expert_episodes=6',
                        'generate.subsample_every=2', 'generate.num_tasks=2')
  assert result.returncode == 0, result.stderr
  episodes = load_episodes(root, 'darkroom_expert')
  assert len(episodes) == 2 * 4 * 3
  assert sorted({int(e['source_episode']) for e in episodes}) == [24, 26, 28]
  assert sorted({int(e['episode_index']) for e in episodes}) == [0, 1, 2]


def test_with_expert_writes_both_datasets_in_one_pass(reference, tmp_path):
  one_pass, result = reference  # generate.with_expert=True, generate.expert_episodes=4.
  assert result.stderr.count('task 4/4 done') == 1  # The source ran once per task.
  assert len(load_episodes(one_pass, 'darkroom_expert')) == 4 * 4 * 4
  # Each dataset is byte for byte what a separate run writes (the plain one: see the kill -9 test,
  # whose plain run is compared with this run's darkroom shards).
  separate = str(tmp_path / 'separate')
  assert run_generate(separate, 'generate.expert=True', 'generate.expert_episodes=4').returncode == 0
  assert shard_bytes(one_pass, 'darkroom_expert') == shard_bytes(separate, 'darkroom_expert')
  # Re-running finds both datasets complete and runs nothing.
  again = run_generate(one_pass, 'generate.with_expert=True', 'generate.expert_episodes=4')
  assert again.returncode == 0 and again.stderr.count('already complete') == 2


@pytest.mark.parametrize('bindings, flags, message', [
    (['generate.env_name="darkroomm"'], [], "Unknown env_name 'darkroomm'"),
    (['generate.no_such_argument=3'], [], 'bad gin configuration'),
    ([], ['--task_shard=2', '--num_task_shards=2'], 'must be in 0..1'),
])
def test_bad_input_is_one_clear_error_before_any_work(tmp_path, bindings, flags, message):
  result = run_generate(str(tmp_path), *bindings, extra_flags=flags)
  assert result.returncode != 0
  assert message in result.stderr
  assert not glob.glob(os.path.join(str(tmp_path), 'tfds', '**', '*.tfrecord*'), recursive=True)


def test_unwritable_root_dir_is_one_clear_error(tmp_path):
  blocker = tmp_path / 'file'
  blocker.write_text('not a directory')
  result = run_generate(str(blocker / 'root'))
  assert result.returncode != 0 and 'is not writable' in result.stderr


def test_existing_dataset_with_another_config_is_refused(reference, tmp_path):
  result = run_generate(reference[0], 'generate.seed=1')
  assert result.returncode != 0
  assert 'made with a different configuration (differs in: seed)' in result.stderr


def test_a_dataset_made_under_older_dynamics_is_refused(tmp_path):
  """Watermaze's platform now holds the agent (revision 2): a dataset claimed without that
  revision was made under the old dynamics and is refused; families never revised record none."""
  settings = dict(num_tasks=2, seed=0, subsample_every=1, expert=False, expert_episodes=1,
                  with_expert=False,
                  source_factory=functools.partial(ppo.PpoSource, num_actors=1, num_iterations=2))
  plan = generate.GenerationPlan(str(tmp_path / 'wm'), env_name='watermaze', **settings)
  path = os.path.join(plan.version_dir, 'generation.json')
  with open(path) as f:
    claim = json.load(f)
  assert claim['env_revision'] == ad_tf.envs.get_family('watermaze').revision == 2
  del claim['env_revision']
  with open(path, 'w') as f:
    json.dump(claim, f)
  with pytest.raises(generate.GenerationError, match=r'differs in: env_revision'):
    generate.GenerationPlan(str(tmp_path / 'wm'), env_name='watermaze', **settings)
  darkroom = generate.GenerationPlan(str(tmp_path / 'dr'), env_name='darkroom', **settings)
  with open(os.path.join(darkroom.version_dir, 'generation.json')) as f:
    assert 'env_revision' not in json.load(f)
