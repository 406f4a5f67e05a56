"""The sync: preflight, one-at-a-time lock, dbt build through dbtRunner, audit, status."""

from __future__ import annotations

import getpass
import os
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from generator import db as dbmod
from generator import discover as disc
from generator import spec as specmod
from generator.errors import SyncError
from generator.registry import AUDIT_SCHEMA, V1_SCHEMA, V2_SCHEMA, v1_table

LOCK_KEY = 0x58414E4F  # "XANO": advisory lock id of the sync
TOLERANCE = 0.05

AUDIT_DDL = f"""
create schema if not exists {AUDIT_SCHEMA};
create table if not exists {AUDIT_SCHEMA}.sync_runs (
    run_id bigserial primary key,
    started_at timestamptz not null default now(),
    ended_at timestamptz,
    selector text not null,
    who text not null,
    host text not null,
    pid integer not null,
    status text not null default 'running',
    reason text
);
create table if not exists {AUDIT_SCHEMA}.sync_run_tables (
    run_id bigint not null references {AUDIT_SCHEMA}.sync_runs (run_id),
    v2_table text not null,
    v1_count bigint,
    v2_before bigint,
    v2_after bigint,
    inserted bigint,
    updated bigint,
    unchanged bigint,
    rejected bigint,
    tests_passed integer default 0,
    tests_warned integer default 0,
    tests_failed integer default 0,
    status text,
    message text,
    duration_s numeric,
    primary key (run_id, v2_table)
);
create table if not exists {AUDIT_SCHEMA}.v1_row_hashes (
    v1_table text not null,
    id bigint not null,
    h bigint,
    primary key (v1_table, id)
);
create table if not exists {AUDIT_SCHEMA}.v1_changes (
    v1_table text not null,
    id bigint not null,
    h bigint,
    primary key (v1_table, id)
);
alter table {AUDIT_SCHEMA}.v1_changes add column if not exists h bigint;
create table if not exists {AUDIT_SCHEMA}.model_state (
    digest text not null
);
create table if not exists {AUDIT_SCHEMA}.seed_state (
    digest text not null
);
create table if not exists {AUDIT_SCHEMA}.v1_synced_ids (
    v1_table text not null,
    id bigint not null,
    primary key (v1_table, id)
);
"""


def ensure_audit(conn: psycopg.Connection) -> None:
    """Create the audit tables if missing."""
    conn.execute(AUDIT_DDL)


def dbt_invoke(target: dbmod.Target, root: Path, args: list[str], callbacks=()) -> object:
    """Run dbt in-process with the profile env of ``target``; returns the dbtRunnerResult."""
    from dbt.cli.main import dbtRunner

    os.environ.update(target.dbt_env(root))
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    full = [*args, "--project-dir", str(root), "--profiles-dir", str(root / "profiles")]
    return dbtRunner(callbacks=list(callbacks)).invoke(full)


@contextmanager
def sync_lock(conn: psycopg.Connection):
    """Hold the sync advisory lock, or fail with who holds it."""
    got = conn.execute("select pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]
    if not got:
        row = conn.execute(
            f"select started_at, pid, host from {AUDIT_SCHEMA}.sync_runs "
            "where status = 'running' order by run_id desc limit 1").fetchone()
        since = f"{row[0]:%Y-%m-%d %H:%M:%S %Z} (pid {row[1]} on {row[2]})" if row else "?"
        raise SyncError(f"sync already running since {since}")
    try:
        yield
    finally:
        conn.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))


def _exists(conn, schema: str, name: str) -> bool:
    return conn.execute("select to_regclass(format('%%I.%%I', %s::text, %s::text)) is not null",
                        (schema, name)).fetchone()[0]


def count(conn, schema: str, name: str) -> int | None:
    """Row count, or None when the table does not exist."""
    if not _exists(conn, schema, name):
        return None
    return conn.execute(sql.SQL("select count(*) from {}").format(
        sql.Identifier(schema, name))).fetchone()[0]


