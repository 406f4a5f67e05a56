"""Database access: URI and env output, stale pid recovery, the libpq/--dsn precedence."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from generator import db as dbmod

from ..conftest import SERVER_SETTINGS, run_cli

pytestmark = [pytest.mark.integration, pytest.mark.compat]  # compat: also on PG 15


def test_db_url_is_accepted_by_psql(pg_server):
    res = run_cli("db", "url", target=pg_server)
    assert res.returncode == 0, res.stderr
    url = res.stdout.strip()
    psql = shutil.which("psql")
    if psql:
        out = subprocess.run([psql, url, "-Atc", "select 42"], capture_output=True, text=True)
        assert out.stdout.strip() == "42", out.stderr
    with psycopg.connect(url) as conn:
        assert conn.execute("select 1").fetchone()[0] == 1


def test_db_env_exports_reach_the_same_server(pg_server):
    res = run_cli("db", "env", target=pg_server)
    assert res.returncode == 0, res.stderr
    env = {}
    for line in res.stdout.splitlines():
        assert line.startswith("export ")
        key, _, value = line[len("export "):].partition("=")
        env[key] = value.strip("'")
    assert set(env) >= {"PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "DBT_PROFILES_DIR"}
    assert "PGPASSWORD" not in env
    with psycopg.connect(host=env["PGHOST"], port=env["PGPORT"], user=env["PGUSER"],
                         dbname=env["PGDATABASE"]) as conn:
        assert conn.execute("select 1").fetchone()[0] == 1


def test_dsn_wins_over_env(pg_server, monkeypatch):
    monkeypatch.setenv("PGHOST", "/nonexistent")
    target = dbmod.resolve(pg_server.uri())
    assert target.params["host"] == pg_server.params["host"]


def test_stale_pidfile_after_crash_is_recovered():
    base = Path(tempfile.mkdtemp(prefix="xano-stale-"))
    bin_dir = os.environ.get("XANO_TEST_PG_BIN")
    server = dbmod.LocalServer(base / "data", Path(bin_dir) if bin_dir else None,
                               settings=SERVER_SETTINGS)
    try:
        server.start()
        pid = server.pid()
        os.kill(pid, 9)  # crash: postmaster.pid stays behind
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            import time

            time.sleep(0.1)
        pidfile = server.data_dir / "postmaster.pid"
        assert pidfile.exists()
        lines = pidfile.read_text().splitlines()
        lines[0] = str(os.getpid())  # the stale pid now belongs to another live process
        pidfile.write_text("\n".join(lines) + "\n")
        target = server.start()
        with dbmod.connect(target) as conn:
            assert conn.execute("select 1").fetchone()[0] == 1
    finally:
        server.destroy()
        shutil.rmtree(base, ignore_errors=True)
