"""What a publish may leave unplanned: tables whose every input is as a converged publish left it.

A table's plan reads its local V2 rows, its live rows, its record (``published_rows``, the
identity map) and, through the parent's placement and the references' identity maps, the same
inputs of every table in its closure (parent chain and referenced tables, transitively). When
none of them changed since a publish that left the table converged (everything it planned
landed, nothing else wrote the live table meanwhile), with the same options, decisions, spec
and live layout, planning it again would find every row as that publish left it: same, or kept
(conflicts, held, blocked, live-only) for the same reasons. Such a table is not planned; its
figures are the converged publish's. ``publish --full`` plans every table.

"Changed" is decided from the rows' headers, not their values. A relation's state is its row
count and the (id, xmin) of its rows written at or after a horizon (the oldest transaction
running when the state was taken; usually none is). Any insert or update after that moment
makes a row version with a newer xmin that the state does not list; a delete alone lowers the
count. So an equal state means the relation holds exactly the row versions it held (a change
undone before the check, such as an insert deleted again, leaves it equal, rightly). The scan
reads headers and ids only: no digest and nothing sent but two numbers. A horizon a billion
transactions old, or a server that cannot tell its snapshot, means "changed".

The record (``xano_audit.publish_state``, per target and V2 table) is written after a
successful publish for each table it planned whose writes all landed as planned and whose
live table nobody else wrote while it ran (its new row versions are the publish's own
transactions', its count is what the plan read plus what it inserted minus what it deleted).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from generator.config import AUDIT_SCHEMA, V2_SCHEMA
from generator.live import LiveTable
from generator.publish.audit import ROWS
from generator.publish.identity import IDENTITY, ensure

STATE = sql.Identifier(AUDIT_SCHEMA, "publish_state")
STATE_DDL = sql.SQL("""
create table if not exists {} (
    target text not null,
    v2_table text not null,
    run_id bigint not null,
    key text not null,
    h_local bigint not null,
    h_live bigint not null,
    states jsonb not null,
    figures jsonb not null,
    recorded_at timestamptz not null default now(),
    primary key (target, v2_table)
)""").format(STATE)
VERSION = 1
"""Of what a record means: a release that plans differently raises it, so that no record of an
older one stands."""
MAX_AGE = 1_000_000_000
"""A horizon older than this many transactions is not trusted (xmin is 32 bits and wraps)."""
WRAP = 2 ** 32


def horizon(conn: psycopg.Connection) -> int | None:
    """The oldest transaction id still running for this session's snapshot (xid8: every
    transaction below it has ended); None when the server cannot say."""
    try:
        with conn.transaction():
            return int(conn.execute("select txid_snapshot_xmin(txid_current_snapshot())::text"
                                    ).fetchone()[0])
    except psycopg.Error:
        return None


def _newer(h: int) -> sql.Composable:
    """True for a row version written by transaction ``h`` or a later one (modulo 2^32)."""
    return sql.SQL("((xmin::text::bigint - {h} + {w}) % {w}) < {half}").format(
        h=sql.Literal(h % WRAP), w=sql.Literal(WRAP), half=sql.Literal(WRAP // 2))


def relation_state(conn: psycopg.Connection, rel: sql.Composable, h: int,
                   ours: set[int] | None = None) -> tuple[int, str, int]:
    """(rows, digest of the (id, xmin) of row versions newer than ``h``, how many of those
    were written by none of ``ours`` (transaction ids, 32-bit))."""
    foreign = sql.SQL("0") if ours is None else sql.SQL(
        "count(*) filter (where {n} and not (xmin::text::bigint = any({o})))").format(
        n=_newer(h), o=sql.Literal(sorted(x % WRAP for x in ours)))
    with conn.transaction():
        n, d, f = conn.execute(sql.SQL(
            "select count(*), coalesce(md5(string_agg(id::text || ':' || xmin::text, ',' "
            "order by id) filter (where {n})), ''), {f} from {r}").format(
            n=_newer(h), f=foreign, r=rel)).fetchone()
    return n, d, f


def record_state(conn: psycopg.Connection, name: str) -> list:
    """The local record of one V2 table: count and hash sum of its published rows, and of its
    identity pairs."""
    rec = conn.execute(sql.SQL(
        "select count(*), coalesce(sum(hashtextextended(concat_ws('/', id, k, d, written), 0)"
        "::numeric), 0)::text from {} where v2_table = %s").format(ROWS), (name,)).fetchone()
    ident = conn.execute(sql.SQL(
        "select count(*), coalesce(sum(hashtextextended(concat_ws('/', k, live_id, how, landed),"
        " 0)::numeric), 0)::text from {} where v2_table = %s").format(IDENTITY),
        (name,)).fetchone()
    return [*rec, *ident]


def table_state(local: psycopg.Connection, tgt: psycopg.Connection, lt: LiveTable,
                h_local: int, h_live: int) -> list:
    """What a record holds of one table: the state of its local V2 rows and of its live rows
    (relative to the horizons), and its local record."""
    return [list(relation_state(local, sql.Identifier(V2_SCHEMA, lt.table.name), h_local)[:2]),
            list(relation_state(tgt, lt.ident, h_live)[:2]),
            record_state(local, lt.table.name)]


def planned_child(lts: list[LiveTable], i: int, skip) -> bool:
    """True when a table whose parent is table ``i`` is planned (not in ``skip``)."""
    return any(lt.table.parent == lts[i].table.name and j not in skip
               for j, lt in enumerate(lts))


def layout_key(lt: LiveTable) -> str:
    """What the plan of a table depends on besides rows: the spec's table and the live layout."""
    convs = [(cv.live_type, cv.note) for cv in lt.convs]
    return hashlib.md5(repr((VERSION, lt.table, convs, lt.sequence, lt.identity_always,
                             lt.blocks_insert, lt.schema, lt.name)).encode()).hexdigest()


