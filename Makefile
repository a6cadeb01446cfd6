# make run  - install everything, migrate, load the demo city, serve http://127.0.0.1:8000
# make test - install everything, lint (ruff, the layers contract), run the whole test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test install lint messages makemessages clean

run: install
run: export DEBUG ?= 1
run:
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: install lint
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

install: $(VENV)/.installed node_modules/.installed messages

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Compile the gettext catalogues (Babel: no system gettext needed).
messages: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d locale -D django

# Extract new texts into locale/*/django.po (needs GNU gettext: apt-get install gettext).
makemessages: $(VENV)/.installed
	DEBUG=1 $(BIN)/python manage.py makemessages -l de -l tr -l ar -l uk -l ru --no-location --ignore=node_modules --ignore=.venv --ignore=var

clean:
	rm -rf $(VENV) node_modules var
