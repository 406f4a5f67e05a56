"""The mapping spec (reviewed data in seeds/): read, build, validate.

Files: ``xano_v2_tables.csv`` (one row per V2 table), ``xano_v2_columns.csv`` (one row per V2
column), ``xano_ignored_keys.csv`` (V1 keys deliberately not migrated, with a reason) and
``xano_sensitive_keys.csv`` (the masking rule). :func:`build_spec` turns their rows into typed
values and every problem into one ``file:row: message`` line, all at once.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from generator.config import (
    IGNORED_FILE,
    MAX_IDENT,
    SENSITIVE_FILE,
    UNMAPPED_COLUMN,
    V1_TABLES_FILE,
    V2_COLUMNS_FILE,
    V2_TABLES_FILE,
)
from generator.errors import SpecError
from generator.keypath import Step, parse_path
from generator.registry import Registry, V1Table, load_registry
from generator.transforms import TRANSFORMS

SPECIAL_PATHS = {"$id", "$parent_id", "$position", "$element_id"}
"""Column sources that are not V1 keys: row id, parent id, array position, element id."""
CLOSURE_PATHS = {"$id", "$ancestor", "$descendant", "$depth", "$path"}
"""Column sources of a closure table: pair id, ancestor, descendant, depth, path."""
GRAINS = {"row", "array", "closure"}
"""'row': one V2 row per V1 row; 'array': one V2 row per element of a V1 array; 'closure':
one V2 row per (ancestor, descendant) pair reachable through the links the V1 rows hold
(``array_path`` names them: ``<from key>><to key>``)."""
LIVE_LAYOUTS = ("columns", "jsonb")
"""Layouts of a live V2 table: Xano's standard SQL (one typed column per V2 column; the
default, as in every workspace created since Xano 1.68) or Xano's JSONB ``(id, xdo jsonb)``."""
_LIVE_RELATION = re.compile(r"(?:[a-z_][a-z0-9_$]{0,62}\.)?[a-z_][a-z0-9_$]{0,62}")
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_JINJA = ("{{", "{%", "{#", "}}", "%}", "#}")
PROVENANCES = ("documented", "proposed")
"""Where a spec column comes from: the owner's documents, or a proposal made here."""
PH_THIS, PH_REF, PH_SOURCE, PH_ROWS = "__dbt_this__", "__ref__", "__source__", "__rows__"
RESERVED_PREFIXES = (PH_THIS, PH_REF, PH_SOURCE, PH_ROWS)
"""The one home of the placeholder names: quoted identifiers with these prefixes are what the
generated SQL turns into Jinja (``generator.emit.text.placeholders``: ``{{ this }}``, ``ref``,
``source``, ``xano_v1_rows``). A V2 table or column name may not start with one; a V1 key that
does is read as a literal, never as a record column (``generator.sql.build.fits_record``)."""