def closure(lts: list[LiveTable], i: int) -> list[int]:
    """Indexes of the tables the plan of table ``i`` reads (itself first): its parent chain
    and the tables its references name, transitively, among ``lts``."""
    index = {lt.table.name: j for j, lt in enumerate(lts)}
    out, todo = [], [i]
    while todo:
        j = todo.pop()
        if j in out:
            continue
        out.append(j)
        t = lts[j].table
        names = ([t.parent] if t.parent else []) + [c.references for c in lts[j].references]
        todo += [index[n] for n in names if n in index]
    return out


@dataclass
class Unchanged:
    """The tables of a publish that need no plan, and what a later record needs."""

    skip: dict[int, int] = field(default_factory=dict)
    """Table index -> the publish run whose figures stand."""
    figures: dict[int, dict] = field(default_factory=dict)
    """Table index -> the figures that run left (:func:`after`)."""
    live_rows: dict[int, int] = field(default_factory=dict)
    """Table index -> its live rows now."""
    h_local: int | None = None
    """Horizon of the local server when the plan began."""
    h_live: int | None = None
    """Horizon of the live server when the plan began (before any live row was read)."""


def run_key(options_key: str, decisions: list, lt: LiveTable) -> str:
    """The options, decisions and layout a record holds for one table."""
    return hashlib.md5(json.dumps([options_key, sorted(map(repr, decisions)),
                                   layout_key(lt)]).encode()).hexdigest()


def find_unchanged(local: psycopg.Connection, tgt: psycopg.Connection, target: str,
                   lts: list[LiveTable], options_key: str, decisions: list,
                   full: bool) -> Unchanged:
    """Which tables need no plan (see the module); the horizons are taken first, so that
    anything written after this moment shows as newer on both servers."""
    local.execute(STATE_DDL)
    ensure(local)
    out = Unchanged(h_local=horizon(local), h_live=horizon(tgt))
    if full or out.h_local is None or out.h_live is None:
        return out
    recs = {r[0]: r[1:] for r in local.execute(sql.SQL(
        "select v2_table, run_id, key, h_local, h_live, states, figures from {} "
        "where target = %s")
        .format(STATE), (target,))}
    cache: dict[tuple, list] = {}

    def now(j: int, h_local: int, h_live: int) -> list | None:
        if max(out.h_local - h_local, out.h_live - h_live) > MAX_AGE:
            return None
        if (j, h_local, h_live) not in cache:
            cache[(j, h_local, h_live)] = table_state(local, tgt, lts[j], h_local, h_live)
        return cache[(j, h_local, h_live)]

    candidates: dict[int, int] = {}
    for i, lt in enumerate(lts):
        rec = recs.get(lt.table.name)
        if rec is None:
            continue
        run_id, key, h_local, h_live, states, figures = rec
        names = [lts[j].table.name for j in closure(lts, i)]
        if key != run_key(options_key, decisions, lt) or set(states) != set(names):
            continue
        if all(now(j, h_local, h_live) == states[lts[j].table.name]
               for j in closure(lts, i)):
            candidates[i] = run_id
            out.figures[i] = figures
            out.live_rows[i] = now(i, h_local, h_live)[1][0]
    # a table is left alone only when every table its plan reads is left alone too, and a
    # parent other than a main table is planned when its child is (the child reads its plan)
    changed = True
    while changed:
        changed = False
        for i in list(candidates):
            if planned_child(lts, i, candidates) and lts[i].grain != "main" or any(
                    j not in candidates for j in closure(lts, i)):
                del candidates[i]
                changed = True
    out.skip = candidates
    return out


