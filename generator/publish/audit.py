"""The local record of publishing: the gate, the runs, and what each live row was set to.

``published_rows`` holds, per V2 table and live row id, the local row it is the same record
as (``k``: the local V2 id), the digest the live row had when this tool last wrote or checked
it (``d``, portable: :func:`generator.convert.digest`) and ``written``, which tells rows this
tool wrote from rows it only found equal. A live row whose digest moved away from ``d`` was
edited in V2 since.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from generator import catalog
from generator.config import AUDIT_SCHEMA, MAX_IDENT

PUBLISH_DDL = f"""
create schema if not exists {AUDIT_SCHEMA};
create table if not exists {AUDIT_SCHEMA}.publish_runs (
    run_id bigserial primary key,
    started_at timestamptz not null default now(),
    ended_at timestamptz,
    target text not null,
    v2_workspace integer not null,
    selector text not null,
    options text not null,
    who text not null,
    host text not null,
    pid integer not null,
    status text not null default 'running',
    reason text
);
create table if not exists {AUDIT_SCHEMA}.publish_run_tables (
    run_id bigint not null references {AUDIT_SCHEMA}.publish_runs (run_id),
    v2_table text not null,
    relation text not null,
    layout text not null,
    inserted bigint,
    updated bigint,
    unchanged bigint,
    conflicts bigint,
    overwritten bigint,
    pruned bigint,
    live_only bigint,
    live_before bigint,
    live_after bigint,
    checksum text,
    verified boolean,
    status text,
    duration_s numeric,
    primary key (run_id, v2_table)
);
alter table {AUDIT_SCHEMA}.publish_run_tables
    add column if not exists matched bigint,
    add column if not exists duplicates bigint,
    add column if not exists orphans bigint,
    add column if not exists collisions bigint,
    add column if not exists blocked bigint,
    add column if not exists deduped bigint,
    add column if not exists changed_live bigint,
    add column if not exists identity jsonb,
    add column if not exists unresolved jsonb;
create table if not exists {AUDIT_SCHEMA}.publish_conflicts (
    run_id bigint not null references {AUDIT_SCHEMA}.publish_runs (run_id),
    v2_table text not null,
    id bigint not null,
    kind text not null,
    fields jsonb not null,
    overwritten boolean not null,
    primary key (run_id, v2_table, id)
);
alter table {AUDIT_SCHEMA}.publish_conflicts add column if not exists live_id bigint;
create table if not exists {AUDIT_SCHEMA}.publish_deleted (
    run_id bigint not null references {AUDIT_SCHEMA}.publish_runs (run_id),
    v2_table text not null,
    live_id bigint not null,
    k bigint,
    reason text not null,
    primary key (run_id, v2_table, live_id)
);
do $$ begin  -- the record of releases before identity matching (keyed by local id) is dropped
    if exists (select 1 from information_schema.columns where table_schema = '{AUDIT_SCHEMA}'
               and table_name = 'published_rows' and column_name = 'live_h') then
        drop table {AUDIT_SCHEMA}.published_rows cascade;
    end if;
end $$;
create table if not exists {AUDIT_SCHEMA}.published_rows (
    v2_table text not null,
    id bigint not null,
    k bigint,
    d bigint,
    written boolean not null,
    run_id bigint,
    primary key (v2_table, id)
) partition by list (v2_table);
"""
ROWS = sql.Identifier(AUDIT_SCHEMA, "published_rows")
"""What each live row was last set to (or found equal to)."""


@dataclass(frozen=True)
class FieldDiff:
    """One field that differs between the live row and the local V2 row (masked if sensitive)."""

    field: str
    """V2 column / xdo key."""
    live: str
    """The live value as JSON text (masked when sensitive; '-' when the row is missing)."""
    local: str
    """The local V2 value in Xano's conventions as JSON text (masked when sensitive)."""


@dataclass(frozen=True)
class RowDiff:
    """A row publish would change, or a conflict it keeps."""

    id: int
    """The local V2 row id (the live id for a live row no local row matches)."""
    kind: str
    """'update', 'insert', 'edited in V2', 'deleted in V2', 'edited in V2, gone from V1',
    'changed in V2 during the publish', 'id held by another record', ..."""
    fields: tuple[FieldDiff, ...] = ()
    """Differing fields (empty for inserts and deletions)."""
    overwritten: bool = False
    """True when ``--overwrite`` wrote V1's value over the conflict."""
    live_id: int | None = None
    """The live row's id (split and child tables have their own ids; None: no live row)."""


