# 网格巡查 — `make run` starts the app with a demo town; `make test` runs lint and the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
FLASK := $(BIN)/flask --app app
MO := translations/zh/LC_MESSAGES/messages.mo

.PHONY: setup run serve test bench db translations clean

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

serve: db
	$(BIN)/waitress-serve --host 127.0.0.1 --port 8000 --threads 8 --call app:create_app

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache translations/*/LC_MESSAGES/*.mo
