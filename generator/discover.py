"""Refresh the inventory from a scan: merge with the committed one, compare, write.

Tables scanned now replace their old profiles; tables not asked for, or missing on the server,
keep the profiles they had (a missing table is reported, never silently forgotten).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from generator import catalog, db
from generator.config import V1_SCHEMA
from generator.inventory import Inventory, KeyProfile, TableProfile, read_inventory, write_inventory
from generator.registry import V1Table
from generator.scan import scan_table
from generator.spec import load_sensitive_patterns

Progress = Callable[[str, int, int], Callable[[float], None]]
"""``start(label, total, done) -> advance(amount)``: a progress bar per table."""


@dataclass(frozen=True)
class Change:
    """Differences between the committed inventory and a new scan, for one table."""

    table: str
    keys: int
    rows: int
    new: list[str]
    gone: list[str]
    retyped: list[tuple[str, str, str]]


def compare(old: Inventory, new: list[KeyProfile], table: str) -> Change:
    """What changed for ``table`` between the committed inventory and ``new``.

    >>> old = Inventory((KeyProfile("t", "a", "top", inferred_type="text"),))
    >>> c = compare(old, [KeyProfile("t", "a", "top", inferred_type="bigint"),
    ...                   KeyProfile("t", "b", "top")], "t")
    >>> c.new, c.gone, c.retyped
    (['b'], [], [('a', 'text', 'bigint')])
    """
    before = {k.key_path: k for k in old.keys_of(table)}
    cur = {p.key_path: p for p in new if p.v1_table == table}
    retyped = [(k, before[k].inferred_type, cur[k].inferred_type)
               for k in sorted(set(before) & set(cur))
               if before[k].inferred_type != cur[k].inferred_type]
    rows = new[0].rows_total if new else 0
    return Change(table, sum(1 for p in cur.values() if p.kind == "top"), rows,
                  sorted(set(cur) - set(before)), sorted(set(before) - set(cur)), retyped)


def merge(old: Inventory, scanned: dict[str, tuple[TableProfile, list[KeyProfile]]]) -> Inventory:
    """The committed inventory with the scanned tables' profiles replaced."""
    keys = [k for k in old.keys if k.v1_table not in scanned]
    tables = [t for t in old.tables if t.v1_table not in scanned]
    for table, profiles in scanned.values():
        keys += profiles
        tables.append(table)
    return Inventory(tuple(keys), tuple(tables))


@dataclass
class Discovery:
    """What a discovery run found and wrote."""

    inventory: Inventory
    """The inventory as written."""
    changes: list[tuple[TableProfile, Change]] = field(default_factory=list)
    """Per scanned table: its figures and what changed."""
    missing: list[str] = field(default_factory=list)
    """Tables not found on the server (``name (relation)``): their old profiles were kept."""


def discover(target: db.Target, root: Path, tables: list[V1Table], jobs: int = 2,
             progress: Progress | None = None) -> Discovery:
    """Scan ``tables`` (``jobs`` connections each) and write the refreshed inventory."""
    patterns = load_sensitive_patterns(root)
    old = read_inventory(root)
    scanned: dict[str, tuple[TableProfile, list[KeyProfile]]] = {}
    result = Discovery(old)
    with contextlib.ExitStack() as stack:
        conn = stack.enter_context(db.connect(target))
        helpers = [stack.enter_context(db.connect(target)) for _ in range(jobs - 1)]
        for t in tables:
            if not catalog.exists(conn, V1_SCHEMA, t.relation):
                result.missing.append(f"{t.name} ({t.relation})")
                continue
            advance = _advance(progress(t.name, 1, 0)) if progress else None
            scan = scan_table(conn, t, patterns, on_progress=advance, helpers=helpers)
            scanned[t.name] = (scan.table, scan.keys)
            result.changes.append((scan.table, compare(old, scan.keys, t.name)))
    result.inventory = merge(old, scanned)
    write_inventory(root, result.inventory)
    return result


def _advance(bar: Callable[[float], None]) -> Callable[[int, int], None]:
    """Turn chunk counts (done, total) into fractional advances of a bar of length 1."""
    state = {"done": 0.0}

    def advance(done: int, total: int) -> None:
        bar(done / total - state["done"])
        state["done"] = done / total

    return advance
