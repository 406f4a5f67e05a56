"""The plan of one table: read the live state, classify every row, explain the differences.

The live server computes a cheap hash per live row (seeded with the id) and folds them per
bucket of ids (count and xor); only buckets that differ from the record of the last publish
(``published_rows``) travel row by row into a local temp table (an edit that keeps both the
count and the 64-bit xor of its bucket would need a hash collision). There the live hashes are
joined with the local V2 and the record:

==================  =========================================================================
action              meaning
==================  =========================================================================
``insert``          local row, no live row
``update``          live row unchanged since published, local row changed; or content differs
                    and the live row was never written by this tool (V1 is the source)
``same``            live row holds the local content
``conflict``        live row edited in V2 since this tool wrote it, content differs
``deleted_live``    this tool wrote the row, V2 deleted it
``prune``           this tool wrote the row, the local V2 no longer has it (V1 row gone)
``prune_edited``    as ``prune``, but the live row was edited since
``live_only``       live row this tool never wrote and the local V2 lacks (never touched)
``stale``           a record of ``published_rows`` neither side has any more (forgotten)
==================  =========================================================================

Rows whose hashes cannot decide (never recorded, or the live hash moved) are *probed*: their
live content (the publish's fields only) is fetched and compared with the local row as jsonb,
so 1.5 equals 1.50 and keys only the live V2 has do not count. ``op`` is what the publish
does: ``insert``, ``update``, ``delete`` or ``none``. Rows that are the same on both sides and
already recorded so are counted, not stored: a publish after a small change handles a small
plan. Everything here reads the live side only; the local side gets temp tables (``pub_*``,
session-local).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal

import psycopg
from psycopg import sql

from generator.config import PUBLISH_ID_CHUNK
from generator.keypath import mask
from generator.live import LiveTable, live_hash, live_payload, local_hash, payload
from generator.publish.audit import ROWS, FieldDiff, RowDiff

CONFLICT_KINDS = {"conflict": "edited in V2", "deleted_live": "deleted in V2",
                  "prune_edited": "edited in V2, gone from V1"}
"""Actions that are conflicts, and how they are reported."""
BUCKETS = 1024
"""Live rows are compared with the record in buckets of ``id % BUCKETS``."""
_PLAN = sql.Identifier("pub_plan")
_LIVE = sql.Identifier("pub_live")
_PROBE = sql.Identifier("pub_probe")


def pipe(src: psycopg.Connection, copy_out: sql.Composable, dst: psycopg.Connection,
         copy_in: sql.Composable, digest=None) -> int:
    """Stream a binary COPY from one connection into another; returns the bytes moved.

    ``digest`` (e.g. a :class:`generator.publish.check.StreamDigest`) sees every chunk.
    """
    moved = 0
    with src.cursor() as scur, dst.cursor() as dcur:
        with scur.copy(copy_out) as out, dcur.copy(copy_in) as inp:
            for chunk in out:
                inp.write(chunk)
                if digest is not None:
                    digest.update(chunk)
                moved += len(chunk)
    return moved


_BUCKET = sql.SQL("mod({}, {})::integer")


def _bucket(column: sql.Composable) -> sql.Composable:
    return _BUCKET.format(column, sql.Literal(BUCKETS))


def live_buckets(target: psycopg.Connection, lt: LiveTable) -> dict[int, tuple[int, int]]:
    """Per bucket of ids (``id % BUCKETS``): count and xor of the id-seeded hashes of the live
    rows (computed on the live server)."""
    return {b: (n, x) for b, n, x in target.execute(sql.SQL(
        "select {b}, count(*), bit_xor({h}) from {t} l group by 1").format(
        b=_bucket(sql.SQL("l.id")), h=live_hash(lt, "l"), t=lt.ident))}


def has_record(local: psycopg.Connection, lt: LiveTable) -> bool:
    """True when a publish recorded this table's live rows before."""
    return local.execute(sql.SQL("select exists (select 1 from {} where v2_table = %s)")
                         .format(ROWS), (lt.table.name,)).fetchone()[0]


def dirty_buckets(local: psycopg.Connection, lt: LiveTable,
                  live: dict[int, tuple[int, int]]) -> list[int]:
    """Buckets where the live table differs from the record of the last publish (rows added,
    removed or changed there since); kept in the temp table ``pub_dirty``."""
    seen = {b: (n, x) for b, n, x in local.execute(sql.SQL(
        "select {b}, count(*), bit_xor(l.live_h) from {r} l where l.v2_table = %s group by 1")
        .format(b=_bucket(sql.SQL("l.id")), r=ROWS), (lt.table.name,))}
    dirty = sorted(b for b in live.keys() | seen.keys() if live.get(b) != seen.get(b))
    local.execute("create temp table if not exists pub_dirty (b integer primary key)")
    local.execute("truncate pub_dirty")
    local.execute("insert into pub_dirty select unnest(%s::integer[])", (dirty,))
    local.execute("analyze pub_dirty")
    return dirty


