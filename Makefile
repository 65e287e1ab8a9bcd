# effcourse — the two commands are `make lab` and `make test`; both set up .venv when needed.
SHELL := /bin/bash
# The first supported interpreter on PATH: Python 3.11.5+, 3.12 or 3.13 (the lock has wheels for them;
# CI tests 3.11). Override with `make PYTHON=/path/to/python3.12 ...`.
SUPPORTED := import sys; sys.exit(0 if (3, 11, 5) <= sys.version_info[:3] and sys.version_info[:2] <= (3, 13) else 1)
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c '$(SUPPORTED)' 2>/dev/null && { command -v $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
# nbgrader runs `alembic` (and we run jupyter tools) from PATH: put the venv first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
STAMP := $(VENV)/.effcourse-installed
ASSIGNMENTS := $(notdir $(wildcard solutions/ch* solutions/projects_*))

.PHONY: help setup lab test test-fast chapters results release validate grade clean-venv lock

help:
	@echo "make lab        set up .venv if needed and start JupyterLab on the course"
	@echo "make test       set up .venv if needed and run the whole test suite"
	@echo "make chapters   regenerate chapters/ (student notebooks) from solutions/"
	@echo "make results    execute every solution notebook, write results/ and results/README.md"
	@echo "make release DEST=../effcourse-students   write the student distribution (no solutions)"
	@echo "make validate NB=chapters/<assignment>/<notebook>.ipynb   check your answers"
	@echo "make grade ASSIGNMENT=<assignment>   safely autograde every submission (instructors)"

# Set-up is idempotent: the stamp is rebuilt only when the pins change. It installs the exact tested
# set (requirements.lock, every extra) and then effcourse itself, editable, without resolving again.
setup: $(STAMP)

$(VENV)/bin/python:
	@test -n "$(PYTHON)" || { echo "error: no supported Python (3.11.5+, 3.12 or 3.13) on PATH; install one or run 'make PYTHON=/path/to/python3.12 ...'"; exit 1; }
	@$(PYTHON) -c '$(SUPPORTED)' || { echo "error: $(PYTHON) is not a supported Python (3.11.5+, 3.12 or 3.13); run 'make PYTHON=/path/to/python3.12 ...'"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml requirements.lock | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)
	@echo "effcourse is installed in $(VENV)"

# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: setup
	@echo "Starting JupyterLab on the course; open the URL it prints (http://localhost:8888/lab?token=...). Ctrl-C stops it."
	$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" --no-browser $(ALLOW_ROOT) $(LAB_ARGS)

# Two pytest-xdist workers: a sandboxed notebook run keeps about one core busy, so two nearly halve
# the wall time on a 2-core machine; each assignment's tests stay on one worker (tests/conftest.py).
# `make test TEST_WORKERS=0` runs everything in one process.
TEST_WORKERS ?= 2
test: setup
	CI=$${CI:-} EFFCOURSE_DATA=offline $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=40 $(PYTEST_ARGS)

test-fast: setup
	EFFCOURSE_DATA=offline $(PY) -m pytest tests/effcourse $(PYTEST_ARGS)

chapters: setup
	$(PY) -m effcourse.cli chapters

results: setup
	EFFCOURSE_DATA=offline $(PY) -m effcourse.cli results

# The student distribution: chapters/, effcourse/, a learner README; no solutions/ or hidden tests.
DEST ?= ../effcourse-students
release: setup
	$(PY) -m effcourse.cli release "$(DEST)"

validate: setup
	@test -n "$(NB)" || { echo "usage: make validate NB=chapters/<assignment>/<notebook>.ipynb"; exit 2; }
	$(PY) -m effcourse.cli validate "$(NB)"

grade: setup
	@test -n "$(ASSIGNMENT)" || { echo "usage: make grade ASSIGNMENT=<assignment>  (one of: $(ASSIGNMENTS))"; exit 2; }
	$(PY) -m effcourse.cli grade "$(ASSIGNMENT)"

# Re-resolve requirements.lock after changing pyproject.toml; uv keeps the versions already pinned
# there when they still fit. Universal: one file with environment markers for every platform.
lock: setup
	tail -n +4 requirements.lock > requirements.lock.new
	$(VENV)/bin/uv pip compile pyproject.toml --all-extras --universal --python-version 3.11.5 \
		--no-emit-package effcourse --no-annotate --no-header -o requirements.lock.new
	{ head -3 requirements.lock; cat requirements.lock.new; } > requirements.lock.tmp && rm requirements.lock.new && mv requirements.lock.tmp requirements.lock

clean-venv:
	rm -rf $(VENV)
