"""One publish: gate, lock, live catalog, plan of every table, then the writes, table by table.

Nothing is written before every selected table is planned and every reason to stop is known
(a live column that cannot hold the values, a NOT NULL column publish does not fill, a table
without an id sequence): those stop the publish naming table and column, with nothing written.
Then each table, parents first, is written in batches (:mod:`generator.publish.write`) and its
record kept (:func:`generator.publish.write.record`). A dry run plans in a read-only session.
Nothing but the selected live V2 tables and their id sequences is written; no table is created
or altered there (the stage tables are session-local temp tables).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from generator import catalog, db
from generator.config import (
    PUBLISH_BATCH_ROWS,
    PUBLISH_CONFLICTS_SHOWN,
    PUBLISH_EXAMPLES,
    PUBLISH_LOCK_KEY,
    PUBLISH_WORK_MEM,
    V2_SCHEMA,
    V2_TABLES_FILE,
)
from generator.errors import PublishError
from generator.live import LiveTable, fit_problems, live_tables, record_live_state, resolve
from generator.publish import audit, identity, plan, state, write
from generator.publish.audit import TableOutcome
from generator.publish.plan import CONFLICT_KINDS, PlanOptions
from generator.spec import Spec, Table, load_spec
from generator.sync.audit import exclusive

COLLISIONS_KEPT = 1000
"""Held records and fresh-id inserts per table recorded in the audit with both natural keys
(all are counted)."""


@dataclass(frozen=True)
class PublishOptions:
    """What a publish is asked to do."""

    target_dsn: str
    """libpq URL of the live Xano database (credentials that may write the V2 tables)."""
    workspace: int
    """V2 workspace id: live tables are public.mvpw<workspace>_<V2 id> by default."""
    select: str | None = None
    """Comma-separated domains or V2 tables; None for all."""
    dry_run: bool = False
    """Plan and print; write nothing (the live session is read-only)."""
    overwrite: bool = False
    """Write V1's value over rows edited (or deleted) in V2 since the last publish."""
    prune: bool = False
    """Delete live rows this tool published whose V1 row is gone."""
    dedupe: bool = False
    """Delete extra live rows of a parent that hold the same content as the one kept."""
    force: bool = False
    """Publish even when the last sync failed or an error-level test failed."""
    atomic: bool = False
    """One live transaction for the whole publish (all or nothing; app writes to the rows it
    touches wait until the end) instead of one per batch."""
    batch_rows: int = PUBLISH_BATCH_ROWS
    """Rows per batch (per live transaction)."""
    full: bool = False
    """Plan every table, also those whose inputs are as a converged publish left them
    (:mod:`generator.publish.state`)."""


@dataclass
class PublishResult:
    """Outcome of a publish (or of a dry run)."""

    run_id: int | None
    """Audit run id (None for a dry run)."""
    target: str
    """host:port/db of the live database."""
    dry_run: bool
    """True when nothing was written."""
    tables: list[TableOutcome] = field(default_factory=list)
    """Per V2 table, parents first."""
    seconds: float = 0.0
    """Wall time of the publish."""


def selected_tables(spec: Spec, select: str | None) -> list[Table]:
    """V2 tables named by domains and/or table names (comma-separated), in spec order.

    >>> from generator.spec import Spec
    >>> t = Table("u", "1", "user", "user", "row", "", "", "", "U")
    >>> [x.name for x in selected_tables(Spec((t,), (), ()), "user")]
    ['u']
    """
    if not select:
        return list(spec.tables)
    wanted = [s.strip() for s in select.split(",") if s.strip()]
    out: set[str] = set()
    for name in wanted:
        hits = [t.name for t in spec.tables if name in (t.domain, t.name)]
        if not hits:
            raise PublishError(f"unknown --select {name!r}: use a domain "
                               f"({', '.join(sorted({t.domain for t in spec.tables}))}) "
                               "or a V2 table name")
        out.update(hits)
    return [t for t in spec.tables if t.name in out]


def target_label(dsn: str) -> str:
    """host:port/db of the target without any credential (validates the DSN)."""
    return db.label(db.parse_dsn(dsn, "--target-dsn", PublishError))


