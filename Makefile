# The two set-up commands of the README: `make demo` (the main job) and `make test` (all tests).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PG15   ?= /usr/lib/postgresql/15/bin

.PHONY: demo test test-pg18 test-pg15 check lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(PY) -m generator demo

# The two server versions run at once (2 cores; each session has its own servers and dbt
# target dir); each one's output is printed when it ends.
test: $(VENV)/.installed
	$(PY) -m generator --check
	$(MAKE) --no-print-directory -j2 --output-sync=target test-pg18 test-pg15

test-pg18: $(VENV)/.installed
	$(PY) -m pytest -q

test-pg15: $(VENV)/.installed
	@test -x $(PG15)/pg_ctl || { echo "PostgreSQL 15 not found in $(PG15) (apt-get install postgresql-15)"; exit 1; }
	XANO_TEST_PG_BIN=$(PG15) $(PY) -m pytest -q -m integration

lint: $(VENV)/.installed
	$(PY) -m ruff check generator tests benchmarks

clean:
	rm -rf $(VENV) target logs .pytest_cache
