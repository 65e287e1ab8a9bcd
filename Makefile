# effcourse — the two commands are `make lab` and `make test`; both set up .venv when needed.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# nbgrader runs `alembic` (and we run jupyter tools) from PATH: put the venv first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
STAMP := $(VENV)/.effcourse-installed
ASSIGNMENTS := $(notdir $(wildcard solutions/ch* solutions/projects_*))

.PHONY: help setup lab test test-fast chapters results validate grade clean-venv

help:
	@echo "make lab        set up .venv if needed and start JupyterLab on the course"
	@echo "make test       set up .venv if needed and run the whole test suite"
	@echo "make chapters   regenerate chapters/ (student notebooks) from solutions/"
	@echo "make results    execute every solution notebook, write results/ and results/README.md"
	@echo "make validate NB=chapters/<assignment>/<notebook>.ipynb   check your answers"
	@echo "make grade ASSIGNMENT=<assignment>   safely autograde every submission (instructors)"

# Set-up is idempotent: the stamp is rebuilt only when the pins change.
setup: $(STAMP)

$(VENV)/bin/python:
	@test -n "$(PYTHON)" || { echo "error: no python3.11 on PATH; install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || { echo "error: $(PYTHON) is not Python 3.11, which the course pins; run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -e .
	@touch $(STAMP)
	@echo "effcourse is installed in $(VENV)"

# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: setup
	@echo "Starting JupyterLab on the course; open the URL it prints (http://localhost:8888/lab?token=...). Ctrl-C stops it."
	$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" --no-browser $(ALLOW_ROOT) $(LAB_ARGS)

test: setup
	CI=$${CI:-} EFFCOURSE_DATA=offline $(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup
	EFFCOURSE_DATA=offline $(PY) -m pytest tests/effcourse $(PYTEST_ARGS)

chapters: setup
	$(PY) -m effcourse.cli chapters

results: setup
	EFFCOURSE_DATA=offline $(PY) -m effcourse.cli results

validate: setup
	@test -n "$(NB)" || { echo "usage: make validate NB=chapters/<assignment>/<notebook>.ipynb"; exit 2; }
	$(PY) -m effcourse.cli validate "$(NB)"

grade: setup
	@test -n "$(ASSIGNMENT)" || { echo "usage: make grade ASSIGNMENT=<assignment>  (one of: $(ASSIGNMENTS))"; exit 2; }
	$(PY) -m effcourse.cli grade "$(ASSIGNMENT)"

clean-venv:
	rm -rf $(VENV)
