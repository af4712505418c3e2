# casesync: `make demo` and `make test` are all a newcomer needs.
# Each bootstraps uv (into .tools/ when it is not on PATH) and the .venv/ by itself.

SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: help venv demo test test-slow test-postgres lint typecheck airflow clean

help:
	@echo "make demo     seed a small world, run its nights, validate, report"
	@echo "make test     run the test suite on SQLite (all but the slow tests)"
	@echo "make test-slow  the slow tests (Airflow runs, a simulated year); CI runs both"
	@echo "make airflow  start the Airflow UI on the embedded default"
	@echo "make lint     ruff; make typecheck: mypy"

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

# Bytecode is compiled once here: where PYTHONDONTWRITEBYTECODE is set, every
# interpreter (each test worker, each CLI and Airflow process) would otherwise
# compile Airflow, Great Expectations and pandas from source again (9.5 s
# against 4.7 s to import them, measured).
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode
	@touch $@

PACKAGES := casesync connectors schemas expectations seed dags tests

venv: $(VENV)/.synced
	@$(VENV)/bin/python -m compileall -q -j 0 $(PACKAGES) >/dev/null

demo: venv
	$(VENV)/bin/casesync demo

# Two workers, each module on one worker (its worlds are built once); `slow` tests
# (Airflow runs, a simulated year) are left to `make test-slow`; CI runs
# `make test MARKERS="slow or not slow"`, everything in one session.
PYTEST := $(VENV)/bin/pytest -q -n 2 --dist loadscope
MARKERS ?= not slow

test: venv
	$(PYTEST) -m "$(MARKERS)"

test-slow: venv
	$(PYTEST) -m slow

test-postgres: venv
	CASESYNC_TEST_BACKEND=postgresql $(PYTEST) -m "not slow"

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy

airflow: venv
	$(VENV)/bin/casesync airflow

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
