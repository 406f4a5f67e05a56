"""The writes of one table into the live V2: batched, optimistic, read back as they land.

The rows of a plan that need work (``op`` insert, update, delete) travel in batches of
:data:`generator.config.PUBLISH_BATCH_ROWS`. Per batch, on the live server: the rows are
copied into a session temp table (``xano_publish_stage_<i>``), then one statement writes them
all and returns what it wrote, as a COPY straight into the local record:

- an update happens only where the live row still has the digest the plan read, a delete
  likewise: a row the app changed since is left to the app (``changed_live``) and planned
  again by the next publish;
- an insert into a main table takes the id the identity map reserved for it (its V1 id when
  free, else a fresh one of the live sequence) and skips an id the app took meanwhile
  (``on conflict (id) do nothing``); a new split or child row takes its id from the live
  table's sequence (allocated in the stage), and a split row is not inserted when its parent
  gained one meanwhile;
- the digest of each written row, as stored, comes back with it: a row stored differently
  from what was sent (a trigger, a truncating type) is counted as a mismatch.

Each batch is its own read-committed transaction (``atomic``: one transaction for the whole
publish), so the app waits for a row at most one batch; a lock held by the app longer than
:data:`generator.config.PUBLISH_LOCK_TIMEOUT` makes the batch retry, then leave its rows to the
next publish. Parent tables are written before their children, so no child row is ever live
without its parent.
"""

from __future__ import annotations

import time

import psycopg
from psycopg import sql

from generator import db
from generator.config import (
    AUDIT_SCHEMA,
    PUBLISH_BATCH_ROWS,
    PUBLISH_LOCK_TIMEOUT,
    PUBLISH_RETRIES,
    PUBLISH_SEQ_STEPS,
)
from generator.live import LiveTable
from generator.publish.audit import ROWS

WRITTEN = sql.Identifier("pub_written")
BATCH = sql.Identifier("pub_batch")
"""What the last committed batch wrote (then appended to ``pub_written``): what a batch hook
reads, so that a batch costs the same whatever the batches before it wrote."""
"""Local temp table: (id, k, op, d) of every live row written by the current table."""
APP_ROWS = sql.Identifier("pub_app_rows")
"""Local temp table: (id, k, d) of live rows the app changed while this table was written."""


def _t(name: str, i: int) -> sql.Identifier:
    return sql.Identifier(f"pub_{name}_{i}")


def problems(lt: LiveTable, c: dict[str, int]) -> list[str]:
    """What keeps the plan's inserts from being written, one line each."""
    if not c.get("op:insert"):
        return []
    where = f"live table {lt.label} (V2 {lt.table.name})"
    out = []
    if lt.blocks_insert:
        out.append(f"{where}: column(s) {', '.join(lt.blocks_insert)} are NOT NULL without a "
                   f"default; publish does not fill them, so its {c['op:insert']} insert(s) "
                   "would fail")
    if lt.grain != "main" and not lt.sequence:
        out.append(f"{where}: id has no sequence or identity; publish cannot give new "
                   f"{lt.grain} rows ids of the live table")
    return out


def _stage_columns(lt: LiveTable) -> list[tuple[str, str]]:
    if lt.layout == "jsonb":
        return [("xdo", "jsonb")]
    return [(c.name, cv.live_type) for c, cv in zip(lt.fields, lt.convs)]


def prepare(tgt: psycopg.Connection, lt: LiveTable, i: int) -> sql.Identifier:
    """Create the live session's stage table of table ``i`` (temp: invisible to others,
    gone with the session)."""
    stage = sql.Identifier(f"xano_publish_stage_{i}")
    cols = [sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t))
            for n, t in _stage_columns(lt)]
    tgt.execute(sql.SQL("drop table if exists {}").format(stage))
    tgt.execute(sql.SQL("create temp table {} (op text, live_id bigint, k bigint, fk bigint, "
                        "exp_d bigint, new_d bigint{})").format(
        stage, sql.SQL("").join(sql.SQL(", ") + c for c in cols)))
    return stage


