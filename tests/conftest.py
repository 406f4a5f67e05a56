"""Shared fixtures: one real PostgreSQL server per test session, a fresh database per test.

``tests/unit`` needs no server (none of its tests asks for one); every test under
``tests/integration`` is marked ``integration``; those also marked ``compat`` run once more on
PostgreSQL 15 in CI (every SQL path once: see the Makefile).
The server is the embedded PostgreSQL 18 by default; ``XANO_TEST_PG_BIN`` names another bin dir
(CI: Debian's /usr/lib/postgresql/15/bin); libpq env (``PGHOST``) uses an existing server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from generator import db as dbmod

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = Path(__file__).resolve().parent / "integration"
# dbt's target/ and logs/ of this test session: two sessions (PostgreSQL 18 and 15) may run at
# the same time on one checkout; every dbt call of the session (in process or not) inherits it
if os.environ.get("PYTEST_XDIST_WORKER"):  # a worker of `pytest -n N`: its own target dir
    os.environ["DBT_TARGET_PATH"] = tempfile.mkdtemp(
        prefix=f"xano-dbt-target-{os.environ['PYTEST_XDIST_WORKER']}-")
    os.environ["DBT_LOG_PATH"] = str(Path(os.environ["DBT_TARGET_PATH"]) / "logs")
DBT_TARGET = Path(os.environ.setdefault(
    "DBT_TARGET_PATH", tempfile.mkdtemp(prefix="xano-dbt-target-")))
os.environ.setdefault("DBT_LOG_PATH", str(DBT_TARGET / "logs"))


def pytest_collection_modifyitems(config, items):
    """Every test under tests/integration is an integration test."""
    for item in items:
        if INTEGRATION in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


SERVER_SETTINGS = {"fsync": "off", "jit": "off"}
"""Of every server a test starts. ``jit`` off: Debian's PostgreSQL 15 is built with LLVM and
compiles every query whose estimated cost passes ``jit_above_cost``; the inventory scan's jsonb
set-returning functions are estimated at 100 rows a record, so each scan of a few dozen rows paid
about 0.7 s of compiling (the string-class test: 45 s on 15, 2.7 s with jit off). No result
depends on it; the embedded 18 has no JIT."""


@pytest.fixture(scope="session")
def pg_server():
    """A running server for the whole session; yields a Target to its maintenance db."""
    if os.environ.get("PGHOST") and not os.environ.get("XANO_TEST_PG_BIN"):
        yield dbmod.Target(dbmod.env_params({}))
        return
    bin_dir = os.environ.get("XANO_TEST_PG_BIN")
    base = Path(tempfile.mkdtemp(prefix="xano-test-pg-"))
    server = dbmod.LocalServer(base / "data", Path(bin_dir) if bin_dir else None,
                               settings=dict(SERVER_SETTINGS, synchronous_commit="off",
                                             full_page_writes="off"))
    target = server.start()
    try:
        yield target
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def server_version(pg_server) -> int:
    with dbmod.connect(pg_server) as conn:
        return conn.info.server_version // 10000


SESSION = uuid.uuid4().hex[:8]
"""Names this test session's databases (two sessions may share one server given by PGHOST)."""


def db_name(prefix: str) -> str:
    """The database name of ``prefix`` in this session: the same for every test that uses the
    prefix, so dbt's partial parse (whose state includes the database name) is reused from one
    test to the next instead of parsing the whole project again. Tests run one at a time; a
    test holding two databases at once gives them different prefixes."""
    return f"{prefix}_{SESSION}"


def _replace_db(server: dbmod.Target, name: str, template: str | None = None) -> None:
    with dbmod.connect(server) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)) if template is None
                     else sql.SQL("create database {} template {}").format(
                         sql.Identifier(name), sql.Identifier(template)))


def create_db(server: dbmod.Target, prefix: str = "t") -> dbmod.Target:
    """A new empty database named db_name(prefix) (an old one of that name is dropped)."""
    name = db_name(prefix)
    _replace_db(server, name)
    return dbmod.Target(dict(server.params, dbname=name), embedded=server.embedded)


def drop_db(server: dbmod.Target, target: dbmod.Target) -> None:
    """Drop ``target``'s database (connections are terminated)."""
    with dbmod.connect(server) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(target.params["dbname"])))


def clone_db(server: dbmod.Target, template: dbmod.Target, prefix: str = "t") -> dbmod.Target:
    """A copy of ``template`` named db_name(prefix) (CREATE DATABASE ... TEMPLATE: a file
    copy)."""
    name = db_name(prefix)
    _replace_db(server, name, template.params["dbname"])
    return dbmod.Target(dict(server.params, dbname=name), embedded=server.embedded)


SMALL_SCALE = "0.02"
"""Scale of the shared workspaces below (7 users, ~1.7k network rows)."""


@pytest.fixture(scope="session")
def baseline_db(pg_server):
    """Fixtures at SMALL_SCALE with production's V2 state laid over them, never synced.

    Shared by the whole session: clone it (clone_db), never change it.
    """
    target = create_db(pg_server, "tpl_base")
    res = run_cli("fixtures", "--scale", SMALL_SCALE, "--v2-baseline", target=target)
    assert res.returncode == 0, res.stderr
    yield target
    drop_db(pg_server, target)


@pytest.fixture(scope="session")
def synced_db(pg_server, baseline_db):
    """baseline_db after one full sync. Shared: clone it (clone_db), never change it."""
    target = clone_db(pg_server, baseline_db, "tpl_sync")
    res = run_cli("sync", target=target)
    assert res.returncode == 0, res.stdout + res.stderr
    yield target
    drop_db(pg_server, target)


@pytest.fixture
def fresh_db(pg_server):
    """A new empty database; yields its Target and drops it afterwards."""
    target = create_db(pg_server)
    yield target
    drop_db(pg_server, target)


@pytest.fixture
def conn(fresh_db):
    with dbmod.connect(fresh_db) as c:
        yield c


def run_cli(*args: str, target: dbmod.Target | None = None, cwd: Path = ROOT,
            env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``python -m generator ...`` as a user would; returns the completed process."""
    full_env = {k: v for k, v in os.environ.items()
                if not k.startswith("PG") and k != "XANO_DSN"}
    if target is not None:
        full_env.update(target.dbt_env(ROOT))
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def scalar(conn: psycopg.Connection, query, params=None):
    return conn.execute(query, params).fetchone()[0]