Rows = list[tuple[int, dict[str, str]]]
"""CSV rows with their line numbers (the header is line 1)."""


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
    """Transform from the vocabulary (generator.transforms)."""
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
    provenance: str = "proposed"
    """'documented' (the owner's documents give this mapping) or 'proposed' (inferred here)."""
    source: str = ""
    """Which document (for a documented mapping) or what the proposal rests on."""

    @property
    def special(self) -> bool:
        """True for identity columns that do not come from a V1 key."""
        return self.v1_path in SPECIAL_PATHS or self.v1_path in CLOSURE_PATHS

    def steps(self) -> tuple[Step, ...]:
        """The parsed V1 key path: (key, array follows) per level."""
        return parse_path(self.v1_path)

    @property
    def top_key(self) -> str:
        """The top-level V1 key this column reads."""
        return self.steps()[0][0]


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
    live_relation: str = ""
    """Live V2 table as ``[schema.]name`` ('' for ``public.mvpw<V2 workspace>_<v2_id>``)."""
    live_layout: str = ""
    """'columns' (Xano's standard SQL) or 'jsonb' (Xano's ``id, xdo``); '' means columns."""
    v2_id_assumed: bool = False
    """True when ``v2_id`` was chosen here and is not yet confirmed by the live workspace."""
    natural_key: tuple[str, ...] = ()
    """V2 columns that identify a main table's record on both sides (e.g. ``email``): a live
    row with the same id but another natural key is another record (a collision)."""

    @property
    def is_main(self) -> bool:
        """True for the main table of its V1 table."""
        return not self.parent and self.grain != "closure"

    @property
    def links(self) -> tuple[str, str]:
        """A closure table's link keys: (from key, to key) of ``array_path`` ``from>to``.

        >>> Table("h", "", "n", "network", "closure", "sponsor_id>agent_id", "", "", "H").links
        ('sponsor_id', 'agent_id')
        """
        a, _, b = self.array_path.partition(">")
        return a.strip(), b.strip()

    @property
    def layout(self) -> str:
        """The live layout with the default applied.

        >>> Table("u", "1", "u", "user", "row", "", "", "", "Users").layout
        'columns'
        """
        return self.live_layout or "columns"

    @property
    def has_live(self) -> bool:
        """True when publish knows the live table: a V2 id, or a live_relation."""
        return bool(self.v2_id or self.live_relation)

    def live_name(self, workspace: int) -> tuple[str, str]:
        """(schema, relation) of the live V2 table in V2 workspace ``workspace``.

        >>> Table("u", "664", "u", "user", "row", "", "", "", "Users").live_name(2)
        ('public', 'mvpw2_664')
        >>> Table("u", "", "u", "user", "row", "", "", "", "U", live_relation="app.users"
        ...       ).live_name(2)
        ('app', 'users')
        """
        if self.live_relation:
            schema, _, name = self.live_relation.rpartition(".")
            return schema or "public", name
        return "public", f"mvpw{workspace}_{self.v2_id}"


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
    """V2 tables in file order."""
    ignored: tuple[Ignored, ...]
    """V1 keys deliberately not migrated."""
    sensitive_patterns: tuple[str, ...]
    """Glob patterns of sensitive key names."""
    registry: Registry = Registry()
    """The registered V1 tables (seeds/xano_v1_tables.csv)."""

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
        return [n for n in self.registry.names() if n in used]

    def v1(self, name: str) -> V1Table:
        """The registered V1 table called ``name``."""
        return self.registry.table(name)


def read_rows(root: Path, name: str) -> Rows:
    """Rows of one seed CSV with their line numbers; SpecError when unreadable."""
    path = root / name
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            return list(enumerate(csv.DictReader(fh), start=2))
    except OSError as exc:
        raise SpecError([f"{name}: cannot read ({exc.strerror})"]) from None


def load_sensitive_patterns(root: Path) -> list[str]:
    """The sensitive-key rule: glob patterns of seeds/xano_sensitive_keys.csv."""
    return [r["pattern"].strip() for _, r in read_rows(root, SENSITIVE_FILE)
            if (r.get("pattern") or "").strip()]


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


def load_spec(root: Path) -> Spec:
    """Read and validate the spec files of ``root``; raises SpecError with one line per problem."""
    return build_spec(read_rows(root, V2_TABLES_FILE), read_rows(root, V2_COLUMNS_FILE),
                      read_rows(root, IGNORED_FILE), read_rows(root, SENSITIVE_FILE),
                      load_registry(root))