def _source(lt: LiveTable, i: int, lo: int, hi: int) -> sql.Composed:
    """COPY source on the local side: the rows ``lo`` <= n < ``hi`` in the stage's columns."""
    main = lt.grain == "main"
    vals = lt.local_values("x", fk=sql.SQL("t.fk"))
    if lt.layout == "jsonb":
        vals = [lt.payload("x", fk=sql.SQL("t.fk"))]
    live_id = sql.SQL("coalesce(t.live_id, t.k)") if main else sql.SQL("t.live_id")
    return sql.SQL("""
        copy (select t.op, {live_id}, t.k, t.fk, t.live_d, t.local_d, {vals}
              from {todo} t left join {local} x on x.id = t.k and t.op <> 'delete'
              where t.n >= {lo} and t.n < {hi} order by t.n) to stdout (format binary)"""
                   ).format(live_id=live_id, vals=sql.SQL(", ").join(vals), todo=_t("todo", i),
                            local=lt.local, lo=sql.Literal(lo), hi=sql.Literal(hi))


def _statement(lt: LiveTable, stage: sql.Identifier) -> sql.Composable:
    """The one statement that writes a staged batch and returns (id, k, op, d, sent digest)
    of every row written."""
    t = lt.ident
    names = [n for n, _ in _stage_columns(lt)]
    if lt.layout == "jsonb":
        sets = sql.SQL("xdo = case when jsonb_typeof(l.xdo) = 'object' then l.xdo || s.xdo "
                       "else s.xdo end")  # keys only the live V2 has are kept
    else:
        sets = sql.SQL(", ").join(sql.SQL("{c} = s.{c}").format(c=sql.Identifier(n))
                                  for n in names)
    cols = sql.SQL(", ").join(map(sql.Identifier, ["id", *names]))
    vals = sql.SQL(", ").join(sql.Identifier("s", n) for n in ["live_id", *names])
    guard = sql.SQL("")
    if lt.grain == "split":  # a parent that gained a row meanwhile keeps it alone
        guard = sql.SQL(" and not exists (select 1 from {t} e where {cond})").format(
            t=t, cond=lt.fk_equals("e", sql.SQL("s.fk")))
    digest = lt.live_digest("l")
    return sql.SQL("""
        copy (
        with u as (
            update {t} l set {sets} from {stage} s
            where s.op = 'update' and l.id = s.live_id and {digest} = s.exp_d
            returning l.id::bigint as id, s.k, {digest} as d, s.new_d
        ), i as (
            insert into {t} as l ({cols}) {overriding}
            select {vals} from {stage} s where s.op = 'insert'{guard}
            on conflict (id) do nothing
            returning l.id::bigint as id, {digest} as d
        ), d as (
            delete from {t} l using {stage} s
            where s.op = 'delete' and l.id = s.live_id and {digest} = s.exp_d
            returning l.id::bigint as id, s.k
        )
        select id, k, 'update'::text, d, new_d from u
        union all select i.id, s.k, 'insert', i.d, s.new_d from i
            join {stage} s on s.live_id = i.id and s.op = 'insert'
        union all select id, k, 'delete', null::bigint, null::bigint from d
        ) to stdout (format binary)""").format(
        t=t, sets=sets, stage=stage, digest=digest, cols=cols, vals=vals, guard=guard,
        overriding=sql.SQL("overriding system value" if lt.identity_always else ""))


