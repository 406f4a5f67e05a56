"""The mapping spec (reviewed data in seeds/): load, validate, and the coverage gate.

Files: ``xano_v2_tables.csv`` (one row per V2 table), ``xano_v2_columns.csv`` (one row per V2
column), ``xano_ignored_keys.csv`` (V1 keys deliberately not migrated, with a reason) and
``xano_sensitive_keys.csv`` (the masking rule).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from generator import inventory as inv
from generator.errors import SpecError
from generator.registry import V1_TABLES

TABLES_FILE = "seeds/xano_v2_tables.csv"
COLUMNS_FILE = "seeds/xano_v2_columns.csv"
IGNORED_FILE = "seeds/xano_ignored_keys.csv"
SENSITIVE_FILE = "seeds/xano_sensitive_keys.csv"

TRANSFORMS: dict[str, str] = {
    "id": "bigint",
    "bigint": "bigint",
    "numeric": "numeric",
    "boolean": "boolean",
    "epoch_ms": "timestamptz",
    "date": "date",
    "text": "text",
    "trim": "text",
    "lower_trim": "text",
    "image_url": "text",
    "jsonb": "jsonb",
}
"""Transform vocabulary -> V2 type it produces (each is a function in schema xano_fn)."""
TRANSFORM_DOCS: dict[str, str] = {
    "id": "row identity (V1 id, parent id or array position); never null",
    "bigint": "JSON integer or integer string -> bigint; fractions, overflow, text -> reject",
    "numeric": "JSON number or numeric string (\"1,234.50\" accepted) -> numeric",
    "boolean": "true/false, 1/0, \"true\"/\"yes\"/\"1\"/... -> boolean",
    "epoch_ms": "Unix epoch milliseconds -> timestamptz (values < 1e11 are read as seconds; "
                "exact to the microsecond for years 1827-2112, within 30 µs up to 9999)",
    "date": "\"YYYY-MM-DD\" -> date (impossible dates like 2023-02-30 -> reject)",
    "text": "scalar -> text as is",
    "trim": "scalar -> text with surrounding whitespace (incl. NBSP) removed",
    "lower_trim": "scalar -> trimmed, lower-cased text (emails)",
    "image_url": "Xano image object -> its path (a plain string is kept)",
    "jsonb": "any JSON value kept as jsonb (JSON null -> NULL)",
}
SPECIAL_PATHS = {"$id", "$parent_id", "$position", "$element_id"}
GRAINS = {"row", "array"}
MAX_IDENT = 63
ARRAY_ID_FACTOR = 1_000_000
"""Array-grain ids: parent id * factor + position (positions >= factor are rejected)."""
UNMAPPED_COLUMN = "_v1_unmapped"


@dataclass(frozen=True)
class Column:
    """One V2 column of the spec."""

    table: str
    """V2 table name."""
    name: str
    """V2 column name."""
    v1_path: str
    """V1 key path (inventory encoding) or a special source ($id, $parent_id, ...)."""
    transform: str
    """Transform from the vocabulary (TRANSFORMS)."""
    v2_type: str
    """Postgres type of the V2 column."""
    nullable: bool
    """False for key columns."""
    sensitive: bool
    """Value is masked in every output."""
    references: str
    """V2 table whose id this column references ('' for none)."""
    description: str
    """Human description (the origin and transform are appended in docs)."""
    row: int = 0
    """Line in the CSV (for messages)."""

    @property
    def special(self) -> bool:
        """True for identity columns that do not come from a V1 key."""
        return self.v1_path in SPECIAL_PATHS

    def path_parts(self) -> tuple[str, str | None, str]:
        """Decoded V1 path: (key, sub_key, kind)."""
        return inv.decode_path(self.v1_path)


@dataclass(frozen=True)
class Table:
    """One V2 table of the spec."""

    name: str
    """V2 table name (also the dbt model name)."""
    v2_id: str
    """Xano V2 table id ('' when not documented)."""
    domain: str
    """Domain (selection group)."""
    v1_table: str
    """Source V1 table (logical name)."""
    grain: str
    """'row' (one row per V1 row) or 'array' (one row per element of array_path)."""
    array_path: str
    """Top-level V1 key holding the array (array grain)."""
    parent: str
    """V2 table this one splits from ('' for a main table)."""
    parent_column: str
    """Column referencing the parent's id."""
    description: str
    """Human description."""
    columns: tuple[Column, ...] = field(default=())
    """Columns in spec order."""
    row: int = 0

    @property
    def is_main(self) -> bool:
        """True for the main table of its V1 table."""
        return not self.parent


