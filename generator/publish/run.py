"""One publish: gate, lock, layout check, plan, writes, sequences, commit, read-back, record.

The whole write happens in one repeatable-read transaction on the live database under a
transaction-level advisory lock: a killed or failed publish leaves the live V2 as it was (a
row edited concurrently makes the transaction fail instead of being overwritten). Rows to
insert are copied straight into the live table; rows to update go through a temp table
(session-local on the live server, dropped at commit). Nothing but the selected live V2 tables
and their id sequences is written; no table is created or altered there.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from generator import catalog, db
from generator import live as livemod
from generator.config import (
    PUBLISH_EXAMPLES,
    PUBLISH_ID_CHUNK,
    PUBLISH_LOCK_KEY,
    PUBLISH_WORK_MEM,
    V2_SCHEMA,
    V2_TABLES_FILE,
)
from generator.errors import PublishError
from generator.live import HOLDS, LiveTable, live_tables
from generator.publish import audit, plan
from generator.publish.audit import TableOutcome
from generator.publish.check import StreamDigest, row_digest
from generator.spec import Spec, Table, load_spec
from generator.sync.audit import exclusive

RECORD_ANALYZE_ROWS = 10_000
"""Rows added to ``published_rows`` by one publish above which it is analyzed."""
_WRITTEN = sql.Identifier("xano_publish_written")
"""Temp table on the live server: (table index, id, op) of every row written."""


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
    """Plan and print; write nothing (the live transaction is read-only)."""
    overwrite: bool = False
    """Write V1's value over rows edited (or deleted) in V2 since the last publish."""
    prune: bool = False
    """Delete live rows this tool published whose V1 row is gone."""
    force: bool = False
    """Publish even when the last sync failed or an error-level test failed."""


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
    """Per V2 table, in spec order."""


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


def connect_target(dsn: str) -> psycopg.Connection:
    """Connect to the live database; errors are one line and never contain the password."""
    params = db.parse_dsn(dsn, "--target-dsn", PublishError)
    params.setdefault("connect_timeout", 10)
    params.setdefault("application_name", "xano-v2-sync publish")
    try:
        return psycopg.connect(**params, autocommit=False)
    except psycopg.OperationalError as exc:
        msg = db.scrub(db.first_line(exc), params.get("password"))
        raise PublishError(f"cannot connect to target {db.label(params)}: {msg}; "
                           "nothing was written") from None


def check_options(root: Path, options: PublishOptions) -> list[LiveTable]:
    """The live tables a publish would write; PublishError for a bad DSN or --select (before
    any server is touched)."""
    target_label(options.target_dsn)
    spec = load_spec(root)
    chosen = selected_tables(spec, options.select)
    unplaced = [t for t in chosen if not t.has_live]
    if unplaced:
        raise PublishError("; ".join(
            f"{V2_TABLES_FILE}:{t.row}: V2 table {t.name} has no v2_id and no live_relation: "
            "publish cannot place it (set one; mark an unconfirmed id v2_id_assumed=true)"
            for t in unplaced) + "; nothing was written")
    return live_tables(spec, options.workspace, chosen)


def publish(local: db.Target, root: Path, options: PublishOptions) -> PublishResult:
    """One publish (or dry run). Raises PublishError; the live V2 is unchanged unless the
    error says the commit happened."""
    lts = check_options(root, options)
    label = target_label(options.target_dsn)
    secret = db.parse_dsn(options.target_dsn, "--target-dsn", PublishError).get("password")
    busy = lambda: PublishError("a sync, mirror or publish is running on the local mirror; "  # noqa: E731
                                "try again later")
    with db.connect(local) as lock, exclusive(lock, busy), db.connect(local) as conn:
        conn.execute(sql.SQL("set work_mem = {}").format(sql.Literal(PUBLISH_WORK_MEM)))
        # the few rows a small change touches are joined through the primary keys
        conn.execute("set random_page_cost = 1.1")
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
            with connect_target(options.target_dsn) as tgt:
                _run(conn, tgt, lts, options, result, secret)
        except PublishError as exc:
            if result.run_id is not None:
                status = "unverified" if exc.committed else "failed"
                audit.finish_run(conn, result.run_id, status, str(exc)[:1000])
            raise
        if result.run_id is not None:
            audit.finish_run(conn, result.run_id, "success", None)
        return result


def _flags(options: PublishOptions) -> str:
    return " ".join(f"--{k.replace('_', '-')}" for k in ("overwrite", "prune", "force")
                    if getattr(options, k)) or "-"