def preflight(conn: psycopg.Connection, root: Path, spec: specmod.Spec) -> None:
    """Stop before building when V1 changed shape or the committed models are stale."""
    from generator.emit import generate_project

    # allow_unmapped: files generated with --allow-unmapped are as valid as the others; keys the
    # inventory does not know are caught below
    stale = generate_project(root, check=True, allow_unmapped=True).stale
    if stale:
        raise SyncError(f"generated files are stale ({', '.join(stale[:5])}); run "
                        "`python -m generator` and commit")
    keys, _ = disc.read_committed(root)
    known: dict[str, set[str]] = {}
    for r in keys:
        if r["kind"] == "top":
            known.setdefault(r["v1_table"], set()).add(r["key_path"])
    new: list[str] = []
    from generator.inventory import encode_path

    for name in spec.v1_tables():
        rel = v1_table(name).relation
        if not _exists(conn, V1_SCHEMA, rel):
            raise SyncError(f"V1 table {name} ({V1_SCHEMA}.{rel}) is missing on the server")
        cur = conn.execute(sql.SQL(
            "select distinct jsonb_object_keys(xdo) from {} where jsonb_typeof(xdo) = 'object'"
        ).format(sql.Identifier(V1_SCHEMA, rel)))
        for (k,) in cur:
            if encode_path(k) not in known.get(name, set()):
                new.append(f"{name}.{encode_path(k)}")
    if new:
        raise SyncError("V1 has keys the inventory does not know; run `python -m generator "
                        "discover`, map them, regenerate: " + ", ".join(sorted(new)[:20]))


@dataclass
class TableState:
    """Per-table figures of a run."""

    name: str
    v1: int | None = None
    before: int | None = None
    after: int | None = None
    rows_affected: int | None = None
    status: str = "pending"
    message: str = ""
    duration: float = 0.0
    tests: dict = field(default_factory=lambda: {"pass": 0, "warn": 0, "fail": 0})


def expected_counts(conn: psycopg.Connection, spec: specmod.Spec) -> dict[str, int]:
    """What each V2 table's grain implies from V1 (V1 rows, or summed array lengths)."""
    out: dict[str, int] = {}
    for t in spec.tables:
        rel = sql.Identifier(V1_SCHEMA, v1_table(t.v1_table).relation)
        if not _exists(conn, V1_SCHEMA, v1_table(t.v1_table).relation):
            continue
        if t.grain == "row":
            q = sql.SQL("select count(*) from {}").format(rel)
        else:
            q = sql.SQL("select coalesce(sum(least(jsonb_array_length(xdo -> {k}), {m})), 0) "
                        "from {r} where jsonb_typeof(xdo -> {k}) = 'array'").format(
                k=sql.Literal(t.array_path), r=rel, m=sql.Literal(specmod.ARRAY_ID_FACTOR - 1))
        out[t.name] = int(conn.execute(q).fetchone()[0])
    return out


def selected_tables(spec: specmod.Spec, select: str | None) -> list[specmod.Table]:
    """V2 tables a selector touches (a domain name, a table name, or None for all)."""
    if not select:
        return list(spec.tables)
    name = select.rstrip("+").lstrip("+")
    doms = [t for t in spec.tables if t.domain == name]
    if doms:
        return doms
    tabs = [t for t in spec.tables if t.name == name]
    if tabs:
        # every V2 table of that V1 table: they share one change detection, so syncing one
        # of them alone would mark the V1 changes as done for the others
        return spec.for_v1(tabs[0].v1_table)
    raise SyncError(f"unknown selector {select!r}: use a domain "
                    f"({', '.join(sorted({t.domain for t in spec.tables}))}) or a V2 table name")


def dbt_selector_for(tables: list[specmod.Table] | None, full: bool = True) -> list[str]:
    """dbt --select for these V2 tables plus the audit models of their V1 tables.

    A changed-only sync leaves out the accounting models (whole-table passes): it verifies
    the rows it wrote through the reconciliation tests; full syncs and plain `dbt build`
    check the accounting identity over everything.
    """
    if tables is None:
        return [] if full else ["--exclude", "xano_accounting__*"]
    audit = ["xano_rejects"]
    if full:
        audit += [f"xano_accounting__{v1}" for v1 in dict.fromkeys(t.v1_table for t in tables)]
    return ["--select", " ".join([t.name for t in tables] + audit)]


