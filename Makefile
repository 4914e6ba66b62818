# certarchive: the README's two commands. Each does all of its own set-up.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= etc/certarchive.ini
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
# The English catalog: kept in git as .po, compiled to .mo here (not in git).
LOCALE := src/certarchive/locale
PO := $(LOCALE)/en/LC_MESSAGES/certarchive.po
MO := $(LOCALE)/en/LC_MESSAGES/certarchive.mo
POT := $(LOCALE)/certarchive.pot

.PHONY: run test lint bench clean zeo run-zeo run-relstorage serve-many system-packages fuzz \
	messages translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP_RUN): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(STAMP_TEST): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $@ $(STAMP_RUN)

# Compiled whenever the catalog changed: `make run` and `make test` depend on it.
$(MO): $(PO) $(STAMP_RUN)
	$(BIN)/pybabel compile -D certarchive -d $(LOCALE) -l en
	touch $@
translations: $(MO)

# After adding or changing texts: extract the Chinese msgids from the sources and the
# templates (babel.cfg) and merge them into the catalog; then write the new English
# msgstrs in the .po (tests/test_i18n.py names any left empty) and `make translations`.
messages: $(STAMP_RUN)
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --omit-header \
	  -o $(POT) src/certarchive
	$(BIN)/pybabel update -D certarchive -i $(POT) -d $(LOCALE) -l en \
	  --no-fuzzy-matching --ignore-obsolete --no-wrap
	rm -f $(POT)

# Debian packages (and for the suite a running PostgreSQL) before anything else:
# installed as root, named with the command that installs them otherwise.
run: SYSTEM := run
test: SYSTEM := test
system-packages:
	PYTHON=$(PYTHON) tools/ensure-system-packages $(SYSTEM)

run: system-packages $(STAMP_RUN) $(MO)
	@if [ -e var/Data.fs ]; then $(BIN)/certarchive -c $(CONFIG) init; \
	else $(BIN)/certarchive -c $(CONFIG) init --demo 20 --demo-logins var/demo-logins.txt; fi
	@echo "演示账号 / demo logins (name, role, password):"; cat var/demo-logins.txt 2>/dev/null || true
	$(BIN)/certarchive -c $(CONFIG) serve

test: system-packages $(STAMP_TEST) $(MO)
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -q

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests bench

# The fuzz targets of tests/test_fuzz.py at length (make test runs them briefly).
FUZZ_EXAMPLES ?= 5000
fuzz: $(STAMP_TEST)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz.py

bench: $(STAMP_TEST)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

# Several app processes on one machine (ZEO) or several machines (RelStorage):
# `make zeo` in one terminal, `make run-zeo N=2` in another; ports 6543, 6544, …
N ?= 2
PG ?= postgresql://postgres@127.0.0.1:5432

zeo: $(STAMP_RUN)
	mkdir -p var/zeo
	$(BIN)/runzeo -C etc/zeo.conf

run-zeo: $(STAMP_RUN)
	$(MAKE) --no-print-directory serve-many CONFIG=etc/certarchive-zeo.ini

run-relstorage: $(STAMP_RUN)
	for db in main audit sharing; do \
	  psql "$(PG)/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname='certarchive_$$db'" | grep -q 1 \
	  || psql "$(PG)/postgres" -c "CREATE DATABASE certarchive_$$db"; done
	$(MAKE) --no-print-directory serve-many CONFIG=etc/certarchive-relstorage.ini

serve-many:
	$(BIN)/certarchive -c $(CONFIG) init
	trap 'kill 0' INT TERM EXIT; \
	for i in $$(seq 0 $$(($(N) - 1))); do \
	  $(BIN)/certarchive -c $(CONFIG) serve --port $$((6543 + i)) & done; wait

clean:
	rm -rf $(VENV) var
