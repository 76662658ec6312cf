# Two commands do all the set-up: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
FLASK  := $(BIN)/flask --app wsgi
INSTANCE := $(or $(SCREENING_INSTANCE_DIR),instance)
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider

.PHONY: run serve install install-test translations test test-sqlite test-postgres \
        test-browser test-slow lint system-test-deps clean-venv code

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d screening/translations >/dev/null

install: $(VENV)/.installed translations

run: install
	mkdir -p $(INSTANCE) && chmod 700 $(INSTANCE)
	$(FLASK) keys init --if-missing
	$(FLASK) db upgrade
	$(FLASK) patients reindex
	$(FLASK) demo setup
	@echo "Serving on http://127.0.0.1:$(PORT)/ (Ctrl-C stops)"
	$(FLASK) run --host 127.0.0.1 --port $(PORT) --no-reload --no-debugger

# The app under gunicorn (deploy/gunicorn.conf.py): the same set-up as run, without demo
# accounts. In production (SCREENING_ENV=production) a missing key file is an error, never
# replaced by a new one; see docs/operations.md.
serve: install
	mkdir -p $(INSTANCE) && chmod 700 $(INSTANCE)
	$(FLASK) keys $(if $(filter production,$(SCREENING_ENV)),check,init --if-missing)
	$(FLASK) db upgrade
	$(FLASK) patients reindex
	@echo "Serving on 127.0.0.1:$(PORT) under gunicorn (Ctrl-C stops)"
	PORT=$(PORT) exec $(BIN)/gunicorn -c deploy/gunicorn.conf.py wsgi:app

# A current two-factor code for a demo account: make code WHO=sykepleier
code:
	@$(FLASK) demo code $(or $(WHO),sykepleier)

system-test-deps:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "installing PostgreSQL"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

AXE := tests/browser/.axe/node_modules/axe-core/axe.min.js

$(AXE):
	@command -v npm >/dev/null 2>&1 || { echo "installing Debian's npm"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	npm install --silent --no-save --no-audit --no-fund --prefix tests/browser/.axe axe-core@4

install-test: $(VENV)/.installed-test translations system-test-deps $(AXE)

lint: install-test
	$(BIN)/ruff check screening tests benchmarks migrations wsgi.py
	$(BIN)/mypy

test-sqlite: install-test
	@echo "=== test suite on SQLite ==="
	$(PYTEST) -m "not browser and not slow" tests

test-postgres: install-test
	@echo "=== test suite on PostgreSQL (throwaway cluster) ==="
	$(BIN)/python tests/pg_cluster.py -- $(PYTEST) -m "not browser and not slow" tests

test-browser: install-test
	@echo "=== browser tests in Chromium ==="
	$(PYTEST) -m "browser" tests

test: lint test-sqlite test-postgres test-browser

test-slow: install-test
	@echo "=== slow suite on SQLite ==="
	$(PYTEST) -m slow -rP --durations=15 tests
	@echo "=== slow suite on PostgreSQL (throwaway cluster) ==="
	$(BIN)/python tests/pg_cluster.py -- $(PYTEST) -m slow -rP --durations=15 tests

clean-venv:
	rm -rf $(VENV)
