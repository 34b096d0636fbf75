"""`ad_tf.bin.pipeline` end to end on the tiny config: every stage, outputs, resumption."""

import json
import os
import subprocess
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_pipeline(root):
  return subprocess.run([sys.executable, '-m', 'ad_tf.bin.pipeline', f'--root_dir={root}',
                         '--gin_file=gin/darkroom_tiny.gin'], cwd=REPO, capture_output=True,
                        text=True, timeout=900)


def test_pipeline_runs_every_stage_and_resumes(tmp_path):
  root = str(tmp_path)
  first = run_pipeline(root)
  assert first.returncode == 0, first.stderr[-3000:]
  with open(os.path.join(root, 'eval', 'results.json')) as f:
    results = json.load(f)
  assert set(results['methods']) == {'AD', 'ED', 'source'}
  assert results['num_runs'] >= 100 and results['num_test_tasks'] == 21
  for name, summary in results['methods'].items():
    assert summary['num_runs'] >= (21 if name == 'source' else 100)
    oracle_scaled = np.array(summary['normalised_mean'])
    assert ((0 <= oracle_scaled) & (oracle_scaled <= 1)).all()
  assert os.path.getsize(os.path.join(root, 'eval', 'returns.png')) > 10_000
  assert os.listdir(os.path.join(root, 'export')) == ['6']
  assert 'final / oracle' in first.stdout and 'returns.png' in first.stdout
  assert 'AD ' in first.stdout and 'ED ' in first.stdout and 'source ' in first.stdout
  # A second run finds every stage done: nothing is regenerated or retrained.
  second = run_pipeline(root)
  assert second.returncode == 0
  assert 'already complete' in second.stderr and 'already exported' in second.stderr
  assert 'Evaluation is up to date' in second.stderr
  assert 'Resumed from' in second.stderr and 'step 6/6' not in second.stderr