@dataclass(frozen=True)
class Ignored:
    """A V1 key deliberately not migrated."""

    v1_table: str
    key_path: str
    """Encoded path, or '*' for the whole table."""
    reason: str
    row: int = 0


@dataclass(frozen=True)
class Spec:
    """The whole reviewed mapping."""

    tables: tuple[Table, ...]
    ignored: tuple[Ignored, ...]
    sensitive_patterns: tuple[str, ...]

    def table(self, name: str) -> Table:
        """Table by name."""
        return next(t for t in self.tables if t.name == name)

    def main_table(self, v1_table: str) -> Table:
        """The main V2 table of a V1 table."""
        return next(t for t in self.tables if t.v1_table == v1_table and t.is_main)

    def for_v1(self, v1_table: str) -> list[Table]:
        """V2 tables fed by a V1 table, main first."""
        return [t for t in self.tables if t.v1_table == v1_table]

    def v1_tables(self) -> list[str]:
        """V1 tables that feed at least one V2 table, in registry order."""
        used = {t.v1_table for t in self.tables}
        return [t.name for t in V1_TABLES if t.name in used]


def _read(root: Path, name: str) -> list[tuple[int, dict[str, str]]]:
    path = root / name
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            return [(i, row) for i, row in enumerate(csv.DictReader(fh), start=2)]
    except OSError as exc:
        raise SpecError([f"{name}: cannot read ({exc.strerror})"]) from None


