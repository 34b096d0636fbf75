"""`ad_tf.bin.generate --runner=beam` on a real Beam runner (the portable FnApiRunner with two
worker processes): the same bytes as one process, and a killed run resumed with no shard lost or
written twice."""

import glob
import os
import signal
import subprocess
import sys
import time

from ad_tf import experiment
from tests.generation.test_generate import load_episodes
from tests.generation.test_generate import shard_bytes
from tests.tiny_runs import REPO
from tests.tiny_runs import TINY_GIN

TWO_WORKERS = '--direct_num_workers=2 --direct_running_mode=multi_processing'
# The session's reference dataset is made with these (tests/conftest.py).
REFERENCE_BINDINGS = ['generate.with_expert=True', 'generate.expert_episodes=4']


def beam_command(root_dir, *bindings, options=TWO_WORKERS):
  return [sys.executable, '-m', 'ad_tf.bin.generate', f'--root_dir={root_dir}',
          f'--gin_file={TINY_GIN}', '--runner=beam', f'--beam_pipeline_options={options}'
          ] + [f'--gin_bindings={b}' for b in [*REFERENCE_BINDINGS, *bindings]]


def run_beam(root_dir, *bindings, options=TWO_WORKERS):
  return subprocess.run(beam_command(root_dir, *bindings, options=options), cwd=REPO,
                        capture_output=True, text=True, timeout=600)


def test_beam_dataset_is_byte_identical_to_one_process(tiny_generation, tmp_path):
  result = run_beam(str(tmp_path))
  assert result.returncode == 0, result.stderr[-3000:]
  assert 'on FnApiRunner' in result.stderr and 'Beam: 4/4 tasks done' in result.stderr
  reference = tiny_generation[0]
  for config in ('darkroom', 'darkroom_expert'):
    assert shard_bytes(str(tmp_path), config) == shard_bytes(reference, config)
    for name in ('dataset_info.json', 'features.json', 'generation.json'):
      with open(os.path.join(experiment.dataset_dir(str(tmp_path), config), name)) as f, open(
          os.path.join(experiment.dataset_dir(reference, config), name)) as g:
        assert f.read() == g.read(), (config, name)
  assert len(load_episodes(str(tmp_path))) == 4 * 4 * 30


def test_killed_beam_run_resumes_with_no_shard_lost_or_duplicated(tiny_generation, tmp_path):
  root = str(tmp_path)
  # 8 tasks, one per element: the kill lands between elements' shards.
  bindings = ['generate.num_tasks=8', 'PpoSource.tasks_per_call=1']
  process = subprocess.Popen(beam_command(root, *bindings), cwd=REPO, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
  records = os.path.join(experiment.dataset_dir(root, 'darkroom'), 'shard_records')
  deadline = time.time() + 300
  while time.time() < deadline and len(glob.glob(os.path.join(records, '*.json'))) < 2:
    time.sleep(0.05)
  os.killpg(process.pid, signal.SIGKILL)  # The launcher and its Beam worker processes.
  process.wait()
  written = len(glob.glob(os.path.join(records, '*.json')))
  assert 2 <= written < 8, 'the kill should land mid-run'
  assert not os.path.exists(os.path.join(experiment.dataset_dir(root, 'darkroom'),
                                         'dataset_info.json'))
  resumed = run_beam(root, *bindings)
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  assert f'({written} already done)' in resumed.stderr
  # The same bytes as one uninterrupted local process on the same 8 tasks.
  local = str(tmp_path / 'local')
  one_process = subprocess.run(
      [sys.executable, '-m', 'ad_tf.bin.generate', f'--root_dir={local}', f'--gin_file={TINY_GIN}']
      + [f'--gin_bindings={b}' for b in [*REFERENCE_BINDINGS, *bindings]],
      cwd=REPO, capture_output=True, text=True, timeout=600)
  assert one_process.returncode == 0, one_process.stderr[-3000:]
  for config in ('darkroom', 'darkroom_expert'):
    assert shard_bytes(root, config) == shard_bytes(local, config)
    assert len(glob.glob(os.path.join(experiment.dataset_dir(root, config), '*.tmp*'))) == 0
  assert len(load_episodes(root)) == 8 * 4 * 30


def test_bad_beam_options_and_shards_with_beam_are_one_clear_error(tmp_path):
  bad = run_beam(str(tmp_path), options='--direct_num_workers=two')
  assert bad.returncode != 0 and 'are not valid Beam options' in bad.stderr
  assert 'Traceback' not in bad.stderr
  sharded = subprocess.run(beam_command(str(tmp_path)) + ['--num_task_shards=2'], cwd=REPO,
                           capture_output=True, text=True, timeout=600)
  assert sharded.returncode != 0 and 'drop --task_shard/--num_task_shards' in sharded.stderr