def advance_sequence(tgt: psycopg.Connection, lt: LiveTable, top: int) -> None:
    """Move the live id sequence past ``top`` before ids up to it are inserted, never backwards:
    by ``nextval`` steps (safe while the app draws from it too); a gap wider than
    :data:`generator.config.PUBLISH_SEQ_STEPS` is jumped with ``setval``."""
    if not lt.sequence:
        return
    schema, name = tgt.execute("select n.nspname, c.relname from pg_class c join pg_namespace "
                               "n on n.oid = c.relnamespace where c.oid = %s::regclass",
                               (lt.sequence,)).fetchone()
    last, called = tgt.execute(sql.SQL("select last_value, is_called from {}").format(
        sql.Identifier(schema, name))).fetchone()
    gap = top - (last if called else last - 1)
    if gap <= 0:
        return
    if gap <= PUBLISH_SEQ_STEPS:
        tgt.execute("select max(nextval(%s::regclass)) from generate_series(1, %s)",
                    (lt.sequence, gap))
    else:
        tgt.execute(sql.SQL("select setval(%s::regclass, greatest(%s, (select last_value "
                            "from {})))").format(sql.Identifier(schema, name)),
                    (lt.sequence, top))


def write_table(local: psycopg.Connection, tgt: psycopg.Connection, lt: LiveTable, i: int,
                atomic: bool, batch_rows: int = PUBLISH_BATCH_ROWS, on_batch=None
                ) -> dict[str, int]:
    """Write the plan of table ``i``; the rows written land in temp ``pub_written`` (local).

    Returns counts: written rows per op (``insert``, ``update``, ``delete``), ``changed_live``
    (rows left to the app), ``mismatched`` (stored unlike sent), ``batches``, ``retries``,
    and ``xids``: the live transactions that committed its batches.
    """
    todo = _t("todo", i)
    local.execute(sql.SQL("drop table if exists {}").format(todo))
    local.execute(sql.SQL("""
        create temp table {todo} as
        select (row_number() over (order by op, coalesce(k, live_id), live_id) - 1)::bigint as n,
            p.* from {plan} p where op <> 'none'""").format(todo=todo, plan=_t("plan", i)))
    local.execute(sql.SQL("create index on {} (n)").format(todo))
    local.execute(sql.SQL("analyze {}").format(todo))
    for rel in (WRITTEN, BATCH):
        local.execute(sql.SQL("drop table if exists {}").format(rel))
        local.execute(sql.SQL("create temp table {} (id bigint, k bigint, op text, d bigint, "
                              "sent bigint)").format(rel))
    local.execute(sql.SQL("drop table if exists {}").format(APP_ROWS))
    local.execute(sql.SQL("create temp table {} (id bigint, k bigint, d bigint)").format(
        APP_ROWS))
    total = local.execute(sql.SQL("select count(*) from {}").format(todo)).fetchone()[0]
    out = {"insert": 0, "update": 0, "delete": 0, "changed_live": 0, "mismatched": 0,
           "batches": 0, "retries": 0, "xids": set()}
    if not total:
        return out
    if lt.grain == "main":
        top = local.execute(sql.SQL("select max(coalesce(live_id, k)) from {} where op = "
                                    "'insert'").format(todo)).fetchone()[0]
        if top is not None:
            advance_sequence(tgt, lt, top)
    stage = prepare(tgt, lt, i)
    if not atomic:
        tgt.commit()
    write = _statement(lt, stage)
    for start in range(0, total, batch_rows):
        _batch(local, tgt, lt, i, stage, write, start, start + batch_rows, atomic, out)
        out["batches"] += 1
        if on_batch is not None:
            on_batch(min(batch_rows, total - start))
    local.execute(sql.SQL("create index on {} (id)").format(WRITTEN))
    local.execute(sql.SQL("create index on {} (k)").format(WRITTEN))
    local.execute(sql.SQL("analyze {}").format(WRITTEN))
    for op, n, bad in local.execute(sql.SQL(
            "select op, count(*), count(*) filter (where op <> 'delete' and d is distinct from "
            "sent) from {} group by 1").format(WRITTEN)):
        out[op] = n
        out["mismatched"] += bad
    out["changed_live"] = total - sum(out[k] for k in ("insert", "update", "delete"))
    _app_rows(local, tgt, lt, i, out["changed_live"])
    return out


