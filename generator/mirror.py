"""Mirror a live Xano database (JSONB tables ``public.mvpw<ws>_<id>``) into local ``xano_v1``,
and with a V2 workspace also the live V2 tables into ``xano_live``.

Reads only: one read-only, repeatable-read transaction on the source (a consistent snapshot of
every table, V1 and V2; the live V2 is read through the publish target instead when it is
another database). Each table streams with binary COPY into a fresh load table, is verified
(row count and an order-independent checksum against the same snapshot) and swapped in within
one transaction; a failure leaves the previous copy intact. A live V2 table is copied exactly
as it is (its own columns and types, whatever its layout), so the local copy compares with the
local V2 through the same conversions as publish; its count and identity figures (matched,
by id / by key / fresh / held, duplicates, orphans: :mod:`generator.publish.plan`, read
through the identity map as a dry run would pair them) are recorded for ``status``
and the dashboard.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import psycopg
from psycopg import sql

from generator import catalog
from generator import db as dbmod
from generator import live as livemod
from generator.config import AUDIT_SCHEMA, LIVE_SCHEMA, SOURCE_SCHEMA, V1_SCHEMA
from generator.errors import MirrorError
from generator.live import LiveTable
from generator.publish import plan
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
CHECKSUM_ROWS = sql.SQL(
    "select count(*), coalesce(sum(('x' || substr(md5(s::text), 1, 15))::bit(60)::bigint"
    "::numeric), 0)::text from {}")
"""Checksum of a live V2 copy (any columns): the row text in pinned session settings."""
COPY_TYPES = ("bigint", "integer", "smallint", "numeric", "double precision", "real", "boolean",
              "text", "character varying", "character", "date", "timestamp with time zone",
              "timestamp without time zone", "time without time zone", "jsonb", "json", "uuid",
              "bytea", "interval")
"""Live column types copied as they are (with their typmod); any other type is copied as
text."""

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


def source_label(dsn: str, option: str = "--source-dsn") -> str:
    """host:port/db of a source without any credential (validates the DSN)."""
    return dbmod.label(dbmod.parse_dsn(dsn, option, MirrorError))


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
    columns: tuple[tuple[str, str], ...] | None = None
    """(name, local type) of a V2 job's columns (read from the live catalog); None: V1."""


def v1_job(t: V1Table) -> CopyJob:
    """Copy job of a V1 table (``public.mvpw<ws>_<id>`` -> ``xano_v1``)."""
    src = sql.Identifier(SOURCE_SCHEMA, t.relation)
    return CopyJob(t.name, SOURCE_SCHEMA, t.relation,
                   sql.SQL("select id::bigint as id, xdo::jsonb as xdo from {}").format(src),
                   V1_SCHEMA, t.relation)


def live_job(lt: LiveTable) -> CopyJob:
    """Copy job of a live V2 table (its relation -> ``xano_live.<V2 table>``); its columns
    are read from the live catalog when it runs (:func:`exact_copy`)."""
    return CopyJob(f"live:{lt.table.name}", lt.schema, lt.name, sql.SQL(""), LIVE_SCHEMA,
                   lt.table.name, lt)


def exact_copy(conn: psycopg.Connection, job: CopyJob) -> CopyJob:
    """``job`` with the live table's columns, as they are: every column of the live catalog
    in order, of the same type (a type outside :data:`COPY_TYPES`, or an array, as text)."""
    out, select = [], []
    for name, typ in catalog.columns(conn, job.schema, job.relation).items():
        keep = bool(_BUILTIN.fullmatch(typ)) and re.sub(r"\(.*?\)", "", typ) in COPY_TYPES
        out.append((name, typ if keep else "text"))
        select.append(sql.Identifier(name) if keep else
                      sql.SQL("{}::text").format(sql.Identifier(name)))
    query = sql.SQL("select {} from {}").format(sql.SQL(", ").join(select),
                                                sql.Identifier(job.schema, job.relation))
    return replace(job, select=query, columns=tuple(out))


_BUILTIN = re.compile(r"[a-z ]+(\([0-9]+(,[0-9]+)?\))?( with(out)? time zone)?")