def run_sync(target: dbmod.Target, root: Path, select: str | None = None, full: bool = False,
             prune: bool = False, on_event=None) -> tuple[int, list[TableState]]:
    """One audited sync. Returns (run_id, per-table states); raises SyncError on failure."""
    spec = specmod.load_spec(root)
    tables = selected_tables(spec, select)
    with dbmod.connect(target) as lock_conn, dbmod.connect(target) as conn:
        ensure_audit(conn)
        with sync_lock(lock_conn):
            # holding the lock proves no other sync runs: older 'running' rows were killed
            conn.execute(f"update {AUDIT_SCHEMA}.sync_runs set status = 'interrupted', "
                         "ended_at = coalesce(ended_at, now()), reason = 'process ended "
                         "without finishing (killed or server restarted)' "
                         "where status = 'running'")
            run_id = conn.execute(
                f"insert into {AUDIT_SCHEMA}.sync_runs (selector, who, host, pid) "
                "values (%s, %s, %s, %s) returning run_id",
                (select or "all", getpass.getuser(), socket.gethostname(), os.getpid()),
            ).fetchone()[0]
            try:
                preflight(conn, root, spec)
            except SyncError as exc:
                conn.execute(f"update {AUDIT_SCHEMA}.sync_runs set ended_at = now(), "
                             "status = 'failed', reason = %s where run_id = %s",
                             (f"preflight: {exc}", run_id))
                raise
            states = {t.name: TableState(t.name) for t in tables}
            exp = expected_counts(conn, spec)
            for s in states.values():
                s.v1 = exp.get(s.name)
                s.before = count(conn, V2_SCHEMA, s.name) or 0
            failure = ""
            v1_names = list(dict.fromkeys(t.v1_table for t in tables))
            digest = models_digest(root)
            stored = conn.execute(f"select digest from {AUDIT_SCHEMA}.model_state").fetchone()
            if not stored or stored[0] != digest:
                full = True  # new models or transforms: every row is checked again
            try:
                build_tables: list[specmod.Table] | None = None if select is None else tables
                if not full:
                    changes = detect_changes(conn, v1_names)
                    # only V1 tables with changes are built and tested: the others keep the
                    # state (and the passed tests) of their last sync; --full re-checks all
                    active = [n for n in v1_names if changes.get(n)]
                    build_tables = [t for t in tables if t.v1_table in active]
                    for s_ in states.values():
                        if spec.table(s_.name).v1_table not in active:
                            s_.status, s_.message = "unchanged", "no V1 changes"
                            s_.rows_affected = 0
                failure = (_build(target, root, spec, build_tables, full, conn, run_id, states,
                                  on_event) if build_tables is None or build_tables else "")
                if not failure:
                    if prune:
                        _prune(conn, spec, v1_names)
                    remember_hashes(conn, v1_names, full)
                    _remember_ids(conn, v1_names)
                    if select is None:  # a full-scope run confirms the models' digest
                        with conn.transaction():
                            conn.execute(f"delete from {AUDIT_SCHEMA}.model_state")
                            conn.execute(f"insert into {AUDIT_SCHEMA}.model_state values (%s)",
                                         (digest,))
            except Exception as exc:  # recorded, then re-raised as one line
                failure = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            rejected = _rejects_by_table(conn)
            for s in states.values():
                s.after = count(conn, V2_SCHEMA, s.name)
                _record(conn, run_id, s, rejected.get(s.name, 0))
            conn.execute(f"update {AUDIT_SCHEMA}.sync_runs set ended_at = now(), status = %s, "
                         "reason = %s where run_id = %s",
                         ("failed" if failure else "success", failure or None, run_id))
            if failure:
                raise SyncError(f"sync run {run_id} failed: {failure}")
            return run_id, list(states.values())