def _run(conn: psycopg.Connection, tgt: psycopg.Connection, lts: list[LiveTable],
         options: PublishOptions, result: PublishResult, secret: str | None) -> None:
    try:
        sent = _write_all(conn, tgt, lts, options, result)
    except psycopg.Error as exc:
        if not tgt.broken:
            tgt.rollback()
        raise PublishError(_failure(exc, secret)) from None
    if options.dry_run:
        return
    try:
        tgt.commit()
    except psycopg.Error as exc:
        raise PublishError("the connection failed while committing; the publish may or may "
                           "not have been applied; run publish again (it writes only what "
                           f"differs): {db.scrub(db.first_line(exc), secret)}",
                           committed=True) from None
    problems, added = [], 0
    for i, (lt, out) in enumerate(zip(lts, result.tables)):
        t0 = time.monotonic()
        try:
            _verify(conn, tgt, lt, i, out, sent.get(i, {}))
        except psycopg.Error as exc:
            raise PublishError(f"publish run {result.run_id} committed, but reading back "
                               f"{lt.label} failed: {db.scrub(db.first_line(exc), secret)}",
                               committed=True) from None
        out.seconds += time.monotonic() - t0
        added += _record(conn, lt, i, out, result.run_id)
        if out.verified is False:
            problems.append(lt.table.name)
    tgt.rollback()
    if added > RECORD_ANALYZE_ROWS:  # the next publish plans its joins with fresh statistics
        conn.execute(sql.SQL("analyze {}").format(audit.ROWS))
    if problems:
        raise PublishError(f"publish run {result.run_id} committed, but the read-back check "
                           f"failed for {', '.join(problems)} (live rows differ from the local "
                           "V2; was the live V2 edited right after the commit?)",
                           committed=True)


def _failure(exc: psycopg.Error, secret: str | None) -> str:
    msg = db.scrub(db.first_line(exc), secret)
    if isinstance(exc, psycopg.errors.SerializationFailure):
        return ("the live V2 changed while publishing (a concurrent edit); nothing was "
                "written; run publish again")
    if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
        return f"the target is read-only ({msg}); nothing was written"
    return f"publish failed, nothing was written: {msg}"


def _write_all(conn: psycopg.Connection, tgt: psycopg.Connection, lts: list[LiveTable],
               options: PublishOptions, result: PublishResult
               ) -> dict[int, dict[str, tuple[int, int]]]:
    """Everything inside the one live transaction: check, plan, write, sequences. Returns per
    table the (rows, checksum) of the row streams sent (``insert``, ``update``)."""
    mode = "read only" if options.dry_run else "read write"
    tgt.execute(f"set transaction isolation level repeatable read, {mode}")
    if not options.dry_run:
        if not tgt.execute("select pg_try_advisory_xact_lock(%s)",
                           (PUBLISH_LOCK_KEY,)).fetchone()[0]:
            raise PublishError("another publish is writing to this live database; "
                               "try again later")
    problems = _preflight(tgt, lts, options)
    if problems:
        raise PublishError("nothing was written: " + "; ".join(problems))
    sent: dict[int, dict[str, tuple[int, int]]] = {}
    for i, lt in enumerate(lts):
        t0 = time.monotonic()
        out = TableOutcome(lt.table.name, lt.label, lt.layout)
        out.live_before = _plan_table(conn, tgt, lt, options)
        plan.resolve(conn, tgt, lt, options.overwrite)
        c = plan.counts(conn, lt)
        out.local, out.unchanged = c["local"], c.get("same", 0)
        out.inserted, out.updated = c.get("op:insert", 0), c.get("op:update", 0)
        out.pruned = c.get("op:delete", 0)
        out.prunable = c.get("prune", 0) + c.get("prune_edited", 0)
        # live rows after the publish that the local V2 does not have: recorded ones are not
        # in the plan, so count them as live rows minus local rows that are (or will be) live
        unplaced = c.get("insert", 0) + c.get("deleted_live", 0) - out.inserted
        out.live_only = (out.live_before + out.inserted - out.pruned) - (c["local"] - unplaced)
        for action, kind in plan.CONFLICT_KINDS.items():
            ids = plan.ids_of(conn, [action])
            if ids:
                op = conn.execute("select op from pub_plan where id = %s", (ids[0],)
                                  ).fetchone()[0]
                out.conflicts += plan.row_diffs(conn, tgt, lt, ids, dict.fromkeys(ids, kind),
                                                overwritten=op != "none")
        out.conflicts.sort(key=lambda d: d.id)
        if options.dry_run:
            kinds = {rid: action for action in ("update", "insert")
                     for rid in plan.ids_of(conn, [action], PUBLISH_EXAMPLES)}
            out.examples = plan.row_diffs(conn, tgt, lt, list(kinds), kinds)
        else:
            sent[i] = _upsert(conn, tgt, lt, i, out)
        conn.execute(sql.SQL("drop table if exists {}").format(_plan(i)))
        conn.execute(sql.SQL("alter table pub_plan rename to {}").format(_plan(i)))
        out.seconds = time.monotonic() - t0
        result.tables.append(out)
    if options.dry_run:
        tgt.rollback()
        return sent
    if any(t.written and t.live_before for t in result.tables):
        tgt.execute(sql.SQL("analyze {}").format(_WRITTEN))
    for i in reversed(range(len(lts))):
        if result.tables[i].pruned:
            _prune(tgt, lts[i], i, result.tables[i])
    for i, lt in enumerate(lts):
        if result.tables[i].inserted or result.tables[i].updated:
            _advance_sequence(conn, tgt, lt, i)
    return sent


