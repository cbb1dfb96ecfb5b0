# Every target has a "## " line: `make help` (the default) lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
# uv from PATH; else a private copy in .tools/ (a venv, so no system pip rules get in the way)
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
STORE ?= data/cdp.duckdb
SPEC ?= data/samples/kevel_orders.yaml data/samples/kevel_users.yaml

.PHONY: help setup browser import test validate notebooks bench detectors lint format schema docs docs-serve clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

# Bytecode compiled at install: where PYTHONDONTWRITEBYTECODE is set (CI images often do),
# Python would otherwise compile every module on every start (about 0.8 s of each command).
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --compile-bytecode
	@touch $@

setup: $(VENV)/.synced ## Create .venv from uv.lock (installs uv first when missing; idempotent)
	@$(VENV)/bin/python -m compileall -q etl bench

# Debian's chromium: the tests open the Data Docs in it, headless (apt-get as root, else sudo)
browser: ## Install Debian's chromium when missing (for the Data Docs test)
	@command -v chromium >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

import: setup ## Import the bundled samples (orders, then their buyers as users) into data/cdp.duckdb
	@for spec in $(SPEC); do $(VENV)/bin/etl import $$spec --store $(STORE) || exit $$?; done

validate: setup ## Run the expectation suites against data/cdp.duckdb and build its Data Docs
	$(VENV)/bin/etl validate --store $(STORE)

# JupyterLab refuses to start as root unless told: containers and CI images often run as root
notebooks: setup ## Start JupyterLab on notebooks/ (import walkthrough, RFM and segments, data quality)
	$(VENV)/bin/jupyter lab notebooks/ $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

test: setup browser ## Run the test suite (pytest, two workers: pytest-xdist; installs chromium first when missing)
	$(VENV)/bin/pytest -q -n 2

bench: setup ## Benchmark imports (Kevel orders, users, Shopify, products, CrossEngage and eSputnik events, deletes, E-goi) against DuckDB's own load, transformations, S3 gzip, validation; executors against local (docs/performance.md)
	$(VENV)/bin/python bench/run.py

detectors: setup ## Measure encoding detectors on the labelled corpus, and on a 1 GB file (docs/performance.md)
	$(VENV)/bin/python bench/encodings.py

lint: setup ## Check the code with ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup ## Format the code with ruff
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

schema: setup ## Regenerate etl/import-spec.schema.json from the spec models
	$(VENV)/bin/python -m etl.spec > etl/import-spec.schema.json

# Material for MkDocs prints a notice about MkDocs 2.0 on every build: mkdocs is pinned below 2 (pyproject.toml)
DOCS_ENV := NO_MKDOCS_2_WARNING=1

docs: setup ## Build the documentation site into site/ (the store's page regenerated from etl/store/schema.sql first)
	$(VENV)/bin/python -m etl.store.docs
	$(DOCS_ENV) $(VENV)/bin/mkdocs build --strict --quiet
	@echo "site/index.html (make docs-serve serves it on http://127.0.0.1:8000)"

docs-serve: setup ## Serve the documentation on http://127.0.0.1:8000, rebuilt as its pages change
	$(VENV)/bin/python -m etl.store.docs
	$(DOCS_ENV) $(VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:8000

clean: ## Remove the virtualenv, caches and the local store
	rm -rf $(VENV) .tools .pytest_cache .ruff_cache site $(STORE) $(STORE).wal $(STORE).schedules.jsonl $(STORE).locks $(STORE).validation data/.etl-spool
