# certarchive: the README's two commands. Each does all of its own set-up.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= etc/certarchive.ini
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP_RUN): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(STAMP_TEST): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	@if [ -e var/Data.fs ]; then $(BIN)/certarchive -c $(CONFIG) init; \
	else $(BIN)/certarchive -c $(CONFIG) init --demo 20 --demo-logins var/demo-logins.txt; fi
	@echo "演示账号 / demo logins (name, role, password):"; cat var/demo-logins.txt 2>/dev/null || true
	$(BIN)/certarchive -c $(CONFIG) serve

test: $(STAMP_TEST)
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -q

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests bench

bench: $(STAMP_TEST)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var
