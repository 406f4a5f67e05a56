"""Mirror a live Xano database (JSONB tables ``public.mvpw<ws>_<id>``) into local ``xano_v1``,
and with a V2 workspace also the live V2 tables into ``xano_live``.

Reads only: one read-only, repeatable-read transaction on the source (a consistent snapshot of
every table, V1 and V2). Each table streams with binary COPY into a fresh load table, is
verified (row count and an order-independent checksum against the same snapshot) and swapped
in within one transaction; a failure leaves the previous copy intact. A live V2 table is copied
as ``(id, xdo)`` whatever its layout (a columns-layout row is converted like a V2 row is for
publish), and its count is recorded for ``status`` and the dashboard.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from generator import catalog
from generator import db as dbmod
from generator import live as livemod
from generator.config import AUDIT_SCHEMA, LIVE_SCHEMA, SOURCE_SCHEMA, V1_SCHEMA
from generator.errors import MirrorError
from generator.live import LiveTable
from generator.registry import V1Table
from generator.sync.audit import exclusive

# Order-independent checksums: a sum of per-row hashes (numeric, so no overflow). The jsonb
# hash is cheaper (no text rendering) but only comparable between servers of one major
# version; across versions the md5 of the canonical text is used.
CHECKSUM = sql.SQL(
    "select count(*), coalesce(sum(('x' || substr(md5(id::text || ':' || coalesce(xdo::text, "
    "'<null>')), 1, 15))::bit(60)::bigint::numeric), 0)::text from {}")
CHECKSUM_SAME_MAJOR = sql.SQL(
    "select count(*), coalesce(sum(coalesce(jsonb_hash_extended(xdo, id), id)::numeric), 0)"
    "::text from {}")

MIRROR_DDL = f"""
create schema if not exists {AUDIT_SCHEMA};
create table if not exists {AUDIT_SCHEMA}.mirror_runs (
    run_id bigserial primary key,
    started_at timestamptz not null default now(),
    ended_at timestamptz,
    source text not null,
    tables jsonb not null default '{{}}'::jsonb,
    status text not null default 'running',
    reason text,
    duration_s numeric
);
alter table {AUDIT_SCHEMA}.mirror_runs add column if not exists v2_workspace integer;
"""


def _source_params(dsn: str) -> dict:
    return dbmod.parse_dsn(dsn, "--source-dsn", MirrorError)


def source_label(dsn: str) -> str:
    """host:port/db of a source without any credential."""
    return dbmod.label(_source_params(dsn))


@dataclass
class TableResult:
    """Outcome of one table."""

    table: str
    rows: int = 0
    bytes: int = 0
    checksum: str = ""
    seconds: float = 0.0
    error: str = ""


@dataclass(frozen=True)
class CopyJob:
    """One table to copy: where it is on the source, where it goes locally."""

    name: str
    """Name in messages and the run record (V1 table name, or ``live:<V2 table>``)."""
    schema: str
    """Source schema."""
    relation: str
    """Source relation."""
    select: sql.Composable
    """``select id, xdo`` over the source relation."""
    dest_schema: str
    """Local schema."""
    dest: str
    """Local relation."""
    live: LiveTable | None = None
    """The live V2 table, for a V2 job."""


def v1_job(t: V1Table) -> CopyJob:
    """Copy job of a V1 table (``public.mvpw<ws>_<id>`` -> ``xano_v1``)."""
    src = sql.Identifier(SOURCE_SCHEMA, t.relation)
    return CopyJob(t.name, SOURCE_SCHEMA, t.relation,
                   sql.SQL("select id::bigint as id, xdo::jsonb as xdo from {}").format(src),
                   V1_SCHEMA, t.relation)


def live_job(lt: LiveTable) -> CopyJob:
    """Copy job of a live V2 table (its relation -> ``xano_live.<V2 table>``)."""
    return CopyJob(f"live:{lt.table.name}", lt.schema, lt.name,
                   livemod.select_payload(lt, lt.ident), LIVE_SCHEMA, lt.table.name, lt)


@dataclass
class MirrorResult:
    """Outcome of a mirror run."""

    run_id: int
    tables: list[TableResult] = field(default_factory=list)


def connect_source(dsn: str) -> psycopg.Connection:
    """Connect to the source; errors never contain the password."""
    params = _source_params(dsn)
    secret = params.get("password")
    params.setdefault("connect_timeout", 10)
    params.setdefault("application_name", "xano-v2-sync mirror (read-only)")
    try:
        conn = psycopg.connect(**params, autocommit=False)
    except psycopg.OperationalError as exc:
        msg = dbmod.scrub(dbmod.first_line(exc), secret)
        raise MirrorError(f"cannot connect to source {dbmod.label(params)}: {msg}") from None
    conn.execute("set transaction isolation level repeatable read, read only")
    return conn


def mirror(
    target: dbmod.Target,
    source_dsn: str,
    tables: list[V1Table],
    on_progress: Callable[[str, int, int], Callable[[int], None]] | None = None,
    live: list[LiveTable] | None = None,
    v2_workspace: int | None = None,
) -> MirrorResult:
    """Copy ``tables`` from the source snapshot into ``xano_v1`` and the ``live`` V2 tables
    into ``xano_live``; raises MirrorError on any table problem (after finishing the others)."""
    busy = lambda: MirrorError("a sync, mirror or publish is running on the local mirror; "  # noqa: E731
                               "try again later")
    jobs = [v1_job(t) for t in tables] + [live_job(lt) for lt in live or []]
    with dbmod.connect(target) as lock, exclusive(lock, busy):
        return _mirror(target, source_dsn, jobs, on_progress, v2_workspace)


def _mirror(target, source_dsn, tables: list[CopyJob], on_progress,
            v2_workspace: int | None) -> MirrorResult:
    label = source_label(source_dsn)  # validates the DSN without echoing it
    secret = _source_params(source_dsn).get("password")
    started = time.monotonic()
    with dbmod.connect(target) as dst_meta:
        dst_meta.execute(MIRROR_DDL)
        run_id = dst_meta.execute(
            f"insert into {AUDIT_SCHEMA}.mirror_runs (source, v2_workspace) values (%s, %s) "
            "returning run_id", (label, v2_workspace)).fetchone()[0]
    result = MirrorResult(run_id)
    try:
        src = connect_source(source_dsn)
    except MirrorError as exc:
        _finish(target, run_id, result, "failed", str(exc), started)
        raise
    with src, dbmod.connect(target, autocommit=False) as dst:
        same = src.info.server_version // 10000 == dst.info.server_version // 10000
        checksum = CHECKSUM_SAME_MAJOR if same else CHECKSUM
        snapshot = src.execute("select pg_export_snapshot()").fetchone()[0]
        helper = connect_source(source_dsn)  # same snapshot: checksums run beside the copy
        helper.execute("set transaction snapshot %s" % sql.quote(snapshot))
        for t in tables:
            res = TableResult(t.name)
            t0 = time.monotonic()
            try:
                _copy_table(src, dst, t, res, on_progress, helper, checksum)
                if t.live is not None:
                    _record_live(target, t.live, res.rows, run_id)
            except (psycopg.Error, MirrorError) as exc:
                dst.rollback()
                res.error = dbmod.scrub(dbmod.first_line(exc), secret)
                if src.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
                    src.rollback()  # keep going with the next table (new snapshot)
                    src.execute("set transaction isolation level repeatable read, read only")
                    helper.close()
                    snapshot = src.execute("select pg_export_snapshot()").fetchone()[0]
                    helper = connect_source(source_dsn)
                    helper.execute("set transaction snapshot %s" % sql.quote(snapshot))
                if src.closed or src.broken:
                    result.tables.append(res)
                    break
            res.seconds = time.monotonic() - t0
            result.tables.append(res)
        if not src.closed:
            src.rollback()  # read-only: nothing to commit
        helper.close()
    failed = [r for r in result.tables if r.error]
    missing = [t.name for t in tables if t.name not in {r.table for r in result.tables}]
    reason = "; ".join([f"{r.table}: {r.error}" for r in failed] +
                       [f"{m}: not attempted (source lost)" for m in missing])
    _finish(target, run_id, result, "failed" if reason else "success", reason or None, started)
    if reason:
        raise MirrorError(f"mirror run {run_id} failed ({len(failed) + len(missing)} of "
                          f"{len(tables)} tables; the others were mirrored): {reason}")
    return result


def _copy_table(src, dst, t: CopyJob, res: TableResult, on_progress, helper,
                checksum: sql.SQL) -> None:
    import concurrent.futures

    if not catalog.exists(src, t.schema, t.relation):
        raise MirrorError(f"table {t.schema}.{t.relation} does not exist on the source")
    if t.live is not None:
        problems = livemod.layout_problems(src, t.live)
        if problems:
            raise MirrorError("; ".join(problems))
    src_rel = sql.SQL("({}) s").format(t.select)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    src_check = pool.submit(lambda: helper.execute(checksum.format(src_rel)).fetchone())
    pool.shutdown(wait=False)
    advance = on_progress(t.name, 0, 0) if on_progress else None
    with dst.cursor() as cur:
        load = catalog.create_load_table(cur, t.dest_schema, t.dest, "mirror")
        copy_out = sql.SQL("copy ({}) to stdout (format binary)").format(t.select)
        copy_in = sql.SQL("copy {} (id, xdo) from stdin (format binary)").format(load)
        with src.cursor() as scur, scur.copy(copy_out) as out, cur.copy(copy_in) as inp:
            for chunk in out:
                inp.write(chunk)
                res.bytes += len(chunk)
                if advance:
                    advance(len(chunk))
        count, sum_ = cur.execute(checksum.format(load)).fetchone()
        src_count, src_sum = src_check.result()
        if (count, sum_) != (src_count, src_sum):
            raise MirrorError(f"verification failed: source {src_count} rows / checksum {src_sum}"
                              f", mirror {count} rows / checksum {sum_}")
        catalog.swap_in(cur, t.dest_schema, t.dest, "mirror")
    dst.commit()  # statistics: autovacuum analyzes the fresh table shortly after
    res.rows, res.checksum = count, sum_


def _record_live(target: dbmod.Target, lt: LiveTable, rows: int, run_id: int) -> None:
    with dbmod.connect(target) as conn:
        livemod.record_live_state(conn, lt, rows, livemod.live_only_in_copy(conn, lt),
                                  "mirror", run_id)


def _finish(target, run_id, result: MirrorResult, status: str, reason, started) -> None:
    tables = {r.table: {"rows": r.rows, "bytes": r.bytes, "checksum": r.checksum,
                        "seconds": round(r.seconds, 3), "error": r.error or None}
              for r in result.tables}
    with dbmod.connect(target) as conn:
        conn.execute(f"update {AUDIT_SCHEMA}.mirror_runs set ended_at = now(), status = %s, "
                     "reason = %s, tables = %s::jsonb, duration_s = %s where run_id = %s",
                     (status, reason, json.dumps(tables), round(time.monotonic() - started, 3),
                      run_id))