def _build(target, root, spec, build_tables, full, conn, run_id, states, on_event) -> str:
    digest = seeds_digest(root)
    stored = conn.execute(f"select digest from {AUDIT_SCHEMA}.seed_state").fetchone()
    if full or not stored or stored[0] != digest or not _exists(conn, "xano_spec",
                                                                "xano_v2_columns"):
        seed = dbt_invoke(target, root, ["seed", "--quiet"])
        if not seed.success:
            return f"dbt seed failed: {seed.exception or 'see logs'}"
        with conn.transaction():
            conn.execute(f"delete from {AUDIT_SCHEMA}.seed_state")
            conn.execute(f"insert into {AUDIT_SCHEMA}.seed_state values (%s)", (digest,))
    started: dict[str, float] = {}

    def callback(event) -> None:
        try:
            _on_dbt_event(event)
        except Exception as exc:  # a progress hiccup must never break the build
            errors.append(f"{type(exc).__name__}: {exc}")

    errors: list[str] = []

    def _on_dbt_event(event) -> None:
        name = event.info.name
        if name == "NodeStart":
            node = event.data.node_info
            started[node.node_name] = time.monotonic()
            if node.node_name in states:
                states[node.node_name].status = "running"
                if on_event:
                    on_event(states[node.node_name])
        elif name == "NodeFinished":
            node = event.data.node_info
            res = event.data.run_result
            if node.resource_type == "test":
                owner = _test_owner(node.node_name, states)
                if owner:
                    key = {"pass": "pass", "warn": "warn"}.get(res.status, "fail")
                    states[owner].tests[key] += 1
                return
            if node.node_name not in states:
                return
            s = states[node.node_name]
            s.status = res.status
            s.message = res.message or ""
            s.duration = time.monotonic() - started.get(node.node_name, time.monotonic())
            from google.protobuf.json_format import MessageToDict

            rows = MessageToDict(res.adapter_response).get("rows_affected")
            rows = int(rows) if isinstance(rows, (int, float)) else None
            s.rows_affected = rows if isinstance(rows, int) and rows >= 0 else None
            s.after = count(conn, V2_SCHEMA, s.name)
            _record(conn, run_id, s, None)
            if on_event:
                on_event(s)

    args = ["build", "--quiet", *dbt_selector_for(build_tables, full)]
    if not full:
        # models read only the V1 rows detect_changes() listed; --full re-checks every row
        args += ["--vars", "{xano_changed_only: true}"]
    res = dbt_invoke(target, root, args, callbacks=[callback])
    if res.exception:
        return f"dbt error: {str(res.exception).splitlines()[0]}"
    if not res.success:
        bad = [s.name for s in states.values() if s.status not in ("success", "pass")]
        failed_tests = sum(s.tests["fail"] for s in states.values())
        return (f"models not built: {', '.join(bad)}" if bad else
                f"{failed_tests} error-severity test(s) failed")
    return ""


def _test_owner(test_name: str, states: dict[str, TableState]) -> str | None:
    best = None
    for name in states:
        if f"_{name}_" in f"_{test_name}_" and (best is None or len(name) > len(best)):
            best = name
    return best


def _record(conn, run_id: int, s: TableState, rejected: int | None) -> None:
    inserted = (s.after - s.before) if s.after is not None and s.before is not None else None
    updated = (s.rows_affected - max(inserted or 0, 0)) if s.rows_affected is not None else None
    unchanged = None
    if s.after is not None and updated is not None:
        unchanged = max(s.after - max(inserted or 0, 0) - max(updated, 0), 0)
    conn.execute(f"""
        insert into {AUDIT_SCHEMA}.sync_run_tables as t (run_id, v2_table, v1_count, v2_before,
            v2_after, inserted, updated, unchanged, rejected, tests_passed, tests_warned,
            tests_failed, status, message, duration_s)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        on conflict (run_id, v2_table) do update set v2_after = excluded.v2_after,
            inserted = excluded.inserted, updated = excluded.updated,
            unchanged = excluded.unchanged, rejected = coalesce(excluded.rejected, t.rejected),
            tests_passed = excluded.tests_passed, tests_warned = excluded.tests_warned,
            tests_failed = excluded.tests_failed, status = excluded.status,
            message = excluded.message, duration_s = excluded.duration_s""",
        (run_id, s.name, s.v1, s.before, s.after, inserted, updated, unchanged, rejected,
         s.tests["pass"], s.tests["warn"], s.tests["fail"], s.status, s.message[:500],
         round(s.duration, 3)))


def _rejects_by_table(conn) -> dict[str, int]:
    if not _exists(conn, AUDIT_SCHEMA, "xano_rejects"):
        return {}
    return dict(conn.execute(f"select v2_table, count(*) from {AUDIT_SCHEMA}.xano_rejects "
                             "group by 1").fetchall())