def _batch(local, tgt, lt: LiveTable, i: int, stage, write, start: int, end: int,
           atomic: bool, out: dict[str, int]) -> None:
    for attempt in range(PUBLISH_RETRIES + 1):
        try:
            if not atomic:
                tgt.execute(sql.SQL("set local lock_timeout = {}").format(
                    sql.Literal(PUBLISH_LOCK_TIMEOUT)))
            tgt.execute(sql.SQL("truncate {}").format(stage))
            local.execute(sql.SQL("truncate {}").format(BATCH))
            db.pipe(local, _source(lt, i, start, end), tgt,
                    sql.SQL("copy {} from stdin (format binary)").format(stage))
            if lt.grain != "main":
                tgt.execute(sql.SQL("update {} set live_id = nextval({}::regclass) "
                                    "where op = 'insert'").format(
                    stage, sql.Literal(lt.sequence)))
            # statistics of this batch: without them the planner takes the stage for a dozen
            # rows and joins the inserted rows back to it by nested loop (quadratic in the
            # batch: 2 s instead of 40 ms for 5,000 rows of a 50-column table); only batches
            # with inserts, so updates and deletes keep their index lookups of live rows
            if tgt.execute(sql.SQL("select exists (select 1 from {} where op = 'insert')")
                           .format(stage)).fetchone()[0]:
                tgt.execute(sql.SQL("analyze {}").format(stage))
            db.pipe(tgt, write, local, sql.SQL(
                "copy {} (id, k, op, d, sent) from stdin (format binary)").format(BATCH))
            xid = tgt.execute("select txid_current_if_assigned()::text").fetchone()[0]
            if not atomic:
                tgt.commit()
            local.execute(sql.SQL("insert into {} select * from {}").format(WRITTEN, BATCH))
            if xid is not None:  # the rows it wrote carry it (generator.publish.state)
                out["xids"].add(int(xid))
            return
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
            if atomic:
                raise
            tgt.rollback()  # the local COPY of what was written failed with it: nothing kept
            out["retries"] += 1
            time.sleep(0.2 * (attempt + 1))
    # the app held these rows for the whole time: they are planned again next publish
    return


def _app_rows(local: psycopg.Connection, tgt: psycopg.Connection, lt: LiveTable, i: int,
              left: int) -> None:
    """The live rows the app wrote while the publish ran, in ``pub_app_rows``: a row updated
    or deleted since the plan read it (with the digest the plan read), and the split row the
    app gave a parent publish was inserting one for (digest unknown). The record keeps them so
    the next publish sees them as edited in V2: the app's, kept."""
    local.execute(sql.SQL("""
        insert into {app} (id, k, d)
        select t.live_id, t.k, t.live_d from {todo} t
        where t.op in ('update', 'delete') and not exists (
            select 1 from {w} w where w.id = t.live_id and w.op = t.op)""").format(
        app=APP_ROWS, todo=_t("todo", i), w=WRITTEN))
    if not left or lt.grain != "split":
        return
    skipped = local.execute(sql.SQL("""
        select t.fk, t.k from {todo} t where t.op = 'insert' and not exists (
            select 1 from {w} w where w.k = t.k and w.op = 'insert')""").format(
        todo=_t("todo", i), w=WRITTEN)).fetchall()
    if not skipped:
        return
    by_fk = dict(skipped)
    found = tgt.execute(sql.SQL("select l.id::bigint, {k} from {t} l where {k} = any(%s)").format(
        k=lt.live_key("l"), t=lt.ident), (list(by_fk),)).fetchall()
    with local.cursor() as cur:
        cur.executemany(sql.SQL("insert into {} (id, k, d) values (%s, %s, null)").format(
            APP_ROWS), [(live_id, by_fk[fk]) for live_id, fk in found])


