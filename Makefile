# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0
# `make demo ENV=bandit` runs another environment's CPU default (gin/<ENV>_small.gin).
ENV ?= darkroom
DEMO_ROOT := runs/$(if $(filter darkroom,$(ENV)),demo,$(ENV))

.PHONY: demo test benchmarks clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip==26.3 wheel setuptools

# Reinstall only when the package definition or the lock changes.
$(STAMP): setup.py requirements.lock | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -c requirements.lock -e '.[test,beam]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/python -m ad_tf.bin.pipeline --root_dir=$(DEMO_ROOT) --gin_file=gin/$(ENV)_small.gin

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q -n 2 --dist loadfile tests

benchmarks: $(STAMP)
	for b in env_throughput generate_throughput train_throughput eval_throughput serving_latency; do $(VENV)/bin/python -m benchmarks.$$b || exit 1; done

clean:
	rm -rf $(VENV) runs
