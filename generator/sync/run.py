"""One audited sync: lock, preflight, change detection, dbt build, prune, snapshot, record."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from generator import catalog, db
from generator.config import AUDIT_SCHEMA, SPEC_SCHEMA, STAGE_SCHEMA, V2_SCHEMA
from generator.errors import BuildFailed, SyncError
from generator.spec import Spec, Table, load_spec
from generator.sql import stage
from generator.status import expected_counts, rejects_by_table
from generator.sync import audit, changes, runner, shape
from generator.sync.audit import TableState
from generator.sync.explain import Problem, explain
from generator.sync.preflight import new_keys, preflight


@dataclass(frozen=True)
class SyncOptions:
    """What a sync is asked to do."""

    select: str | None = None
    """A domain, or a V2 table (then every V2 table of its V1 table); None for all."""
    full: bool = False
    """Re-check every V1 row, not only those changed since the last sync."""
    prune: bool = False
    """Delete V2 rows whose V1 row was deleted (before the tests those rows would fail)."""
    drop_removed: bool = False
    """Drop V2 columns the spec no longer has (their values are kept in the audit)."""


@dataclass
class SyncResult:
    """What a finished sync did."""

    run_id: int
    states: list[TableState]
    notes: list[str] = field(default_factory=list)
    """Shape changes applied, V1 deletions kept, ... one line each."""


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

    The typed stages of the V1 tables come first (every model of a V1 table reads them).
    A changed-only sync leaves out the accounting models (whole-table passes): it verifies
    the rows it wrote through the reconciliation tests; full syncs and plain `dbt build`
    check the accounting identity over everything.
    """
    if tables is None:  # the seeds are loaded by runner.seed, never by dbt
        return ["--exclude", "resource_type:seed" if full else
                "resource_type:seed xano_accounting__*"]
    v1_names = list(dict.fromkeys(t.v1_table for t in tables))
    stages = [stage.stage_of(t) for t in tables]
    audit_models = list(dict.fromkeys(stages)) + [f"xano_rejects__{v1}" for v1 in v1_names] + [
        "xano_rejects"]
    if full:
        audit_models += [f"xano_accounting__{v1}" for v1 in v1_names]
    return ["--select", " ".join([t.name for t in tables] + audit_models)]


def run_sync(target: db.Target, root: Path, options: SyncOptions = SyncOptions(),
             on_event: runner.OnEvent | None = None) -> SyncResult:
    """One audited sync; raises SyncError on failure (with one explained line per problem)."""
    spec = load_spec(root)
    tables = selected_tables(spec, options.select)
    runner.preload()
    with db.connect(target) as lock_conn, db.connect(target) as conn:
        audit.ensure_audit(conn)
        busy = lambda: SyncError(f"sync already running since {audit.running_since(conn)}")
        with audit.exclusive(lock_conn, busy):
            run_id = audit.start_run(conn, options.select or "all")
            try:
                preflight(conn, root, spec)
            except SyncError as exc:
                audit.finish_run(conn, run_id, f"preflight: {exc}")
                raise
            states = {t.name: TableState(t.name) for t in tables}
            result = SyncResult(run_id, list(states.values()))
            failure, problems, refused = "", [], None
            try:
                _sync(target, root, spec, tables, options, conn, result, states, on_event)
            except BuildFailed as exc:
                failure = exc.reason
                if exc.report is not None:
                    problems = explain(conn, spec, exc.report.outcomes, exc.report.skipped)
                    problems += [Problem(m, "error", f"{m}: {msg}")
                                 for m, msg in exc.report.errored]
            except SyncError as exc:  # a check before any write refused: its own words
                failure, refused = str(exc), exc
            except Exception as exc:  # recorded, then re-raised as one line
                failure = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"
            rejected = rejects_by_table(conn)
            for s in states.values():
                if s.status != "unchanged" or s.before is None:  # unchanged: nothing written
                    s.after = catalog.count(conn, V2_SCHEMA, s.name)
                else:
                    s.after = s.before
                audit.record_table(conn, run_id, s, rejected.get(s.name, 0))
            audit.record_problems(conn, run_id, [(p.v2_table, p.test, p.line) for p in problems])
            audit.finish_run(conn, run_id, failure)
            if refused is not None:
                raise refused
            if failure:
                lines = "".join(f"\n  {p.line}" for p in problems)
                raise SyncError(f"sync run {run_id} failed: {failure}{lines}")
            return result