def connect_target(dsn: str, read_only: bool = False) -> psycopg.Connection:
    """Connect to the live database; errors are one line and never contain the password."""
    return db.connect_remote(dsn, "--target-dsn", PublishError, "publish", read_only)


def check_options(root: Path, options: PublishOptions) -> tuple[list[LiveTable], set[str]]:
    """The live tables a publish plans (the selected ones, their parents and the main tables
    their references name, parents first) and the names of those it writes; PublishError for
    a bad DSN or --select (before any server is touched)."""
    target_label(options.target_dsn)
    spec = load_spec(root)
    chosen = selected_tables(spec, options.select)
    unplaced = [t for t in chosen if not t.has_live]
    if unplaced:
        raise PublishError("; ".join(
            f"{V2_TABLES_FILE}:{t.row}: V2 table {t.name} has no v2_id and no live_relation: "
            "publish cannot place it (set one; mark an unconfirmed id v2_id_assumed=true)"
            for t in unplaced) + "; nothing was written")
    needed: set[str] = set()
    todo = [t.name for t in chosen]
    while todo:  # a child is matched through its parent's live rows, a reference through
        name = todo.pop()  # the identity of the record it names
        if name in needed:
            continue
        needed.add(name)
        t = spec.table(name)
        todo += [t.parent] if t.parent else []
        todo += [r.name for c in t.columns for r in spec.tables
                 if c.references == r.name and r.has_live]
    lts = live_tables(spec, options.workspace, [t for t in spec.tables if t.name in needed])
    return lts, {t.name for t in chosen}


def publish(local: db.Target, root: Path, options: PublishOptions) -> PublishResult:
    """One publish (or dry run). Raises PublishError; the message says what was written."""
    lts, writes = check_options(root, options)
    label = target_label(options.target_dsn)
    busy = lambda: PublishError("a sync, mirror or publish is running on the local mirror; "  # noqa: E731
                                "try again later")
    started = time.monotonic()
    with db.connect(local) as lock, exclusive(lock, busy), db.connect(local) as conn:
        conn.execute(sql.SQL("set work_mem = {}").format(sql.Literal(PUBLISH_WORK_MEM)))
        audit.ensure_audit(conn)
        missing = [lt.table.name for lt in lts
                   if not catalog.exists(conn, V2_SCHEMA, lt.table.name)]
        if missing:
            raise PublishError(f"local V2 table(s) missing: {', '.join(missing)}; run "
                               "`python -m generator sync` first")
        problem = None if options.force else audit.gate_problem(conn)
        if problem:
            raise PublishError(f"refusing to publish: {problem}; fix it and sync again, or "
                               "pass --force")
        result = PublishResult(None, label, options.dry_run)
        if not options.dry_run:
            result.run_id = audit.start_run(conn, label, options.workspace,
                                            options.select or "all", _flags(options))
        try:
            decisions = identity.load_decisions(root, {
                t.name for t in load_spec(root).tables if t.is_main and t.natural_key})
            with connect_target(options.target_dsn, read_only=options.dry_run) as tgt:
                _run(conn, tgt, lts, writes, options, result, decisions)
        except PublishError as exc:
            if result.run_id is not None:
                audit.finish_run(conn, result.run_id, "unverified" if exc.committed and
                                 "read-back" in str(exc) else "failed", str(exc)[:1000])
            raise
        except psycopg.Error as exc:
            secret = db.parse_dsn(options.target_dsn, "--target-dsn", PublishError).get(
                "password")
            msg = _failure(exc, secret, result)
            if result.run_id is not None:
                audit.finish_run(conn, result.run_id, "failed", msg[:1000])
            raise PublishError(msg) from None
        if result.run_id is not None:
            audit.finish_run(conn, result.run_id, "success", None)
        result.seconds = time.monotonic() - started
        return result


def _plan_flags(options: PublishOptions) -> str:
    """The options a plan depends on (a record made under others does not stand)."""
    return " ".join(k for k in ("overwrite", "prune", "dedupe") if getattr(options, k))


