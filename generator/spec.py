"""The mapping spec (reviewed data in seeds/): read, build, validate.

Files: ``xano_v2_tables.csv`` (one row per V2 table), ``xano_v2_columns.csv`` (one row per V2
column), ``xano_ignored_keys.csv`` (V1 keys deliberately not migrated, with a reason) and
``xano_sensitive_keys.csv`` (the masking rule). :func:`build_spec` turns their rows into typed
values and every problem into one ``file:row: message`` line, all at once.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from generator.config import (
    IGNORED_FILE,
    SENSITIVE_FILE,
    V2_COLUMNS_FILE,
    V2_TABLES_FILE,
)
from generator.errors import SpecError
from generator.keypath import Step, parse_path
from generator.registry import Registry, V1Table, load_registry

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
PROVENANCES = ("documented", "proposed")
"""Where a spec column comes from: the owner's documents, or a proposal made here."""
PH_THIS, PH_REF, PH_SOURCE, PH_ROWS = "__dbt_this__", "__ref__", "__source__", "__rows__"
PH_STAGE = "__stage__"
RESERVED_PREFIXES = (PH_THIS, PH_REF, PH_SOURCE, PH_ROWS, PH_STAGE)
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
    from generator.spec_checks import validate  # the rules need the types above

    problems += validate(spec, orphans)
    if problems:
        raise SpecError(problems)
    return spec