def build_spec(table_rows: Rows, column_rows: Rows, ignored_rows: Rows = (),
               sensitive_rows: Rows = (), registry: Registry | None = None) -> Spec:
    """A validated Spec from CSV rows (pure); raises SpecError listing every problem.

    >>> t = [(2, {"v2_table": "u", "v2_id": "1", "domain": "u", "v1_table": "user",
    ...           "grain": "row", "array_path": "", "parent": "", "parent_column": "",
    ...           "description": "Users"})]
    >>> c = [(2, {"v2_table": "u", "column": "id", "v1_path": "$id", "transform": "id",
    ...           "v2_type": "bigint", "nullable": "false", "description": "Key"})]
    >>> build_spec(t, c, registry=Registry((V1Table("user", 41),))).table("u").columns[0].nullable
    False
    """
    problems: list[str] = []
    cols_by_table: dict[str, list[Column]] = {}
    for line, r in column_rows:
        try:
            # key paths are taken verbatim: V1 keys may begin or end with whitespace
            c = Column(r["v2_table"].strip(), r["column"].strip(), r["v1_path"],
                       r["transform"].strip(), r["v2_type"].strip().lower(),
                       _flag(r.get("nullable", "true")), _flag(r.get("sensitive")),
                       (r.get("references") or "").strip(), (r.get("description") or "").strip(),
                       line, (r.get("provenance") or "").strip().lower() or "proposed",
                       (r.get("source") or "").strip())
        except (KeyError, AttributeError):
            problems.append(f"{V2_COLUMNS_FILE}:{line}: missing field(s)")
            continue
        cols_by_table.setdefault(c.table, []).append(c)
    tables: list[Table] = []
    for line, r in table_rows:
        try:
            name = r["v2_table"].strip()
            t = Table(name, r["v2_id"].strip(), r["domain"].strip(), r["v1_table"].strip(),
                      r["grain"].strip(), r["array_path"], r["parent"].strip(),
                      r["parent_column"].strip(), r["description"].strip(),
                      tuple(cols_by_table.get(name, [])), line,
                      (r.get("live_relation") or "").strip(),
                      (r.get("live_layout") or "").strip().lower(),
                      _flag(r.get("v2_id_assumed")),
                      tuple(k.strip() for k in (r.get("natural_key") or "").split(",")
                            if k.strip()))
        except (KeyError, AttributeError):
            problems.append(f"{V2_TABLES_FILE}:{line}: missing field(s)")
            continue
        tables.append(t)
    ignored = []
    for line, r in ignored_rows:
        try:
            ignored.append(Ignored(r["v1_table"].strip(), r["key_path"], r["reason"].strip(),
                                   line))
        except (KeyError, AttributeError):
            problems.append(f"{IGNORED_FILE}:{line}: missing field(s)")
    patterns = tuple(r["pattern"].strip() for _, r in sensitive_rows
                     if (r.get("pattern") or "").strip())
    spec = Spec(tuple(tables), tuple(ignored), patterns, registry or Registry())
    orphans = {n: cols[0].row for n, cols in cols_by_table.items()
               if n not in {t.name for t in tables}}
    problems += validate(spec, orphans)
    if problems:
        raise SpecError(problems)
    return spec


