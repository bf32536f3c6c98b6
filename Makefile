# 网格巡查 — `make run` starts the app with a demo town; `make test` runs lint and the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
FLASK := $(BIN)/flask --app app
MO := translations/zh/LC_MESSAGES/messages.mo

.PHONY: setup run serve load test bench db translations screenshots clean

setup: $(STAMP) $(MO)

$(STAMP): requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

$(MO): translations/zh/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d translations

translations: $(STAMP)
	$(BIN)/python scripts/update_translations.py

db: setup
	$(FLASK) init-db
	$(FLASK) demo

run: db
	$(FLASK) run --host 127.0.0.1 --port 5000

# Production: upgrade the database, never load the demo (its accounts share a public password).
serve: setup
	$(FLASK) init-db
	$(BIN)/gunicorn --config gunicorn.conf.py

# Load test tools live in their own virtualenv, so `make test` stays lean.
LOAD_VENV := .venv-load
LOAD_STAMP := $(LOAD_VENV)/.installed-$(shell cksum requirements-load.txt | cut -d' ' -f1)

$(LOAD_STAMP): requirements-load.txt
	test -d $(LOAD_VENV) || $(PYTHON) -m venv $(LOAD_VENV)
	$(LOAD_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-load.txt
	rm -f $(LOAD_VENV)/.installed-*
	touch $@

# 40 users for 2 minutes on loopback against a fresh demo town under gunicorn, then the checks.
# LOAD_TIME=20s for a smoke run; LOAD_DATABASE_URL=postgresql+psycopg://… for PostGIS.
export LOAD_USERS LOAD_TIME LOAD_SPAWN_RATE LOAD_DATABASE_URL LOAD_KEEP LOAD_TOWNS LOAD_STEADY LOAD_PATROLLERS
# gunicorn itself reads WEB_CONCURRENCY with int() when it starts: export it only when it is set.
ifdef WEB_CONCURRENCY
export WEB_CONCURRENCY
endif
load: setup $(LOAD_STAMP)
	$(BIN)/python -m load.run

test: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python -m bench

# Every main page on a phone and a desktop (headless Chromium, the demo town) into screenshots/.
screenshots: setup
	$(BIN)/python scripts/screenshots.py screenshots

clean:
	rm -rf $(VENV) $(LOAD_VENV) .pytest_cache translations/*/LC_MESSAGES/*.mo
