# Two commands on a fresh Debian machine with Python 3.11:
#   make run   installs and runs the service on the embedded default (SQLite + embedded search, seed loaded)
#   make test  installs what tests need (PostgreSQL via apt when missing, as root) and runs the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint migration clean

$(VENV)/.installed: pyproject.toml
	@scripts/ensure-venv.sh $(PYTHON) $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml
	@scripts/ensure-venv.sh $(PYTHON) $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/registry serve

test: $(VENV)/.installed-dev
	@scripts/run-tests.sh

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# After changing catalog/tables.py: write the migration for it (review it, then commit it).
migration: $(VENV)/.installed-dev
	PICCOLO_CONF=catalog.piccolo_conf REGISTRY_DATA_DIR=$$(mktemp -d) $(BIN)/piccolo migrations new catalog --auto

clean:
	rm -rf $(VENV) var