def _plan_table(conn: psycopg.Connection, tgt: psycopg.Connection, lt: LiveTable,
                options: PublishOptions) -> int:
    """Classify the rows of one table into ``pub_plan``; returns the live row count.

    The live server sums its row hashes per bucket while the local server classifies as if
    the live table were as the last publish left it; buckets that differ are then read row by
    row and classified again. Without a record every live row is read.
    """
    audit.ensure_rows_partition(conn, lt.table.name)
    recorded = plan.has_record(conn, lt)
    with ThreadPoolExecutor(max_workers=1) as pool:
        buckets = pool.submit(plan.live_buckets, tgt, lt)
        if recorded:
            plan.classify(conn, lt, options.overwrite, options.prune, "record")
        live = buckets.result()
    dirty = plan.dirty_buckets(conn, lt, live)
    if not recorded:
        if dirty:
            plan.load_live(conn, tgt, lt, dirty)
        plan.classify(conn, lt, options.overwrite, options.prune,
                      "pub_live" if dirty else "record")
    elif dirty:
        plan.load_live(conn, tgt, lt, dirty)
        plan.classify(conn, lt, options.overwrite, options.prune, "buckets")
    return sum(n for n, _ in live.values())


def _plan(i: int) -> sql.Identifier:
    return sql.Identifier(f"pub_plan_{i}")


def _preflight(tgt: psycopg.Connection, lts: list[LiveTable], options: PublishOptions
               ) -> list[str]:
    """Every reason not to start, read from the catalog: layout, privileges, read-only."""
    write = not options.dry_run
    problems = []
    if write and tgt.execute("show transaction_read_only").fetchone()[0] == "on":
        problems.append("the target session is read-only (default_transaction_read_only or a "
                        "standby)")
    if write and not tgt.execute("select has_database_privilege(current_database(), 'TEMP')"
                                 ).fetchone()[0]:
        problems.append("the target role may not create temporary tables (TEMP privilege)")
    for lt in lts:
        found = livemod.layout_problems(tgt, lt, write=write, delete=options.prune)
        problems += found
        seq = livemod.id_sequence(tgt, lt) if write and not found else None
        lacks = [p for p in ("SELECT", "UPDATE") if seq and not tgt.execute(
            "select has_sequence_privilege(%s, %s)", (seq, p)).fetchone()[0]]
        if lacks:
            problems.append(f"live table {lt.label}: role lacks {', '.join(lacks)} on its id "
                            f"sequence {seq}")
    return problems


def _row_source(lt: LiveTable, op: str, every: bool = False) -> sql.Composable:
    """COPY source on the local side: the rows of ``op`` in the live table's layout (``every``:
    all local rows are of ``op``, no join needed)."""
    if lt.layout == "columns":
        cols = sql.SQL(", ").join(sql.Identifier("v", c.name) for c in lt.fields)
    else:
        cols = livemod.payload(lt, "v")
    rows = sql.SQL("{local} v") if every else sql.SQL(
        "{local} v join pub_plan p on p.id = v.id where p.op = {op}")
    return sql.SQL("copy (select v.id, {cols} from {rows}) to stdout (format binary)").format(
        cols=cols, rows=rows.format(local=lt.local, op=sql.Literal(op)))


def _live_columns(lt: LiveTable) -> sql.Composable:
    if lt.layout == "columns":
        return sql.SQL(", ").join([sql.Identifier("id")]
                                  + [sql.Identifier(c.name) for c in lt.fields])
    return sql.SQL("id, xdo")


