"""The database scanner of discovery: one pass per V1 table, in id-range chunks.

Reads only. The scan query (``generator/sql/discover.py``) returns a few grouped rows per key
path and chunk; they are folded into :class:`~generator.inventory.KeyProfile` values here.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from generator import profile
from generator.config import V1_SCHEMA
from generator.inventory import KeyProfile, TableProfile, sort_profiles
from generator.keypath import Step, encode_path, parse_path, path_kind
from generator.registry import V1Table
from generator.sql.discover import (
    CODES,
    KINDS,
    PLANNER_OFF,
    example_query,
    rows_query,
    scan_query,
)

CHUNK_ROWS = 100_000
"""Id-range chunk size: progress is reported per chunk; every row is still read once."""


@dataclass
class ScanResult:
    """What one table scan found."""

    table: TableProfile
    keys: list[KeyProfile] = field(default_factory=list)


def scan_table(
    conn: psycopg.Connection,
    table: V1Table,
    patterns: list[str],
    schema: str = V1_SCHEMA,
    on_progress: Callable[[int, int], None] | None = None,
    helpers: Sequence[psycopg.Connection] = (),
) -> ScanResult:
    """Profile every key path of one V1 table in a single pass over its rows.

    The rows are read in id-range chunks; ``helpers`` (more connections to the same database)
    scan chunks at the same time as ``conn``, so a server with several cores reads the table
    once, in parallel. Each chunk returns a few grouped rows per path, merged here.
    """
    tp = TableProfile(table.name, table.relation, table.table_id)
    total, xdo_null, not_obj, lo, hi = conn.execute(rows_query(schema, table.relation)).fetchone()
    tp.rows, tp.xdo_null, tp.xdo_not_object = total, xdo_null, not_obj
    profiles: dict[tuple, KeyProfile] = {}
    if total:
        n_chunks = max(1, -(-total // CHUNK_ROWS), len(helpers) + 1)
        step = -(-(hi - lo + 1) // n_chunks)
        chunks = [(lo + c * step, lo + (c + 1) * step) for c in range(n_chunks)]
        results = _scan_chunks([conn, *helpers], scan_query(schema, table.relation), chunks,
                               on_progress)
        for rows in results:
            for g in rows:
                ident = (g["key"], g["sub_key"], KINDS[g["kind"]], g["deep"])
                p = profiles.get(ident)
                if p is None:
                    path = encode_path(*ident[:3]) + ident[3]
                    p = profiles[ident] = KeyProfile(table.name, path, path_kind(path),
                                                     rows_total=total)
                jt, cls = CODES[g["code"]]
                profile.merge_group(p, jt, cls, g)
    for (key, sub, kind, deep), p in profiles.items():
        example = None
        if p.example_id is not None and not deep:
            row = conn.execute(example_query(schema, table.relation, kind),
                               {"key": key, "sub": sub, "id": p.example_id}).fetchone()
            example = row[0] if row else None
        elif p.example_id is not None:
            row = conn.execute(example_query(schema, table.relation, "top"),
                               {"key": key, "id": p.example_id}).fetchone()
            example = first_value(row[0], parse_path(p.key_path)[1:], kind == "array")
        profile.finalize(p, example, patterns)
    tp.keys = sum(1 for p in profiles.values() if p.kind == "top")
    return ScanResult(tp, sort_profiles(list(profiles.values())))


def first_value(value: object, steps: Sequence[Step], through_array: bool) -> object | None:
    """The first meaningful value at ``steps`` below ``value`` (a top-level key's value).

    ``through_array``: ``value`` is an array whose object elements hold the path. Arrays on
    the way are searched element by element; None, JSON null and "" are not examples.

    >>> first_value({"a": {"b": 1}}, [("a", False), ("b", False)], False)
    1
    >>> first_value([{"x": {"y": ""}}, {"x": {"y": 2}}], [("x", False), ("y", False)], True)
    2
    """
    candidates = list(value) if through_array and isinstance(value, list) else [value]
    for i, (key, array) in enumerate(steps):
        nxt = []
        for c in candidates:
            if isinstance(c, dict) and key in c:
                v = c[key]
                more = array and i < len(steps) - 1 and isinstance(v, list)
                nxt += list(v) if more else [v]
        candidates = nxt
    return next((c for c in candidates if c is not None and c != ""), None)


def _scan_chunks(
    conns: list[psycopg.Connection],
    query: sql.Composed,
    chunks: list[tuple[int, int]],
    on_progress: Callable[[int, int], None] | None,
) -> list[list[dict]]:
    """Run the scan query for every chunk on whichever connection is free; results in chunk
    order."""
    free: queue.SimpleQueue[psycopg.Connection] = queue.SimpleQueue()
    for c in conns:
        for name in PLANNER_OFF:
            c.execute(sql.SQL("set {} = off").format(sql.Identifier(name)))
        free.put(c)

    def run(lo: int, hi: int) -> list[dict]:
        c = free.get()
        try:
            with c.cursor(row_factory=psycopg.rows.dict_row) as cur:
                return cur.execute(query, {"lo": lo, "hi": hi}).fetchall()
        finally:
            free.put(c)

    results: list[list[dict]] = [[] for _ in chunks]
    try:
        with ThreadPoolExecutor(max_workers=len(conns)) as pool:
            futures = {pool.submit(run, lo, hi): i for i, (lo, hi) in enumerate(chunks)}
            try:
                for n, f in enumerate(as_completed(futures), start=1):
                    results[futures[f]] = f.result()
                    if on_progress:
                        on_progress(n, len(chunks))
            except BaseException:
                pool.shutdown(cancel_futures=True)
                raise
    finally:
        for c in conns:
            if not c.broken:
                for name in PLANNER_OFF:
                    c.execute(sql.SQL("reset {}").format(sql.Identifier(name)))
    return results
