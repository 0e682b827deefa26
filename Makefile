# DHTN — the two commands: `make run` and `make test`. Everything else is a helper of those.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PYTEST_ARGS ?=
# Two test processes (pytest-xdist; one per core of the CI machine): each has its own PostgreSQL
# databases (suffixed by worker), embedded servers and ports; a file's tests stay together.
TEST_WORKERS ?= 2
# The local Web Push service of the push tests (npm: web-push-testing), pinned by its lock file.
PUSH_SERVICE := tests/push/node_modules/.package-lock.json
# The accessibility checker the browser tests run inside each page (npm: axe-core), pinned likewise.
AXE := tests/browser/node_modules/.package-lock.json

.PHONY: run test lint typecheck imports unit bench services services-stop system-deps clean help

help:
	@echo "make run   — start DHTN locally (SQLite, local files, demo data) on http://127.0.0.1:5000"
	@echo "make test  — install what the tests need, start the services, lint, type-check, run every test"
	@echo "make bench — run the benchmarks in bench/ and print their figures"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	scripts/install-system-deps.sh run
	$(VENV)/bin/dhtn run

system-deps:
	scripts/install-system-deps.sh

services: $(STAMP)
	scripts/services.sh start

services-stop:
	scripts/services.sh stop

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy app docflow storage signing interop migrations

imports: $(STAMP)
	$(VENV)/bin/lint-imports

$(PUSH_SERVICE): tests/push/package.json tests/push/package-lock.json
	npm ci --prefix tests/push --no-audit --no-fund --silent

$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --silent

test: system-deps $(STAMP) $(PUSH_SERVICE) $(AXE)
	scripts/services.sh start
	$(MAKE) --no-print-directory lint typecheck imports
	set -a; source var/services.env; set +a; $(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

unit: $(STAMP)
	set -a; source var/services.env; set +a; $(VENV)/bin/pytest -m "not browser and not slow" $(PYTEST_ARGS)

bench: $(STAMP) services
	set -a; source var/services.env; set +a; \
	for b in bench/*.py; do [ "$$(basename $$b)" = "__init__.py" ] || $(PY) -m bench.$$(basename $$b .py) --quick || exit 1; done

clean:
	rm -rf var/test var/screenshots .pytest_cache .mypy_cache .ruff_cache
