"""publish into a live V2 laid out like the owner's: a second real PostgreSQL server holding V1
(workspace 1, JSONB) and V2 (workspace 5, Xano's standard SQL columns, timestamps as epoch-ms
bigint), a read-only and a writing role.

The live V2 is the baseline (generator.baseline) with every anomaly production has: gaps, stale
values, V2-only rows, main ids V2 holds for another record (collisions), split and child rows
with their own ids in another order than their parents, parents with several split rows, and
orphans. Some columns use other live types (text dates, json, double precision, integer) and
one table Xano's JSONB layout under another relation. Every check here reads the live tables
with its own SQL, independent of generator.live / generator.convert.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from generator import db as dbmod
from generator.baseline import lay_live_v2
from generator.fixtures import generate_rows, load_table, scaled_counts
from generator.fixtures.records import Ctx
from generator.registry import load_registry
from generator.spec import load_spec

from ..apptraffic import AppTraffic
from ..conftest import ROOT, SERVER_SETTINGS, create_db, db_name, run_cli

pytestmark = pytest.mark.integration
WS = 5
READER_PW = "r3ad-Only-pw"
WRITER_PW = "wr1te-Secret-pw"
JSONB_TABLES = {"network_user_prefs": "app.net_prefs"}
"""V2 tables the copied project publishes in Xano's JSONB layout (and their live relation)."""
TYPES = {"date": "text", "jsonb": "json", "participant_paid.amount": "double precision",
         "agent.brokerage_id": "integer", "user.first_name": "character varying(200)"}
"""Live types other than the baseline's (which keeps the V2 type, timestamps as bigint)."""
SCALE = 0.02


# -- the project copy ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def project():
    """The project with one V2 table in the JSONB layout under another relation, regenerated."""
    proj = Path(tempfile.mkdtemp(prefix="xano-pub-proj-"))
    for name in ("macros", "profiles", "seeds", "models", "tests/dbt"):
        shutil.copytree(ROOT / name, proj / name)
    for name in ("dbt_project.yml", "V2_SYNC_PIPELINE_GUIDE.md"):
        shutil.copy(ROOT / name, proj / name)
    path = proj / "seeds" / "xano_v2_tables.csv"
    rows = list(csv.DictReader(path.open(newline="")))
    for r in rows:
        if r["v2_table"] in JSONB_TABLES:
            r["live_layout"], r["live_relation"] = "jsonb", JSONB_TABLES[r["v2_table"]]
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(out.getvalue())
    res = run_cli(cwd=proj)
    assert res.returncode == 0, res.stderr
    yield proj
    shutil.rmtree(proj, ignore_errors=True)


@pytest.fixture(scope="module")
def spec(project):
    return load_spec(project)


# -- the live Xano instance ----------------------------------------------------------------------
def rel(t) -> sql.Identifier:
    return sql.Identifier(*t.live_name(WS))


@pytest.fixture(scope="module")
def xano():
    """A second server: template database ``xano`` with V1 (workspace 1); V2 comes later."""
    bin_dir = os.environ.get("XANO_TEST_PG_BIN")
    base = Path(tempfile.mkdtemp(prefix="xano-live-"))
    server = dbmod.LocalServer(base / "data", Path(bin_dir) if bin_dir else None,
                               settings=SERVER_SETTINGS)
    admin = server.start()
    with dbmod.connect(admin) as conn:
        conn.execute("create database xano")
        conn.execute(f"create role reader login password '{READER_PW}'")
        conn.execute(f"create role writer login password '{WRITER_PW}'")
    tpl = dbmod.Target(dict(admin.params, dbname="xano"))
    ctx = Ctx(seed=7, counts=scaled_counts(SCALE))
    with dbmod.connect(tpl) as conn:
        for t in load_registry(ROOT).tables:
            load_table(conn, t, generate_rows(t.name, ctx), schema="public")
        conn.execute("create schema app")
        _grant(conn)
    hba = server.data_dir / "pg_hba.conf"
    hba.write_text("local all reader,writer scram-sha-256\n" + hba.read_text())
    with dbmod.connect(admin) as conn:
        conn.execute("select pg_reload_conf()")
    yield server, admin
    server.destroy()
    shutil.rmtree(base, ignore_errors=True)


def _grant(conn) -> None:
    for schema in ("public", "app"):
        conn.execute(f"grant usage on schema {schema} to reader, writer")
        conn.execute(f"grant select on all tables in schema {schema} to reader")
        conn.execute(f"grant select, insert, update, delete on all tables in schema {schema} "
                     "to writer")
        conn.execute(f"grant usage, select, update on all sequences in schema {schema} "
                     "to writer")


def dsn(server, db: str, role: str = "writer", password: str | None = None) -> str:
    pw = password or (WRITER_PW if role == "writer" else READER_PW)
    return f"postgresql://{role}:{pw}@/{db}?host={server.socket_dir}"


def clone(server_target: dbmod.Target, template: str, prefix: str | None = None
          ) -> dbmod.Target:
    """A copy of database ``template``; named db_name(prefix) when given (the test's working
    copy, synced: a stable name lets dbt reuse its parse), else a name of its own."""
    name = db_name(prefix) if prefix else f"c_{uuid.uuid4().hex[:10]}"
    with dbmod.connect(server_target) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(name)))
        conn.execute(sql.SQL("create database {} template {}").format(
            sql.Identifier(name), sql.Identifier(template)))
    return dbmod.Target(dict(server_target.params, dbname=name),
                        embedded=server_target.embedded)


def drop(server_target: dbmod.Target, target: dbmod.Target) -> None:
    with dbmod.connect(server_target) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(target.params["dbname"])))


@pytest.fixture(scope="module")
def prepared(pg_server, xano, project, spec):
    """Templates: the live database (V1 + the live V2 baseline) and a local mirror that has
    mirrored V1 and synced once (V2 built locally, nothing published)."""
    server, admin = xano
    xano_tpl = dbmod.Target(dict(admin.params, dbname="xano"))
    local = create_db(pg_server, "pubtpl")
    res = run_cli("mirror", target=local, env={"XANO_SOURCE_DSN": dsn(server, "xano", "reader")},
                  cwd=project)
    assert res.returncode == 0, res.stdout + res.stderr
    res = run_cli("sync", target=local, cwd=project)
    assert res.returncode == 0, res.stdout + res.stderr
    with dbmod.connect(local) as lconn, dbmod.connect(xano_tpl) as conn:
        lay_live_v2(lconn, conn, spec, WS, SCALE, TYPES)
        _grant(conn)
    yield local
    drop(pg_server, local)


