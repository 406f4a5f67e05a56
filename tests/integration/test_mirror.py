"""mirror: a second real PostgreSQL laid out like Xano, with a read-only role."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import pytest
from psycopg import sql

from generator import db as dbmod
from generator.fixtures import generate_rows, load_table, scaled_counts
from generator.fixtures.records import Ctx
from generator.registry import load_registry

from ..conftest import ROOT, SERVER_SETTINGS, run_cli

V1_TABLES = load_registry(ROOT).tables

pytestmark = [pytest.mark.integration, pytest.mark.compat]  # compat: also on PG 15
PASSWORD = "r3ader-Secret"


@pytest.fixture(scope="module")
def source():
    bin_dir = os.environ.get("XANO_TEST_PG_BIN")
    base = Path(tempfile.mkdtemp(prefix="xano-src-"))
    server = dbmod.LocalServer(base / "data", Path(bin_dir) if bin_dir else None,
                               settings=SERVER_SETTINGS)
    admin = server.start()
    ctx = Ctx(seed=3, counts=scaled_counts(0.01))
    with dbmod.connect(admin) as conn:
        for t in V1_TABLES:
            load_table(conn, t, generate_rows(t.name, ctx), schema="public")
        conn.execute(f"create role reader login password '{PASSWORD}'")
        conn.execute("grant select on all tables in schema public to reader")
    hba = server.data_dir / "pg_hba.conf"
    hba.write_text("local all reader scram-sha-256\n" + hba.read_text())
    with dbmod.connect(admin) as conn:
        conn.execute("select pg_reload_conf()")
    yield server, admin
    server.destroy()


def _dsn(server, password=PASSWORD):
    return f"postgresql://reader:{password}@/postgres?host={server.socket_dir}"


def _sums(target, schema, relation):
    with dbmod.connect(target) as conn:
        return conn.execute(sql.SQL(
            "select count(*), md5(string_agg(id::text || xdo::text, ',' order by id)) "
            "from {}").format(sql.Identifier(schema, relation))).fetchone()


def test_full_mirror_matches_source_and_is_audited(source, fresh_db):
    server, admin = source
    res = run_cli("mirror", target=fresh_db, env={"XANO_SOURCE_DSN": _dsn(server)})
    assert res.returncode == 0, res.stderr
    for t in V1_TABLES:
        assert _sums(fresh_db, "xano_v1", t.relation) == _sums(admin, "public", t.relation)
    with dbmod.connect(fresh_db) as conn:
        status, src, tables = conn.execute(
            "select status, source, tables from xano_audit.mirror_runs").fetchone()
    assert status == "success" and PASSWORD not in src and len(tables) == len(V1_TABLES)
    assert PASSWORD not in res.stdout + res.stderr


def test_remirror_after_source_changes(source, fresh_db):
    server, admin = source
    env = {"XANO_SOURCE_DSN": _dsn(server)}
    assert run_cli("mirror", "--tables", "user", target=fresh_db, env=env).returncode == 0
    with dbmod.connect(admin) as conn:
        conn.execute("update public.mvpw1_41 set xdo = xdo || '{\"first_name\": \"Changed\"}' "
                     "where id = 1")
        conn.execute("insert into public.mvpw1_41 values (9999, '{\"email\": \"new@x.y\"}')")
    assert run_cli("mirror", "--tables", "user", target=fresh_db, env=env).returncode == 0
    assert _sums(fresh_db, "xano_v1", "mvpw1_41") == _sums(admin, "public", "mvpw1_41")


def test_table_missing_on_source_is_clear_and_others_still_mirror(source, fresh_db):
    server, admin = source
    with dbmod.connect(admin) as conn:
        conn.execute("alter table public.mvpw1_43 rename to mvpw1_43_gone")
    try:
        res = run_cli("mirror", "--tables", "user,participant_paid,team", target=fresh_db,
                      env={"XANO_SOURCE_DSN": _dsn(server)})
    finally:
        with dbmod.connect(admin) as conn:
            conn.execute("alter table public.mvpw1_43_gone rename to mvpw1_43")
    assert res.returncode == 1
    assert "participant_paid: table public.mvpw1_43 does not exist on the source" in res.stderr
    assert "Traceback" not in res.stderr
    assert _sums(fresh_db, "xano_v1", "mvpw1_29") == _sums(admin, "public", "mvpw1_29")


def test_wrong_password_is_one_line_and_never_echoed(source, fresh_db):
    server, _ = source
    res = run_cli("mirror", target=fresh_db,
                  env={"XANO_SOURCE_DSN": _dsn(server, "wr0ngPassw0rd")})
    assert res.returncode == 1
    assert "password authentication failed" in res.stderr
    assert "wr0ngPassw0rd" not in res.stdout + res.stderr
    assert "Traceback" not in res.stderr


def test_source_killed_mid_copy_leaves_previous_mirror_intact(source, fresh_db):
    server, admin = source
    env = {"XANO_SOURCE_DSN": _dsn(server)}
    assert run_cli("mirror", "--tables", "network", target=fresh_db, env=env).returncode == 0
    before = _sums(fresh_db, "xano_v1", "mvpw1_48")
    with dbmod.connect(admin) as conn:  # a slow source table: time to kill it mid-copy
        conn.execute("alter table public.mvpw1_48 rename to mvpw1_48_data")
        conn.execute("create view public.mvpw1_48 as select id, xdo from public.mvpw1_48_data "
                     "where pg_sleep(0.002) is not null")
        conn.execute("grant select on public.mvpw1_48 to reader")
        conn.execute("update public.mvpw1_48_data set xdo = xdo || '{\"level\": 99}'")

    def killer():
        time.sleep(1.0)
        with dbmod.connect(admin) as conn:
            conn.execute("select pg_terminate_backend(pid) from pg_stat_activity "
                         "where usename = 'reader'")

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        res = run_cli("mirror", "--tables", "network", target=fresh_db, env=env)
    finally:
        thread.join()
        with dbmod.connect(admin) as conn:
            conn.execute("drop view public.mvpw1_48")
            conn.execute("alter table public.mvpw1_48_data rename to mvpw1_48")
    assert res.returncode == 1, res.stdout
    assert "Traceback" not in res.stderr
    assert _sums(fresh_db, "xano_v1", "mvpw1_48") == before
    with dbmod.connect(fresh_db) as conn:
        assert conn.execute("select status from xano_audit.mirror_runs order by run_id desc "
                            "limit 1").fetchone()[0] == "failed"


def test_wrong_password_for_dsn_is_one_line(source):
    server, _ = source
    res = run_cli("--dsn", _dsn(server, "n0tTheP4ss"), "db", "status")
    assert res.returncode == 1
    assert "password authentication failed" in res.stderr
    assert "n0tTheP4ss" not in res.stdout + res.stderr and "Traceback" not in res.stderr
