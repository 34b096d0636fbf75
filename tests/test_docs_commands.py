"""Every command the docs show runs as shown: each `python -m MODULE --flag...` names a module
that starts and defines those flags, and every gin file the docs name exists."""

import os
import re
import subprocess
import sys

import pytest

from tests.tiny_runs import REPO

DOCS = ('README.md', 'serving/README.md', 'docs/ARCHITECTURE.md', 'docs/IN_CONTEXT_RL.md')
_COMMAND = re.compile(r'python -m ([\w.]+)((?:[ \t]+(?:\\\n[ \t]*)?--\w+(?:=\S*)?)*)')


def _text(path):
  with open(os.path.join(REPO, path)) as f:
    return f.read()


def shown_commands():
  """{module: the flags the docs pass it}."""
  commands = {}
  for path in DOCS:
    for module, arguments in _COMMAND.findall(_text(path)):
      commands.setdefault(module, set()).update(re.findall(r'--(\w+)', arguments))
  return commands


def test_the_docs_show_commands():
  commands = shown_commands()
  assert {'ad_tf.bin.pipeline', 'ad_tf.bin.train', 'serving.server'} <= set(commands)
  assert 'gin_file' in commands['ad_tf.bin.pipeline']


@pytest.fixture(scope='module')
def helpfull():
  """`python -m MODULE --helpfull` of every module the docs show, run side by side."""
  processes = {module: subprocess.Popen([sys.executable, '-m', module, '--helpfull'], cwd=REPO,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
               for module in shown_commands()}
  return {module: process.communicate(timeout=300) + (process.returncode,)
          for module, process in processes.items()}


@pytest.mark.parametrize('module', sorted(shown_commands()))
def test_every_shown_command_starts_and_takes_its_flags(helpfull, module):
  stdout, stderr, returncode = helpfull[module]
  # absl's --helpfull prints every flag and exits 1; an import error prints a traceback instead.
  assert returncode in (0, 1) and 'Traceback' not in stderr, (
      f'python -m {module} does not start:\n{stderr[-2000:]}')
  defined = set(re.findall(r'--(?:\[no\])?(\w+):', stdout))
  assert defined, f'python -m {module} --helpfull printed no flags'
  missing = shown_commands()[module] - defined
  assert not missing, f'the docs pass python -m {module} flags it does not define: {missing}'


def test_every_gin_file_the_docs_name_exists():
  named = {name for path in DOCS for name in re.findall(r'gin/[\w]+\.gin', _text(path))}
  assert 'gin/darkroom_small.gin' in named and 'gin/bandit_small.gin' in named
  assert not [name for name in named if not os.path.exists(os.path.join(REPO, name))]