def _flag(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes")


def load_spec(root: Path) -> Spec:
    """Read and validate the spec; raises SpecError with one line per problem."""
    problems: list[str] = []
    trows = _read(root, TABLES_FILE)
    crows = _read(root, COLUMNS_FILE)
    irows = _read(root, IGNORED_FILE)
    srows = _read(root, SENSITIVE_FILE)
    cols_by_table: dict[str, list[Column]] = {}
    for line, r in crows:
        try:
            # key paths are taken verbatim: V1 keys may begin or end with whitespace
            c = Column(r["v2_table"].strip(), r["column"].strip(), r["v1_path"],
                       r["transform"].strip(), r["v2_type"].strip().lower(),
                       _flag(r.get("nullable", "true")), _flag(r.get("sensitive", "false")),
                       (r.get("references") or "").strip(), (r.get("description") or "").strip(),
                       line)
        except (KeyError, AttributeError):
            problems.append(f"{COLUMNS_FILE}:{line}: missing field(s)")
            continue
        cols_by_table.setdefault(c.table, []).append(c)
    tables: list[Table] = []
    for line, r in trows:
        try:
            name = r["v2_table"].strip()
            t = Table(name, r["v2_id"].strip(), r["domain"].strip(), r["v1_table"].strip(),
                      r["grain"].strip(), r["array_path"], r["parent"].strip(),
                      r["parent_column"].strip(), r["description"].strip(),
                      tuple(cols_by_table.get(name, [])), line)
        except (KeyError, AttributeError):
            problems.append(f"{TABLES_FILE}:{line}: missing field(s)")
            continue
        tables.append(t)
    ignored = tuple(Ignored(r["v1_table"].strip(), r["key_path"], r["reason"].strip(), i)
                    for i, r in irows)
    patterns = tuple(r["pattern"].strip() for _, r in srows if r.get("pattern", "").strip())
    spec = Spec(tuple(tables), ignored, patterns)
    problems += validate(spec, set(cols_by_table) - {t.name for t in tables}, cols_by_table)
    if problems:
        raise SpecError(problems)
    return spec


def validate(spec: Spec, orphan_tables: set[str] = frozenset(),
             cols_by_table: dict | None = None) -> list[str]:
    """All problems of a spec, one line each (file:row: message)."""
    out: list[str] = []
    names = [t.name for t in spec.tables]
    known_v1 = {t.name for t in V1_TABLES}
    for name in sorted(orphan_tables):
        row = (cols_by_table or {}).get(name, [None])[0]
        out.append(f"{COLUMNS_FILE}:{row.row if row else 0}: column of unknown V2 table {name!r}")
    seen: set[str] = set()
    for t in spec.tables:
        where = f"{TABLES_FILE}:{t.row}"
        if t.name in seen:
            out.append(f"{where}: V2 table {t.name!r} defined twice")
        seen.add(t.name)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", t.name):
            out.append(f"{where}: V2 table name {t.name!r} must be a plain identifier "
                       f"(letters, digits, _; at most {MAX_IDENT} bytes): it is a dbt model name")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", t.domain):
            out.append(f"{where}: domain {t.domain!r} must be a plain identifier (it names a "
                       "folder and a doc block)")
        if t.v1_table not in known_v1:
            out.append(f"{where}: unknown V1 table {t.v1_table!r}")
        if t.grain not in GRAINS:
            out.append(f"{where}: grain must be one of {sorted(GRAINS)}, got {t.grain!r}")
        if t.grain == "array" and not t.array_path:
            out.append(f"{where}: array grain needs array_path")
        if t.parent and t.parent not in names:
            out.append(f"{where}: parent {t.parent!r} does not exist")
        if t.parent and not t.parent_column:
            out.append(f"{where}: parent_column is required when parent is set")
        if not t.description:
            out.append(f"{where}: description is empty")
        keys = [c for c in t.columns if c.name == "id"]
        if not keys:
            out.append(f"{where}: V2 table {t.name!r} has no key column 'id'")
        if t.parent and t.parent_column not in {c.name for c in t.columns}:
            out.append(f"{where}: parent_column {t.parent_column!r} is not a column of {t.name}")
        col_seen: set[str] = set()
        for c in t.columns:
            out += _check_column(t, c, col_seen, names)
    mains = {}
    for t in spec.tables:
        if t.is_main:
            if t.v1_table in mains:
                out.append(f"{TABLES_FILE}:{t.row}: V1 table {t.v1_table!r} has two main tables "
                           f"({mains[t.v1_table]}, {t.name})")
            mains[t.v1_table] = t.name
    for t in spec.tables:
        if t.v1_table not in mains and t.v1_table in known_v1:
            out.append(f"{TABLES_FILE}:{t.row}: V1 table {t.v1_table!r} has no main table")
    out += _cycles(spec)
    for ig in spec.ignored:
        if ig.v1_table not in known_v1:
            out.append(f"{IGNORED_FILE}:{ig.row}: unknown V1 table {ig.v1_table!r}")
        if not ig.reason:
            out.append(f"{IGNORED_FILE}:{ig.row}: a reason is required")
    return out


def _check_column(t: Table, c: Column, seen: set[str], names: list[str]) -> list[str]:
    out = []
    where = f"{COLUMNS_FILE}:{c.row}"
    if c.name in seen:
        out.append(f"{where}: column {c.name!r} appears twice in {t.name}")
    seen.add(c.name)
    if any(tok in c.name for tok in ("{{", "{%", "{#", "}}", "%}", "#}")):
        out.append(f"{where}: column name {c.name!r} contains Jinja delimiters")
    if not c.name or len(c.name.encode()) > MAX_IDENT or c.name == UNMAPPED_COLUMN:
        out.append(f"{where}: column name must be 1-{MAX_IDENT} bytes and not {UNMAPPED_COLUMN}")
    if c.transform not in TRANSFORMS:
        out.append(f"{where}: unknown transform {c.transform!r} "
                   f"(known: {', '.join(sorted(TRANSFORMS))})")
    elif TRANSFORMS[c.transform] != c.v2_type:
        out.append(f"{where}: transform {c.transform} produces {TRANSFORMS[c.transform]}, "
                   f"not {c.v2_type}")
    if not c.description:
        out.append(f"{where}: description is empty")
    if c.references and c.references not in names:
        out.append(f"{where}: references unknown V2 table {c.references!r}")
    if c.special:
        if c.transform != "id":
            out.append(f"{where}: {c.v1_path} needs transform 'id'")
        if t.grain == "row" and c.v1_path not in ("$id",):
            out.append(f"{where}: {c.v1_path} is only valid in an array-grain table")
        return out
    if c.v1_path.startswith("$"):
        out.append(f"{where}: unknown special source {c.v1_path!r}")
        return out
    try:
        key, sub, kind = c.path_parts()
    except ValueError as exc:
        out.append(f"{where}: invalid V1 key path {c.v1_path!r}: {exc}")
        return out
    if not key:
        out.append(f"{where}: invalid V1 key path {c.v1_path!r}")
    if t.grain == "array":
        element_scalar = c.v1_path == inv.encode_path(t.array_path) + "[]"
        if not element_scalar and not (kind == "array" and key == t.array_path):
            out.append(f"{where}: in array table {t.name} the path must be "
                       f"{t.array_path}[].<key> or {t.array_path}[], got {c.v1_path!r}")
    elif kind == "array":
        out.append(f"{where}: {c.v1_path!r} is an array element path in a row-grain table")
    return out


def _cycles(spec: Spec) -> list[str]:
    parent = {t.name: t.parent for t in spec.tables}
    out = []
    for t in spec.tables:
        seen, cur = [t.name], t.parent
        while cur:
            if cur in seen:
                out.append(f"{TABLES_FILE}:{t.row}: parent cycle {' -> '.join(seen + [cur])}")
                break
            seen.append(cur)
            cur = parent.get(cur, "")
    return out


# -- coverage -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Coverage:
    """How the inventory's keys are accounted for."""

    claimed: dict[tuple[str, str], list[str]]
    """(v1_table, path) -> ['v2_table.column', ...]."""
    ignored: dict[tuple[str, str], str]
    """(v1_table, path) -> reason."""
    unclaimed: list[dict[str, str]]
    """Inventory rows nobody claims."""
    missing: list[Column]
    """Spec columns whose V1 path is not in the inventory (renamed in V1?)."""


def _prefixes(path: str) -> list[str]:
    key, sub, kind = inv.decode_path(path)
    if sub is None:
        return [path]
    top = inv.encode_path(key)
    return [path, top, top + "[]"] if kind == "array" else [path, top]


def coverage(spec: Spec, inventory_rows: list[dict[str, str]]) -> Coverage:
    """Claim every inventory key by a column, an array table, a jsonb ancestor or an ignore."""
    exact: dict[tuple[str, str], list[str]] = {}
    jsonb_cols: set[tuple[str, str]] = set()
    for t in spec.tables:
        if t.grain == "array":
            exact.setdefault((t.v1_table, inv.encode_path(t.array_path)), []).append(t.name)
        for c in t.columns:
            if c.special:
                continue
            exact.setdefault((t.v1_table, c.v1_path), []).append(f"{t.name}.{c.name}")
            if c.transform == "jsonb":
                jsonb_cols.add((t.v1_table, c.v1_path))
    ign = {(i.v1_table, i.key_path): i.reason for i in spec.ignored}
    claimed, ignored, unclaimed = {}, {}, []
    present = set()
    for row in inventory_rows:
        tk = (row["v1_table"], row["key_path"])
        present.add(tk)
        prefixes = _prefixes(row["key_path"])
        if tk in exact:
            claimed[tk] = exact[tk]
        elif any((tk[0], p) in jsonb_cols for p in prefixes[1:]):
            parent = next(p for p in prefixes[1:] if (tk[0], p) in jsonb_cols)
            claimed[tk] = [f"(inside {parent})"]
        elif (tk[0], "*") in ign or any((tk[0], p) in ign for p in prefixes):
            reason = ign.get((tk[0], "*")) or next(ign[(tk[0], p)] for p in prefixes
                                                   if (tk[0], p) in ign)
            ignored[tk] = reason
        else:
            unclaimed.append(row)
    def _needed(t: Table, c: Column) -> str:
        # an array of scalars (tags[]) is read through its array key
        scalar_elem = t.grain == "array" and c.v1_path == inv.encode_path(t.array_path) + "[]"
        return inv.encode_path(t.array_path) if scalar_elem else c.v1_path

    missing = [c for t in spec.tables for c in t.columns
               if not c.special and (t.v1_table, _needed(t, c)) not in present]
    return Coverage(claimed, ignored, unclaimed, missing)


def unclaimed_lines(rows: list[dict[str, str]]) -> list[str]:
    """One line per unclaimed key: table, path, row share, example."""
    out = []
    for r in rows:
        total = int(r.get("rows_total") or 0)
        share = int(r.get("rows_with_key") or 0) / total if total else 0.0
        out.append(f"  {r['v1_table']}.{r['key_path']}  ({share:.1%} of rows, "
                   f"{r.get('inferred_type') or '?'}, e.g. {r.get('example') or '-'!s})")
    return out