def _unchanged(conn: psycopg.Connection, out: TableOutcome, keep: state.Unchanged,
               i: int) -> None:
    """The outcome of a table left unplanned: the figures its converged publish left, its
    live rows now, the conflicts and held records that publish kept."""
    f = keep.figures[i]
    for name in state.FIGURE_FIELDS:
        setattr(out, name, f[name])
    out.live_before = keep.live_rows[i]
    out.unchanged_since = keep.skip[i]
    out.conflicts, out.collisions = audit.kept_reports(conn, keep.skip[i], out.name,
                                                       list(CONFLICT_KINDS.values()),
                                                       [identity.HELD])
    out.planned = {}


def _flags(options: PublishOptions) -> str:
    return " ".join(f"--{k.replace('_', '-')}" for k in
                    ("overwrite", "prune", "dedupe", "force", "atomic")
                    if getattr(options, k)) or "-"


def _failure(exc: psycopg.Error, secret: str | None, result: PublishResult) -> str:
    msg = db.scrub(db.first_line(exc), secret)
    written = sum(t.written for t in result.tables)
    tail = ("nothing was written" if not written else
            f"{written} row(s) were written before it (each batch whole; run publish again "
            "to finish)")
    if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
        return f"the target is read-only ({msg}); {tail}"
    return f"publish failed: {msg}; {tail}"


