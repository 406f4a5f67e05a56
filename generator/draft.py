"""``spec draft``: propose spec rows for the keys of a V1 table that nothing claims yet.

Pure proposal (:func:`draft`) from the typed spec, inventory and coverage; :func:`append`
adds the rows to the spec files without rewriting a line that is already there. A person
reviews the result in the diff: every drafted description says it is a draft and what was
inferred.

What is drafted, per unclaimed key path (shallow paths first):
- objects and arrays become one ``jsonb`` column, unless a ``jsonb`` column already holds an
  ancestor; the scalar leaves of objects (``a.b``, ``a.b.c``) get typed columns of their own;
- keys inside an array go to the array-grain V2 table of that array when there is one, else the
  array's ``jsonb`` column holds them;
- the type comes from the values (the inventory's inference); sensitive keys are marked.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from generator.config import (
    KEY_INVENTORY_FILE,
    MAX_IDENT,
    UNMAPPED_COLUMN,
    V1_TABLES_FILE,
    V2_COLUMNS_FILE,
    V2_TABLES_FILE,
    cut_bytes,
)
from generator.coverage import coverage
from generator.errors import SpecError
from generator.inventory import Inventory, KeyProfile, read_exact
from generator.keypath import ancestors, format_path, is_sensitive, parse_path, path_kind
from generator.profile import candidates, fits
from generator.spec import RESERVED_PREFIXES, Spec, Table
from generator.transforms import TRANSFORMS

_NOT_NAME = re.compile(r"[^a-z0-9]+")


def snake_name(path: str) -> str:
    """The column name a key path drafts to ('' when nothing usable is left).

    Lower-case; every run of characters other than a-z0-9 becomes ``_``; path segments are
    joined by ``_``; ``_`` trimmed.

    >>> snake_name("US Gross"), snake_name("properties.mag"), snake_name("a[].B-c")
    ('us_gross', 'properties_mag', 'a_b_c')
    >>> snake_name("!!")
    ''
    """
    parts = [_NOT_NAME.sub("_", key.lower()) for key, _ in parse_path(path)]
    return "_".join(p.strip("_") for p in parts if p.strip("_"))


def unique_name(base: str, taken: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3``... not in ``taken``, at most 63 bytes.

    >>> unique_name("id", {"id"}), unique_name("x" * 70, set())[-3:], unique_name("a", {"a", "a_2"})
    ('id_2', 'xxx', 'a_3')
    """
    if base.startswith(RESERVED_PREFIXES):
        base = "c" + base  # never a placeholder name of the SQL templates
    n = 1
    while True:
        suffix = "" if n == 1 else f"_{n}"
        head = cut_bytes(base, MAX_IDENT - len(suffix)).rstrip("_")
        name = head + suffix
        if name not in taken:
            return name
        n += 1


def _type_of(p: KeyProfile) -> tuple[str, str]:
    """The most specific transform whose rejects stay under the sync's reject share (the
    inference ``spec evidence`` proposes from too); text when none does."""
    first = next(iter(candidates(p)), "text")
    return first, TRANSFORMS[first].v2_type


def _container(p: KeyProfile) -> bool:
    """Values are objects or arrays (drafted as one jsonb column)."""
    return p.inferred_type == "jsonb" or (p.n_object + p.n_array) * 2 > max(p.values, 1)


@dataclass
class Draft:
    """What ``spec draft`` adds."""

    tables: list[dict[str, str]] = field(default_factory=list)
    """New rows of seeds/xano_v2_tables.csv."""
    columns: list[dict[str, str]] = field(default_factory=list)
    """New rows of seeds/xano_v2_columns.csv."""
    notes: list[str] = field(default_factory=list)
    """Things a reviewer should know (renamed collisions, keys left to a jsonb column)."""


def _target(spec: Spec, v1: str, v2_table: str | None, draft: Draft) -> Table | str:
    """The V2 table to draft into: an existing one, or the name of one this draft adds."""
    main = next((t for t in spec.for_v1(v1) if t.is_main), None)
    if v2_table is None:
        if main is None:
            raise SpecError([f"{V2_TABLES_FILE}: V1 table {v1!r} has no V2 table yet; name one "
                             "with --v2-table NAME"])
        return main
    existing = next((t for t in spec.tables if t.name == v2_table), None)
    if existing is not None:
        if existing.v1_table != v1:
            raise SpecError([f"{V2_TABLES_FILE}:{existing.row}: V2 table {v2_table!r} is fed by "
                             f"V1 {existing.v1_table}, not by {v1}"])
        return existing
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", v2_table) or v2_table.startswith(
            RESERVED_PREFIXES):
        raise SpecError([f"--v2-table {v2_table!r} must be a plain identifier (letters, digits, "
                         "_; at most 63 bytes)"])
    desc = f"Draft: V2 table for V1 {v1}; review and describe"
    row = {"v2_table": v2_table, "v2_id": "", "domain": main.domain if main else v1,
           "v1_table": v1, "grain": "row", "array_path": "", "parent": "", "parent_column": "",
           "description": desc}
    draft.columns.append(_column(v2_table, "id", "$id", "id", "bigint", False, False, "",
                                 "Primary key: the V1 row id"))
    if main is not None:  # a V1 table has one main table: a new table splits from it
        fk = unique_name(f"{main.name}_id", {"id"})
        row.update(parent=main.name, parent_column=fk)
        draft.columns.append(_column(v2_table, fk, "$id", "id", "bigint", False, False,
                                     main.name, f"The {main.name} row this belongs to"))
        draft.notes.append(f"{v1} already has main table {main.name}: {v2_table} splits from it")
    draft.tables.append(row)
    return v2_table


