"""The coverage gate: every inventory key is claimed by a V2 column or ignored with a reason.

Pure functions over the typed spec and inventory. A key is claimed by a column reading it, by
an array table reading its array, or by a ``jsonb`` column holding one of its ancestors.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.config import V2_COLUMNS_FILE
from generator.inventory import Inventory, KeyProfile
from generator.keypath import ancestors, encode_path, top_key
from generator.profile import fits
from generator.spec import Column, Spec, Table
from generator.transforms import TRANSFORMS


@dataclass(frozen=True)
class Coverage:
    """How the inventory's keys are accounted for."""

    claimed: dict[tuple[str, str], list[str]]
    """(v1_table, path) -> ['v2_table.column', ...] (or ['(inside <path>)'])."""
    ignored: dict[tuple[str, str], str]
    """(v1_table, path) -> reason."""
    unclaimed: list[KeyProfile]
    """Inventory profiles nobody claims, in inventory order."""
    missing: list[Column]
    """Spec columns whose V1 path is not in the inventory (renamed in V1?)."""

    def unmapped_keys(self) -> dict[str, list[str]]:
        """V1 table -> top-level keys that hold an unclaimed path (first-seen order)."""
        out: dict[str, list[str]] = {}
        for p in self.unclaimed:
            key = top_key(p.key_path)
            keys = out.setdefault(p.v1_table, [])
            if key not in keys:
                keys.append(key)
        return out


def _prefixes(path: str) -> list[str]:
    """The path itself, then every path that contains it (nearest first)."""
    return [path, *ancestors(path)]


def _needed_path(t: Table, c: Column) -> str:
    """The inventory path a column needs (an array of scalars is read through its array key)."""
    scalar_elem = t.grain == "array" and c.v1_path == encode_path(t.array_path) + "[]"
    return encode_path(t.array_path) if scalar_elem else c.v1_path


def coverage(spec: Spec, inventory: Inventory) -> Coverage:
    """Claim every inventory key by a column, an array table, a jsonb ancestor or an ignore."""
    exact: dict[tuple[str, str], list[str]] = {}
    jsonb_cols: set[tuple[str, str]] = set()
    for t in spec.tables:
        if t.grain == "array":
            exact.setdefault((t.v1_table, encode_path(t.array_path)), []).append(t.name)
        if t.grain == "closure":  # its links are read as ids
            for key in t.links:
                exact.setdefault((t.v1_table, encode_path(key)), []).append(f"{t.name} (links)")
        for c in t.columns:
            if c.special:
                continue
            exact.setdefault((t.v1_table, c.v1_path), []).append(f"{t.name}.{c.name}")
            if c.transform == "jsonb":
                jsonb_cols.add((t.v1_table, c.v1_path))
    ign = {(i.v1_table, i.key_path): i.reason for i in spec.ignored}
    claimed: dict[tuple[str, str], list[str]] = {}
    ignored: dict[tuple[str, str], str] = {}
    unclaimed: list[KeyProfile] = []
    present = set()
    for p in inventory.keys:
        tk = (p.v1_table, p.key_path)
        present.add(tk)
        prefixes = _prefixes(p.key_path)
        parent = next((x for x in prefixes[1:] if (tk[0], x) in jsonb_cols), None)
        rule = next(((tk[0], x) for x in ["*", *prefixes] if (tk[0], x) in ign), None)
        if tk in exact:
            claimed[tk] = exact[tk]
        elif parent is not None:
            claimed[tk] = [f"(inside {parent})"]
        elif rule is not None:
            ignored[tk] = ign[rule]
        else:
            unclaimed.append(p)
    missing = [c for t in spec.tables for c in t.columns
               if not c.special and (t.v1_table, _needed_path(t, c)) not in present]
    return Coverage(claimed, ignored, unclaimed, missing)


def unclaimed_lines(profiles: list[KeyProfile]) -> list[str]:
    """One line per unclaimed key: table, path, row share, type, example."""
    return [f"  {p.v1_table}.{p.key_path}  ({p.row_share:.1%} of rows, "
            f"{p.inferred_type or '?'}, e.g. {p.example or '-'!s})" for p in profiles]


def impossible_columns(spec: Spec, inventory: Inventory) -> list[str]:
    """Columns whose transform fits none of the V1 values the inventory saw (each a reject).

    One ``file:row`` line per column; the type in the spec is wrong for that key.
    """
    by_path = {(p.v1_table, p.key_path): p for p in inventory.keys}
    out = []
    for t in spec.tables:
        for c in t.columns:
            kind = TRANSFORMS[c.transform].fits
            p = by_path.get((t.v1_table, c.v1_path))
            if c.special or kind is None or p is None or p.values <= 0:
                continue
            if fits(p)[kind] == 0:
                out.append(f"{V2_COLUMNS_FILE}:{c.row}: {t.name}.{c.name}: none of the "
                           f"{p.values:,} V1 values of {c.v1_path!r} fits {c.v2_type} "
                           f"(transform {c.transform}; the values look like "
                           f"{p.inferred_type or '?'}): every value would be a reject")
    return out