def _run(conn: psycopg.Connection, tgt: psycopg.Connection, lts: list[LiveTable],
         writes: set[str], options: PublishOptions, result: PublishResult,
         decisions: list[identity.Decision]) -> None:
    plan.session(conn)
    plan.session(tgt)
    dry = options.dry_run
    if not dry:
        if not tgt.execute("select pg_try_advisory_lock(%s)", (PUBLISH_LOCK_KEY,)).fetchone()[0]:
            raise PublishError("another publish is writing to this live database; "
                               "try again later; nothing was written")
        if not options.atomic:
            tgt.commit()
    problems = _preflight(tgt, lts, writes, dry, options.prune or options.dedupe)
    resolved = []
    for lt in lts:
        lt, found = resolve(tgt, lt, write=not dry and lt.table.name in writes,
                            delete=options.prune or options.dedupe)
        problems += found
        resolved.append(lt)
        if not found and lt.table.name in writes:
            problems += fit_problems(conn, lt)
    if problems:
        raise PublishError("nothing was written: " + "; ".join(problems))
    opts = PlanOptions(options.overwrite, options.prune, options.dedupe)
    index = {lt.table.name: i for i, lt in enumerate(resolved)}
    t0 = time.monotonic()
    keep = state.find_unchanged(conn, tgt, result.target, resolved, _plan_flags(options),
                                decisions, options.full)
    resolved, live_before, held = pair_all(conn, tgt, resolved, writes, decisions,
                                           real=not dry, skip=keep.skip)
    paired_s = time.monotonic() - t0
    outcomes = []
    for i, lt in enumerate(resolved):  # plan everything before the first write
        t0 = time.monotonic()
        out = TableOutcome(lt.table.name, lt.label, lt.layout, own_ids=lt.grain != "main")
        if i in keep.skip:  # as a converged publish left it: its figures stand
            _unchanged(conn, out, keep, i)
            if lt.grain == "main" and state.planned_child(resolved, i, keep.skip):
                plan.place_restored(conn, i)
            out.seconds = time.monotonic() - t0
            outcomes.append(out)
            continue
        out.live_before = (live_before[i] if i in live_before
                           else plan.load_live(conn, tgt, lt, i))
        parent = index.get(lt.table.parent) if lt.table.parent else None
        plan.classify(conn, lt, i, parent, parent, opts)
        plan.place(conn, i, lt.grain == "main",
                   "planned" if dry or lt.table.name in writes else "none")
        c = plan.counts(conn, i)
        _fill(out, c)
        if lt.grain == "main":
            out.identity = identity.figures(conn, i)
            out.collision_count = out.identity["fresh"]
            out.collisions = held.get(i, []) + identity.fresh_rows(conn, lt, i,
                                                                   COLLISIONS_KEPT)
        out.unresolved = identity.unresolved(conn, lt, i)
        if lt.table.name in writes and not dry:
            problems += write.problems(lt, c)
        out.seconds = time.monotonic() - t0 + (paired_s if lt.grain == "main" else 0)
        outcomes.append(out)
    if not dry and not options.atomic:
        tgt.commit()  # the plan's reads end here; each batch is its own transaction
    if problems:
        raise PublishError("nothing was written: " + "; ".join(problems))
    if not dry:  # who is who is remembered before the first write
        for i, lt in enumerate(resolved):
            if lt.grain == "main" and i not in keep.skip:
                identity.persist(conn, lt, i, result.run_id, lt.table.name in writes)
    unlanded: set[str] = set()
    converged: dict[int, tuple[int, int, set[int]]] = {}
    figures: dict[int, dict] = {}
    for i, (lt, out) in enumerate(zip(resolved, outcomes)):
        if lt.table.name not in writes:
            if i not in keep.skip and not any(out.planned.get(f"op:{op}") for op in
                                              ("insert", "update", "delete")):
                converged[i] = (out.live_before, 0, set())  # nothing to write
                figures[i] = state.after(out)
            continue
        result.tables.append(out)
        if i in keep.skip:
            out.live_after = out.live_before
            if not dry:
                audit.record_table(conn, result.run_id, out, "unchanged")
            continue
        if dry:
            _examples(conn, tgt, lt, i, out)
            record_live_state(conn, lt, out.live_before, out.live_only, "publish --dry-run",
                              0, _figures(out))
            continue
        t0 = time.monotonic()
        parent = index.get(lt.table.parent) if lt.table.parent else None
        if (parent is not None and outcomes[parent].planned.get("op:insert")) or any(
                c.references in unlanded for c in lt.references):
            # the parent's rows and the records named as they landed (inserts the app blocked;
            # a parent that inserted nothing is placed as it was planned: the plan stands)
            plan.classify(conn, lt, i, parent, parent, opts)
            _fill(out, plan.counts(conn, i))
        audit.ensure_rows_partition(conn, lt.table.name)
        write.remember_seen(conn, lt, i, result.run_id)
        landed = None  # each committed batch of a main table: its inserts are the records'
        if lt.grain == "main" and not options.atomic:  # (a kill -9 later cannot undo them)
            landed = lambda _n, lt=lt: identity.landed(conn, lt, result.run_id,  # noqa: E731
                                                       batch=True)
        done = write.write_table(conn, tgt, lt, i, options.atomic, options.batch_rows, landed)
        _written(conn, tgt, lt, i, out, done)
        if not options.atomic:
            tgt.commit()
        plan.place(conn, i, lt.grain == "main", "written")
        if lt.grain == "main":
            identity.landed(conn, lt, result.run_id)
            if identity.unplace_unlanded(conn, i):
                unlanded.add(lt.table.name)
        out.seconds += time.monotonic() - t0
        if not out.changed_live and not out.mismatched:
            converged[i] = (out.live_before, done["insert"] - done["delete"], done["xids"])
            figures[i] = state.after(out)
        write.record(conn, lt, i, result.run_id)
        audit.record_table(conn, result.run_id, out,
                           "verified" if out.verified in (True, None) else "mismatch")
        record_live_state(conn, lt, out.live_after or 0, out.live_only,
                          "publish", result.run_id, _figures(out))
    if not dry:
        if options.atomic:
            tgt.commit()
        tgt.execute("select pg_advisory_unlock(%s)", (PUBLISH_LOCK_KEY,))
        tgt.commit()
        if not unlanded:  # what the next publish may leave alone
            state.record(conn, tgt, result.target, result.run_id, resolved, converged,
                         set(keep.skip), _plan_flags(options), decisions, keep.h_live,
                         figures)
            tgt.commit()
        bad = [t.name for t in result.tables if t.verified is False]
        if bad:
            raise PublishError(f"publish run {result.run_id} committed, but the read-back check "
                               f"failed for {', '.join(bad)} (live rows stored unlike what was "
                               "sent: a trigger or a narrower column on the live side?)",
                               committed=True)


