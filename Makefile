# The README's two commands: `make run` (back-office with demo data) and `make test`.
# .ci/run calls `make test` with DATABASE_URL and REDIS_URL set (PostgreSQL + Redis + worker).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: schemathesis run test lint typecheck browser-deps pytest-sqlite pytest-services worker install catalogs messages clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e ".[dev]"
	@touch $@

install: $(VENV)/.installed catalogs

# Translations (R11.1): locale/{ko,en}/LC_MESSAGES/*.po are committed, the .mo files are compiled
# here with polib (config/catalogs.py), so no GNU gettext is needed to run or test.
catalogs: $(VENV)/.installed
	@$(BIN)/python -m config.catalogs

# After adding or changing a translatable string: refresh both catalogs from the code, then fill
# the Korean msgstr of the new entries (and English where the msgid is not the English text).
# --no-location keeps the catalogs free of line numbers, so parallel edits merge cleanly.
# makemessages needs GNU gettext's xgettext/msgmerge (apt-get install gettext).
MAKEMESSAGES := DEBUG=true $(BIN)/python manage.py makemessages -l ko -l en --no-location \
	--no-obsolete --ignore=var --ignore=tests --ignore=bench --ignore=docs --ignore=build
messages: install
	@command -v xgettext >/dev/null || { echo "make messages needs GNU gettext (apt-get install gettext)"; exit 1; }
	$(MAKEMESSAGES) -d django
	$(MAKEMESSAGES) -d djangojs
	@$(BIN)/python -m config.catalogs --tidy

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

# Browser tests (tests/browser, marker "browser") drive Debian's chromium through Playwright, with
# Korean fonts; never a browser Playwright downloads. Installed here when missing: CI fails
# clearly where it cannot be, a laptop without root skips the browser tests.
browser-deps:
	@if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi nanum; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-nanum >/dev/null; \
	elif [ "$$CI" = "true" ]; then \
		echo "browser tests need Debian's chromium and fonts-nanum: apt-get install chromium fonts-nanum (as root)"; exit 1; \
	else \
		echo "chromium or fonts-nanum missing and not installable here (needs root and apt-get): browser tests will be skipped"; \
	fi

# SQLite always (no services: tasks in-process); then PostgreSQL + Redis + a real worker
# when DATABASE_URL is set (.ci/run sets it).
pytest-sqlite: install
	DATABASE_URL= REDIS_URL= $(BIN)/pytest -m "not postgres and not redis" $(PYTEST_ARGS)

pytest-services: install
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "== tests on $${DATABASE_URL%%:*} with REDIS_URL=$${REDIS_URL:-unset}"; \
		$(BIN)/pytest $(PYTEST_ARGS) && \
		echo "== schemathesis, every check, against a live server (.ci/schemathesis)" && \
		.ci/schemathesis; \
	else \
		echo "DATABASE_URL unset: PostgreSQL + Redis pass skipped (.ci/run sets it)"; \
		if [ "$$CI" = "true" ]; then exit 1; fi; \
	fi

# The Open API against its schema with every check (a live server, fixed seed, a few minutes);
# part of pytest-services, or alone on SQLite.
schemathesis: install
	.ci/schemathesis

test: lint typecheck browser-deps pytest-sqlite pytest-services

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .hypothesis