def _env(server, admin, local: dbmod.Target, live: dbmod.Target) -> dict:
    db = live.params["dbname"]
    return {"local": local, "live": live, "server": server, "admin": admin, "db": db,
            "env": {"XANO_SOURCE_DSN": dsn(server, db, "reader"),
                    "XANO_TARGET_DSN": dsn(server, db), "XANO_V2_WORKSPACE": str(WS)}}


@pytest.fixture
def env(pg_server, xano, prepared):
    """Fresh copies of the local mirror and the live database for one test."""
    server, admin = xano
    local = clone(pg_server, prepared.params["dbname"], "publocal")
    live = clone(admin, "xano")
    yield _env(server, admin, local, live)
    drop(pg_server, local)
    drop(admin, live)


@pytest.fixture(scope="module")
def published(pg_server, xano, prepared, project):
    """Templates of the state a first publish (of every table) left: the local mirror with its
    records and the live database (renamed after the publish: a test's copy takes the name the
    publish wrote to, which the local records name as their target)."""
    server, admin = xano
    local = clone(pg_server, prepared.params["dbname"], "pubdone")
    live = clone(admin, "xano", "publive")
    res = run_cli("publish", target=local, env=_env(server, admin, local, live)["env"],
                  cwd=project)
    assert res.returncode == 0, res.stdout + res.stderr
    frozen = db_name("publive_tpl")
    with dbmod.connect(admin) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(frozen)))
        conn.execute(sql.SQL("alter database {} rename to {}").format(
            sql.Identifier(live.params["dbname"]), sql.Identifier(frozen)))
    yield local, frozen
    drop(pg_server, local)
    drop(admin, dbmod.Target(dict(admin.params, dbname=frozen)))


@pytest.fixture
def published_env(pg_server, xano, published):
    """Fresh copies of the local mirror and the live database after a first publish."""
    server, admin = xano
    local_tpl, frozen = published
    local = clone(pg_server, local_tpl.params["dbname"], "publocal")
    live = clone(admin, frozen, "publive")
    yield _env(server, admin, local, live)
    drop(pg_server, local)
    drop(admin, live)


def cli(e, *args, project, extra_env=None):
    return run_cli(*args, target=e["local"], env={**e["env"], **(extra_env or {})}, cwd=project)


def _publish(e, project, *args, ok=True):
    res = cli(e, "publish", *args, project=project)
    if ok:
        assert res.returncode == 0, res.stdout + res.stderr
    return res


def _admin(e):
    return dbmod.connect(dbmod.Target(dict(e["admin"].params, dbname=e["db"])))


def _one_line_error(res) -> str:
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 1 and len(lines) == 1 and lines[0].startswith("Error: "), res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


# -- reading both sides, written independently of generator.live / generator.convert ----------
def canon(v):
    """Comparable form: numbers as normalized Decimals, timestamps as epoch ms, dates and JSON
    text parsed (a live text date or json column holds what V2 holds as date or jsonb)."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, datetime):
        return canon((v - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds() * 1000)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (int, float, Decimal)):
        return Decimal(str(v)).normalize()
    if isinstance(v, str):
        return v
    if isinstance(v, dict):
        return {k: canon(x) for k, x in v.items()}
    if isinstance(v, list):
        return [canon(x) for x in v]
    return v


def fields(t) -> list[str]:
    return [c.name for c in t.columns if c.name != "id"]


def local_rows(local: dbmod.Target, t) -> dict[int, dict]:
    """Local V2 rows of ``t`` as {local id: {field: canonical value}}."""
    with dbmod.connect(local) as conn:
        cur = conn.execute(sql.SQL("select id, {} from {}").format(
            sql.SQL(", ").join(map(sql.Identifier, fields(t))), sql.Identifier("xano_v2", t.name)))
        return {r[0]: {f: canon(v) for f, v in zip(fields(t), r[1:])} for r in cur}


def live_rows(target: dbmod.Target, t) -> dict[int, dict]:
    """Live V2 rows of ``t`` as {live id: {field: canonical value}} (JSONB layout: xdo keys)."""
    with dbmod.connect(target) as conn:
        if t.layout == "jsonb":
            cur = conn.execute(sql.SQL("select id, xdo::text from {}").format(rel(t)))
            return {r[0]: canon(json.loads(r[1], parse_float=Decimal)) for r in cur}
        cur = conn.execute(sql.SQL("select id, {} from {}").format(
            sql.SQL(", ").join(map(sql.Identifier, fields(t))), rel(t)))
        out = {}
        for r in cur:
            row = {}
            for f, v in zip(fields(t), r[1:]):
                if isinstance(v, str) and v[:1] in "{[" and f in _json_cols(t):
                    v = json.loads(v, parse_float=Decimal)
                row[f] = canon(v)
            out[r[0]] = row
        return out


def _json_cols(t) -> set[str]:
    return {c.name for c in t.columns if c.v2_type == "jsonb"}


def snapshot(target: dbmod.Target, spec) -> dict[str, dict[int, tuple]]:
    """(parent FK, row text) of every live V2 row, per table."""
    out = {}
    with dbmod.connect(target) as conn:
        for t in spec.tables:
            fk = (sql.SQL("null") if not t.parent else
                  sql.SQL("(l.xdo ->> {})::bigint").format(sql.Literal(t.parent_column))
                  if t.layout == "jsonb" else sql.Identifier("l", t.parent_column))
            out[t.name] = {r[0]: (r[1], r[2]) for r in conn.execute(sql.SQL(
                "select l.id, {}::bigint, l::text from {} l").format(fk, rel(t)))}
    return out


def xmins(target: dbmod.Target, spec) -> dict[str, set]:
    """(id, xmin) of every live V2 row: a row written gets a new xmin."""
    out = {}
    with dbmod.connect(target) as conn:
        for t in spec.tables:
            out[t.name] = set(conn.execute(sql.SQL("select id, xmin::text from {}").format(
                rel(t))).fetchall())
    return out


def everything_else(target: dbmod.Target, spec) -> tuple:
    """Checksums of every relation of the live database except the V2 tables, and the list
    of relations (a publish must not create, alter or write any of them)."""
    v2 = {t.live_name(WS) for t in spec.tables}
    with dbmod.connect(target) as conn:
        rels = conn.execute(
            "select n.nspname, c.relname, c.relkind, c.relnatts from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace where n.nspname in ('public', 'app') "
            "and c.relkind <> 'S' order by 1, 2").fetchall()
        sums = {(s, n): conn.execute(sql.SQL(
            "select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {} t")
            .format(sql.Identifier(s, n))).fetchone()[0]
            for s, n, kind, _ in rels if kind == "r" and (s, n) not in v2}
    return rels, sums


def _key_part(v) -> str | None:
    return (str(v).strip().lower() or None) if v is not None else None


def _mains(spec) -> list:
    """Main tables with a natural key, a table whose key names another after that one."""
    mains = [t for t in spec.tables if t.is_main and t.natural_key]
    refs = {t.name: {c.references for c in t.columns if c.name in t.natural_key
                     and c.references} for t in mains}
    return sorted(mains, key=lambda t: len(refs[t.name]))


def oracle(e, spec) -> dict[str, dict[int, int]]:
    """Per main table, local id -> the live id of the one live row holding its natural key
    (trimmed, lower-cased; a reference inside a key compared through the referenced table's
    oracle), read from the live tables as they are now; keys that two local rows or two live
    rows share are left out (no identity can be told by key)."""
    out: dict[str, dict[int, int]] = {}
    for t in _mains(spec):
        refs = {c.name: c.references for c in t.columns if c.references}

        def key(row, mine, t=t, refs=refs):
            parts = []
            for c in t.natural_key:
                v = row[c]
                if mine and c in refs and v is not None:
                    v = canon(out[refs[c]].get(int(v)))
                parts.append(_key_part(v))
            return tuple(parts) if any(parts) else None

        mine = {i: key(r, True) for i, r in local_rows(e["local"], t).items()}
        live = {i: key(r, False) for i, r in live_rows(e["live"], t).items()}
        lc, vc = Counter(mine.values()), Counter(live.values())
        by_key = {k: i for i, k in live.items() if k is not None and vc[k] == 1}
        out[t.name] = {i: by_key[k] for i, k in mine.items()
                       if k is not None and lc[k] == 1 and k in by_key}
    return out


def same_id(e, spec, table: str) -> set[int]:
    """Local ids of ``table`` whose record the live V2 holds under the same id (by key)."""
    return {k for k, v in oracle(e, spec)[table].items() if k == v}


def taken(e, spec) -> dict[str, set[int]]:
    """Main ids V1 uses whose live row is another record (the baseline marks those keys
    'v2-other-') while the local record's key is not live anywhere: fresh ids expected."""
    known = oracle(e, spec)
    out = {}
    for t in _mains(spec):
        live = live_rows(e["live"], t)
        out[t.name] = {i for i in local_rows(e["local"], t) if i not in known[t.name]
                       and i in live and str(live[i][t.natural_key[0]] or "").startswith(
                           "v2-other-")}
    return out