def _sync(target: db.Target, root: Path, spec: Spec, tables: list[Table], options: SyncOptions,
          conn: psycopg.Connection, result: SyncResult, states: dict[str, TableState],
          on_event: runner.OnEvent | None) -> None:
    v1_tables = [spec.v1(n) for n in dict.fromkeys(t.v1_table for t in tables)]
    # the built V2 will take the spec's shape first: the models compare with these columns
    layout = shape.plan(conn, spec, shape.read_contracts(root), options.drop_removed)
    # V1 tables whose models changed (or got a new shape) are read in full: every row is
    # checked again, unchanged rows are not written; the others read only their changed rows
    glob, digests = changes.global_digest(root), changes.v1_digests(root, spec)
    stored = dict(conn.execute(f"select v1_table, digest from {AUDIT_SCHEMA}.model_state_v1"
                               ).fetchall())
    stored_glob = conn.execute(f"select digest from {AUDIT_SCHEMA}.model_state").fetchone()
    reshaped = {spec.table(t).v1_table for t in layout.tables}
    full = {t.name for t in v1_tables
            if options.full or not stored_glob or stored_glob[0] != glob
            or stored.get(t.name) != digests.get(t.name) or t.name in reshaped}
    found = changes.detect_changes(conn, v1_tables, full)
    full |= {n for n, d in found.items() if d.mode == "all"}  # a new relation: every row
    new_keys(conn, root, spec, found)
    shape.apply(conn, layout, result.run_id)  # every check passed: now V2 may change
    result.notes += [c.describe() for c in layout.changes]
    active = {n for n, d in found.items() if d.active}
    _count(conn, spec, states, active)
    for s in states.values():
        if spec.table(s.name).v1_table not in active:
            s.status, s.message, s.rows_affected = "unchanged", "no V1 changes", 0
    if options.prune:  # before the build: the tests must not see rows V1 no longer has
        result.notes += changes.prune(conn, spec, v1_tables)
    build_tables = [t for t in tables if t.v1_table in active]
    if build_tables:
        _seed_if_changed(target, root, conn, bool(full))
        every = len(full) == len(v1_tables) and options.select is None
        scope = {"XANO_DBT_CHANGED_ONLY": "", "XANO_DBT_FULL_V1": ""}
        if every:
            args = dbt_selector_for(None, full=True)
        else:
            # changed-only: models read only the rows detect_changes() listed, except for the
            # V1 tables read in full; accounting runs for those (whole-table passes)
            args = dbt_selector_for(build_tables, full=False)
            args[-1] += "".join(f" xano_accounting__{v}" for v in sorted(full))
            scope = {"XANO_DBT_CHANGED_ONLY": "1", "XANO_DBT_FULL_V1": ",".join(sorted(full))}
        # the same vars on every sync: they are part of dbt's parse state (the changed-only
        # scope goes through the environment, see macro xano_reads_changed); failing rows are
        # stored by runner.keep_failing_rows
        args += ["--vars", json.dumps({"xano_store_failures": False})]
        try:
            runner.build(target, root, args,
                         runner.DbtMonitor(conn, result.run_id, states, on_event), env=scope)
        finally:
            _derived_counts(conn, spec, states)
    shape.finish(conn, layout)
    changes.remember(conn, found)
    if not options.prune:
        for d in (d for d in found.values() if d.active):
            # rows mode counted them before the build; a table read in full counts now
            gone = d.deleted if d.mode == "rows" else changes.deleted_in_v1(conn, d.table)
            if gone:
                result.notes.append(f"{spec.main_table(d.table.name).name}: {gone:,} V2 row(s) "
                                    "whose V1 row was deleted are kept; sync --prune removes "
                                    "them")
    with conn.transaction():  # the models these V1 tables were checked with
        for v1 in v1_tables:
            conn.execute(f"insert into {AUDIT_SCHEMA}.model_state_v1 values (%s, %s) on "
                         "conflict (v1_table) do update set digest = excluded.digest",
                         (v1.name, digests[v1.name]))
        if options.select is None:
            _store_digest(conn, "model_state", glob)


def _count(conn: psycopg.Connection, spec: Spec, states: dict[str, TableState],
           active: set[str]) -> None:
    """V1-implied and V2 counts before the build: measured for the tables this run touches,
    the last run's figures for the others (their V1 and V2 have not changed since)."""
    last = audit.last_counts(conn)
    measure = {n for n in states if spec.table(n).v1_table in active or n not in last}
    # an array or closure table's V1-implied count reads every V1 row (array lengths, the
    # walk): it is taken from the typed stage after the build instead (_derived_counts)
    exp = expected_counts(conn, spec, only={n for n in measure if spec.table(n).grain == "row"})
    for s in states.values():
        if s.name in measure:
            s.v1, s.before = exp.get(s.name), catalog.count(conn, V2_SCHEMA, s.name) or 0
        else:
            s.v1, s.before = last[s.name]


def _derived_counts(conn: psycopg.Connection, spec: Spec,
                    states: dict[str, TableState]) -> None:
    """After the build: the V1-implied count of each array table written this run is its
    element stage's rows (one per element of V1's arrays, as built from V1 this run), that of a
    closure table its pairs (the closure of V1's links; its reconciliation test checks them)."""
    for s in states.values():
        t = spec.table(s.name)
        if s.status == "unchanged" or t.grain == "row":
            continue
        schema, name = ((STAGE_SCHEMA, stage.element_stage_name(t)) if t.grain == "array"
                        else (V2_SCHEMA, t.name))
        s.v1 = catalog.count(conn, schema, name)


def _seed_if_changed(target: db.Target, root: Path, conn: psycopg.Connection,
                     full: bool) -> None:
    digest = changes.seeds_digest(root)
    stored = conn.execute(f"select digest from {AUDIT_SCHEMA}.seed_state").fetchone()
    if (full or not stored or stored[0] != digest
            or not catalog.exists(conn, SPEC_SCHEMA, "xano_v2_columns")):
        runner.seed(conn, root)
        _store_digest(conn, "seed_state", digest)


def _store_digest(conn: psycopg.Connection, table: str, digest: str) -> None:
    with conn.transaction():
        conn.execute(f"delete from {AUDIT_SCHEMA}.{table}")
        conn.execute(f"insert into {AUDIT_SCHEMA}.{table} values (%s)", (digest,))