@dataclass
class TableOutcome:
    """Per V2 table: the plan, and after a publish what was written and checked."""

    name: str
    """V2 table."""
    relation: str
    """Live table (schema.name)."""
    layout: str
    """'jsonb' or 'columns'."""
    local: int = 0
    """Rows of the local V2 table."""
    inserted: int = 0
    """Rows inserted (planned, for a dry run)."""
    updated: int = 0
    """Rows updated, conflicts overwritten included."""
    unchanged: int = 0
    """Local rows the live V2 already holds."""
    pruned: int = 0
    """Rows deleted by --prune."""
    prunable: int = 0
    """Rows this tool published whose V1 row is gone (what --prune would delete)."""
    live_only: int = 0
    """Live rows the local V2 does not have (kept)."""
    live_before: int = 0
    """Live rows before the publish."""
    live_after: int | None = None
    """Live rows after the commit."""
    matched: int = 0
    """Local rows paired with their live row (the same record on both sides)."""
    duplicates: int = 0
    """Extra live rows of a parent (kept unless --dedupe)."""
    deduped: int = 0
    """Extra live rows deleted by --dedupe."""
    orphans: int = 0
    """Live rows whose parent is not live (kept)."""
    blocked: int = 0
    """Local rows not written because their parent is not placed live."""
    changed_live: int = 0
    """Rows not written because the app changed them while the publish ran (next time)."""
    mismatched: int = 0
    """Rows whose read-back digest differs from what was sent."""
    own_ids: bool = False
    """The live table gives new rows their ids (split, child and closure tables: from its
    sequence), so a planned insert's id is the local one, not the one it will get live."""
    conflicts: list[RowDiff] = field(default_factory=list)
    """Rows edited or deleted in V2 since this tool published them, and rows the app changed
    during the publish."""
    collisions: list[RowDiff] = field(default_factory=list)
    """Main records held (same id, other natural key, undecided) and records inserted under a
    fresh id because another live record holds theirs, with both natural keys."""
    collision_count: int = 0
    """Main records whose V1 id another live record holds (inserted under a fresh id)."""
    identity: dict[str, int] = field(default_factory=dict)
    """Main tables: how the local records pair with live ones
    (:data:`generator.publish.identity.FIGURES`)."""
    unresolved: dict[str, int] = field(default_factory=dict)
    """Per reference column, rows written whose value names a record not placed live (NULL)."""
    examples: list[RowDiff] = field(default_factory=list)
    """A few planned changes with their field diffs (dry run)."""
    checksum: str = ""
    """Checksum of the written rows (equal on both sides when verified)."""
    unchanged_since: int | None = None
    """The publish run whose figures stand: the table was left unplanned, every input as that
    run left it (:mod:`generator.publish.state`)."""
    verified: bool | None = None
    """Read-back check after the commit (None: nothing written, or a dry run)."""
    seconds: float = 0.0
    """Time spent on the table."""
    planned: dict[str, int] = field(default_factory=dict)
    """The plan's counts (per action, per op; generator.publish.plan.counts)."""

    @property
    def written(self) -> int:
        """Rows written on the live side (inserts, updates, deletions)."""
        return self.inserted + self.updated + self.pruned + self.deduped

    @property
    def overwritten(self) -> int:
        """Conflicts resolved by V1's value (--overwrite)."""
        return sum(1 for c in self.conflicts if c.overwritten)


def ensure_audit(conn: psycopg.Connection) -> None:
    """Create the publish audit tables if missing."""
    conn.execute(PUBLISH_DDL)


def rows_partition(v2_table: str) -> str:
    """Name of the partition of ``published_rows`` holding one V2 table's rows.

    >>> rows_partition("user")
    'published_rows__user'
    >>> len(rows_partition("t" * 63)) <= 63
    True
    """
    name = f"published_rows__{v2_table}"
    if len(name.encode()) <= MAX_IDENT:
        return name
    return f"published_rows__{hashlib.md5(v2_table.encode()).hexdigest()[:16]}"


def ensure_rows_partition(conn: psycopg.Connection, v2_table: str) -> None:
    """Create the partition of ``published_rows`` for one V2 table if missing: every lookup of
    a table's record then reads that table's rows only."""
    conn.execute(sql.SQL("create table if not exists {} partition of {} for values in ({})")
                 .format(sql.Identifier(AUDIT_SCHEMA, rows_partition(v2_table)), ROWS,
                         sql.Literal(v2_table)))


