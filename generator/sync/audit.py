"""The audit schema of the local mirror: run records, row hashes, and the one-at-a-time lock.

Shared by the sync and the mirror: both hold the same advisory lock on the local server, so
a mirror never swaps a V1 table under a running sync.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg

from generator import catalog
from generator.config import AUDIT_SCHEMA, LOCK_KEY

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
create table if not exists {AUDIT_SCHEMA}.v1_changes (
    v1_table text not null,
    id bigint not null,
    primary key (v1_table, id)
);
create table if not exists {AUDIT_SCHEMA}.model_state (
    digest text not null
);
create table if not exists {AUDIT_SCHEMA}.model_state_v1 (
    v1_table text primary key,
    digest text not null
);
create table if not exists {AUDIT_SCHEMA}.seed_state (
    digest text not null
);
create table if not exists {AUDIT_SCHEMA}.sync_run_problems (
    run_id bigint not null references {AUDIT_SCHEMA}.sync_runs (run_id),
    seq integer not null,
    v2_table text not null,
    test text not null,
    line text not null,
    primary key (run_id, seq)
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


@contextmanager
def exclusive(conn: psycopg.Connection, busy: Callable[[], Exception]) -> Iterator[None]:
    """Hold the local server's advisory lock for the block; ``busy()`` is raised when taken."""
    if not conn.execute("select pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
        raise busy()
    try:
        yield
    finally:
        if not conn.closed and not conn.broken:
            conn.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))


def lock_held(conn: psycopg.Connection) -> bool:
    """True while some session holds the lock (a sync or a mirror runs)."""
    return bool(conn.execute("select count(*) from pg_locks where locktype = 'advisory' "
                             "and objid = %s", (LOCK_KEY & 0xFFFFFFFF,)).fetchone()[0])


def running_since(conn: psycopg.Connection) -> str:
    """'<start> (pid N on host)' of the newest running sync, or '?'."""
    row = conn.execute(
        f"select started_at, pid, host from {AUDIT_SCHEMA}.sync_runs "
        "where status = 'running' order by run_id desc limit 1").fetchone()
    return f"{row[0]:%Y-%m-%d %H:%M:%S %Z} (pid {row[1]} on {row[2]})" if row else "?"


# -- run records ------------------------------------------------------------------------------
@dataclass
class TableState:
    """Per-V2-table figures of a run."""

    name: str
    """V2 table."""
    v1: int | None = None
    """Rows V1 implies (V1 rows, or summed array elements)."""
    before: int | None = None
    """V2 rows before the run."""
    after: int | None = None
    """V2 rows after the run."""
    rows_affected: int | None = None
    """Rows dbt reported written (inserts + updates)."""
    status: str = "pending"
    """pending, running, success, error, skipped, unchanged."""
    message: str = ""
    """dbt's message, or why the table was not built."""
    duration: float = 0.0
    """Seconds the model took."""
    tests: dict = field(default_factory=lambda: {"pass": 0, "warn": 0, "fail": 0})
    """Test outcomes attributed to this table."""

    @property
    def inserted(self) -> int | None:
        """Rows added (after - before)."""
        if self.after is None or self.before is None:
            return None
        return self.after - self.before

    @property
    def updated(self) -> int | None:
        """Rows written that were not inserts."""
        if self.rows_affected is None:
            return None
        return self.rows_affected - max(self.inserted or 0, 0)

    @property
    def unchanged(self) -> int | None:
        """Rows neither inserted nor updated."""
        if self.after is None or self.updated is None:
            return None
        return max(self.after - max(self.inserted or 0, 0) - max(self.updated, 0), 0)


def start_run(conn: psycopg.Connection, selector: str) -> int:
    """Record a new running sync; older 'running' rows were killed (the lock proves it)."""
    conn.execute(f"update {AUDIT_SCHEMA}.sync_runs set status = 'interrupted', "
                 "ended_at = coalesce(ended_at, now()), reason = 'process ended "
                 "without finishing (killed or server restarted)' "
                 "where status = 'running'")
    return conn.execute(
        f"insert into {AUDIT_SCHEMA}.sync_runs (selector, who, host, pid) "
        "values (%s, %s, %s, %s) returning run_id",
        (selector, getpass.getuser(), socket.gethostname(), os.getpid()),
    ).fetchone()[0]


def finish_run(conn: psycopg.Connection, run_id: int, failure: str | None) -> None:
    """Mark a run success, or failed with its reason."""
    conn.execute(f"update {AUDIT_SCHEMA}.sync_runs set ended_at = now(), status = %s, "
                 "reason = %s where run_id = %s",
                 ("failed" if failure else "success", failure or None, run_id))


def record_table(conn: psycopg.Connection, run_id: int, s: TableState,
                 rejected: int | None) -> None:
    """Insert or refresh the run's row for one V2 table."""
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
        (run_id, s.name, s.v1, s.before, s.after, s.inserted, s.updated, s.unchanged, rejected,
         s.tests["pass"], s.tests["warn"], s.tests["fail"], s.status, s.message[:500],
         round(s.duration, 3)))


def record_problems(conn: psycopg.Connection, run_id: int,
                    problems: list[tuple[str, str, str]]) -> None:
    """The explained failures of a run: (V2 table or '', test, line)."""
    for seq, (table, test, line) in enumerate(problems, start=1):
        conn.execute(f"insert into {AUDIT_SCHEMA}.sync_run_problems (run_id, seq, v2_table, "
                     "test, line) values (%s, %s, %s, %s, %s)", (run_id, seq, table, test, line))


def last_problems(conn: psycopg.Connection) -> list[dict]:
    """The explained failures of the newest finished run, if it failed (else [])."""
    if not catalog.exists(conn, AUDIT_SCHEMA, "sync_run_problems"):
        return []
    rows = conn.execute(
        f"select p.run_id, p.v2_table, p.test, p.line from {AUDIT_SCHEMA}.sync_run_problems p "
        f"where p.run_id = (select max(run_id) from {AUDIT_SCHEMA}.sync_runs "
        "where status in ('success', 'failed')) order by p.seq").fetchall()
    return [{"run_id": r[0], "v2_table": r[1], "test": r[2], "line": r[3]} for r in rows]


def last_counts(conn: psycopg.Connection) -> dict[str, tuple[int | None, int]]:
    """V2 table -> (V1-implied count, V2 count) recorded by the newest successful run."""
    rows = conn.execute(
        f"select distinct on (t.v2_table) t.v2_table, t.v1_count, t.v2_after "
        f"from {AUDIT_SCHEMA}.sync_run_tables t join {AUDIT_SCHEMA}.sync_runs r using (run_id) "
        "where r.status = 'success' and t.v2_after is not null "
        "order by t.v2_table, t.run_id desc").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}