def remember_seen(local: psycopg.Connection, lt: LiveTable, i: int, run_id: int) -> None:
    """Before the first write of a table: record every paired live row not recorded yet as the
    plan saw it. A row the app changes after this moment is an edit in V2 (kept), even when the
    publish is killed before it writes that row."""
    with local.transaction():
        local.execute(sql.SQL("""
            insert into {rows} (v2_table, id, k, d, written, run_id)
            select {name}, p.live_id, p.k, p.live_d, false, {run} from {plan} p
            where p.action in ('same', 'update') and p.live_id is not null
            on conflict (v2_table, id) do nothing""").format(
            rows=ROWS, name=sql.Literal(lt.table.name), run=sql.Literal(run_id),
            plan=_t("plan", i)))


def record(local: psycopg.Connection, lt: LiveTable, i: int, run_id: int) -> int:
    """Remember which live row holds which local row after this table's writes: rows written
    (with their digest as stored), rows found equal, rows deleted. Returns rows added."""
    name = sql.Literal(lt.table.name)
    run = sql.Literal(run_id)
    with local.transaction():
        added = local.execute(sql.SQL("""
            insert into {rows} as r (v2_table, id, k, d, written, run_id)
            select {name}, w.id, w.k, w.d, true, {run} from {w} w where w.op <> 'delete'
            on conflict (v2_table, id) do update set k = excluded.k, d = excluded.d,
                written = true, run_id = excluded.run_id""").format(
            rows=ROWS, name=name, run=run, w=WRITTEN)).rowcount
        local.execute(sql.SQL("delete from {rows} r using {w} w where r.v2_table = {name} "
                              "and r.id = w.id and w.op = 'delete'").format(
            rows=ROWS, name=name, w=WRITTEN))
        local.execute(sql.SQL("""
            insert into {deleted} (run_id, v2_table, live_id, k, reason)
            select {run}, {name}, w.id, p.k,
                case p.action when 'duplicate' then 'dedupe' else 'prune' end
            from {w} w join {plan} p on p.live_id = w.id and p.op = 'delete'
            where w.op = 'delete' on conflict do nothing""").format(
            deleted=sql.Identifier(AUDIT_SCHEMA, "publish_deleted"), run=run, name=name,
            w=WRITTEN, plan=_t("plan", i)))
        added += local.execute(sql.SQL("""
            insert into {rows} as r (v2_table, id, k, d, written, run_id)
            select {name}, p.live_id, p.k, p.live_d, false, {run} from {plan} p
            where p.action = 'same' and not exists (
                select 1 from {rec} c where c.id = p.live_id and c.k = p.k and c.d = p.live_d)
            on conflict (v2_table, id) do update set k = excluded.k, d = excluded.d,
                run_id = excluded.run_id""").format(
            rows=ROWS, name=name, run=run, plan=_t("plan", i), rec=_t("rec", i))).rowcount
        # rows the app changed during the publish: recorded as the plan saw them (or with no
        # digest), so the next publish keeps the app's version as an edit in V2
        local.execute(sql.SQL("""
            insert into {rows} as r (v2_table, id, k, d, written, run_id)
            select {name}, a.id, a.k, a.d, false, {run} from {app} a
            on conflict (v2_table, id) do nothing""").format(
            rows=ROWS, name=name, run=run, app=APP_ROWS))
        # records of live rows that are gone, unless they make a 'deleted in V2' conflict
        local.execute(sql.SQL("""
            delete from {rows} r using {rec} c
            where r.v2_table = {name} and r.id = c.id
              and not exists (select 1 from {live} l where l.id = c.id)
              and not exists (select 1 from {w} w where w.id = c.id)
              and not exists (select 1 from {plan} p where p.k = c.k
                              and p.action = 'deleted_live')""").format(
            rows=ROWS, rec=_t("rec", i), name=name, live=_t("live", i), w=WRITTEN,
            plan=_t("plan", i)))
    return added