def record(local: psycopg.Connection, tgt: psycopg.Connection, target: str, run_id: int,
           lts: list[LiveTable], converged: dict[int, tuple[int, int, set[int]]],
           skipped: set[int], options_key: str, decisions: list, h_plan: int | None,
           figures: dict[int, dict]) -> list[str]:
    """After a successful publish: the state of each table in ``converged`` (index -> (live
    rows the plan read, rows inserted minus deleted, the publish's transaction ids), with the
    figures a plan of it would now show (``figures``, see :func:`after`)) whose
    live table nobody else wrote since ``h_plan`` and whose closure was planned and converged
    too, or left alone (``skipped``). The states are taken before the check that nobody else
    wrote, so a write in between is never part of a record. Returns the tables recorded."""
    if h_plan is None or not converged:
        return []
    h_local, h_live = horizon(local), horizon(tgt)
    if h_local is None or h_live is None:
        return []
    wanted = [i for i in converged
              if all(j in converged or j in skipped for j in closure(lts, i))]
    states: dict[int, list] = {}
    for i in wanted:
        for j in closure(lts, i):
            if j not in states:
                states[j] = table_state(local, tgt, lts[j], h_local, h_live)
    clean = set()
    for j in {j for i in wanted for j in closure(lts, i) if j in converged}:
        before, delta, ours = converged[j]
        n, _, foreign = relation_state(tgt, lts[j].ident, h_plan, ours)
        if not foreign and n == before + delta:
            clean.add(j)
    recorded = []
    for i in wanted:
        members = closure(lts, i)
        if any(j not in clean and j not in skipped for j in members):
            continue
        lt = lts[i]
        local.execute(sql.SQL("""
            insert into {} (target, v2_table, run_id, key, h_local, h_live, states, figures)
            values (%s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb)
            on conflict (target, v2_table) do update set run_id = excluded.run_id,
                key = excluded.key, h_local = excluded.h_local, h_live = excluded.h_live,
                states = excluded.states, figures = excluded.figures, recorded_at = now()
            """).format(STATE),
            (target, lt.table.name, run_id, run_key(options_key, decisions, lt), h_local,
             h_live, json.dumps({lts[j].table.name: states[j] for j in members}),
             json.dumps(figures[i])))
        recorded.append(lt.table.name)
    return recorded


FIGURE_FIELDS = ("local", "matched", "unchanged", "live_only", "duplicates", "orphans",
                 "blocked", "prunable", "identity", "unresolved")


def after(out) -> dict:
    """The figures a plan of a converged table would show, from the outcome of the publish that
    left it converged (every planned write landed): inserted and updated rows are unchanged
    now, pruned and deduplicated rows gone, records inserted are paired."""
    ident = dict(out.identity)
    if ident:
        ident["by_id"] = ident.get("by_id", 0) + ident.get("new", 0)
        ident["by_key"] = ident.get("by_key", 0) + ident.get("fresh", 0)
        ident["new"] = ident["fresh"] = 0
    return {"local": out.local, "matched": out.matched + out.inserted,
            "unchanged": out.unchanged + out.inserted + out.updated,
            "live_only": out.live_only - out.pruned - out.deduped,
            "duplicates": out.duplicates - out.deduped, "orphans": out.orphans,
            "blocked": out.blocked, "prunable": out.prunable - out.pruned,
            "identity": ident, "unresolved": dict(out.unresolved)}