def detect_changes(conn, v1_names: list[str]) -> dict[str, int]:
    """One pass per V1 table: ids whose xdo hash differs from the last successful sync."""
    out = {}
    for name in v1_names:
        rel = sql.Identifier(V1_SCHEMA, v1_table(name).relation)
        with conn.transaction():
            conn.execute(sql.SQL("delete from {c} where v1_table = {n}").format(
                c=sql.Identifier(AUDIT_SCHEMA, "v1_changes"), n=sql.Literal(name)))
            out[name] = conn.execute(sql.SQL(
                "insert into {c} (v1_table, id, h) select {n}, v.id, jsonb_hash_extended(v.xdo, 0) "
                "from {r} v left join {h} s on s.v1_table = {n} and s.id = v.id "
                "where s.id is null or s.h is distinct from jsonb_hash_extended(v.xdo, 0)").format(
                c=sql.Identifier(AUDIT_SCHEMA, "v1_changes"), n=sql.Literal(name), r=rel,
                h=sql.Identifier(AUDIT_SCHEMA, "v1_row_hashes"))).rowcount
            # a V1 deletion is a change too (rejects and counts of that table move)
            out[name] += conn.execute(sql.SQL(
                "select count(*) from {h} s where s.v1_table = {n} and not exists "
                "(select 1 from {r} v where v.id = s.id)").format(
                h=sql.Identifier(AUDIT_SCHEMA, "v1_row_hashes"), n=sql.Literal(name),
                r=rel)).fetchone()[0]
    conn.execute(sql.SQL("analyze {}").format(sql.Identifier(AUDIT_SCHEMA, "v1_changes")))
    return out


def remember_hashes(conn, v1_names: list[str], full: bool) -> None:
    """After a successful build: the hashes seen at detection become the new snapshot.

    The hash stored is the one detect_changes() computed, not V1 as it is now: a row that
    changed again during the build is detected again next time.
    """
    for name in v1_names:
        if full:
            src = sql.SQL("select {n}, v.id, jsonb_hash_extended(v.xdo, 0) from {r} v").format(
                n=sql.Literal(name), r=sql.Identifier(V1_SCHEMA, v1_table(name).relation))
        else:
            src = sql.SQL("select c.v1_table, c.id, c.h from {c} c where c.v1_table = {n}").format(
                c=sql.Identifier(AUDIT_SCHEMA, "v1_changes"), n=sql.Literal(name))
        conn.execute(sql.SQL(
            "insert into {h} as s (v1_table, id, h) {src} on conflict (v1_table, id) do update "
            "set h = excluded.h where s.h is distinct from excluded.h").format(
            h=sql.Identifier(AUDIT_SCHEMA, "v1_row_hashes"), src=src))
        conn.execute(sql.SQL(
            "delete from {h} s where s.v1_table = {n} and not exists "
            "(select 1 from {r} v where v.id = s.id)").format(
            h=sql.Identifier(AUDIT_SCHEMA, "v1_row_hashes"), n=sql.Literal(name),
            r=sql.Identifier(V1_SCHEMA, v1_table(name).relation)))