def pair_all(conn: psycopg.Connection, src: psycopg.Connection, lts: list[LiveTable],
             writes: set[str], decisions: list[identity.Decision], real: bool,
             skip: dict[int, int] | None = None
             ) -> tuple[list[LiveTable], dict[int, int], dict[int, list]]:
    """The identity phase: every main table's live rows loaded (``src`` reads them; the
    local connection itself for the copies of ``mirror``) and its map filled, in the order
    natural keys allow, before any table is planned; then every table reads its translated
    view. ``real``: fresh ids are drawn from the live sequences (which first move past every
    id to insert), else predicted. Returns the tables, their live counts (main tables) and
    the held records per table index. ``skip``: main tables left unplanned
    (:mod:`generator.publish.state`): their standing pairs are the map, and only the ids of
    their live rows are read, when a planned child needs them."""
    identity.ensure(conn)
    skip = skip or {}
    live_before = {i: plan.load_live(conn, None if src is conn else src, lt, i)
                   for i, lt in enumerate(lts) if lt.grain == "main" and i not in skip}
    identity.create_maps(conn, lts)
    lts = identity.create_views(conn, lts, writes)
    held = {}
    for i in identity.pairing_order(lts):
        lt = lts[i]
        if i in skip:
            identity.restore(conn, lt, i)
            if state.planned_child(lts, i, skip):
                plan.load_live_ids(conn, src, lt, i)
            continue
        mine = real and lt.table.name in writes
        held[i] = identity.pair(
            conn, src, lt, i, decisions,
            (lambda n, top, lt=lt: _draw(src, lt, n, top)) if mine else
            (lambda n, top, lt=lt: _predict(src, lt, n, top)),
            (lambda ids, lt=lt: _still_free(src, lt, ids)) if mine else None)
    return lts, live_before, held


def _draw(tgt: psycopg.Connection, lt: LiveTable, n: int, top: int) -> list[int]:
    """``n`` fresh ids of the live table's sequence, after moving it past ``top``."""
    if not lt.sequence:  # ids past every live and planned one (the app, too, must pick ids)
        return _predict(tgt, lt, n, top)
    write.advance_sequence(tgt, lt, top)
    return [r[0] for r in tgt.execute("select nextval(%s::regclass) from generate_series(1, %s)",
                                      (lt.sequence, n))] if n else []


def _predict(src: psycopg.Connection, lt: LiveTable, n: int, top: int) -> list[int]:
    """The ids a real publish would likely draw (a dry run, a copy): past ``top`` and the
    sequence's last value, nothing drawn."""
    last = 0
    if lt.sequence:
        last = src.execute(sql.SQL("select last_value from {}").format(
            sql.SQL(lt.sequence))).fetchone()[0]
    base = max(top, last)
    return list(range(base + 1, base + 1 + n))


def _still_free(tgt: psycopg.Connection, lt: LiveTable, ids: list[int]) -> list[int]:
    """Which of ``ids`` no live row holds now."""
    taken = {r[0] for r in tgt.execute(sql.SQL("select id::bigint from {} where id = any(%s)")
                                       .format(lt.ident), (ids,))}
    return [i for i in ids if i not in taken]


def _preflight(tgt: psycopg.Connection, lts: list[LiveTable], writes: set[str], dry: bool,
               delete: bool) -> list[str]:
    """Every reason not to start that the session shows: read-only, TEMP privilege."""
    if dry:
        return []
    problems = []
    if tgt.execute("show transaction_read_only").fetchone()[0] == "on":
        problems.append("the target session is read-only (default_transaction_read_only or a "
                        "standby)")
    if not tgt.execute("select has_database_privilege(current_database(), 'TEMP')"
                       ).fetchone()[0]:
        problems.append("the target role may not create temporary tables (TEMP privilege)")
    return problems


def _fill(out: TableOutcome, c: dict[str, int]) -> None:
    """The plan's figures into the outcome (before the writes)."""
    out.local = sum(c.get(a, 0) for a in ("same", "update", "conflict", "insert",
                                          "deleted_live", "held", "blocked"))
    out.unchanged = c.get("same", 0)
    out.matched = sum(c.get(a, 0) for a in plan.PAIRED)
    out.inserted = c.get("op:insert", 0)
    out.updated = c.get("op:update", 0)
    out.pruned = c.get("prune>delete", 0) + c.get("prune_edited>delete", 0)
    out.deduped = c.get("duplicate>delete", 0)
    out.prunable = c.get("prune", 0) + c.get("prune_edited", 0)
    out.duplicates = c.get("duplicate", 0)
    out.orphans = c.get("orphan", 0)
    out.blocked = c.get("blocked", 0)
    out.live_only = sum(c.get(a, 0) for a in plan.LIVE_SIDE)
    out.planned = c