def load_live(local: psycopg.Connection, target: psycopg.Connection, lt: LiveTable,
              dirty: list[int]) -> None:
    """Copy (id, hash) of the live rows of the ``dirty`` buckets into the temp ``pub_live``.

    Only buckets where the live V2 changed since the last publish (or that were never
    published) travel row by row; the others are known from ``published_rows``.
    """
    local.execute("create temp table if not exists pub_live (id bigint, h bigint)")
    local.execute("truncate pub_live")
    pipe(target, sql.SQL("copy (select l.id::bigint, {h} from {t} l where {b} = any({d})) "
                         "to stdout (format binary)").format(
        h=live_hash(lt, "l"), t=lt.ident, b=_bucket(sql.SQL("l.id")), d=sql.Literal(dirty)),
         local, sql.SQL("copy {} (id, h) from stdin (format binary)").format(_LIVE))
    local.execute("analyze pub_live")


PLAN_DDL = """
drop table if exists pub_plan;
create temp table pub_plan (id bigint, lh bigint, live_h bigint, rec_local_h bigint,
    rec_live_h bigint, rec_written boolean, recorded boolean, action text, op text)
"""


def classify(local: psycopg.Connection, lt: LiveTable, overwrite: bool, prune: bool,
             live: str = "record") -> None:
    """Build ``pub_plan``: every row of the local V2, the live table or the record of what was
    published that needs work or a new record (see the module); rows that are the same on both
    sides and recorded as such are only counted (:func:`counts`).

    ``live`` says where the live rows' hashes come from: ``record`` (the live table is as the
    last publish left it), ``pub_live`` (every live row was loaded), or ``buckets`` (only the
    rows of the ``pub_dirty`` buckets are classified again from ``pub_live``, replacing their
    rows of the plan).
    """
    if live == "buckets":
        dirty = sql.SQL("{} in (select b from pub_dirty)")
        local.execute(sql.SQL("delete from pub_plan p where ")
                      + dirty.format(_bucket(sql.SQL("p.id"))))
        v_where = sql.SQL("where ") + dirty.format(_bucket(sql.SQL("v.id")))
        r_where = sql.SQL("and ") + dirty.format(_bucket(sql.SQL("id")))
    else:
        local.execute(PLAN_DDL)
        v_where = r_where = sql.SQL("")
    if live == "record":
        joined = sql.SQL("select vr.*, vr.rec_live_h as live_h from ({vr}) vr")
    else:
        joined = sql.SQL("select coalesce(vr.id, l.id) as id, vr.lh, vr.rec_local_h, "
                         "vr.rec_live_h, vr.rec_written, vr.recorded, l.h as live_h "
                         "from ({vr}) vr full join {live} l on l.id = vr.id")
    vr = sql.SQL("""
        select coalesce(v.id, r.id) as id, v.lh, r.local_h as rec_local_h,
            r.live_h as rec_live_h, coalesce(r.written, false) as rec_written,
            r.id is not null as recorded
        from (select v.id, {lh} as lh from {local} v {v_where}) v
        full join (select id, local_h, live_h, written from {rows}
                   where v2_table = {name} {r_where}) r on r.id = v.id""").format(
        lh=local_hash(lt, "v"), local=lt.local, v_where=v_where, rows=ROWS,
        name=sql.Literal(lt.table.name), r_where=r_where)
    local.execute(sql.SQL("""
        insert into pub_plan
        select id, lh, live_h, rec_local_h, rec_live_h, rec_written, recorded, action,
            case action when 'insert' then 'insert' when 'update' then 'update'
                 when 'deleted_live' then {ow_insert} when 'prune' then {pr}
                 when 'prune_edited' then {ow_pr} else 'none' end
        from (
            select x.*,
                case
                    when x.lh is null and x.live_h is null then 'stale'
                    when x.live_h is null then
                        case when x.rec_written then 'deleted_live' else 'insert' end
                    when x.lh is not null then
                        case when x.rec_live_h = x.live_h and x.rec_local_h = x.lh then 'same'
                             when x.rec_live_h = x.live_h and x.rec_local_h is not null
                                 then 'update'
                             else 'probe' end
                    when x.rec_written then
                        case when x.rec_live_h = x.live_h then 'prune' else 'prune_edited' end
                    else 'live_only'
                end as action
            from ({joined}) x
        ) c
        where action <> 'same' and not (action = 'live_only' and recorded
                                         and rec_live_h = live_h)""").format(
        joined=joined.format(vr=vr, live=_LIVE),
        ow_insert=sql.Literal("insert" if overwrite else "none"),
        pr=sql.Literal("delete" if prune else "none"),
        ow_pr=sql.Literal("delete" if prune and overwrite else "none")))
    local.execute("analyze pub_plan")


