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

# `make run` opens a browser itself only where there is a display (or on macOS); else it prints the URL.
APP_URL := http://127.0.0.1:8501
HEADLESS := $(if $(or $(DISPLAY),$(WAYLAND_DISPLAY),$(filter Darwin,$(shell uname -s))),false,true)

.PHONY: run test test-fast fuzz bench lint golden clean venv browser

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
	$(PY) -m pip install --quiet -e '.[dev,fit]'
	$(PY) -m sim.analysis.warmup benchmarks/all_rules.yaml
	@touch $(STAMP)

run: $(STAMP)
	@echo "Ripple app: $(APP_URL)  (Ctrl-C stops it)"
	$(PY) -m streamlit run app.py --server.address 127.0.0.1 --server.port 8501 \
	  --browser.gatherUsageStats false --server.headless $(HEADLESS)

test: $(STAMP) browser
	$(PY) -m pytest -n 2 -q

# The browser test drives Debian's Chromium (never Playwright's own download). Install it quietly
# when missing; where apt-get is unavailable the test skips and says why.
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "Installing chromium for the browser test (apt-get, log in /tmp/ripple-apt.log)"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
	      >/tmp/ripple-apt.log 2>&1 \
	      || echo "warning: apt-get could not install chromium (see /tmp/ripple-apt.log): the browser test will skip"; \
	  else \
	    echo "note: chromium is missing and apt-get is unavailable (or not root): the browser test will skip"; \
	  fi; \
	fi

test-fast: $(STAMP)
	$(PY) -m pytest -n 2 -q -m "not slow and not fuzz_long"

# The long fuzz run (>= 10,000 hostile scenario texts, overrides and uploads); counts of valid inputs,
# clean refusals, crashes and hangs go to fuzz-results/latest.json. `make test` runs a short version.
fuzz: $(STAMP)
	$(PY) -m pytest -q -s -m fuzz_long tests/test_fuzz.py

# NDlib (the `bench` extra) is installed for the benchmark only (once), never by `make venv`; if it
# cannot be installed, its row in the table says why instead of a number.
bench: $(STAMP)
	@$(PY) -c 'import ndlib.models.epidemics' >/dev/null 2>&1 || $(PY) -m pip install --quiet -e '.[bench]' \
	  || echo "note: NDlib (the bench extra) did not install; its row will say why"
	$(PY) benchmarks/run_benchmarks.py

lint: $(STAMP)
	$(VENV)/bin/ruff check sim tests benchmarks app.py app_pages
	$(VENV)/bin/ruff format --check sim tests benchmarks app.py app_pages
	$(VENV)/bin/mypy

golden: $(STAMP)
	$(PY) tests/update_golden.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis tests/screenshots fuzz-results
