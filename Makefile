# Ripple: `make run` opens the simulator, `make test` installs and passes the tests.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# An interpreter ≥ 3.12: a working python3.13/python3.12 on PATH, else pyenv's newest 3.12+.
PYTHON ?= $(shell \
  for c in python3.13 python3.12; do \
    if $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then command -v $$c; exit 0; fi; \
  done; \
  root=$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv); \
  for p in $$(ls -d $$root/versions/3.1[2-9]* 2>/dev/null | sort -rV); do \
    if [ -x $$p/bin/python3 ] && $$p/bin/python3 -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then echo $$p/bin/python3; exit 0; fi; \
  done)

.PHONY: run test test-fast bench lint golden clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: Ripple needs Python >= 3.12 (Mesa 3.5 requires it)."; \
	  echo "       No python3.12/python3.13 on PATH and none under pyenv's versions/."; \
	  echo "       Install one (e.g. 'pyenv install 3.12') or run: make PYTHON=/path/to/python3.12 test"; \
	  exit 1; fi
	@echo "Using $(PYTHON) ($$($(PYTHON) --version))"
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/ripple compare scenarios/funnel_heavy.yaml scenarios/ripple_heavy.yaml scenarios/hybrid.yaml -r 5

test: $(STAMP)
	$(PY) -m pytest -n 2 -q

test-fast: $(STAMP)
	$(PY) -m pytest -n 2 -q -m "not slow"

bench: $(STAMP)
	$(PY) benchmarks/run_benchmarks.py

lint: $(STAMP)
	$(VENV)/bin/ruff check sim tests benchmarks
	$(VENV)/bin/ruff format --check sim tests benchmarks
	$(VENV)/bin/mypy

golden: $(STAMP)
	$(PY) tests/update_golden.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