def validate(spec: Spec, orphan_tables: dict[str, int] | None = None) -> list[str]:
    """All problems of a spec, one line each (file:row: message).

    ``orphan_tables``: V2 table names that only the columns file knows, with their first row.
    """
    out: list[str] = []
    names = [t.name for t in spec.tables]
    known_v1 = set(spec.registry.names())
    for name, row in sorted((orphan_tables or {}).items()):
        out.append(f"{V2_COLUMNS_FILE}:{row}: column of unknown V2 table {name!r}")
    seen: set[str] = set()
    for t in spec.tables:
        where = f"{V2_TABLES_FILE}:{t.row}"
        if t.name in seen:
            out.append(f"{where}: V2 table {t.name!r} defined twice")
        seen.add(t.name)
        if not _PLAIN_NAME.fullmatch(t.name):
            out.append(f"{where}: V2 table name {t.name!r} must be a plain identifier "
                       f"(letters, digits, _; at most {MAX_IDENT} bytes): it is a dbt model name")
        elif t.name.startswith(RESERVED_PREFIXES):
            out.append(f"{where}: V2 table name {t.name!r} starts with a prefix reserved for "
                       f"generated placeholders ({', '.join(RESERVED_PREFIXES)})")
        if not _PLAIN_NAME.fullmatch(t.domain):
            out.append(f"{where}: domain {t.domain!r} must be a plain identifier (it names a "
                       "folder and a doc block)")
        if t.v1_table not in known_v1:
            out.append(f"{where}: V1 table {t.v1_table!r} is not registered in "
                       f"{V1_TABLES_FILE}")
        if t.grain not in GRAINS:
            out.append(f"{where}: grain must be one of {sorted(GRAINS)}, got {t.grain!r}")
        if t.grain == "array" and not t.array_path:
            out.append(f"{where}: array grain needs array_path")
        if t.grain == "closure":
            out += _check_closure(t, where)
        if t.parent and t.parent not in names:
            out.append(f"{where}: parent {t.parent!r} does not exist")
        if t.parent and not t.parent_column:
            out.append(f"{where}: parent_column is required when parent is set")
        if not t.description:
            out.append(f"{where}: description is empty")
        out += _check_live(t, where)
        names_here = {c.name for c in t.columns}
        for k in t.natural_key:
            if k not in names_here:
                out.append(f"{where}: natural_key column {k!r} is not a column of {t.name}")
        if t.natural_key and t.parent:
            out.append(f"{where}: natural_key is for main and closure tables (split and child "
                       "tables match on their parent FK)")
        keys = [c for c in t.columns if c.name == "id"]
        if not keys:
            out.append(f"{where}: V2 table {t.name!r} has no key column 'id'")
        if t.parent and t.parent_column not in {c.name for c in t.columns}:
            out.append(f"{where}: parent_column {t.parent_column!r} is not a column of {t.name}")
        col_seen: set[str] = set()
        for c in t.columns:
            out += _check_column(t, c, col_seen, names)
    live: dict[str, str] = {}
    for t in spec.tables:  # two V2 tables must never write one live table
        key = t.live_relation or (f"v2 id {t.v2_id}" if t.v2_id else "")
        if key and key in live:
            out.append(f"{V2_TABLES_FILE}:{t.row}: {t.name} and {live[key]} would publish to "
                       f"the same live table ({key})")
        live.setdefault(key, t.name)
    mains = {}
    for t in spec.tables:
        if t.is_main:
            if t.v1_table in mains:
                out.append(f"{V2_TABLES_FILE}:{t.row}: V1 table {t.v1_table!r} has two main tables "
                           f"({mains[t.v1_table]}, {t.name})")
            mains[t.v1_table] = t.name
    for t in spec.tables:
        if t.v1_table not in mains and t.v1_table in known_v1:
            out.append(f"{V2_TABLES_FILE}:{t.row}: V1 table {t.v1_table!r} has no main table")
    out += _cycles(spec)
    for ig in spec.ignored:
        if ig.v1_table not in known_v1:
            out.append(f"{IGNORED_FILE}:{ig.row}: V1 table {ig.v1_table!r} is not registered in "
                       f"{V1_TABLES_FILE}")
        if not ig.reason:
            out.append(f"{IGNORED_FILE}:{ig.row}: a reason is required")
    return out


def _check_closure(t: Table, where: str) -> list[str]:
    """A closure table: its links, no parent, only closure columns, the pair as natural key."""
    out = []
    a, b = t.links
    if not a or not b or ">" in b or "." in a + b or "[" in a + b:
        out.append(f"{where}: closure grain needs array_path <from key>><to key> (two top-level "
                   f"V1 keys holding the ids of a link), got {t.array_path!r}")
    if t.parent:
        out.append(f"{where}: a closure table has no parent (it is derived from the links of "
                   "all V1 rows)")
    sources = {c.v1_path: c.name for c in t.columns}
    for need in ("$ancestor", "$descendant"):
        if need not in sources:
            out.append(f"{where}: closure table {t.name} needs a column from {need}")
    if {sources.get("$ancestor"), sources.get("$descendant")} != set(t.natural_key):
        out.append(f"{where}: a closure table's natural_key is its $ancestor and $descendant "
                   "columns")
    return out


def _check_live(t: Table, where: str) -> list[str]:
    """The V2 id and the live table of one V2 table."""
    out = []
    if t.v2_id and not (t.v2_id.isdigit() and int(t.v2_id) > 0):
        out.append(f"{where}: v2_id must be a positive integer, got {t.v2_id!r}")
    if t.live_relation and not _LIVE_RELATION.fullmatch(t.live_relation):
        out.append(f"{where}: live_relation must be [schema.]name in lower-case letters, "
                   f"digits and _, got {t.live_relation!r}")
    if t.live_layout and t.live_layout not in LIVE_LAYOUTS:
        out.append(f"{where}: live_layout must be one of {', '.join(LIVE_LAYOUTS)} (empty: "
                   f"columns), got {t.live_layout!r}")
    return out