def _upsert(conn: psycopg.Connection, tgt: psycopg.Connection, lt: LiveTable, i: int,
            out: TableOutcome) -> dict[str, tuple[int, int]]:
    """Inserts (COPY into the live table) and updates (through a temp table) of one table;
    returns (rows, checksum) of each row stream sent, for the read-back check."""
    sent = {}
    if out.inserted:
        digest = StreamDigest()
        plan.pipe(conn, _row_source(lt, "insert", every=out.inserted == out.local), tgt,
                  sql.SQL("copy {} ({}) from stdin (format binary)").format(
                      lt.ident, _live_columns(lt)), digest)
        sent["insert"] = (digest.rows, digest.total)
    if out.updated:
        stage = sql.Identifier(f"xano_publish_stage_{i}")
        if lt.layout == "columns":
            defs = [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(_type(c.v2_type)))
                    for c in lt.fields]
            sets = sql.SQL(", ").join(sql.SQL("{c} = s.{c}").format(c=sql.Identifier(c.name))
                                      for c in lt.fields)
        else:
            defs = [sql.SQL("xdo jsonb")]
            # keys only the live V2 has (fields V1 does not feed) are kept
            sets = sql.SQL("xdo = case when jsonb_typeof(l.xdo) = 'object' then l.xdo || s.xdo "
                           "else s.xdo end")
        tgt.execute(sql.SQL("create temp table {} (id bigint, {}) on commit drop").format(
            stage, sql.SQL(", ").join(defs)))
        digest = StreamDigest()
        plan.pipe(conn, _row_source(lt, "update"), tgt,
                  sql.SQL("copy {} ({}) from stdin (format binary)").format(
                      stage, _live_columns(lt)), digest)
        sent["update"] = (digest.rows, digest.total)
        tgt.execute(sql.SQL("analyze {}").format(stage))  # a few rows: joined by primary key
        n = tgt.execute(sql.SQL("update {t} l set {sets} from {s} s where l.id = s.id").format(
            t=lt.ident, sets=sets, s=stage)).rowcount
        if n != out.updated:
            raise PublishError(f"{lt.label}: {out.updated - n} row(s) to update vanished "
                               "during the publish; nothing was written; run publish again")
    if out.written and out.live_before:  # else the live table holds only rows just written
        tgt.execute(sql.SQL("create temp table if not exists {} (t integer, id bigint, op text)")
                    .format(_WRITTEN))
        plan.pipe(conn, sql.SQL("copy (select {i}::integer, id, op from pub_plan "
                                "where op <> 'none') to stdout (format binary)").format(
                      i=sql.Literal(i)),
                  tgt, sql.SQL("copy {} (t, id, op) from stdin (format binary)").format(
                      _WRITTEN))
    return sent


def _type(v2_type: str) -> str:
    if v2_type not in HOLDS:  # the spec validates types through the transform vocabulary
        raise PublishError(f"unsupported V2 type {v2_type!r}")
    return v2_type


def _prune(tgt: psycopg.Connection, lt: LiveTable, i: int, out: TableOutcome) -> None:
    n = tgt.execute(sql.SQL("delete from {t} l using {w} w where w.t = {i} and w.op = 'delete' "
                            "and l.id = w.id").format(t=lt.ident, w=_WRITTEN, i=sql.Literal(i))
                    ).rowcount
    if n != out.pruned:
        raise PublishError(f"{lt.label}: {out.pruned - n} row(s) to prune vanished during "
                           "the publish; nothing was written; run publish again")


def _advance_sequence(conn: psycopg.Connection, tgt: psycopg.Connection, lt: LiveTable,
                      i: int) -> None:
    """Move the live id sequence past the largest id written (never backwards)."""
    seq = livemod.id_sequence(tgt, lt)
    if not seq:
        return
    top = conn.execute(sql.SQL("select max(id) from {} where op in ('insert', 'update')")
                       .format(_plan(i))).fetchone()[0]
    schema, name = tgt.execute("select n.nspname, c.relname from pg_class c join pg_namespace "
                               "n on n.oid = c.relnamespace where c.oid = %s::regclass",
                               (seq,)).fetchone()
    last, called = tgt.execute(sql.SQL("select last_value, is_called from {}").format(
        sql.Identifier(schema, name))).fetchone()
    if top is not None and (last + 1 if called else last) <= top:
        tgt.execute("select setval(%s::regclass, %s)", (seq, top))


