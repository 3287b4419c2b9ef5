# Samverkan: developer tasks. GNU make. `make help` lists the targets.
#
#   make run     install (running needs only), migrate, load the demo data, serve :5000
#   make test    install-dev, ruff check + format check, lint-imports, mypy, pytest
#                (TEST_DATABASE_URL selects the test database)
#   make e2e     browser tests in Debian's chromium against gunicorn and PostgreSQL

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two installs from the lock files (requirements/*.txt, compiled by `make lock`): what running
# needs (make run, make demo), and that plus the development tools (make test, lint, ...).
STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
FLASK := $(BIN)/flask --app app
ALEMBIC := $(BIN)/alembic
PYBABEL := $(BIN)/pybabel

HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
PG_TEST_URL := postgresql+psycopg://postgres@127.0.0.1:5432/test
# Rate-limit counters in Redis (tests/coordination/test_rate_limit_redis.py): the tests run when
# REDIS_URL is set and fail if that Redis is down; without it they are skipped. `.ci/run` sets it.
REDIS_URL ?=
export REDIS_URL
REDIS_TEST_URL := redis://127.0.0.1:6379/1

# Local use: development mode (generated keys and SQLite in instance/) with two-factor off.
# Override on the command line, e.g. `make run SAMVERKAN_REQUIRE_2FA=true`.
SAMVERKAN_ENV = development
SAMVERKAN_REQUIRE_2FA = false
DEV_ENV = SAMVERKAN_ENV=$(SAMVERKAN_ENV) SAMVERKAN_REQUIRE_2FA=$(SAMVERKAN_REQUIRE_2FA)

TRANSLATIONS := coordination/translations
POT := $(TRANSLATIONS)/messages.pot
PO_FILES := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: help venv install run migrate demo test test-postgres test-redis lint pytest pytest-at typecheck bench system-deps \
	translations compile-translations clean clean-all

help: ## list the targets
	@echo "Samverkan – make targets:"
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "} {printf "  %-22s %s\n", $$1, $$2}'

# WeasyPrint (the minutes as PDF/A) needs Pango and HarfBuzz from the system, and a font;
# pysaml2 (SAML sign-in) needs the xmlsec1 program for the signatures.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core xmlsec1

system-deps: ## apt-get install the system libraries WeasyPrint and pysaml2 need (Debian, as root)
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(SYSTEM_PACKAGES) \
		|| { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(SYSTEM_PACKAGES); }

# --- environment -------------------------------------------------------------------------------

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml or the lock file is newer than the stamp. The lock files
# are constraints: every package, direct or not, at the version CI tested.
$(STAMP): pyproject.toml requirements/run.txt | $(BIN)/python
	$(BIN)/python -m pip install -c requirements/run.txt -e .
	touch $@

$(DEV_STAMP): pyproject.toml requirements/dev.txt $(STAMP)
	$(BIN)/python -m pip install -c requirements/dev.txt -e '.[dev]'
	touch $@

venv: $(BIN)/python ## create .venv if it is missing

install: $(STAMP) compile-translations ## create .venv, install what running needs (requirements/run.txt), compile translations

install-dev: install $(DEV_STAMP) ## install and the development tools too (requirements/dev.txt)

# pip-compile (pip-tools, in the dev extra) pins every package for Python 3.11 on Linux; commit
# both files. `make lock LOCK_ARGS=--upgrade` moves everything to the newest allowed versions.
LOCK_ARGS ?=
PIP_COMPILE = $(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links \
	--allow-unsafe $(LOCK_ARGS)

.PHONY: lock install-dev
lock: $(DEV_STAMP) ## recompile requirements/run.txt and requirements/dev.txt from pyproject.toml
	$(PIP_COMPILE) -o requirements/run.txt pyproject.toml
	$(PIP_COMPILE) --extra dev -c requirements/run.txt -o requirements/dev.txt pyproject.toml

# Compiled catalogs (.mo) are generated and git-ignored; each is rebuilt when its .po changes.
compile-translations: $(MO_FILES) ## compile the translation catalogs (.po -> .mo)

$(TRANSLATIONS)/%.mo: $(TRANSLATIONS)/%.po | $(STAMP)
	$(PYBABEL) compile -i $< -o $@

# babel.cfg's patterns are anchored at the repository root, so extraction starts at `.`;
# they keep .venv/, migrations/ and tests/ out. A new catalog is created if none exists yet.
translations: $(STAMP) ## extract messages, update the English catalog, compile
	@test -f babel.cfg || { echo "babel.cfg is missing: it tells pybabel what to extract." >&2; exit 1; }
	$(PYBABEL) extract -F babel.cfg -k _l -k lazy_gettext -o $(POT) .
	if [ -f $(TRANSLATIONS)/en/LC_MESSAGES/messages.po ]; then \
		$(PYBABEL) update -i $(POT) -d $(TRANSLATIONS) -l en; \
	else \
		$(PYBABEL) init -i $(POT) -d $(TRANSLATIONS) -l en; \
	fi
	$(PYBABEL) compile -d $(TRANSLATIONS)

# --- running locally ---------------------------------------------------------------------------

migrate: install ## alembic upgrade head on the development database
	$(DEV_ENV) $(ALEMBIC) upgrade head

demo: migrate ## load the demo municipality Exempelstad (idempotent) and print the logins
	$(DEV_ENV) $(FLASK) demo

# The scheduler (`flask scheduler run`: reminders, e-mail, nightly sweeps) runs in the
# background next to the web server. However the server stops (Ctrl-C, an error, a kill), the
# trap sends the scheduler SIGTERM and waits for its running jobs to finish; `trap -` keeps the
# trap from firing twice.
run: demo ## install, migrate, load demo data, serve http://127.0.0.1:5000 with the scheduler (2FA off)
	@echo "Samverkan: http://$(HOST):$(PORT)/  (demo password: exempelstad-demo-2026)"
	trap 'trap - EXIT INT TERM; kill $$(jobs -p) 2>/dev/null; wait' EXIT INT TERM; \
	$(DEV_ENV) $(FLASK) scheduler run & \
	$(DEV_ENV) $(FLASK) run --host $(HOST) --port $(PORT)

# --- checks ------------------------------------------------------------------------------------

test: lint typecheck pytest ## ruff, lint-imports, mypy, pytest (TEST_DATABASE_URL selects the database)

lint: install-dev ## ruff check, ruff format --check and the import-linter layer contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# TEST_DATABASE_URL reaches pytest from the environment or the make command line;
# without it the suite uses a temporary SQLite file.
pytest: install-dev ## the pytest suite only (PYTEST_ARGS="-x -k name" to narrow it)
	$(BIN)/pytest $(PYTEST_ARGS)
	$(BIN)/pytest -q tests/secrecy/test_policy.py --cov=secrecy.policy.engine --cov-branch --cov-report=term-missing --cov-fail-under=100 -p no:cacheprovider

# The suite on a clock that shows AT (Stockholm time) when it starts and ticks on from there
# (tests/clock.py): a run across midnight, a year's end, a holiday or the change to summer time,
# whenever it is really run. The sign-in tests stay out: their identity providers run in
# processes of their own on the real clock, and sign with it.
AT ?= 2026-12-31T23:58
pytest-at: install-dev ## the pytest suite on a clock set to AT (default New Year's Eve 23:58)
	$(BIN)/python -m tests.clock --at "$(AT)" $(BIN)/pytest -W ignore::pytest.PytestAssertRewriteWarning \
		--ignore=tests/coordination/providers -p no:cacheprovider $(PYTEST_ARGS)

test-postgres: ## make test against PostgreSQL (database `test` on 127.0.0.1:5432, user postgres)
	$(MAKE) test TEST_DATABASE_URL=$(PG_TEST_URL)

test-redis: install-dev ## the Redis rate-limit and session tests (REDIS_URL, default redis://127.0.0.1:6379/1)
	REDIS_URL="$${REDIS_URL:-$(REDIS_TEST_URL)}" $(BIN)/pytest -q tests/coordination/test_rate_limit_redis.py tests/coordination/test_sessions_redis.py -p no:cacheprovider

typecheck: install-dev ## mypy
	$(BIN)/mypy

# Schemathesis against the app served by gunicorn, on a scratch database it creates and drops
# (docs/api.md, "Kontraktstester").
.PHONY: api-fuzz
api-fuzz: install-dev ## fuzz /api/v1 against its OpenAPI document (PostgreSQL on 127.0.0.1:5432, user postgres)
	.ci/api-fuzz postgresql+psycopg://postgres@127.0.0.1:5432

# The whole backup cycle on scratch PostgreSQL databases (docs/operations.md, "Restore drill"):
# demo data, flask backup create, flask backup restore into an empty database, audit verify,
# keys check, row counts and the audit head compared; the time of each step printed.
RESTORE_DRILL_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432

.PHONY: restore-drill
restore-drill: install ## back up the demo data, restore it into a scratch database and compare (PostgreSQL)
	.ci/restore-drill $(RESTORE_DRILL_URL)

# Every direct dependency at the floor pyproject.toml declares, in a throw-away venv, and the
# tests that use those libraries most (SQLite). A failure means a floor is too low.
.PHONY: floors
floors: install-dev ## test the lowest allowed versions of the dependencies (throw-away venv)
	.ci/floors

# --- benchmark (issue 9; bench/README.md) --------------------------------------------------------

BENCH_SCALE ?= 0.01
BENCH_WORKERS ?= 2
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): pyproject.toml | $(DEV_STAMP)
	$(BIN)/python -m pip install -c requirements/dev.txt -e '.[dev,bench]'
	touch $@

bench: $(BENCH_STAMP) ## generate the data set in PostgreSQL (BENCH_SCALE=0.01, 1 = full) and measure; needs wrk
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
	$(BIN)/python bench/generate.py --scale $(BENCH_SCALE) --workers $(BENCH_WORKERS)
	$(BIN)/python bench/run.py

# --- browser tests (tests/e2e) -----------------------------------------------------------------

# Playwright and axe-core come with the e2e extra; the browser is Debian's chromium (Playwright's
# own browser download is never used). The tests start gunicorn and the scheduler on scratch
# PostgreSQL databases (127.0.0.1:5432, user postgres) and drop them again.
E2E_STAMP := $(VENV)/.e2e-installed

$(E2E_STAMP): pyproject.toml | $(DEV_STAMP)
	$(BIN)/python -m pip install -c requirements/dev.txt -e '.[dev,e2e]'
	touch $@

.PHONY: e2e
e2e: install-dev $(E2E_STAMP) ## browser tests: a month in chromium, axe on every page, screenshots (tests/e2e/artifacts)
	@test -x /usr/bin/chromium || { echo "chromium is missing: apt-get install chromium" >&2; exit 1; }
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

# --- cleaning ----------------------------------------------------------------------------------

clean: ## remove caches, build output and compiled catalogs (keeps .venv and instance/)
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -print0 | xargs -0 rm -rf
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage htmlcov build dist *.egg-info
	rm -f $(TRANSLATIONS)/*/LC_MESSAGES/*.mo

clean-all: clean ## clean, and remove .venv and instance/ (the development database and keys)
	rm -rf $(VENV) instance