def _check_column(t: Table, c: Column, seen: set[str], names: list[str]) -> list[str]:
    out = []
    where = f"{V2_COLUMNS_FILE}:{c.row}"
    if c.name in seen:
        out.append(f"{where}: column {c.name!r} appears twice in {t.name}")
    seen.add(c.name)
    if any(tok in c.name for tok in _JINJA):
        out.append(f"{where}: column name {c.name!r} contains Jinja delimiters")
    if c.name.startswith(RESERVED_PREFIXES):
        out.append(f"{where}: column name {c.name!r} starts with a prefix reserved for "
                   f"generated placeholders ({', '.join(RESERVED_PREFIXES)})")
    if not c.name or len(c.name.encode()) > MAX_IDENT or c.name == UNMAPPED_COLUMN:
        out.append(f"{where}: column name must be 1-{MAX_IDENT} bytes and not {UNMAPPED_COLUMN}")
    if c.transform not in TRANSFORMS:
        out.append(f"{where}: unknown transform {c.transform!r} "
                   f"(known: {', '.join(sorted(TRANSFORMS))})")
    elif TRANSFORMS[c.transform].v2_type != c.v2_type:
        out.append(f"{where}: transform {c.transform} produces "
                   f"{TRANSFORMS[c.transform].v2_type}, not {c.v2_type}")
    if not c.description:
        out.append(f"{where}: description is empty")
    if c.provenance not in PROVENANCES:
        out.append(f"{where}: provenance must be one of {', '.join(PROVENANCES)} (empty: "
                   f"proposed), got {c.provenance!r}")
    if c.references and c.references not in names:
        out.append(f"{where}: references unknown V2 table {c.references!r}")
    if t.grain == "closure":
        if c.v1_path not in CLOSURE_PATHS:
            out.append(f"{where}: a closure table's columns come from "
                       f"{', '.join(sorted(CLOSURE_PATHS))}, got {c.v1_path!r}")
        elif c.transform != ("closure_path" if c.v1_path == "$path" else "id"):
            out.append(f"{where}: {c.v1_path} needs transform "
                       f"{'closure_path' if c.v1_path == '$path' else 'id'}")
        return out
    if c.special:
        if c.v1_path in CLOSURE_PATHS - SPECIAL_PATHS:
            out.append(f"{where}: {c.v1_path} is only valid in a closure table")
        elif c.transform != "id":
            out.append(f"{where}: {c.v1_path} needs transform 'id'")
        elif t.grain == "row" and c.v1_path not in ("$id",):
            out.append(f"{where}: {c.v1_path} is only valid in an array-grain table")
        return out
    if c.v1_path.startswith("$"):
        out.append(f"{where}: unknown special source {c.v1_path!r}")
        return out
    try:
        steps = c.steps()
    except ValueError as exc:
        out.append(f"{where}: invalid V1 key path {c.v1_path!r}: {exc}")
        return out
    if not steps[0][0]:
        out.append(f"{where}: invalid V1 key path {c.v1_path!r}")
    arrays = [i for i, (_, arr) in enumerate(steps) if arr]
    if t.grain == "array":
        # tags[] (the elements) or tags[].a.b (keys of object elements, any depth)
        if steps[0] != (t.array_path, True) or arrays != [0]:
            out.append(f"{where}: in array table {t.name} the path must be "
                       f"{t.array_path}[].<key> or {t.array_path}[], got {c.v1_path!r}")
    elif arrays:
        out.append(f"{where}: {c.v1_path!r} is an array element path in a row-grain table")
    return out


def _cycles(spec: Spec) -> list[str]:
    parent = {t.name: t.parent for t in spec.tables}
    out = []
    for t in spec.tables:
        seen, cur = [t.name], t.parent
        while cur:
            if cur in seen:
                out.append(f"{V2_TABLES_FILE}:{t.row}: parent cycle {' -> '.join(seen + [cur])}")
                break
            seen.append(cur)
            cur = parent.get(cur, "")
    return out
