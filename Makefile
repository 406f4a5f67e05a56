# The two set-up commands of the README: `make demo` (the main job) and `make test` (all tests).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PG15   ?= /usr/lib/postgresql/15/bin

.PHONY: demo test test-pg18 test-pg15 test-pg15-all check lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(PY) -m generator demo

# The whole suite on PostgreSQL 18 (two pytest workers, each with its own servers and dbt
# target dir; a test file stays on one worker) and, at the same time, the compatibility set on
# Debian's PostgreSQL 15: the integration tests marked `compat`, the SQL paths once each (sync
# full / changed-only / planted defects, publish into the owner's layout with its anomalies,
# dry run, dedupe, kill -9, mirror, census, a workspace of other ids, fixtures, discover,
# transforms, the server's own start). Every integration test on both versions took 19.6 min
# of CI's 15: `make test-pg15-all` runs them all on 15.
test: $(VENV)/.installed
	$(PY) -m generator --check
	$(MAKE) --no-print-directory -j2 --output-sync=target test-pg18 test-pg15

test-pg18: $(VENV)/.installed
	$(PY) -m pytest -q -n 2 --dist loadfile

test-pg15: $(VENV)/.installed
	@test -x $(PG15)/pg_ctl || { echo "PostgreSQL 15 not found in $(PG15) (apt-get install postgresql-15)"; exit 1; }
	XANO_TEST_PG_BIN=$(PG15) $(PY) -m pytest -q -m "integration and compat"

test-pg15-all: $(VENV)/.installed
	@test -x $(PG15)/pg_ctl || { echo "PostgreSQL 15 not found in $(PG15) (apt-get install postgresql-15)"; exit 1; }
	XANO_TEST_PG_BIN=$(PG15) $(PY) -m pytest -q -m integration

lint: $(VENV)/.installed
	$(PY) -m ruff check generator tests benchmarks

clean:
	rm -rf $(VENV) target logs .pytest_cache
