"""Discovery: scan V1 tables once each and write the key inventory to seeds/."""

from __future__ import annotations

import csv
import queue
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from generator import inventory as inv
from generator.errors import InventoryError
from generator.registry import V1_SCHEMA, V1Table
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
SENSITIVE_FILE = "seeds/xano_sensitive_keys.csv"


def load_sensitive_patterns(root: Path) -> list[str]:
    """The sensitive-key rule: glob patterns from the spec (seeds/xano_sensitive_keys.csv)."""
    path = root / SENSITIVE_FILE
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            return [row["pattern"].strip() for row in csv.DictReader(fh) if row.get("pattern")]
    except (OSError, KeyError) as exc:
        raise InventoryError(f"{path}: cannot read sensitive-key patterns ({exc})") from None


@dataclass
class ScanResult:
    """What one table scan found."""

    table: inv.TableProfile
    keys: list[inv.KeyProfile] = field(default_factory=list)


def table_exists(conn: psycopg.Connection, table: V1Table, schema: str = V1_SCHEMA) -> bool:
    """True when ``schema.relation`` exists."""
    row = conn.execute("select to_regclass(format('%%I.%%I', %s::text, %s::text))",
                       (schema, table.relation)).fetchone()
    return row[0] is not None


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
    tp = inv.TableProfile(table.name, table.relation, table.table_id)
    total, xdo_null, not_obj, lo, hi = conn.execute(rows_query(schema, table.relation)).fetchone()
    tp.rows, tp.xdo_null, tp.xdo_not_object = total, xdo_null, not_obj
    profiles: dict[tuple, inv.KeyProfile] = {}
    if total:
        n_chunks = max(1, -(-total // CHUNK_ROWS), len(helpers) + 1)
        step = -(-(hi - lo + 1) // n_chunks)
        chunks = [(lo + c * step, lo + (c + 1) * step) for c in range(n_chunks)]
        results = _scan_chunks([conn, *helpers], scan_query(schema, table.relation), chunks,
                               on_progress)
        for rows in results:
            for g in rows:
                ident = (g["key"], g["sub_key"], KINDS[g["kind"]])
                p = profiles.get(ident)
                if p is None:
                    p = profiles[ident] = inv.KeyProfile(
                        table.name, inv.encode_path(*ident), ident[2], rows_total=total)
                jt, cls = CODES[g["code"]]
                inv.merge_group(p, jt, cls, g)
    for (key, sub, kind), p in profiles.items():
        example = None
        if p.example_id is not None:
            row = conn.execute(example_query(schema, table.relation, kind),
                               {"key": key, "sub": sub, "id": p.example_id}).fetchone()
            example = row[0] if row else None
        inv.finalize(p, example, patterns)
    tp.keys = sum(1 for p in profiles.values() if p.kind == "top")
    return ScanResult(tp, inv.sort_profiles(list(profiles.values())))


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


@dataclass
class Change:
    """Differences between the committed inventory and a new scan, for one table."""

    table: str
    keys: int
    rows: int
    new: list[str]
    gone: list[str]
    retyped: list[tuple[str, str, str]]


def compare(old_rows: list[dict[str, str]], new: list[inv.KeyProfile], table: str) -> Change:
    """What changed for ``table`` between the committed inventory and ``new``."""
    old = {r["key_path"]: r for r in old_rows if r["v1_table"] == table}
    cur = {p.key_path: p for p in new if p.v1_table == table}
    retyped = [(k, old[k]["inferred_type"], cur[k].inferred_type)
               for k in sorted(set(old) & set(cur)) if old[k]["inferred_type"] !=
               cur[k].inferred_type]
    rows = new[0].rows_total if new else 0
    return Change(table, sum(1 for p in cur.values() if p.kind == "top"), rows,
                  sorted(set(cur) - set(old)), sorted(set(old) - set(cur)), retyped)


def _read_exact(path: Path) -> str:
    """File text without newline translation (a CR inside a quoted key stays a CR)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return fh.read()


def read_committed(root: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The inventory files as they are on disk (empty lists when absent)."""
    out = []
    for name in (inv.INVENTORY_FILE, inv.TABLES_FILE):
        path = root / name
        out.append(inv.parse_inventory(_read_exact(path)) if path.exists() else [])
    return out[0], out[1]


def write_inventory(root: Path, keys: list[inv.KeyProfile], tables: list[inv.TableProfile]) -> None:
    """Write both inventory CSVs (only when their bytes change)."""
    for name, text in (
        (inv.INVENTORY_FILE, inv.render_csv(inv.sort_profiles(keys), inv.CSV_FIELDS)),
        (inv.TABLES_FILE, inv.render_csv(sorted(tables, key=lambda t: t.v1_table),
                                         inv.TABLE_FIELDS)),
    ):
        path = root / name
        if not path.exists() or _read_exact(path) != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="")
