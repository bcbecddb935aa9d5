# The README's two commands: `make run` (back-office with demo data) and `make test`.
# .ci/run calls `make test` with DATABASE_URL and REDIS_URL set (PostgreSQL + Redis + worker).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck pytest-sqlite pytest-services worker install clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e ".[dev]"
	@touch $@

install: $(VENV)/.installed

.env:
	@sed "s|^SECRET_KEY=.*|SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')|" .env.example > .env
	@echo "wrote .env (DEBUG=true, a fresh SECRET_KEY)"

run: install .env
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

worker: install
	$(BIN)/celery -A config worker --loglevel=INFO --concurrency=2

lint: install
	$(BIN)/ruff check .

typecheck: install
	DEBUG=true $(BIN)/mypy config crm importer builders

# SQLite always (no services: tasks in-process); then PostgreSQL + Redis + a real worker
# when DATABASE_URL is set (.ci/run sets it).
pytest-sqlite: install
	DATABASE_URL= REDIS_URL= $(BIN)/pytest -m "not postgres and not redis" $(PYTEST_ARGS)

pytest-services: install
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "== tests on $${DATABASE_URL%%:*} with REDIS_URL=$${REDIS_URL:-unset}"; \
		$(BIN)/pytest $(PYTEST_ARGS); \
	else \
		echo "DATABASE_URL unset: PostgreSQL + Redis pass skipped (.ci/run sets it)"; \
		if [ "$$CI" = "true" ]; then exit 1; fi; \
	fi

test: lint typecheck pytest-sqlite pytest-services

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .hypothesis
