"""The plan of one table: read the live state, classify every row, explain the differences.

The live server computes a cheap hash per live row; those (id, hash) pairs are copied into a
local temp table and joined there with the local V2 and with ``published_rows``:

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
does: ``insert``, ``update``, ``delete`` or ``none``. Everything here reads the live side
only; the local side gets temp tables (``pub_*``, session-local).
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
_PLAN = sql.Identifier("pub_plan")
_LIVE = sql.Identifier("pub_live")
_PROBE = sql.Identifier("pub_probe")


def pipe(src: psycopg.Connection, copy_out: sql.Composable, dst: psycopg.Connection,
         copy_in: sql.Composable) -> int:
    """Stream a binary COPY from one connection into another; returns the bytes moved."""
    moved = 0
    with src.cursor() as scur, dst.cursor() as dcur:
        with scur.copy(copy_out) as out, dcur.copy(copy_in) as inp:
            for chunk in out:
                inp.write(chunk)
                moved += len(chunk)
    return moved


def read_live(local: psycopg.Connection, target: psycopg.Connection, lt: LiveTable) -> int:
    """Copy (id, hash) of every live row into the local temp table ``pub_live``; its count."""
    local.execute("create temp table if not exists pub_live (id bigint, h bigint)")
    local.execute("truncate pub_live")
    pipe(target, sql.SQL("copy (select l.id::bigint, {h} from {t} l) to stdout (format binary)")
         .format(h=live_hash(lt, "l"), t=lt.ident),
         local, sql.SQL("copy {} (id, h) from stdin (format binary)").format(_LIVE))
    local.execute("analyze pub_live")
    return local.execute("select count(*) from pub_live").fetchone()[0]


def classify(local: psycopg.Connection, lt: LiveTable) -> None:
    """Build ``pub_plan``: one row per id of the local V2, the live table or the record of what
    was published (see the module)."""
    local.execute("drop table if exists pub_plan")
    local.execute(sql.SQL("""
        create temp table pub_plan as
        select coalesce(x.id, r.id) as id, x.lh, x.live_h, r.local_h as rec_local_h,
            r.live_h as rec_live_h, coalesce(r.written, false) as rec_written,
            r.id is not null as recorded,
            case
                when x.id is null then 'stale'
                when x.lh is not null and x.live_h is null then
                    case when r.written then 'deleted_live' else 'insert' end
                when x.lh is not null then
                    case when r.live_h = x.live_h and r.local_h = x.lh then 'same'
                         when r.live_h = x.live_h then 'update'
                         else 'probe' end
                when r.written then
                    case when r.live_h = x.live_h then 'prune' else 'prune_edited' end
                else 'live_only'
            end as action,
            'none'::text as op
        from (
            select coalesce(v.id, l.id) as id, v.lh, l.h as live_h
            from (select v.id, {lh} as lh from {local} v) v
            full join {live} l on l.id = v.id
        ) x
        full join (select * from {rows} where v2_table = {name}) r on r.id = x.id""").format(
        lh=local_hash(lt, "v"), local=lt.local, live=_LIVE, rows=ROWS,
        name=sql.Literal(lt.table.name)))
    local.execute("create index on pub_plan (id)")
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
            overwrite: bool, prune: bool) -> None:
    """Decide the probed rows by content, then set ``op`` for every row of the plan."""
    local.execute("drop table if exists pub_probe")
    ids = [r[0] for r in local.execute("select id from pub_plan where action = 'probe' "
                                       "order by id")]
    fetch_live(local, target, lt, ids)
    local.execute("analyze pub_probe")
    local.execute(sql.SQL("""
        update pub_plan p set action = case
            when pr.m = {payload} then 'same'
            when p.rec_written then 'conflict'
            else 'update' end
        from {probe} pr, {local} v
        where p.action = 'probe' and pr.id = p.id and v.id = p.id""").format(
        payload=payload(lt, "v"), probe=_PROBE, local=lt.local))
    ops = {"insert": ["insert"] + (["deleted_live"] if overwrite else []),
           "update": ["update"] + (["conflict"] if overwrite else []),
           "delete": (["prune"] + (["prune_edited"] if overwrite else [])) if prune else []}
    for op, actions in ops.items():
        if actions:
            local.execute("update pub_plan set op = %s where action = any(%s)", (op, actions))


def counts(local: psycopg.Connection) -> dict[str, int]:
    """Rows per action of the current plan, and per op (keys ``op:<op>``)."""
    out = dict(local.execute("select action, count(*) from pub_plan group by 1").fetchall())
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