def assert_owners_kept(before: dict, after: dict, spec) -> None:
    """No pre-existing live row disappeared or changed parent; no parent gained a second split
    row (a parent with several rows before has no more after)."""
    for t in spec.tables:
        b, a = before[t.name], after[t.name]
        assert set(b) <= set(a), (t.name, sorted(set(b) - set(a))[:5])
        moved = [i for i in b if a[i][0] != b[i][0]]
        assert not moved, (t.name, moved[:5])
        if not t.parent or t.grain == "array":
            continue
        nb, na = Counter(fk for fk, _ in b.values()), Counter(fk for fk, _ in a.values())
        grown = {fk: (nb[fk], n) for fk, n in na.items() if n > max(1, nb[fk])}
        assert not grown, (t.name, grown)


def _translated(row: dict, t, ids: dict[str, dict[int, int]], spec) -> dict:
    """A local row with every reference as the live id of the record it names (None when
    that record is not live)."""
    out = dict(row)
    for c in t.columns:
        if c.references and c.name in out and out[c.name] is not None:
            target = ids.get(c.references)
            if target is not None:
                live = target.get(int(out[c.name]))
                out[c.name] = canon(live) if live is not None else None
    return out


def assert_local_is_live(e, spec, held: dict[str, set[int]] | None = None) -> dict:
    """Every local record is live exactly once with the local content, every reference naming
    the live record that has the referenced record's key: main rows by natural key, split rows
    under their parent's live id, child rows as a multiset per parent, closure pairs as a
    multiset. ``held``: local main ids not expected live. Returns the oracle."""
    held = held or {}
    ids = oracle(e, spec)
    for t in _mains(spec):
        mine = local_rows(e["local"], t)
        lc = Counter(tuple(_key_part(r[c]) for c in t.natural_key) for r in mine.values())
        missing = [i for i, r in mine.items() if i not in ids[t.name] and i not in
                   held.get(t.name, set()) and lc[tuple(_key_part(r[c]) for c in
                                                        t.natural_key)] == 1
                   and any(r[c] is not None for c in t.natural_key)]
        assert not missing, (t.name, "not live by key", missing[:5])
    for t in spec.tables:
        mine, live = local_rows(e["local"], t), live_rows(e["live"], t)
        if not t.is_main and not t.parent:  # a closure: every local pair is live
            have = Counter(json.dumps(r, sort_keys=True, default=str) for r in live.values())
            want = Counter(json.dumps(_translated(r, t, ids, spec), sort_keys=True, default=str)
                           for r in mine.values())
            assert not want - have, (t.name, list(want - have)[:3])
            continue
        main = t if t.is_main else spec.table(t.parent)
        blocked = held.get(main.name, set())
        if t.is_main:
            for i, row in mine.items():
                if i in blocked or i not in ids.get(t.name, {i: i}):
                    continue
                live_id = ids.get(t.name, {i: i})[i]
                want = _translated(row, t, ids, spec)
                assert {k: live[live_id][k] for k in row} == want, (t.name, i, live_id)
            continue
        fk = t.parent_column
        by_parent: dict[int, list] = {}
        for row in live.values():
            by_parent.setdefault(row.get(fk), []).append(row)
        wanted: dict[int, list] = {}
        for row in mine.values():
            if row[fk] not in blocked and int(row[fk]) in ids.get(main.name, {}):
                r = _translated(row, t, ids, spec)
                r[fk] = canon(ids[main.name][int(row[fk])])
                wanted.setdefault(r[fk], []).append(r)
        for parent, rows in wanted.items():
            have = [json.dumps({k: r.get(k) for k in rows[0]}, sort_keys=True, default=str)
                    for r in by_parent.get(parent, [])]
            for row in rows:
                text = json.dumps(row, sort_keys=True, default=str)
                assert text in have, (t.name, parent, row)
                have.remove(text)
    return ids


