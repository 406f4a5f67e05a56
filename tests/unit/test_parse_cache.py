"""The per-(database, vars) parse cache of dbt_invoke: a dbt call that skips parsing leaves
dbt's own state file as an earlier call (of another key) wrote it; that file must not replace
the cached state of the key. A tiny project; ``dbt parse`` needs no server."""

from __future__ import annotations

import os

from generator import db as dbmod
from generator.sync.runner import dbt_invoke

PROFILE = """p:
  target: d
  outputs:
    d:
      type: postgres
      host: "{{ env_var('PGHOST') }}"
      port: 5432
      user: u
      password: ""
      dbname: "{{ env_var('PGDATABASE') }}"
      schema: s
      threads: 1
"""


def _project(root):
    (root / "models").mkdir(parents=True)
    (root / "profiles").mkdir()
    (root / "dbt_project.yml").write_text("name: p\nversion: '1.0'\nprofile: p\n"
                                          "config-version: 2\n")
    (root / "models" / "m.sql").write_text("select {{ var('x', 0) }} as x\n")
    (root / "profiles" / "profiles.yml").write_text(PROFILE)


def test_a_skipped_parse_keeps_the_cached_state_of_its_key(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    _project(root)
    out = tmp_path / "target"
    monkeypatch.setenv("DBT_TARGET_PATH", str(out))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    for k in ("PGHOST", "PGDATABASE", "PGPORT", "PGUSER", "PGPASSWORD", "PGSSLMODE"):
        monkeypatch.delenv(k, raising=False)
    target = dbmod.Target({"host": "/nonexistent", "dbname": "a"})
    state = out / "partial_parse.msgpack"
    env_before = dict(os.environ)

    def parse(*extra):
        res = dbt_invoke(target, root, ["parse", "--quiet", *extra])
        assert res.success, res.exception
        return state.stat().st_mtime_ns

    try:
        parse()                      # key A: full parse, cached
        parse("--vars", "{x: 1}")    # key B: full parse (dbt's file now holds B)
        written = parse()            # key A: cached state used, nothing parsed, nothing written
        assert parse() == written    # key A again: still nothing to parse
        cached = sorted((out / "parse_cache").glob("*.msgpack"))
        assert len(cached) == 2
    finally:
        os.environ.clear()
        os.environ.update(env_before)