@dataclass
class MirrorResult:
    """Outcome of a mirror run."""

    run_id: int
    tables: list[TableResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What keeps a mirrored live table from being published (layout problems)."""


def connect_source(dsn: str, option: str = "--source-dsn") -> psycopg.Connection:
    """Connect to the source in a read-only, repeatable-read transaction; errors never contain
    the password."""
    return dbmod.connect_remote(dsn, option, MirrorError, "mirror (read-only)", read_only=True)


def mirror(
    target: dbmod.Target,
    source_dsn: str,
    tables: list[V1Table],
    on_progress: Callable[[str, int, int], Callable[[int], None]] | None = None,
    live: list[LiveTable] | None = None,
    v2_workspace: int | None = None,
    v2_dsn: str | None = None,
) -> MirrorResult:
    """Copy ``tables`` from the source snapshot into ``xano_v1`` and the ``live`` V2 tables
    (read through ``v2_dsn`` when it is another database) into ``xano_live``; raises
    MirrorError on any table problem (after finishing the others)."""
    busy = lambda: MirrorError("a sync, mirror or publish is running on the local mirror; "  # noqa: E731
                               "try again later")
    v1_jobs = [v1_job(t) for t in tables]
    v2_jobs = [live_job(lt) for lt in live or []]
    if v2_dsn and v2_dsn != source_dsn:
        groups = [(source_dsn, "--source-dsn", v1_jobs), (v2_dsn, "--target-dsn", v2_jobs)]
    else:
        groups = [(source_dsn, "--source-dsn", v1_jobs + v2_jobs)]
    with dbmod.connect(target) as lock, exclusive(lock, busy):
        result = _mirror(target, source_dsn, [g for g in groups if g[2]], on_progress,
                         v2_workspace)
        if live:
            result.notes += record_copies(target, live, result.run_id)
        return result


def _mirror(target, source_dsn, groups, on_progress, v2_workspace: int | None) -> MirrorResult:
    label = source_label(source_dsn)  # validates the DSN without echoing it
    started = time.monotonic()
    with dbmod.connect(target) as dst_meta:
        dst_meta.execute(MIRROR_DDL)
        run_id = dst_meta.execute(
            f"insert into {AUDIT_SCHEMA}.mirror_runs (source, v2_workspace) values (%s, %s) "
            "returning run_id", (label, v2_workspace)).fetchone()[0]
    result = MirrorResult(run_id)
    jobs = [j for _, _, group in groups for j in group]
    for dsn, option, group in groups:
        try:
            _copy_group(target, dsn, option, group, on_progress, result)
        except MirrorError as exc:
            _finish(target, run_id, result, "failed", str(exc), started)
            raise
    failed = [r for r in result.tables if r.error]
    missing = [t.name for t in jobs if t.name not in {r.table for r in result.tables}]
    reason = "; ".join([f"{r.table}: {r.error}" for r in failed] +
                       [f"{m}: not attempted (source lost)" for m in missing])
    _finish(target, run_id, result, "failed" if reason else "success", reason or None, started)
    if reason:
        raise MirrorError(f"mirror run {run_id} failed ({len(failed) + len(missing)} of "
                          f"{len(jobs)} tables; the others were mirrored): {reason}")
    return result


def _copy_group(target, dsn: str, option: str, jobs: list[CopyJob], on_progress,
                result: MirrorResult) -> None:
    """Copy ``jobs`` from one source database, in one snapshot."""
    secret = dbmod.parse_dsn(dsn, option, MirrorError).get("password")
    src = connect_source(dsn, option)
    with src, dbmod.connect(target, autocommit=False) as dst:
        same = src.info.server_version // 10000 == dst.info.server_version // 10000
        checksum = CHECKSUM_SAME_MAJOR if same else CHECKSUM
        snapshot = src.execute("select pg_export_snapshot()").fetchone()[0]
        helper = connect_source(dsn, option)  # same snapshot: checksums run beside the copy
        helper.execute("set transaction snapshot %s" % sql.quote(snapshot))
        for conn in (src, helper, dst):
            plan.session(conn)  # row text of the live copies: dates, floats, zones
        for t in jobs:
            res = TableResult(t.name)
            t0 = time.monotonic()
            try:
                _copy_table(src, dst, t, res, on_progress, helper, checksum)
            except (psycopg.Error, MirrorError) as exc:
                dst.rollback()
                res.error = dbmod.scrub(dbmod.first_line(exc), secret)
                if src.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
                    src.rollback()  # keep going with the next table (new snapshot)
                    src.execute("set transaction isolation level repeatable read, read only")
                    helper.close()
                    snapshot = src.execute("select pg_export_snapshot()").fetchone()[0]
                    helper = connect_source(dsn, option)
                    helper.execute("set transaction snapshot %s" % sql.quote(snapshot))
                    plan.session(helper)
                if src.closed or src.broken:
                    result.tables.append(res)
                    break
            res.seconds = time.monotonic() - t0
            result.tables.append(res)
        if not src.closed:
            src.rollback()  # read-only: nothing to commit
        helper.close()


def _copy_table(src, dst, t: CopyJob, res: TableResult, on_progress, helper,
                checksum: sql.SQL) -> None:
    import concurrent.futures

    if not catalog.exists(src, t.schema, t.relation):
        raise MirrorError(f"table {t.schema}.{t.relation} does not exist on the source")
    if t.live is not None:
        t = exact_copy(src, t)
        checksum = CHECKSUM_ROWS
    src_rel = sql.SQL("({}) s").format(t.select)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    src_check = pool.submit(lambda: helper.execute(checksum.format(src_rel)).fetchone())
    pool.shutdown(wait=False)
    advance = on_progress(t.name, 0, 0) if on_progress else None
    with dst.cursor() as cur:
        load = catalog.create_load_table(cur, t.dest_schema, t.dest, "mirror",
                                         list(t.columns) if t.columns else None)
        names = [n for n, _ in t.columns] if t.columns else ["id", "xdo"]
        copy_out = sql.SQL("copy ({}) to stdout (format binary)").format(t.select)
        copy_in = sql.SQL("copy {} ({}) from stdin (format binary)").format(
            load, sql.SQL(", ").join(map(sql.Identifier, names)))
        res.bytes += dbmod.pipe(src, copy_out, dst, copy_in, advance)
        count, sum_ = cur.execute(checksum.format(sql.SQL("{} s").format(load))).fetchone()
        src_count, src_sum = src_check.result()
        if (count, sum_) != (src_count, src_sum):
            raise MirrorError(f"verification failed: source {src_count} rows / checksum {src_sum}"
                              f", mirror {count} rows / checksum {sum_}")
        catalog.swap_in(cur, t.dest_schema, t.dest, "mirror")
    dst.commit()  # statistics: autovacuum analyzes the fresh table shortly after
    res.rows, res.checksum = count, sum_


def record_copies(target: dbmod.Target, live: list[LiveTable], run_id: int) -> list[str]:
    """Record each mirrored live table's count and, where the local V2 is built, its identity
    figures against the copy; returns notes (layout problems of the live tables)."""
    notes = []
    with dbmod.connect(target) as conn:
        plan.session(conn)
        figures = plan.analyze_copies(conn, live)
        for lt in live:
            if not catalog.exists(conn, LIVE_SCHEMA, lt.table.name):
                continue
            f = figures.get(lt.table.name)
            if isinstance(f, str):
                notes.append(f)
                f = None
            rows = catalog.count(conn, LIVE_SCHEMA, lt.table.name)
            live_only = f.pop("live_only", None) if f else None
            livemod.record_live_state(conn, lt, rows, live_only, "mirror", run_id, f)
    return notes


def _finish(target, run_id, result: MirrorResult, status: str, reason, started) -> None:
    tables = {r.table: {"rows": r.rows, "bytes": r.bytes, "checksum": r.checksum,
                        "seconds": round(r.seconds, 3), "error": r.error or None}
              for r in result.tables}
    with dbmod.connect(target) as conn:
        conn.execute(f"update {AUDIT_SCHEMA}.mirror_runs set ended_at = now(), status = %s, "
                     "reason = %s, tables = %s::jsonb, duration_s = %s where run_id = %s",
                     (status, reason, json.dumps(tables), round(time.monotonic() - started, 3),
                      run_id))
