# Two commands matter: `make run` (the whole local stack) and `make test` (the whole suite).
# Everything is installed into the project from uv.lock; nothing is installed by hand.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .cache/uv-tool
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never

.PHONY: run run-fresh test lint typecheck unit install clean browser promtool redis bench-notification bench-reporting measure test-faults bench bench-api bench-api-pinned bench-end-to-end audit audit-locked messages

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --all-packages
	@touch $@

install: $(VENV)/.synced

run: install
	$(VENV)/bin/python -m devstack run

run-fresh: install
	$(VENV)/bin/python -m devstack run --fresh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy bench shared/tilmeld_shared services/registration/registration services/notification/notification services/reporting/reporting deploy/devstack/devstack

# The dashboard's test drives Debian's Chromium; install it where it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    --no-install-recommends chromium fonts-dejavu-core >/dev/null; }

# The shared rate-limit storage's test runs a real Redis (Debian's redis-server, started on a
# loopback port by the test itself, never as a service); install it where it is missing.
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    --no-install-recommends redis-server >/dev/null; }

# The Kubernetes manifests' test checks the alert rules with promtool. Where none is on PATH,
# take it out of Debian's prometheus package into .cache/bin (no server installed or started).
promtool:
	@command -v promtool >/dev/null 2>&1 || [ -x $(CURDIR)/.cache/bin/promtool ] || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && mkdir -p .cache/bin .cache/deb && rm -f .cache/deb/prometheus_*.deb && \
	  (cd .cache/deb && apt-get download -qq prometheus 2>/dev/null) && \
	  dpkg-deb --fsys-tarfile .cache/deb/prometheus_*.deb | tar -x -O ./usr/bin/promtool > .cache/bin/promtool && \
	  chmod +x .cache/bin/promtool && rm -rf .cache/deb; }

test: lint typecheck browser promtool redis audit-locked
	$(VENV)/bin/pytest

# Translators: bring each service's catalogues up to date with the code (babel.cfg says where
# the messages are); new messages arrive untranslated, tests/shared/test_catalogues.py lists them.
CATALOGUES := registration:services/registration/registration/web:services/registration/registration/web/locale \
	notification:services/notification/notification:services/notification/notification/locale \
	reporting:services/reporting/reporting/static:services/reporting/reporting/static/locale
messages: install
	@mkdir -p .cache
	@for entry in $(CATALOGUES); do \
	  IFS=: read -r domain folder locale <<< "$$entry"; \
	  $(VENV)/bin/pybabel -q extract -F babel.cfg -c TRANSLATORS: --no-location -o .cache/$$domain.pot $$folder && \
	  $(VENV)/bin/pybabel -q update -i .cache/$$domain.pot -d $$locale -D $$domain --ignore-obsolete -w 100 || exit 1; \
	done

unit: install
	$(VENV)/bin/pytest tests/registration/unit tests/notification/unit tests/shared

clean:
	rm -rf $(VENV) .devstack .pytest_cache .mypy_cache .ruff_cache

# Benchmarks print figures; they are not tests. See docs/figures.md.
bench-notification: install
	$(VENV)/bin/python -m bench.notification

measure: install
	$(VENV)/bin/python -m devstack measure

bench-reporting: install
	$(VENV)/bin/python -m bench.reporting

# The fault suite at full length (make test runs it too, with a 10 s database outage).
test-faults: install browser
	FAULT_OUTAGE_S=30 $(VENV)/bin/pytest tests/faults -s

bench-api: install
	$(VENV)/bin/python -m bench.api

bench-end-to-end: install
	$(VENV)/bin/python -m bench.end_to_end

# The API again with the stack on CPU 0 (one replica: one core) and the load generator on CPU 1.
bench-api-pinned: install
	BENCH_PIN=1 $(VENV)/bin/python -m bench.api --replicas 1 --json artifacts/bench-api-pinned.json

# Every benchmark in turn, each printing its table and writing artifacts/bench-*.json, then the
# figures table regenerated from those files (docs/figures.md, README.md). With BENCH_PIN=1 a
# benchmark that supports it runs its load generator on CPU 1 and what it measures on CPU 0.
bench: bench-api bench-api-pinned bench-end-to-end bench-notification bench-reporting
	$(VENV)/bin/python -m bench.figures

# Known vulnerabilities in the locked dependencies (needs PyPI's JSON API or OSV reachable).
audit: install
	@mkdir -p .cache
	$(UV) export --frozen --all-packages --no-emit-workspace --no-hashes --format requirements-txt -o .cache/requirements-audit.txt >/dev/null
	$(VENV)/bin/pip-audit --strict --disable-pip --no-deps -r .cache/requirements-audit.txt

# What `make test` runs: the locked packages against PyPI's advisory data (see the script).
audit-locked: install
	$(VENV)/bin/python .ci/audit_dependencies.py
