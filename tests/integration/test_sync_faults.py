"""Interrupt safety: kill -9 of a sync at a random point, then a new sync, gives exactly the
state of an uninterrupted sync (table checksums), and leaves no lock behind."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest
from psycopg import sql

from generator import db as dbmod

from ..conftest import ROOT, SERVER_SETTINGS, clone_db, drop_db, run_cli

pytestmark = pytest.mark.integration
SCALE = "0.02"
SEEDS = int(os.environ.get("XANO_KILL_SEEDS", "2"))  # XANO_KILL_SEEDS=10 for the full run


@pytest.fixture
def new_db(pg_server, baseline_db):
    """A copy of the shared, never synced workspace."""
    target = clone_db(pg_server, baseline_db, "kill")
    yield target
    drop_db(pg_server, target)


def checksums(target) -> dict[str, str]:
    with dbmod.connect(target) as conn:
        names = [r[0] for r in conn.execute(
            "select tablename from pg_tables where schemaname = 'xano_v2' order by 1")]
        return {n: conn.execute(sql.SQL(
            "select md5(coalesce(string_agg(t::text, '|' order by t.id), '')) from {} t").format(
            sql.Identifier("xano_v2", n))).fetchone()[0] for n in names}


@pytest.fixture(scope="module")
def reference(synced_db):
    """The V2 of a clean sync of the same workspace."""
    return checksums(synced_db)


@pytest.mark.parametrize("seed", range(SEEDS))
def test_kill_9_mid_sync_then_resync_equals_a_clean_sync(new_db, reference, seed):
    target = new_db
    rng = random.Random(seed)
    wait_for_tables = rng.randint(0, 20)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(target.dbt_env(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "generator", "sync"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    with dbmod.connect(target) as conn:
        while proc.poll() is None and time.monotonic() < deadline:
            done = conn.execute(
                "select count(*) from pg_tables where schemaname = 'xano_audit' "
                "and tablename = 'sync_run_tables'").fetchone()[0] and conn.execute(
                "select count(*) from xano_audit.sync_run_tables where status is not null "
                "and status <> 'pending'").fetchone()[0]
            if done >= wait_for_tables:
                break
            time.sleep(0.05)
    if proc.poll() is None:  # a sync that ended on its own is resynced all the same
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    res = run_cli("sync", target=target)
    assert res.returncode == 0, res.stdout + res.stderr
    assert checksums(target) == reference
    with dbmod.connect(target) as conn:
        locks = conn.execute("select count(*) from pg_locks where locktype = 'advisory'"
                             ).fetchone()[0]
        statuses = [r[0] for r in conn.execute(
            "select status from xano_audit.sync_runs order by run_id")]
    assert locks == 0
    assert statuses[-1] == "success"
    assert "running" not in statuses


def _wait_tables_done(target, n, proc, timeout=120):
    deadline = time.monotonic() + timeout
    with dbmod.connect(target) as conn:
        while proc.poll() is None and time.monotonic() < deadline:
            exists = conn.execute("select to_regclass('xano_audit.sync_run_tables') is not null"
                                  ).fetchone()[0]
            if exists and conn.execute("select count(*) from xano_audit.sync_run_tables where "
                                       "status not in ('pending', 'running')").fetchone()[0] >= n:
                return
            time.sleep(0.05)


def test_postgres_restarted_during_sync_then_resync_equals_clean(reference, tmp_path):
    bin_dir = os.environ.get("XANO_TEST_PG_BIN")
    server = dbmod.LocalServer(tmp_path / "pg", __import__("pathlib").Path(bin_dir)
                               if bin_dir else None, settings=SERVER_SETTINGS)
    target = server.start()
    try:
        res = run_cli("fixtures", "--scale", SCALE, "--v2-baseline", target=target)
        assert res.returncode == 0, res.stderr
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(target.dbt_env(ROOT))
        proc = subprocess.Popen([sys.executable, "-m", "generator", "sync"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_tables_done(target, 5, proc)
        server.stop("immediate")
        server.start()
        out, err = proc.communicate(timeout=300)
        assert "Traceback" not in err
        res = run_cli("sync", target=target)
        assert res.returncode == 0, res.stdout + res.stderr
        assert checksums(target) == reference
        with dbmod.connect(target) as conn:
            assert conn.execute("select count(*) from pg_locks where locktype = 'advisory'"
                                ).fetchone()[0] == 0
            statuses = [r[0] for r in conn.execute(
                "select status from xano_audit.sync_runs order by run_id")]
        assert statuses[-1] == "success" and "running" not in statuses
    finally:
        server.destroy()


def test_dashboard_under_200_concurrent_requests_during_a_sync(new_db, reference):
    import concurrent.futures
    import socket
    import urllib.error
    import urllib.request

    target = new_db
    dash = None
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(target.dbt_env(ROOT))
        dash = subprocess.Popen([sys.executable, "-m", "generator", "dashboard", "--port",
                                 str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/api/runs", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        sync = subprocess.Popen([sys.executable, "-m", "generator", "sync"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        paths = ["/", "/api/counts", "/api/runs", "/api/integrity", "/api/rejects",
                 "/api/coverage", "/api/story"]

        def hit(i):
            try:
                with urllib.request.urlopen(url + paths[i % len(paths)], timeout=120) as r:
                    return r.status, r.read()
            except urllib.error.HTTPError as e:
                return e.code, e.read()

        with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(hit, range(200)))
        assert sync.wait(300) == 0
        dash.terminate()
        dash.wait(10)
        leaked = [b for _, b in results if b"Traceback" in b or b"psycopg" in b
                  or b"xano_fn" in b and b"ERROR" in b]
        assert leaked == []
        assert all(code == 200 for code, _ in results), sorted({c for c, _ in results})
        assert checksums(target) == reference
        with dbmod.connect(target) as conn:
            assert conn.execute("select count(*) from pg_locks where locktype = 'advisory'"
                                ).fetchone()[0] == 0
    finally:
        if dash is not None and dash.poll() is None:
            dash.terminate()