def gate_problem(conn: psycopg.Connection) -> str | None:
    """Why the local V2 must not be published (last sync failed, a test failed), or None."""
    if not catalog.exists(conn, AUDIT_SCHEMA, "sync_runs"):
        return "no sync has run on this mirror: run `python -m generator sync` first"
    last = conn.execute(f"select run_id, status, reason from {AUDIT_SCHEMA}.sync_runs "
                        "order by run_id desc limit 1").fetchone()
    if last is None:
        return "no sync has run on this mirror: run `python -m generator sync` first"
    if last[1] != "success":
        reason = f": {last[2]}" if last[2] else ""
        return f"the last sync (run {last[0]}) is {last[1]}{reason}"
    failing = [r[0] for r in conn.execute(f"""
        select v2_table from (
            select distinct on (v2_table) v2_table, tests_failed
            from {AUDIT_SCHEMA}.sync_run_tables
            where coalesce(tests_passed, 0) + coalesce(tests_warned, 0)
                + coalesce(tests_failed, 0) > 0
            order by v2_table, run_id desc) t
        where tests_failed > 0 order by 1""")]
    if failing:
        return f"error-level tests failed in the last test of {', '.join(failing)}"
    return None


def start_run(conn: psycopg.Connection, target: str, workspace: int, selector: str,
              options: str) -> int:
    """Record a new running publish; older 'running' rows were killed (the lock proves it)."""
    conn.execute(f"update {AUDIT_SCHEMA}.publish_runs set status = 'interrupted', "
                 "ended_at = coalesce(ended_at, now()), reason = 'process ended without "
                 "finishing (killed or server restarted); the live V2 was not written' "
                 "where status = 'running'")
    return conn.execute(
        f"insert into {AUDIT_SCHEMA}.publish_runs (target, v2_workspace, selector, options, "
        "who, host, pid) values (%s, %s, %s, %s, %s, %s, %s) returning run_id",
        (target, workspace, selector, options, getpass.getuser(), socket.gethostname(),
         os.getpid())).fetchone()[0]


def finish_run(conn: psycopg.Connection, run_id: int, status: str, reason: str | None) -> None:
    """Mark a run success / failed / unverified with its reason."""
    conn.execute(f"update {AUDIT_SCHEMA}.publish_runs set ended_at = now(), status = %s, "
                 "reason = %s where run_id = %s", (status, reason, run_id))


def record_table(conn: psycopg.Connection, run_id: int, t: TableOutcome, status: str) -> None:
    """The run's row for one V2 table, its conflicts and collisions."""
    conn.execute(f"""
        insert into {AUDIT_SCHEMA}.publish_run_tables (run_id, v2_table, relation, layout,
            inserted, updated, unchanged, conflicts, overwritten, pruned, live_only,
            live_before, live_after, checksum, verified, status, duration_s, matched,
            duplicates, orphans, collisions, blocked, deduped, changed_live, identity,
            unresolved)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb)""",
                 (run_id, t.name, t.relation, t.layout, t.inserted, t.updated, t.unchanged,
                  len(t.conflicts), t.overwritten, t.pruned, t.live_only, t.live_before,
                  t.live_after, t.checksum or None, t.verified, status, round(t.seconds, 3),
                  t.matched, t.duplicates, t.orphans, t.collision_count, t.blocked, t.deduped,
                  t.changed_live, json.dumps(t.identity) if t.identity else None,
                  json.dumps(t.unresolved)))
    with conn.cursor() as cur:
        cur.executemany(
            f"insert into {AUDIT_SCHEMA}.publish_conflicts (run_id, v2_table, id, kind, "
            "fields, overwritten, live_id) values (%s, %s, %s, %s, %s::jsonb, %s, %s) "
            "on conflict do nothing",
            [(run_id, t.name, c.id, c.kind,
              json.dumps([{"field": f.field, "live": f.live, "local": f.local}
                          for f in c.fields]), c.overwritten, c.live_id)
             for c in [*t.conflicts, *t.collisions]])


def kept_reports(conn: psycopg.Connection, run_id: int, table: str, conflicts: list[str],
                 held: list[str]) -> tuple[list[RowDiff], list[RowDiff]]:
    """The conflicts (of ``conflicts`` kinds, not overwritten) and held records (``held``
    kinds) a publish run recorded for one table, as it reported them."""
    out: tuple[list[RowDiff], list[RowDiff]] = ([], [])
    for id_, kind, fields, live_id in conn.execute(
            f"select id, kind, fields, live_id from {AUDIT_SCHEMA}.publish_conflicts "
            "where run_id = %s and v2_table = %s and not overwritten and kind = any(%s) "
            "order by id", (run_id, table, conflicts + held)):
        diff = RowDiff(id_, kind, tuple(FieldDiff(f["field"], f["live"], f["local"])
                                        for f in fields), False, live_id)
        out[0 if kind in conflicts else 1].append(diff)
    return out