# -- tests -----------------------------------------------------------------------------------------
@pytest.mark.compat
def test_publish_into_the_owners_layout_keeps_every_owner_and_a_rerun_writes_nothing(
        env, project, spec):
    e = env
    before, others = snapshot(e["live"], spec), everything_else(e["live"], spec)
    was = oracle(e, spec)  # who is who in the live V2 before, by natural key
    moved = {t: {k for k, v in ids.items() if k != v} for t, ids in was.items()}
    fresh = taken(e, spec)
    assert all(moved.values()) and sum(map(len, fresh.values())) >= 3  # the baseline plants them
    assert was["user"] and min(was["user"]) in moved["user"]
    res = cli(e, "mirror", "--v2-workspace", str(WS), "--v2-only", project=project)
    assert res.returncode == 0, res.stdout + res.stderr
    res = _publish(e, project)
    out = res.stdout + res.stderr
    assert WRITER_PW not in out and READER_PW not in out
    assert "read back and verified" in out
    after = snapshot(e["live"], spec)
    assert_owners_kept(before, after, spec)
    now = assert_local_is_live(e, spec)
    for name, ids in was.items():  # V2's ids are kept: a record live before is where it was
        assert {k: now[name].get(k) for k in ids} == ids, name
    for name, ids in fresh.items():  # an id V2 holds for another record: a fresh id
        for i in ids:
            assert after[name][i] == before[name][i]  # the other record is untouched
            assert now[name][i] != i and now[name][i] not in before[name]
            assert f"fresh id {name} id {i} -> live id {now[name][i]} (" in out or \
                f"identity {name}: ..." in out
    assert everything_else(e["live"], spec) == others
    # timestamps arrive as epoch milliseconds equal to V1's
    users = now["user"]
    with _admin(e) as conn:
        pairs = conn.execute("""
            select (v1.xdo ->> 'created_at')::bigint, v2.created_at
            from public.mvpw1_41 v1
            join unnest(%s::bigint[], %s::bigint[]) m(k, live_id) on m.k = v1.id
            join public.mvpw5_664 v2 on v2.id = m.live_id
            where jsonb_typeof(v1.xdo -> 'created_at') = 'number'
              and (v1.xdo ->> 'created_at')::numeric >= 1e11""",
                             (list(users), list(users.values()))).fetchall()
        typ = conn.execute("select format_type(atttypid, atttypmod) from pg_attribute where "
                           "attrelid = 'public.mvpw5_664'::regclass and attname = 'created_at'"
                           ).fetchone()[0]
    assert typ == "bigint" and pairs
    assert [(a, b) for a, b in pairs if a != b] == []
    # status shows the identity figures of the publish
    st = json.loads(cli(e, "status", "--json", project=project).stdout)
    figs = {r["table"]: r for r in st if r["layer"] == "v2"}
    assert figs["user"]["live_collisions"] == len(fresh["user"]) == figs["user"]["live_fresh"]
    assert figs["agent"]["live_by_key"] >= len(moved["agent"])
    assert figs["agent_performance"]["live_duplicates"] > 0
    assert figs["user_credentials"]["live_orphans"] > 0

    stamps = xmins(e["live"], spec)
    res = _publish(e, project)
    assert "wrote 0 row(s)" in res.stdout, res.stdout
    assert xmins(e["live"], spec) == stamps  # not one live row written
    with dbmod.connect(e["live"]) as conn:  # the app's next insert does not collide
        for t in spec.tables:
            schema, name = t.live_name(WS)
            seq = conn.execute("select pg_get_serial_sequence(%s, 'id')",
                               (f'"{schema}"."{name}"',)).fetchone()[0]
            top = conn.execute(sql.SQL("select max(id) from {}").format(rel(t))).fetchone()[0]
            if top is not None:
                assert conn.execute("select nextval(%s)", (seq,)).fetchone()[0] > top, t.name


@pytest.mark.compat
def test_dry_run_names_collisions_duplicates_orphans_with_secrets_masked_and_writes_nothing(
        env, project, spec):
    e = env
    stamps, others = xmins(e["live"], spec), everything_else(e["live"], spec)
    res = _publish(e, project, "--dry-run")
    out = res.stdout + res.stderr
    assert "dry run: would write" in out and "nothing was written" in out
    assert "fresh id " in out and "id held by another record" in out, out
    assert "(drawn from the live sequence on publish)" in out
    assert "would insert user_preferences row (local id" in out and "table's sequence" in out
    assert "would update network_member id" in out
    summary = out.strip().splitlines()[-1]
    assert "duplicate(s)" in summary and "orphan(s)" in summary
    with dbmod.connect(e["local"]) as conn:
        secrets = [r[0] for r in conn.execute(
            "select password from xano_v2.user_credentials where length(password) > 3 "
            "union all select api_key from xano_v2.user_credentials where length(api_key) > 3")]
        assert not conn.execute("select count(*) from xano_audit.publish_runs").fetchone()[0]
    assert secrets and not [s for s in secrets if s in out]
    assert xmins(e["live"], spec) == stamps and everything_else(e["live"], spec) == others


@pytest.mark.compat
def test_dedupe_deletes_only_extras_equal_to_the_kept_row_and_records_them(published_env,
                                                                          project, spec):
    e = published_env
    t = spec.table("agent_performance")
    before = snapshot(e["live"], spec)[t.name]
    res = _publish(e, project, "--dedupe", "--select", t.name)
    after = snapshot(e["live"], spec)[t.name]
    gone = set(before) - set(after)
    assert gone and "duplicate(s) removed" in res.stdout
    live_before = {i: row for i, (_, row) in before.items()}
    for fk in {before[i][0] for i in gone}:  # one row per such parent is left, equal content
        left = [i for i, (f, _) in after.items() if f == fk]
        assert len(left) == 1
    with dbmod.connect(e["local"]) as conn:
        recorded = {r[0] for r in conn.execute(
            "select live_id from xano_audit.publish_deleted where reason = 'dedupe'")}
    assert recorded == gone and live_before


