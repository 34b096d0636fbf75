"""Every binary's bad gin input: one line naming the binding (or file), non-zero exit, no
traceback, nothing run."""

import os
import subprocess
import sys

import pytest

from tests.tiny_runs import REPO
from tests.tiny_runs import TINY_GIN


@pytest.mark.parametrize('binding, where, message', [
    ('train.num_steps=(', "--gin_bindings='train.num_steps=('", 'unclosed bracket or quote'),
    ('train.num_steps = = 3', "--gin_bindings='train.num_steps = = 3'", 'Unable to parse value'),
    ('nosuch.x=1', "--gin_bindings='nosuch.x=1'", "No configurable matching 'nosuch'"),
    ('train.nosuch=1', "--gin_bindings='train.nosuch=1'", "doesn't have a parameter named"),
])
def test_a_bad_binding_is_one_line_naming_it(tmp_path, binding, where, message):
  result = subprocess.run(
      [sys.executable, '-m', 'ad_tf.bin.train', f'--root_dir={tmp_path}',
       f'--gin_file={TINY_GIN}', '--gin_bindings=train.num_steps=3', f'--gin_bindings={binding}'],
      cwd=REPO, capture_output=True, text=True, timeout=300)
  assert result.returncode != 0
  assert 'Traceback' not in result.stderr
  errors = [line for line in result.stderr.splitlines() if line.startswith('error:')]
  assert len(errors) == 1 and where in errors[0] and message in errors[0], result.stderr[-2000:]
  assert not os.listdir(tmp_path)


def test_a_bad_gin_file_is_one_line_naming_it(tmp_path):
  bad = tmp_path / 'bad.gin'
  bad.write_text('train.num_steps = (\n')
  root = tmp_path / 'root'
  result = subprocess.run(
      [sys.executable, '-m', 'ad_tf.bin.generate', f'--root_dir={root}', f'--gin_file={bad}'],
      cwd=REPO, capture_output=True, text=True, timeout=300)
  assert result.returncode != 0 and 'Traceback' not in result.stderr
  errors = [line for line in result.stderr.splitlines() if line.startswith('error:')]
  assert len(errors) == 1 and str(bad) in errors[0] and 'unclosed' in errors[0]
  assert not root.exists()