def _verify(conn: psycopg.Connection, tgt: psycopg.Connection, lt: LiveTable, i: int,
            out: TableOutcome, sent: dict[str, tuple[int, int]]) -> None:
    """After the commit: read the written rows back as row digests (with their live hashes,
    for the record) and compare count and checksum with what was sent, per stream."""
    out.live_after = tgt.execute(sql.SQL("select count(*) from {}").format(lt.ident)
                                 ).fetchone()[0]
    conn.execute("drop table if exists pub_verify")
    conn.execute("create temp table pub_verify (id bigint, h bigint, d bigint, op text)")
    if not out.written:
        return  # nothing to check: verified stays None
    ident = sql.Identifier("l", "id")
    if out.live_before:
        op = sql.SQL("w.op")
        rows = sql.SQL("{t} l join {w} w on w.id = l.id where w.t = {i} and w.op <> 'delete'")
    else:  # the table was empty: every live row is one just inserted
        op = sql.SQL("'insert'::text")
        rows = sql.SQL("{t} l")
    rows = rows.format(t=lt.ident, w=_WRITTEN, i=sql.Literal(i))
    if lt.layout == "columns":
        fields = [(ident, "bigint")] + [(sql.Identifier("l", c.name), c.v2_type)
                                        for c in lt.fields]
    else:  # inserted rows hold exactly what was sent; updated rows may keep V2-only keys
        fields = [(ident, "bigint"), (sql.SQL("case {op} when 'insert' then l.xdo else {m} end")
                                      .format(op=op, m=livemod.live_payload(lt, "l")), "jsonb")]
    plan.pipe(tgt, sql.SQL("copy (select l.id, {h}, {d}, {op} from {rows}) to stdout "
                           "(format binary)").format(
        h=livemod.live_hash(lt, "l"), d=row_digest(fields), op=op, rows=rows),
        conn, sql.SQL("copy pub_verify (id, h, d, op) from stdin (format binary)"))
    conn.execute("analyze pub_verify")
    back = {op: (n, int(total)) for op, n, total in conn.execute(
        "select op, count(*), sum(d) from pub_verify group by op")}
    left = 0 if not out.pruned else tgt.execute(sql.SQL(
        "select count(*) from {t} l join {w} w on w.id = l.id where w.t = {i} "
        "and w.op = 'delete'").format(t=lt.ident, w=_WRITTEN, i=sql.Literal(i))).fetchone()[0]
    out.checksum = ", ".join(f"{op} {n}/{total:x}" for op, (n, total) in sorted(sent.items()))
    out.verified = back == sent and not left


def _record(conn: psycopg.Connection, lt: LiveTable, i: int, out: TableOutcome,
            run_id: int) -> int:
    """Remember what each live row was set to (or found equal to); the run's figures. Returns
    the rows added to the record."""
    name, pl = sql.Literal(lt.table.name), _plan(i)
    # rows written (live hash read back) and rows found equal or only live (hash read before)
    conn.execute("drop table if exists pub_rec")
    conn.execute(sql.SQL("""
        create temp table pub_rec as
        select p.id, p.lh, f.h, true as w, p.recorded from {pl} p
        join pub_verify f on f.id = p.id where p.op in ('insert', 'update')
        union all
        select p.id, p.lh, p.live_h, p.rec_written and p.action = 'same', p.recorded
        from {pl} p where p.action in ('same', 'live_only')""").format(pl=pl))
    conn.execute("analyze pub_rec")
    with conn.transaction():  # new ids are inserted, known ids updated
        conn.execute(sql.SQL("""
            update {rows} r set local_h = s.lh, live_h = s.h, written = s.w, run_id = {run}
            from pub_rec s where s.recorded and r.v2_table = {name} and r.id = s.id""").format(
            rows=audit.ROWS, run=sql.Literal(run_id), name=name))
        added = conn.execute(sql.SQL("""
            insert into {rows} (v2_table, id, local_h, live_h, written, run_id)
            select {name}, s.id, s.lh, s.h, s.w, {run} from pub_rec s
            where not s.recorded""").format(rows=audit.ROWS, run=sql.Literal(run_id),
                                            name=name)).rowcount
        # by id through the primary key: right after a big insert the record's statistics
        # are stale, and a join could be planned as a nested loop over millions of rows
        gone = [r[0] for r in conn.execute(sql.SQL(
            "select id from {} where op = 'delete' or action = 'stale'").format(pl))]
        for k in range(0, len(gone), PUBLISH_ID_CHUNK):
            conn.execute(sql.SQL("delete from {} where v2_table = {} and id = any(%s)").format(
                audit.ROWS, name), (gone[k:k + PUBLISH_ID_CHUNK],))
        audit.record_table(conn, run_id, out, "verified" if out.verified in (True, None)
                           else "mismatch")
        livemod.record_live_state(conn, lt, out.live_after or 0, out.live_only, "publish",
                                  run_id)
    return added
