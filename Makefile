# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make run   install, create the SQLite database, load the guide, serve on :8000
#   make test  install the test dependencies and run the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Canonical links, feeds and moderator emails name this address; set SITE_URL to override.
SITE_URL ?= http://$(HOST):$(PORT)
# make run serves a local development copy; production sets DJANGO_SECRET_KEY and keeps debug off.
DEV_ENV := DJANGO_DEBUG=1

.PHONY: run test lint install install-dev migrate guide bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput

guide: migrate
	$(DEV_ENV) $(BIN)/python manage.py load_guide

# The email worker runs beside the dev server, as in production (emails print on
# its console); it stops with the server.
run: guide
	@echo "Serving on http://$(HOST):$(PORT)/ as $(SITE_URL)"
	@echo "Staff for /admin/: DJANGO_DEBUG=1 $(BIN)/python manage.py add_staff NAME --role editor|moderator (or createsuperuser)"
	@trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEV_ENV) SITE_URL=$(SITE_URL) $(BIN)/python manage.py worker & worker=$$!; \
	$(DEV_ENV) SITE_URL=$(SITE_URL) $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Lint and formatting check (ruff, configured in pyproject.toml); changes nothing.
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Benchmarks, figures printed and saved under bench-results/: page speed under load
# (bench/run.py), or with BENCH_ARGS="--scale" page costs at 10 and 20,000 articles (bench/scale.py).
bench: install-dev
	$(BIN)/python bench/$(if $(findstring --scale,$(BENCH_ARGS)),scale,run).py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