def _column(table: str, name: str, path: str, transform: str, v2_type: str, nullable: bool,
            sensitive: bool, references: str, description: str) -> dict[str, str]:
    return {"v2_table": table, "column": name, "v1_path": path, "transform": transform,
            "v2_type": v2_type, "nullable": "true" if nullable else "false",
            "sensitive": "true" if sensitive else "false", "references": references,
            "description": description}


def _description(p: KeyProfile, v2_type: str) -> str:
    kind = {"timestamptz": "timestamptz", "jsonb": "jsonb"}.get(v2_type, v2_type)
    fitting = fits(p).get(kind, p.values) if p.values else 0
    share = fitting / p.values if p.values else 0.0
    return (f"Draft from discovery: {v2_type}, {share:.0%} of {p.values:,} values fit "
            f"(inferred {p.inferred_type or 'nothing: no values'}); review")


def draft(spec: Spec, inventory: Inventory, v1: str, v2_table: str | None = None) -> Draft:
    """Spec rows for every key path of ``v1`` that no column claims and no rule ignores.

    Raises SpecError (one line per problem, with file and row) when the table is unknown, the
    target belongs to another V1 table, or a key has no usable column name.
    """
    if v1 not in spec.registry.names():
        raise SpecError([f"{V1_TABLES_FILE}: V1 table {v1!r} is not registered (known: "
                         f"{', '.join(spec.registry.names())})"])
    out = Draft()
    target = _target(spec, v1, v2_table, out)
    target_name = target if isinstance(target, str) else target.name
    cov = coverage(spec, inventory)
    unclaimed = sorted((p for p in cov.unclaimed if p.v1_table == v1),
                       key=lambda p: (len(parse_path(p.key_path)), p.key_path.encode()))
    rows = {id(p): i for i, p in enumerate(inventory.keys, start=2)}
    taken = {"id", UNMAPPED_COLUMN} | {c["column"] for c in out.columns}
    if not isinstance(target, str):
        taken |= {c.name for c in target.columns}
    held = {c.v1_path for t in spec.for_v1(v1) for c in t.columns if c.transform == "jsonb"}
    arrays = {t.array_path: t for t in spec.for_v1(v1) if t.grain == "array"}
    taken_by: dict[str, set[str]] = {}
    by_name: dict[str, str] = {}
    problems: list[str] = []
    for p in unclaimed:
        path = p.key_path
        inside = next((a for a in ancestors(path) if a in held), None)
        if _container(p) and inside is not None:
            continue  # the jsonb ancestor holds it already
        if path_kind(path) == "array":
            steps = parse_path(path)
            owner = arrays.get(steps[0][0]) if steps[0][1] else None
            if owner is None:
                if inside is None:
                    out.notes.append(f"{path}: inside an array that has no array-grain V2 "
                                     "table; not drafted (map the array first)")
                continue
            table = owner.name
            taken_here = taken_by.setdefault(table, {"id"} | {c.name for c in owner.columns})
        else:
            table, taken_here = target_name, taken
        # in an array table the array is the row: history[].by_user_id -> by_user_id
        base = snake_name(format_path(parse_path(path)[1:])) if table != target_name else ""
        base = base or snake_name(path)
        if not base:
            problems.append(f"{KEY_INVENTORY_FILE}:{rows.get(id(p), 0)}: key path {path!r} of "
                            f"V1 {v1} has no usable snake_case name; add its spec row by hand "
                            f"or ignore it in seeds/xano_ignored_keys.csv")
            continue
        name = unique_name(base, taken_here)
        taken_here.add(name)
        if base in by_name and by_name[base] != path:
            out.notes.append(f"{by_name[base]} and {path} both snake_case to {base}: "
                             f"drafted as {base} and {name}")
        by_name.setdefault(base, path)
        transform, v2_type = ("jsonb", "jsonb") if _container(p) else _type_of(p)
        if transform == "jsonb":
            held.add(path)
        out.columns.append(_column(table, name, path, transform, v2_type, True,
                                   is_sensitive(path, list(spec.sensitive_patterns)), "",
                                   _description(p, v2_type)))
    if problems:
        raise SpecError(problems)
    return out


# -- writing ----------------------------------------------------------------------------------
def _appended(path: Path, rows: list[dict[str, str]]) -> str:
    """The file's text with ``rows`` appended in its own column order (existing bytes kept)."""
    text = read_exact(path) if path.exists() else ""
    header = next(csv.reader(io.StringIO(text, newline=""))) if text else []
    if not header:
        raise SpecError([f"{path.name}: has no header row"])
    missing = [k for k in rows[0] if k not in header and rows[0][k]]
    if missing:
        raise SpecError([f"{path.name}: header lacks column(s) {', '.join(missing)}"])
    buf = io.StringIO()
    plain = csv.writer(buf, lineterminator="\n")
    quoted = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for r in rows:
        cells = [r.get(h, "") for h in header]
        (quoted if any("\r" in c for c in cells) else plain).writerow(cells)
    if text and not text.endswith("\n"):
        text += "\n"
    return text + buf.getvalue()


def append(root: Path, result: Draft) -> list[str]:
    """Append the drafted rows to the spec files; both files or neither. Returns files written."""
    staged = []
    for name, rows in ((V2_TABLES_FILE, result.tables), (V2_COLUMNS_FILE, result.columns)):
        if rows:
            staged.append((root / name, _appended(root / name, rows)))
    temps = []
    try:
        for path, text in staged:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            temps.append((tmp, path))
        for tmp, path in temps:
            os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return [str(path.relative_to(root)) for path, _ in staged]
