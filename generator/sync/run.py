"""One audited sync: lock, preflight, change detection, dbt build, prune, snapshot, record."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg

from generator import catalog, db
from generator.config import AUDIT_SCHEMA, SPEC_SCHEMA, V2_SCHEMA
from generator.errors import BuildFailed, SyncError
from generator.spec import Spec, Table, load_spec
from generator.status import expected_counts, rejects_by_table
from generator.sync import audit, changes, runner
from generator.sync.audit import TableState
from generator.sync.preflight import preflight


@dataclass(frozen=True)
class SyncOptions:
    """What a sync is asked to do."""

    select: str | None = None
    """A domain, or a V2 table (then every V2 table of its V1 table); None for all."""
    full: bool = False
    """Re-check every V1 row, not only those changed since the last sync."""
    prune: bool = False
    """Delete V2 rows whose V1 row was deleted."""


def selected_tables(spec: Spec, select: str | None) -> list[Table]:
    """V2 tables a selector touches: a domain, or the V1 table behind a V2 table; None: all.

    A leading or trailing ``+`` (dbt's graph operators) is accepted and changes nothing: a
    V1 table's V2 tables share one change detection, so they are always synced together.
    """
    if not select:
        return list(spec.tables)
    name = select.strip("+")
    doms = [t for t in spec.tables if t.domain == name]
    if doms:
        return doms
    tabs = [t for t in spec.tables if t.name == name]
    if tabs:
        return spec.for_v1(tabs[0].v1_table)
    raise SyncError(f"unknown selector {select!r}: use a domain "
                    f"({', '.join(sorted({t.domain for t in spec.tables}))}) or a V2 table name")


def dbt_selector_for(tables: list[Table] | None, full: bool = True) -> list[str]:
    """dbt --select for these V2 tables plus the audit models of their V1 tables.

    A changed-only sync leaves out the accounting models (whole-table passes): it verifies
    the rows it wrote through the reconciliation tests; full syncs and plain `dbt build`
    check the accounting identity over everything.
    """
    if tables is None:
        return [] if full else ["--exclude", "xano_accounting__*"]
    audit_models = ["xano_rejects"]
    if full:
        audit_models += [f"xano_accounting__{v1}"
                         for v1 in dict.fromkeys(t.v1_table for t in tables)]
    return ["--select", " ".join([t.name for t in tables] + audit_models)]


def run_sync(target: db.Target, root: Path, options: SyncOptions = SyncOptions(),
             on_event: runner.OnEvent | None = None) -> tuple[int, list[TableState]]:
    """One audited sync. Returns (run_id, per-table states); raises SyncError on failure."""
    spec = load_spec(root)
    tables = selected_tables(spec, options.select)
    with db.connect(target) as lock_conn, db.connect(target) as conn:
        audit.ensure_audit(conn)
        busy = lambda: SyncError(f"sync already running since {audit.running_since(conn)}")  # noqa: E731
        with audit.exclusive(lock_conn, busy):
            run_id = audit.start_run(conn, options.select or "all")
            try:
                preflight(conn, root, spec)
            except SyncError as exc:
                audit.finish_run(conn, run_id, f"preflight: {exc}")
                raise
            states = {t.name: TableState(t.name) for t in tables}
            exp = expected_counts(conn, spec)
            for s in states.values():
                s.v1 = exp.get(s.name)
                s.before = catalog.count(conn, V2_SCHEMA, s.name) or 0
            failure = ""
            try:
                _sync(target, root, spec, tables, options, conn, run_id, states, on_event)
            except Exception as exc:  # recorded, then re-raised as one line
                failure = (exc.reason if isinstance(exc, BuildFailed) else
                           f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}")
            rejected = rejects_by_table(conn)
            for s in states.values():
                s.after = catalog.count(conn, V2_SCHEMA, s.name)
                audit.record_table(conn, run_id, s, rejected.get(s.name, 0))
            audit.finish_run(conn, run_id, failure)
            if failure:
                raise SyncError(f"sync run {run_id} failed: {failure}")
            return run_id, list(states.values())


def _sync(target: db.Target, root: Path, spec: Spec, tables: list[Table], options: SyncOptions,
          conn: psycopg.Connection, run_id: int, states: dict[str, TableState],
          on_event: runner.OnEvent | None) -> None:
    v1_tables = [spec.v1(n) for n in dict.fromkeys(t.v1_table for t in tables)]
    digest = changes.models_digest(root)
    stored = conn.execute(f"select digest from {AUDIT_SCHEMA}.model_state").fetchone()
    full = options.full or not stored or stored[0] != digest  # new models: check every row
    build_tables: list[Table] | None = None if options.select is None else tables
    if not full:
        found = changes.detect_changes(conn, v1_tables)
        # only V1 tables with changes are built and tested: the others keep the state (and
        # the passed tests) of their last sync; --full re-checks all
        active = {t.name for t in v1_tables if found.get(t.name)}
        build_tables = [t for t in tables if t.v1_table in active]
        for s in states.values():
            if spec.table(s.name).v1_table not in active:
                s.status, s.message, s.rows_affected = "unchanged", "no V1 changes", 0
    if build_tables is None or build_tables:
        _seed_if_changed(target, root, conn, full)
        args = dbt_selector_for(build_tables, full)
        if not full:
            # models read only the V1 rows detect_changes() listed; --full re-checks every row
            args += ["--vars", "{xano_changed_only: true}"]
        runner.build(target, root, args, runner.DbtMonitor(conn, run_id, states, on_event))
    if options.prune:
        changes.prune(conn, spec, v1_tables)
    changes.remember_hashes(conn, v1_tables, full)
    changes.remember_ids(conn, v1_tables)
    if options.select is None:  # a full-scope run confirms the models' digest
        _store_digest(conn, "model_state", digest)


def _seed_if_changed(target: db.Target, root: Path, conn: psycopg.Connection,
                     full: bool) -> None:
    digest = changes.seeds_digest(root)
    stored = conn.execute(f"select digest from {AUDIT_SCHEMA}.seed_state").fetchone()
    if (full or not stored or stored[0] != digest
            or not catalog.exists(conn, SPEC_SCHEMA, "xano_v2_columns")):
        runner.seed(target, root)
        _store_digest(conn, "seed_state", digest)


def _store_digest(conn: psycopg.Connection, table: str, digest: str) -> None:
    with conn.transaction():
        conn.execute(f"delete from {AUDIT_SCHEMA}.{table}")
        conn.execute(f"insert into {AUDIT_SCHEMA}.{table} values (%s)", (digest,))