def test_row_edited_in_v2_is_kept_and_reported_and_overwrite_takes_v1(published_env, project,
                                                                       spec):
    e = published_env
    user = spec.table("user")
    mine = sorted(same_id(e, spec, "user"))[0]
    with _admin(e) as conn:
        conn.execute("update public.mvpw5_664 set last_name = 'Edited in V2' where id = %s",
                     (mine,))
        cred = conn.execute("update public.mvpw5_665 set password = '$2b$10$editedINv2hash' "
                            "where user_id = %s returning id", (mine,)).fetchone()[0]
    res = _publish(e, project)
    out = res.stdout + res.stderr
    assert f'conflict user id {mine} (edited in V2, kept): last_name: "Edited in V2" -> ' in out
    assert (f"conflict user_credentials id {mine} (live id {cred}) (edited in V2, kept): "
            "password: ***masked") in out
    assert "editedINv2hash" not in out
    live = live_rows(e["live"], user)
    assert live[mine]["last_name"] == "Edited in V2"
    with dbmod.connect(e["local"]) as conn:
        fields_ = conn.execute("select fields::text from xano_audit.publish_conflicts "
                               "where v2_table = 'user_credentials'").fetchone()[0]
    assert "password" in fields_ and "editedINv2hash" not in fields_
    assert "conflict user id" in _publish(e, project).stdout  # still kept, still reported
    res = _publish(e, project, "--overwrite")
    assert f"conflict user id {mine} (edited in V2, overwritten with V1)" in res.stdout
    assert live_rows(e["live"], user)[mine]["last_name"] == local_rows(e["local"], user)[mine][
        "last_name"]
    res = _publish(e, project)
    assert "conflict user" not in res.stdout and "; 0 conflict(s)" in res.stdout


def test_v1_change_reaches_both_layouts_and_only_changed_rows_are_written(published_env,
                                                                          project, spec):
    e = published_env
    user = max(same_id(e, spec, "user"))
    net = min(same_id(e, spec, "network_member"))
    stamps = xmins(e["live"], spec)
    with _admin(e) as conn:
        conn.execute("update public.mvpw1_41 set xdo = xdo || '{\"first_name\": \"Renamed\", "
                     "\"created_at\": 1700000000123}' where id = %s", (user,))
        conn.execute("update public.mvpw1_48 set xdo = xdo || '{\"notes\": "
                     "\"never\"}' where id = %s", (net,))
    for args in (("mirror",), ("sync",)):
        res = cli(e, *args, project=project)
        assert res.returncode == 0, res.stdout + res.stderr
    res = _publish(e, project)
    assert "wrote 2 row(s): 0 inserted, 2 updated" in res.stdout, res.stdout
    after = xmins(e["live"], spec)
    changed = {t: sorted(i for i, _ in after[t] - stamps[t]) for t in after}
    prefs = [i for i, v in live_rows(e["live"], spec.table("network_user_prefs")).items()
             if v["network_member_id"] == net]
    assert {t: ids for t, ids in changed.items() if ids} == {"user": [user],
                                                             "network_user_prefs": prefs}
    with _admin(e) as conn:
        assert conn.execute("select created_at, first_name from public.mvpw5_664 where id = %s",
                            (user,)).fetchone() == (1700000000123, "Renamed")
        assert conn.execute("select xdo ->> 'notes' from app.net_prefs "
                            "where (xdo ->> 'network_member_id')::bigint = %s", (net,)
                            ).fetchone()[0] == "never"


