"""The registry of V1 tables, read from seeds/xano_v1_tables.csv: adding a table is a row.

Each row names a V1 table (the logical name the spec and the models use), its Xano workspace
and table id; the relation is ``mvpw<workspace>_<table_id>``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from generator.config import V1_TABLES_FILE
from generator.errors import SpecError

NAME = re.compile(r"[a-z_][a-z0-9_]{0,45}")
"""A V1 table name: it names a dbt source and the model ``xano_accounting__<name>``."""


@dataclass(frozen=True)
class V1Table:
    """A registered V1 table."""

    name: str
    """Logical name (``user``)."""
    table_id: int
    """Xano table id; the relation is ``mvpw<workspace>_<table_id>``."""
    workspace: int = 1
    """Xano workspace id."""
    description: str = ""
    """What the table holds."""
    row: int = 0
    """Line in the registry file (for messages)."""

    @property
    def relation(self) -> str:
        """Physical table name, e.g. ``mvpw1_41``.

        >>> V1Table("user", 41).relation
        'mvpw1_41'
        """
        return f"mvpw{self.workspace}_{self.table_id}"


@dataclass(frozen=True)
class Registry:
    """Every registered V1 table, in file order."""

    tables: tuple[V1Table, ...] = ()

    def names(self) -> list[str]:
        """Logical names in file order."""
        return [t.name for t in self.tables]

    def table(self, name: str) -> V1Table:
        """A V1 table by logical name or relation name; KeyError listing the known names.

        >>> Registry((V1Table("user", 41),)).table("mvpw1_41").name
        'user'
        """
        for t in self.tables:
            if name in (t.name, t.relation):
                return t
        raise KeyError(f"unknown V1 table {name!r} (known: {', '.join(self.names())})")

    def select(self, names: list[str]) -> list[V1Table]:
        """The tables named (all when ``names`` is empty); KeyError for an unknown one."""
        return [self.table(n) for n in names] if names else list(self.tables)


def _int(value: str | None) -> int | None:
    try:
        n = int((value or "").strip())
    except ValueError:
        return None
    return n if n > 0 else None


def build_registry(rows: list[tuple[int, dict[str, str]]]) -> Registry:
    """A validated registry from CSV rows; SpecError with one ``file:row`` line per problem.

    >>> build_registry([(2, {"v1_table": "user", "workspace": "1", "table_id": "41"})]).names()
    ['user']
    """
    problems: list[str] = []
    tables: list[V1Table] = []
    names: dict[str, int] = {}
    relations: dict[str, int] = {}
    for line, r in rows:
        where = f"{V1_TABLES_FILE}:{line}"
        name = (r.get("v1_table") or "").strip()
        ws, tid = _int(r.get("workspace")), _int(r.get("table_id"))
        bad = []
        if not NAME.fullmatch(name):
            bad.append(f"V1 table name {name!r} must be lower-case letters, digits and _ "
                       "(at most 46; it names a dbt source and models)")
        if ws is None:
            bad.append(f"workspace must be a positive integer, got {r.get('workspace')!r}")
        if tid is None:
            bad.append(f"table_id must be a positive integer, got {r.get('table_id')!r}")
        if bad:
            problems += [f"{where}: {b}" for b in bad]
            continue
        t = V1Table(name, tid, ws, (r.get("description") or "").strip(), line)
        if name in names:
            problems.append(f"{where}: V1 table {name!r} is registered twice "
                            f"(first at row {names[name]})")
        if t.relation in relations:
            problems.append(f"{where}: relation {t.relation} is registered twice "
                            f"(first at row {relations[t.relation]})")
        names.setdefault(name, line)
        relations.setdefault(t.relation, line)
        tables.append(t)
    if problems:
        raise SpecError(problems)
    return Registry(tuple(tables))


def load_registry(root: Path) -> Registry:
    """The registry of the project at ``root``."""
    path = root / V1_TABLES_FILE
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(enumerate(csv.DictReader(fh), start=2))
    except OSError as exc:
        raise SpecError([f"{V1_TABLES_FILE}: cannot read ({exc.strerror})"]) from None
    return build_registry(rows)