def models_digest(root: Path) -> str:
    """Digest of everything that decides V2 values: models, macros, seeds, dbt_project.yml."""
    import hashlib

    h = hashlib.sha256()
    paths = [root / "dbt_project.yml"]
    for base in ("models", "macros", "seeds"):
        paths += sorted(p for p in (root / base).rglob("*") if p.is_file())
    for path in paths:
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def seeds_digest(root: Path) -> str:
    """Digest of the seed files: `dbt seed` runs only when they changed."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted((root / "seeds").glob("*")):
        if path.is_file():
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _remember_ids(conn, v1_names: list[str]) -> None:
    """Record the V1 ids this sync brought to V2 (only new ids: a no-op run writes nothing)."""
    for name in v1_names:
        rel = sql.Identifier(V1_SCHEMA, v1_table(name).relation)
        conn.execute(sql.SQL(
            "insert into {a} (v1_table, id) select {n}, v.id from {r} v where not exists "
            "(select 1 from {a} s where s.v1_table = {n} and s.id = v.id)").format(
            a=sql.Identifier(AUDIT_SCHEMA, "v1_synced_ids"), n=sql.Literal(name), r=rel))


def deleted_in_v1(conn, name: str) -> int:
    """V1 ids synced before that V1 no longer has (V2-only rows are never counted)."""
    if not _exists(conn, AUDIT_SCHEMA, "v1_synced_ids"):
        return 0
    return conn.execute(sql.SQL(
        "select count(*) from {a} s where s.v1_table = {n} and not exists "
        "(select 1 from {r} v where v.id = s.id)").format(
        a=sql.Identifier(AUDIT_SCHEMA, "v1_synced_ids"), n=sql.Literal(name),
        r=sql.Identifier(V1_SCHEMA, v1_table(name).relation))).fetchone()[0]


def _prune(conn, spec: specmod.Spec, v1_names: list[str]) -> None:
    """Delete V2 rows whose V1 row was deleted (--prune): splits first, then the main table."""
    with conn.transaction():
        for name in v1_names:
            gone = sql.SQL(
                "select s.id from {a} s where s.v1_table = {n} and not exists "
                "(select 1 from {r} v where v.id = s.id)").format(
                a=sql.Identifier(AUDIT_SCHEMA, "v1_synced_ids"), n=sql.Literal(name),
                r=sql.Identifier(V1_SCHEMA, v1_table(name).relation))
            tables = spec.for_v1(name)
            for t in sorted(tables, key=lambda x: x.is_main):
                column = "id" if t.is_main else t.parent_column
                conn.execute(sql.SQL("delete from {t} where {c} in ({g})").format(
                    t=sql.Identifier(V2_SCHEMA, t.name), c=sql.Identifier(column), g=gone))
            for audit in ("v1_row_hashes", "v1_synced_ids"):
                conn.execute(sql.SQL("delete from {a} s where s.v1_table = {n} and s.id in ({g})")
                             .format(a=sql.Identifier(AUDIT_SCHEMA, audit),
                                     n=sql.Literal(name), g=gone))


# -- status -----------------------------------------------------------------------------------
def status_rows(target: dbmod.Target, root: Path) -> list[dict]:
    """Every V1 and V2 table with counts, expected counts, gap and last sync."""
    with dbmod.connect(target) as conn:
        return collect_status(conn, specmod.load_spec(root))


def collect_status(conn: psycopg.Connection, spec: specmod.Spec) -> list[dict]:
    """Status rows read over an existing (possibly read-only) connection."""
    out: list[dict] = []
    exp = expected_counts(conn, spec)
    rejected = _rejects_by_table(conn)
    last = {}
    if _exists(conn, AUDIT_SCHEMA, "sync_run_tables"):
        last = {r[0]: (r[1], r[2]) for r in conn.execute(
            f"select distinct on (t.v2_table) t.v2_table, r.ended_at, r.status "
            f"from {AUDIT_SCHEMA}.sync_run_tables t join {AUDIT_SCHEMA}.sync_runs r "
            "using (run_id) order by t.v2_table, r.run_id desc")}
    for name in spec.v1_tables():
        rel = v1_table(name).relation
        out.append({"layer": "v1", "table": name, "relation": f"{V1_SCHEMA}.{rel}",
                    "count": count(conn, V1_SCHEMA, rel)})
    for t in spec.tables:
        n = count(conn, V2_SCHEMA, t.name)
        e = exp.get(t.name)
        gap = (n or 0) - e if e is not None else None
        pct = (100.0 * (n or 0) / e) if e else None
        ok = e is None or (e == 0 and not n) or (
            e and abs((n or 0) - e) / e <= TOLERANCE)
        ended, st = last.get(t.name, (None, None))
        extra = {}
        if t.is_main:
            extra["deleted_in_v1"] = deleted_in_v1(conn, t.v1_table)
        out.append({"layer": "v2", "table": t.name, "domain": t.domain, **extra,
                    "main": t.is_main, "count": n, "expected": e, "gap": gap,
                    "pct": round(pct, 2) if pct is not None else None,
                    "within_tolerance": bool(ok), "rejects": rejected.get(t.name, 0),
                    "last_sync": ended.isoformat() if ended else None,
                    "last_status": st})
    return out