def fetch_live(local: psycopg.Connection, target: psycopg.Connection, lt: LiveTable,
               ids: list[int]) -> None:
    """Add the live content (publish's fields, as jsonb) of ``ids`` to temp ``pub_probe``."""
    local.execute("create temp table if not exists pub_probe (id bigint primary key, m jsonb)")
    query = sql.SQL("select l.id, ({m})::text from {t} l where l.id = any(%s)").format(
        m=live_payload(lt, "l"), t=lt.ident)
    for i in range(0, len(ids), PUBLISH_ID_CHUNK):
        rows = target.execute(query, (ids[i:i + PUBLISH_ID_CHUNK],)).fetchall()
        with local.cursor() as cur, cur.copy(sql.SQL("copy {} (id, m) from stdin").format(
                _PROBE)) as cp:
            for row in rows:
                cp.write_row(row)


def resolve(local: psycopg.Connection, target: psycopg.Connection, lt: LiveTable,
            overwrite: bool) -> None:
    """Decide the probed rows by content: the same (recorded anew), a conflict, or an update."""
    local.execute("drop table if exists pub_probe")
    ids = [r[0] for r in local.execute("select id from pub_plan where action = 'probe' "
                                       "order by id")]
    fetch_live(local, target, lt, ids)
    if not ids:
        return
    local.execute("analyze pub_probe")
    local.execute(sql.SQL("""
        update pub_plan p set action = case
            when pr.m = {payload} then 'same'
            when p.rec_written then 'conflict'
            else 'update' end
        from {probe} pr, {local} v
        where p.action = 'probe' and pr.id = p.id and v.id = p.id""").format(
        payload=payload(lt, "v"), probe=_PROBE, local=lt.local))
    local.execute("update pub_plan set op = case action when 'update' then 'update' "
                  "when 'conflict' then %s else 'none' end where op = 'none' "
                  "and action in ('update', 'conflict')",
                  ("update" if overwrite else "none",))


def counts(local: psycopg.Connection, lt: LiveTable) -> dict[str, int]:
    """Rows per action of the current plan (``same`` from the local count), per op (keys
    ``op:<op>``), and the local rows (``local``)."""
    out = dict(local.execute("select action, count(*) from pub_plan where action <> 'same' "
                             "group by 1").fetchall())
    busy = local.execute("select count(*) from pub_plan where lh is not null "
                         "and action <> 'same'").fetchone()[0]
    out["local"] = local.execute(sql.SQL("select count(*) from {}").format(lt.local)
                                 ).fetchone()[0]
    out["same"] = out["local"] - busy
    out.update({f"op:{k}": v for k, v in local.execute(
        "select op, count(*) from pub_plan group by 1").fetchall()})
    return out


def ids_of(local: psycopg.Connection, actions: Iterable[str], limit: int | None = None
           ) -> list[int]:
    """Ids of the plan with one of ``actions``, in id order."""
    return [r[0] for r in local.execute(
        "select id from pub_plan where action = any(%s) order by id limit %s",
        (list(actions), limit))]


def row_diffs(local: psycopg.Connection, target: psycopg.Connection, lt: LiveTable,
              ids: list[int], kinds: dict[int, str], overwritten: bool = False
              ) -> list[RowDiff]:
    """Field diffs of ``ids`` between the live row and the local V2 row, masked."""
    if not ids:
        return []
    missing = [r[0] for r in local.execute(
        "select i from unnest(%s::bigint[]) i where not exists "
        "(select 1 from pub_probe p where p.id = i)", (ids,))]
    fetch_live(local, target, lt, missing)
    rows = local.execute(sql.SQL("""
        select i.id, pr.m::text, ({payload})::text
        from unnest(%s::bigint[]) as i(id)
        left join {probe} pr on pr.id = i.id
        left join {local} v on v.id = i.id
        order by i.id""").format(payload=payload(lt, "v"), probe=_PROBE, local=lt.local),
                         (ids,)).fetchall()
    secret = {c.name for c in lt.fields if c.sensitive}
    return [RowDiff(i, kinds[i], tuple(field_diffs(_load(live), _load(mine), secret)),
                    overwritten) for i, live, mine in rows]


def _load(text: str | None) -> dict | None:
    return None if text is None else json.loads(text, parse_float=Decimal)


def field_diffs(live: dict | None, local: dict | None, secret: set[str]) -> list[FieldDiff]:
    """The fields whose values differ, values as JSON text, sensitive ones masked.

    >>> [(d.field, d.live, d.local) for d in field_diffs({"a": 1}, {"a": 2}, set())]
    [('a', '1', '2')]
    >>> field_diffs({"pw": "x"}, {"pw": "y"}, {"pw"})[0].local
    '***masked (3 chars)***'
    >>> field_diffs({"n": Decimal("1.50")}, {"n": Decimal("1.5")}, set())
    []
    """
    out = []
    keys = list(dict.fromkeys([*(local or {}), *(live or {})]))
    for k in keys:
        a = (live or {}).get(k)
        b = (local or {}).get(k)
        if live is not None and local is not None and a == b:
            continue
        out.append(FieldDiff(k, _show(a, live is None, k in secret),
                             _show(b, local is None, k in secret)))
    return out


def _show(value, row_missing: bool, secret: bool) -> str:
    if row_missing:
        return "-"
    text = json.dumps(value, default=float, ensure_ascii=False)
    if secret and value is not None:
        return mask(text)
    return text if len(text) <= 80 else text[:79] + "…"