def _kill_while_writing(e, project, table: str, *args) -> None:
    """Start a publish, let the app hold ``table`` so the publish waits there, kill -9 it."""
    blocker = psycopg.connect(**dict(e["admin"].params, dbname=e["db"]))
    blocker.execute(f"lock table {table} in share mode")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    full_env.update(e["local"].dbt_env(project))
    full_env.update(e["env"])
    proc = subprocess.Popen([sys.executable, "-m", "generator", "publish", *args], cwd=project,
                            env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    pid = None
    with _admin(e) as conn:
        deadline = time.monotonic() + 120
        while pid is None and proc.poll() is None and time.monotonic() < deadline:
            pid = (conn.execute("select pid from pg_stat_activity where application_name = "
                                "'xano-v2-sync publish' and wait_event_type = 'Lock'")
                   .fetchone() or [None])[0]
            time.sleep(0.02)
        assert pid is not None, f"the publish never reached {table}"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        blocker.rollback()
        blocker.close()
        while conn.execute("select count(*) from pg_stat_activity where pid = %s",
                           (pid,)).fetchone()[0] and time.monotonic() < deadline:
            time.sleep(0.05)


def _content(target, spec) -> dict[str, Counter]:
    """Live content without the ids split and child rows got from the sequence."""
    out = {}
    for t in spec.tables:
        rows = live_rows(target, t)
        out[t.name] = Counter(json.dumps(r, sort_keys=True, default=str) if not t.is_main
                              else json.dumps([i, r], sort_keys=True, default=str)
                              for i, r in rows.items())
    return out


@pytest.mark.compat
def test_kill_9_of_an_atomic_publish_leaves_live_v2_as_before(env, project, spec):
    e = env
    before, stamps = snapshot(e["live"], spec), xmins(e["live"], spec)
    _kill_while_writing(e, project, "public.mvpw5_698", "--atomic")
    assert xmins(e["live"], spec) == stamps and snapshot(e["live"], spec) == before
    res = _publish(e, project)
    assert "read back and verified" in res.stdout
    with dbmod.connect(e["local"]) as conn:
        runs = [r[0] for r in conn.execute("select status from xano_audit.publish_runs "
                                           "order by run_id")]
    assert runs == ["interrupted", "success"]


def test_kill_9_mid_publish_then_a_rerun_equals_an_uninterrupted_publish(
        env, xano, pg_server, prepared, project, spec):
    e = env
    server, admin = xano
    twin = clone(admin, e["db"])  # the same live V2, published without interruption
    fresh = clone(pg_server, prepared.params["dbname"])
    try:
        before = snapshot(e["live"], spec)
        _kill_while_writing(e, project, "public.mvpw5_698")
        mid = snapshot(e["live"], spec)
        assert mid != before  # the tables before network_member were written, batch by batch
        assert_owners_kept(before, mid, spec)
        _publish(e, project)
        res = run_cli("publish", target=fresh, cwd=project, env={
            **e["env"], "XANO_TARGET_DSN": dsn(server, twin.params["dbname"])})
        assert res.returncode == 0, res.stdout + res.stderr
        assert _content(e["live"], spec) == _content(twin, spec)
    finally:
        drop(admin, twin)
        drop(pg_server, fresh)


def test_refuses_after_a_failed_sync_or_a_failed_test_unless_forced(env, project, spec):
    e = env
    stamps = xmins(e["live"], spec)
    with dbmod.connect(e["local"]) as conn:
        conn.execute("update xano_audit.sync_runs set status = 'failed', reason = 'planted' "
                     "where run_id = (select max(run_id) from xano_audit.sync_runs)")
    line = _one_line_error(_publish(e, project, ok=False))
    assert "refusing to publish: the last sync (run 1) is failed: planted" in line
    with dbmod.connect(e["local"]) as conn:
        conn.execute("update xano_audit.sync_runs set status = 'success'")
        conn.execute("update xano_audit.sync_run_tables set tests_failed = 1 "
                     "where v2_table = 'agent_rezen'")
    line = _one_line_error(_publish(e, project, ok=False))
    assert "error-level tests failed in the last test of agent_rezen" in line
    assert xmins(e["live"], spec) == stamps
    assert "read back and verified" in _publish(e, project, "--force").stdout


@pytest.mark.parametrize("case", ["wrong password", "unreachable", "read-only role"])
def test_bad_target_is_one_line_and_writes_nothing(env, project, spec, case):
    e = env
    stamps, others = xmins(e["live"], spec), everything_else(e["live"], spec)
    target = {"wrong password": dsn(e["server"], e["db"], password="n0t-The-Pw"),
              "unreachable": f"postgresql://writer:{WRITER_PW}@/{e['db']}?host=/nonexistent",
              "read-only role": dsn(e["server"], e["db"], "reader")}[case]
    res = cli(e, "publish", project=project, extra_env={"XANO_TARGET_DSN": target})
    line = _one_line_error(res)
    assert "nothing was written" in line or case != "read-only role"
    assert {"wrong password": "password authentication failed", "unreachable": "cannot connect",
            "read-only role": "role reader lacks INSERT, UPDATE privilege"}[case] in line
    for secret in ("n0t-The-Pw", WRITER_PW, READER_PW):
        assert secret not in res.stdout + res.stderr
    assert xmins(e["live"], spec) == stamps and everything_else(e["live"], spec) == others


LAYOUT_DEFECTS = [
    ("drop table public.mvpw5_674", "live table public.mvpw5_674 (V2 agent_hierarchy) does "
     "not exist"),
    ("alter table public.mvpw5_670 alter column created_at type integer using 0",
     "live table public.mvpw5_670 (V2 agent): column created_at is integer, which cannot hold"),
    ("alter table public.mvpw5_711 drop column theme",
     "live table public.mvpw5_711 (V2 user_preferences): column theme is missing"),
    ("alter table app.net_prefs alter column xdo type text",
     "live table app.net_prefs (V2 network_user_prefs): column xdo is text"),
    ("alter table public.mvpw5_664 alter column first_name type varchar(3) "
     "using left(first_name, 3)",
     "live table public.mvpw5_664 (V2 user): column first_name is character varying(3), "
     "which cannot hold"),
]


@pytest.mark.parametrize("defect,words", LAYOUT_DEFECTS, ids=[d[0][12:40] for d in
                                                             LAYOUT_DEFECTS])
def test_wrong_live_layout_stops_before_writing_and_names_table_and_column(env, project, spec,
                                                                          defect, words):
    e = env
    with _admin(e) as conn:
        conn.execute(defect)
    tables = [t for t in spec.tables if "drop table" not in defect
              or t.live_name(WS) != ("public", "mvpw5_674")]
    stamps = xmins(e["live"], type("S", (), {"tables": tables}))
    line = _one_line_error(_publish(e, project, ok=False))
    assert words in line and "nothing was written" in line
    assert xmins(e["live"], type("S", (), {"tables": tables})) == stamps


def test_read_back_check_fails_on_a_live_side_that_changes_what_was_written(env, project, spec):
    e = env  # planted defect: the live table rewrites a field of every row written to it
    with _admin(e) as conn:
        conn.execute("create function public.tamper() returns trigger language plpgsql as $$ "
                     "begin new.status := 'tampered'; return new; end $$")
        conn.execute("create trigger tamper before insert or update on public.mvpw5_698 "
                     "for each row execute function public.tamper()")
    line = _one_line_error(_publish(e, project, ok=False))
    assert "committed, but the read-back check failed for network_member" in line
    with dbmod.connect(e["local"]) as conn:
        assert conn.execute("select status from xano_audit.publish_runs").fetchone()[0] == \
            "unverified"
        assert conn.execute("select verified from xano_audit.publish_run_tables where "
                            "v2_table = 'network_member'").fetchone()[0] is False


def test_prune_deletes_only_published_rows_whose_v1_row_is_gone(env, project, spec):
    e = env
    agent = spec.table("agent")
    before = live_rows(e["live"], agent)
    was = oracle(e, spec)["agent"]
    _publish(e, project)
    gone = max(set(local_rows(e["local"], agent)) - set(before) - set(was))  # inserted by it
    kept = min(k for k, v in was.items() if k == v)  # live before: V2's own
    children = [t for t in spec.tables if t.parent == "agent"]
    written = 1 + sum(1 for t in children for r in local_rows(e["local"], t).values()
                      if r[t.parent_column] == gone)
    v2_only = set(before) - set(was.values())
    with _admin(e) as conn:
        conn.execute("delete from public.mvpw1_36 where id = any(%s)", ([gone, kept],))
    for args in (("mirror",), ("sync", "--prune")):
        res = cli(e, *args, project=project)
        assert res.returncode == 0, res.stdout + res.stderr
    _publish(e, project)  # without --prune nothing is deleted
    assert gone in live_rows(e["live"], agent)
    res = _publish(e, project, "--prune")
    assert f"wrote {written} row(s): 0 inserted, 0 updated, {written} pruned" in res.stdout, \
        res.stdout
    assert gone not in live_rows(e["live"], agent)
    for child in children:
        assert gone not in {r["agent_id"] for r in live_rows(e["live"], child).values()}
    assert kept in live_rows(e["live"], agent)  # a row V2 had before: not this tool's to delete
    assert v2_only <= set(live_rows(e["live"], agent))
    with dbmod.connect(e["local"]) as conn:
        assert conn.execute("select count(*) from xano_audit.publish_deleted "
                            "where reason = 'prune'").fetchone()[0] == written


def test_dashboard_shows_the_live_side_and_its_button_runs_mirror_sync_publish(
        published_env, project, spec, monkeypatch):
    from starlette.testclient import TestClient

    from generator.dashboard.app import build_app

    e = published_env
    mine = max(same_id(e, spec, "user"))
    with _admin(e) as conn:
        conn.execute("update public.mvpw5_665 set password = '$2b$10$editedINv2hashvalue' "
                     "where user_id = %s", (mine,))
    _publish(e, project)
    for key, value in e["env"].items():
        monkeypatch.setenv(key, value)
    client = TestClient(build_app(e["local"], project, token="t0k"))
    pub = client.get("/api/publish").json()
    assert pub["latest"] == 2 and pub["conflict_count"] == 1
    assert pub["conflicts"][0]["id"] == mine and pub["conflicts"][0]["kind"] == "edited in V2"
    counts = client.get("/api/counts").json()["tables"]
    v2 = {r["table"]: r for r in counts if r["layer"] == "v2"}
    assert {t: r["live_count"] for t, r in v2.items()} == {
        t.name: len(live_rows(e["live"], t)) for t in spec.tables}
    assert v2["agent"]["live_by_key"] >= 1 and v2["agent_performance"]["live_duplicates"] > 0
    page = client.get("/").text
    assert 'id="publish-conflicts"' in page and "1 conflict(s)" in page
    assert "by key" in page and "fresh id" in page and "duplicates" in page and "orphans" in page
    assert "Run mirror → sync → publish" in page
    assert "editedINv2hash" not in page + json.dumps(pub) and "***masked" in page

    with _admin(e) as conn:  # a V1 change: the button brings it to the live V2
        conn.execute("update public.mvpw1_41 set xdo = xdo || '{\"first_name\": \"Button\"}' "
                     "where id = %s", (mine,))
    res = client.post("/api/sync", headers={"Authorization": "Bearer t0k"})
    assert res.status_code == 202 and res.json()["steps"] == ["mirror", "sync", "publish"]
    assert client.post("/api/sync", headers={"Authorization": "Bearer t0k"}).status_code == 409
    deadline = time.monotonic() + 240
    with dbmod.connect(e["local"]) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("select run_id, status from xano_audit.publish_runs "
                               "order by run_id desc limit 1").fetchone()
            if row[0] == 3 and row[1] != "running":
                break
            time.sleep(0.5)
    assert row == (3, "success")
    assert live_rows(e["live"], spec.table("user"))[mine]["first_name"] == "Button"


# -- a V2 in use: the app writes while publish runs (issue: publish into a V2 that is in use) ----
def _change_v1_transactions(e, share: float = 0.2) -> list[int]:
    """V1 changes a share of its transactions (their notes); returns the changed ids."""
    with _admin(e) as conn:
        return [r[0] for r in conn.execute(
            "update public.mvpw1_34 set xdo = xdo || jsonb_build_object('notes', "
            "'changed in V1 ' || id) where id %% %s = 0 returning id",
            (round(1 / share),)).fetchall()]


def _app(e, hot: list[int], rate: float = 100.0) -> AppTraffic:
    return AppTraffic(dict(e["admin"].params, dbname=e["db"]), ("public", "mvpw5_675"), "notes",
                      rate, hot)


def _publish_proc(e, project, *args) -> subprocess.Popen:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    full_env.update(e["local"].dbt_env(project))
    full_env.update(e["env"])
    return subprocess.Popen([sys.executable, "-m", "generator", "publish", *args], cwd=project,
                            env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def _assert_app_rows_kept(e, app: AppTraffic) -> None:
    with _admin(e) as conn:
        now = dict(conn.execute("select id, notes from public.mvpw5_675 where id = any(%s)",
                                (list(app.last),)).fetchall())
    assert {i: now.get(i) for i in app.last} == app.last  # the app's last write stands


def test_publish_completes_while_the_app_writes_and_leaves_the_apps_rows_to_it(
        published_env, project, spec):
    e = published_env
    hot = _change_v1_transactions(e)
    for args in (("mirror",), ("sync",)):
        res = cli(e, *args, project=project)
        assert res.returncode == 0, res.stdout + res.stderr
    app = _app(e, hot)
    app.start()
    time.sleep(2.0)
    app.mark("publish")
    proc = _publish_proc(e, project, "--batch-rows", "5")  # many short batches
    out, err = proc.communicate(timeout=300)
    app.mark("after")
    time.sleep(0.5)
    app.stop()
    assert proc.returncode == 0, out + err  # on its first try
    assert not app.errors, app.errors[:3]  # no app write failed (ids, sequences, locks)
    alone, during = app.phase("start").summary(), app.phase("publish").summary()
    print(f"app alone {alone}; during the publish {during}")
    assert during["writes"] > 0 and during["max"] < 2000  # never stalled by the publish
    _assert_app_rows_kept(e, app)
    last = out.strip().splitlines()[-1]
    assert "read back and verified" in last
    # the rows the app changed are the app's: the next publish keeps them as edits in V2
    res = _publish(e, project)
    touched = set(app.last) & set(hot)
    _assert_app_rows_kept(e, app)
    if touched:
        assert "conflict transaction id" in res.stdout and "edited in V2, kept" in res.stdout
    st = json.loads(cli(e, "status", "--json", project=project).stdout)
    tx = next(r for r in st if r["layer"] == "v2" and r["table"] == "transaction")
    assert tx["live_conflicts"] >= len(touched)


def test_kill_9_at_several_points_under_load_then_a_rerun_converges(
        published_env, xano, pg_server, project, spec):
    e = published_env
    server, admin = xano
    hot = _change_v1_transactions(e)
    with _admin(e) as conn:
        conn.execute("update public.mvpw1_48 set xdo = xdo || '{\"status\": \"paused\"}' "
                     "where id % 3 = 0")
        conn.execute("update public.mvpw1_41 set xdo = xdo || '{\"timezone\": \"UTC\"}'")
    for args in (("mirror",), ("sync",)):
        res = cli(e, *args, project=project)
        assert res.returncode == 0, res.stdout + res.stderr
    twin = clone(admin, e["db"])  # the same state, published once more without interruption
    twin_local = clone(pg_server, e["local"].params["dbname"])
    try:
        before = snapshot(e["live"], spec)
        app = _app(e, hot, rate=60.0)
        app.start()
        _kill_while_writing(e, project, "public.mvpw5_698", "--batch-rows", "7")  # mid-table
        for delay in (0.8, 1.6, 2.4):  # planning, early batches, later tables
            proc = _publish_proc(e, project, "--batch-rows", "7")
            time.sleep(delay)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            assert_owners_kept(before, snapshot(e["live"], spec), spec)
        _publish(e, project)
        app.stop()
        assert not app.errors, app.errors[:3]
        _assert_app_rows_kept(e, app)
        res = run_cli("publish", target=twin_local, cwd=project, env={
            **e["env"], "XANO_TARGET_DSN": dsn(server, twin.params["dbname"])})
        assert res.returncode == 0, res.stdout + res.stderr
        mine, theirs = _content(e["live"], spec), _content(twin, spec)
        app_ids = set(app.last)
        for name in mine:
            if name == "transaction":  # apart from what the app wrote
                def keep(c):
                    return {k: n for k, n in c.items() if json.loads(k)[0] not in app_ids}
                assert keep(mine[name]) == keep(theirs[name])
            else:
                assert mine[name] == theirs[name], name
    finally:
        drop(admin, twin)
        drop(pg_server, twin_local)


FIGURES_SQL = """select v2_table, matched, unchanged, conflicts, live_only, live_after, duplicates,
    orphans, collisions, blocked, identity, unresolved from xano_audit.publish_run_tables
    where run_id = (select max(run_id) from xano_audit.publish_runs) order by v2_table"""


def _last_run(e) -> tuple[dict, dict]:
    """(figures per V2 table, status per V2 table) of the latest publish run."""
    with dbmod.connect(e["local"]) as conn:
        figs = {r[0]: r[1:] for r in conn.execute(FIGURES_SQL)}
        status = dict(conn.execute(
            "select v2_table, status from xano_audit.publish_run_tables where run_id = "
            "(select max(run_id) from xano_audit.publish_runs)"))
    return figs, status


def _not_planned(out: str) -> set[str]:
    line = next((ln for ln in out.splitlines() if ln.startswith("not planned: ")), "")
    return {part.split(" (run ")[0].strip() for part in
            line.split(" all written: ", 1)[-1].split("; their figures")[0].split(", ")
            } if line else set()


def test_a_publish_plans_only_what_changed_and_converges_to_a_full_publish(env, project, spec):
    e = env
    names = {t.name for t in spec.tables}
    first = _publish(e, project).stdout
    assert _not_planned(first) == set()  # nothing recorded yet: every table is planned
    stamps = xmins(e["live"], spec)
    res = _publish(e, project)  # nothing changed anywhere: no table is planned
    assert _not_planned(res.stdout) == names, res.stdout
    assert "wrote 0 row(s)" in res.stdout and xmins(e["live"], spec) == stamps
    figs, status = _last_run(e)
    assert set(status.values()) == {"unchanged"}
    # one transaction changes: the tables whose plan reads transaction are planned, and
    # only those (user and agent, which every table reads, are left alone)
    # (written into the local V2 as a sync writes it: a new row version; the sync's own
    # changed-only path is the pipeline tests')
    deal = max(same_id(e, spec, "transaction"))
    with dbmod.connect(e["local"]) as conn:
        assert conn.execute("update xano_v2.\"transaction\" set status = 'Narrowed' "
                            "where id = %s", (deal,)).rowcount == 1
    res = _publish(e, project)
    readers = {t.name for t in spec.tables if "transaction" in (t.name, t.parent)
               or any(c.references == "transaction" for c in t.columns)}
    assert _not_planned(res.stdout) == names - readers, res.stdout
    assert {"user", "agent", "network_member"} <= names - readers
    assert "wrote 1 row(s): 0 inserted, 1 updated" in res.stdout, res.stdout
    assert_local_is_live(e, spec)
    # the app edits a row of a table nothing else changed: that table is planned again and
    # the edit is reported (kept), as a full plan would
    mine = sorted(same_id(e, spec, "network_member"))[0]
    with _admin(e) as conn:
        conn.execute(sql.SQL("update {} set status = 'Edited by the app' where id = %s").format(
            rel(spec.table("network_member"))), (mine,))
    narrow = _publish(e, project)
    assert "network_member" not in _not_planned(narrow.stdout)
    assert f"conflict network_member id {mine} (edited in V2, kept)" in narrow.stdout, \
        narrow.stdout
    again = _publish(e, project)  # left alone now, the conflict still reported
    assert "network_member" in _not_planned(again.stdout)
    assert f"conflict network_member id {mine} (edited in V2, kept)" in again.stdout
    narrow_figs, _ = _last_run(e)
    # a full re-plan writes nothing and finds every figure the narrow publishes reported
    stamps = xmins(e["live"], spec)
    full = _publish(e, project, "--full")
    assert _not_planned(full.stdout) == set() and "wrote 0 row(s)" in full.stdout, full.stdout
    assert xmins(e["live"], spec) == stamps
    full_figs, status = _last_run(e)
    assert "unchanged" not in status.values()
    assert narrow_figs == full_figs
    # another option is another plan: --overwrite plans every table and takes V1's value
    res = _publish(e, project, "--overwrite")
    assert _not_planned(res.stdout) == set()
    assert f"conflict network_member id {mine} (edited in V2, overwritten with V1)" in res.stdout