def _figures(out: TableOutcome) -> dict[str, int]:
    """Identity figures after the publish (or as planned, for a dry run)."""
    c = out.planned
    return {"matched": out.matched + (out.inserted if out.live_after is not None else 0),
            "to_insert": c.get("insert", 0) - (out.inserted if out.live_after is not None
                                               else 0),
            "to_update": c.get("update", 0) - (out.updated if out.live_after is not None
                                               else 0),
            "duplicates": out.duplicates - out.deduped, "orphans": out.orphans,
            "collisions": out.collision_count, "blocked": out.blocked,
            "conflicts": len(out.conflicts) if out.live_after is not None else
            sum(c.get(a, 0) for a in CONFLICT_KINDS),
            **out.identity, "unresolved": sum(out.unresolved.values())}


def _examples(conn, tgt, lt: LiveTable, i: int, out: TableOutcome) -> None:
    """A dry run's example diffs and the conflicts it would keep."""
    rows = []
    for action in ("update", "insert"):
        rows += plan.ids_of(conn, i, [action], PUBLISH_EXAMPLES)
    out.examples = plan.row_diffs(conn, tgt, lt, rows, {"update": "update",
                                                        "insert": "insert"})
    out.conflicts = plan.row_diffs(conn, tgt, lt, plan.ids_of(conn, i, list(CONFLICT_KINDS)),
                                   CONFLICT_KINDS)


def _written(conn, tgt, lt: LiveTable, i: int, out: TableOutcome, done: dict[str, int]) -> None:
    """What the writes did, into the outcome: counts, conflicts kept, rows left to the app."""
    out.inserted, out.updated = done["insert"], done["update"]
    deleted = done["delete"]
    pruned_planned = conn.execute(sql.SQL(
        "select count(*) from {} where op = 'delete' and action <> 'duplicate'").format(
        sql.Identifier(f"pub_plan_{i}"))).fetchone()[0]
    out.pruned = min(deleted, pruned_planned)
    out.deduped = deleted - out.pruned
    out.changed_live = done["changed_live"]
    out.mismatched = done["mismatched"]
    out.verified = None if not out.written else out.mismatched == 0
    out.checksum = f"{done['batches']} batch(es), {done['retries']} retried"
    rows = plan.ids_of(conn, i, list(CONFLICT_KINDS))
    ops = dict(((k, live_id), op) for k, live_id, op in conn.execute(sql.SQL(
        "select k, live_id, op from {} where action = any(%s)").format(
        sql.Identifier(f"pub_plan_{i}")), (list(CONFLICT_KINDS),)))
    kept = [r for r in rows if ops.get((r[0], r[1])) == "none"]
    over = [r for r in rows if ops.get((r[0], r[1])) != "none"]
    out.conflicts = (plan.row_diffs(conn, tgt, lt, kept[:PUBLISH_CONFLICTS_SHOWN * 50],
                                    CONFLICT_KINDS)
                     + plan.row_diffs(conn, tgt, lt, over[:PUBLISH_CONFLICTS_SHOWN * 50],
                                      CONFLICT_KINDS, overwritten=True))
    if out.changed_live:
        left = conn.execute(sql.SQL("""
            select t.k, t.live_id, 'changed_live' from {todo} t
            where case when t.op = 'insert'
                then not exists (select 1 from {w} w where w.k = t.k and w.op = 'insert')
                else not exists (select 1 from {w} w where w.id = t.live_id and w.op = t.op) end
            order by coalesce(t.k, t.live_id) limit %s""").format(
            todo=sql.Identifier(f"pub_todo_{i}"), w=write.WRITTEN),
            (PUBLISH_CONFLICTS_SHOWN * 50,)).fetchall()
        out.conflicts += plan.row_diffs(conn, tgt, lt, left, {
            "changed_live": "changed in V2 during the publish"})
    out.conflicts.sort(key=lambda d: d.id)
    out.live_after = tgt.execute(sql.SQL("select count(*) from {}").format(lt.ident)
                                 ).fetchone()[0]
