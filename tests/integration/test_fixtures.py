"""The synthetic V1 workspace: counts, determinism, and the documented mess rates."""

from __future__ import annotations

import json

import pytest

from generator.fixtures import build_workspace
from generator.fixtures.records import MESS
from generator.registry import load_registry

from ..conftest import ROOT, run_cli, scalar

V1_TABLES = load_registry(ROOT).tables

pytestmark = pytest.mark.integration


def _digests(conn):
    out = {}
    for t in V1_TABLES:
        out[t.name] = scalar(conn, f"select md5(string_agg(xdo::text, ',' order by id)) "
                                   f"from xano_v1.{t.relation}")
    return out


def test_same_seed_gives_identical_bytes_and_other_seed_differs(conn):
    build_workspace(conn, load_registry(ROOT), scale=0.01, seed=7)
    first = _digests(conn)
    build_workspace(conn, load_registry(ROOT), scale=0.01, seed=7)
    assert _digests(conn) == first
    build_workspace(conn, load_registry(ROOT), scale=0.01, seed=8)
    assert _digests(conn) != first


def test_rerun_replaces_workspace_and_touches_no_other_schema(conn):
    conn.execute("create schema other; create table other.keep (x int); "
                 "insert into other.keep values (1)")
    build_workspace(conn, load_registry(ROOT), scale=0.02, seed=1)
    build_workspace(conn, load_registry(ROOT), scale=0.01, seed=1)
    assert scalar(conn, "select count(*) from xano_v1.mvpw1_48") == round(86_617 * 0.01)
    assert scalar(conn, "select count(*) from other.keep") == 1
    layout = conn.execute("""select column_name, data_type from information_schema.columns
        where table_schema = 'xano_v1' and table_name = 'mvpw1_41' order by ordinal_position""")
    assert layout.fetchall() == [("id", "bigint"), ("xdo", "jsonb")]


def test_mess_rates_match_documented_rates(conn):
    build_workspace(conn, load_registry(ROOT), scale=0.1, seed=7)
    rows = [json.loads(x) if isinstance(x, str) else x for (x,) in
            conn.execute("select xdo from xano_v1.mvpw1_61 order by id")]
    n = len(rows)
    assert n == round(71_340 * 0.1)
    optional = ["agent_id", "user_id", "role", "split_pct", "amount", "paid", "paid_at",
                "status", "notes", "commission_type", "fee_amount", "approved_at"]
    slots = n * len(optional)
    missing = sum(1 for r in rows for k in optional if k not in r)
    nulls = sum(1 for r in rows for k in optional if k in r and r[k] is None)
    # a value is dropped first (3%), then nulled (3% of the rest)
    assert missing / slots == pytest.approx(MESS["missing"], abs=0.006)
    assert nulls / slots == pytest.approx(MESS["null"] * (1 - MESS["missing"]), abs=0.006)
    amounts = [r["amount"] for r in rows if r.get("amount") is not None]
    as_string = sum(isinstance(a, str) for a in amounts) / len(amounts)
    assert as_string == pytest.approx(MESS["number_as_string"] + MESS["garbage_number"],
                                      abs=0.006)
    paid = [r["paid"] for r in rows if r.get("paid") is not None]
    not_bool = sum(not isinstance(p, bool) for p in paid) / len(paid)
    assert not_bool == pytest.approx(MESS["bool_as_string_or_int"], abs=0.006)
    epochs = [r["created_at"] for r in rows]
    seconds = sum(e < 10**11 for e in epochs) / len(epochs)
    assert seconds == pytest.approx(MESS["epoch_seconds"], abs=0.004)
    txn = round(9_870 * 0.1)
    orphans = sum(1 for r in rows if isinstance(r["transaction_id"], int)
                  and r["transaction_id"] > txn) / n
    assert orphans == pytest.approx(MESS["orphan_reference"], abs=0.004)
    assert orphans > 0


def test_cli_fixtures_then_psql_count(fresh_db):
    res = run_cli("fixtures", "--scale", "0.01", target=fresh_db)
    assert res.returncode == 0, res.stderr
    assert "network" in res.stdout
    res = run_cli("db", "url", target=fresh_db)
    assert res.returncode == 0, res.stderr
    import psycopg

    with psycopg.connect(res.stdout.strip()) as c:
        assert c.execute("select count(*) from xano_v1.mvpw1_41").fetchone()[0] == 3
