# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
CREATED := $(VENV)/.created
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0
# `make demo ENV=bandit` runs another environment's CPU default (gin/<ENV>_small.gin).
ENV ?= darkroom
DEMO_ROOT := runs/$(if $(filter darkroom,$(ENV)),demo,$(ENV))

.PHONY: demo rl2 test benchmarks clean

# The virtualenv counts as made only once every step of making it has succeeded ($(CREATED));
# a failed step removes it, so the next `make` starts again instead of using half of one.
$(CREATED):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found. ad_tf needs \
	Python 3.11 on Linux x86_64: install it (e.g. 'apt install python3.11 python3.11-venv' or \
	'pyenv install 3.11'), or pass its path: make PYTHON=/path/to/python3.11" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "error: \
	$(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())' 2>/dev/null || echo 'not runnable'); \
	ad_tf needs 3.11 (dm-reverb 0.14 has wheels for nothing else): make PYTHON=/path/to/python3.11" >&2; \
	exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	$(VENV)/bin/pip install --quiet --upgrade pip==26.3 wheel setuptools || { rm -rf $(VENV); \
	echo "error: installing pip into $(VENV) failed (see above); $(VENV) was removed." >&2; exit 1; }
	touch $(CREATED)

# Reinstall only when the package definition or the lock changes; a failed install leaves the
# stamp unmade, so the next `make` installs again.
$(STAMP): setup.py requirements.lock | $(CREATED)
	$(VENV)/bin/pip install --quiet -c requirements.lock -e '.[test,beam]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/python -m ad_tf.bin.pipeline --root_dir=$(DEMO_ROOT) --gin_file=gin/$(ENV)_small.gin

# The demo with the RL² baseline as a stage (gin/<ENV>_small.gin's train_rl2 settings); it reuses
# what `make demo` made in the same root_dir.
rl2: $(STAMP)
	$(VENV)/bin/python -m ad_tf.bin.pipeline --root_dir=$(DEMO_ROOT) --gin_file=gin/$(ENV)_small.gin \
	--gin_bindings=pipeline.rl2=True

# The longest test files are named first (pytest skips them when `tests` reaches them again), so
# the two workers do not end with one of them running alone.
LONG_TESTS := tests/test_watermaze_end_to_end.py tests/test_write_errors.py \
	tests/test_bandit_end_to_end.py tests/test_kill_9.py

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q -n 2 --dist loadfile $(LONG_TESTS) tests

benchmarks: $(STAMP)
	for b in env_throughput generate_throughput train_throughput eval_throughput serving_latency; do $(VENV)/bin/python -m benchmarks.$$b || exit 1; done

clean:
	rm -rf $(VENV) runs
