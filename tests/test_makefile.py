"""The Makefile's set-up: a missing interpreter says what to install, and a failed step never
leaves a virtualenv that the next `make` takes as made."""

import os
import subprocess

from tests.tiny_runs import REPO


def make(target, *variables, env=None):
  return subprocess.run(['make', '--no-print-directory', target, *variables], cwd=REPO,
                        capture_output=True, text=True, timeout=300,
                        env={**os.environ, **(env or {})})


def test_a_missing_python_says_what_to_install(tmp_path):
  venv = tmp_path / 'venv'
  result = make(f'{venv}/.created', f'VENV={venv}', 'PYTHON=/nonexistent/python3.11')
  assert result.returncode != 0
  assert '/nonexistent/python3.11 not found' in result.stderr
  assert 'Python 3.11' in result.stderr and 'make PYTHON=' in result.stderr
  assert not venv.exists()


def test_a_failed_pip_step_removes_the_virtualenv_and_the_next_make_retries(tmp_path):
  venv = tmp_path / 'venv'
  offline = {'PIP_CONFIG_FILE': os.devnull, 'PIP_NO_INDEX': '1'}  # pip==26.3 cannot be found.
  for _ in range(2):  # The second run must try again, not find a half-made .venv.
    result = make(f'{venv}/.created', f'VENV={venv}', env=offline)
    assert result.returncode != 0
    assert 'python3.11 -m venv' in result.stdout  # It did start from the beginning.
    assert f'{venv} was removed' in result.stderr
    assert not venv.exists()
