"""The census: every Xano table on a server, from the catalog only (no table is scanned).

A Xano instance keeps each table of each workspace as ``mvpw<workspace>_<table id>``: by default
in the JSONB layout (``id``, ``xdo jsonb``), on newer instances possibly as a plain column table.
The census lists them all with estimated rows and size, whether the registry knows them, and
how many V2 tables they feed, so the dashboard and the guide can show the whole migration's
scale next to the handful of tables in scope.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, fields
from pathlib import Path

import psycopg

from generator.config import CENSUS_FILE
from generator.errors import InventoryError
from generator.inventory import read_exact, render_csv
from generator.spec import Spec

XANO_TABLE = re.compile(r"mvpw([0-9]+)_([0-9]+)")
"""Name of a Xano table: workspace id, table id."""

_CATALOG = r"""
select
    n.nspname as schema,
    c.relname as relation,
    case when c.reltuples >= 0 then c.reltuples::bigint
         else coalesce(s.n_live_tup, 0) end as est_rows,
    pg_total_relation_size(c.oid) as bytes,
    array(
        select a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
        from pg_attribute a
        where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        order by a.attnum
    ) as columns
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
left join pg_stat_all_tables s on s.relid = c.oid
where c.relkind in ('r', 'p')
    and c.relname ~ '^mvpw[0-9]+_[0-9]+$'
    and n.nspname not in ('pg_catalog', 'information_schema')
    and n.nspname not like 'pg\_%'
order by n.nspname, c.relname
"""


@dataclass(frozen=True)
class CensusRow:
    """One Xano table found on the server (a row of seeds/xano_census.csv)."""

    schema: str
    """Schema holding it (``public`` on a Xano database, ``xano_v1`` in the local mirror)."""
    relation: str
    """``mvpw<workspace>_<table_id>``."""
    workspace: int
    """Xano workspace id."""
    table_id: int
    """Xano table id."""
    layout: str
    """``jsonb`` (id + xdo) or ``columns`` (one column per field)."""
    columns: int
    """Number of columns."""
    est_rows: int
    """Estimated rows (planner statistics; no scan)."""
    bytes: int
    """Total size on disk, indexes and TOAST included."""
    v1_table: str
    """Registered V1 name ('' when not registered)."""
    feeds: int
    """V2 tables the spec fills from it."""
    v2_table: str
    """The V2 table it is, when it lies in the V2 workspace and carries a spec V2 id."""


CENSUS_FIELDS = [f.name for f in fields(CensusRow)]
"""Columns of the census CSV."""


def layout_of(columns: list[str]) -> str:
    """``jsonb`` for Xano's (id, xdo jsonb) layout, else ``columns``.

    >>> layout_of(["id bigint", "xdo jsonb"]), layout_of(["id integer", "name text"])
    ('jsonb', 'columns')
    """
    names = {c.split(" ", 1)[0]: c.split(" ", 1)[1] for c in columns}
    return "jsonb" if set(names) == {"id", "xdo"} and names["xdo"] == "jsonb" else "columns"


def read_catalog(conn: psycopg.Connection, spec: Spec,
                 v2_workspace: int | None = None) -> list[CensusRow]:
    """Every Xano table the connection can see, described from the catalog."""
    registered = {t.relation: t.name for t in spec.registry.tables}
    v2_ids = {t.v2_id: t.name for t in spec.tables if t.v2_id}
    out = []
    for schema, relation, est_rows, size, columns in conn.execute(_CATALOG).fetchall():
        ws, tid = (int(x) for x in XANO_TABLE.fullmatch(relation).groups())
        v1 = registered.get(relation, "")
        v2 = v2_ids.get(str(tid), "") if v2_workspace is not None and ws == v2_workspace else ""
        out.append(CensusRow(schema, relation, ws, tid, layout_of(columns), len(columns),
                             int(est_rows), int(size), v1, len(spec.for_v1(v1)) if v1 else 0,
                             v2))
    return sorted(out, key=lambda r: (r.workspace, r.table_id, r.schema))


def write_census(root: Path, rows: list[CensusRow]) -> bool:
    """Write seeds/xano_census.csv (only when its bytes change); True when written."""
    path = root / CENSUS_FILE
    text = render_csv(rows, CENSUS_FIELDS)
    if path.exists() and read_exact(path) == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")
    return True


def read_census(root: Path) -> list[CensusRow]:
    """The committed census (empty when ``census`` never ran)."""
    path = root / CENSUS_FILE
    if not path.exists():
        return []
    out = []
    for i, r in enumerate(csv.DictReader(io.StringIO(read_exact(path), newline="")), start=2):
        try:
            out.append(CensusRow(r["schema"], r["relation"], int(r["workspace"]),
                                 int(r["table_id"]), r["layout"], int(r["columns"]),
                                 int(r["est_rows"]), int(r["bytes"]), r["v1_table"],
                                 int(r["feeds"]), r["v2_table"]))
        except (KeyError, ValueError, TypeError):
            raise InventoryError(f"{CENSUS_FILE}:{i}: unreadable census row; run "
                                 "`python -m generator census` again") from None
    return out


@dataclass(frozen=True)
class Summary:
    """Headline figures of a census, per workspace and in all."""

    workspaces: dict[int, dict[str, int]]
    """workspace -> {jsonb, columns, rows, bytes, registered, feeding}."""
    tables: int
    """Xano tables in all."""
    rows: int
    """Estimated rows in all."""
    bytes: int
    """Bytes in all."""
    registered: int
    """Tables in the registry."""
    in_scope: int
    """Registered tables that feed at least one V2 table."""
    in_scope_rows: int
    """Estimated rows of those."""


def summarize(rows: list[CensusRow]) -> Summary:
    """Totals of a census.

    >>> r = CensusRow("public", "mvpw1_41", 1, 41, "jsonb", 2, 335, 8192, "user", 7, "")
    >>> s = summarize([r, CensusRow("public", "mvpw2_9", 2, 9, "columns", 5, 10, 99, "", 0, "")])
    >>> s.tables, s.in_scope, s.workspaces[2]["columns"]
    (2, 1, 1)
    """
    ws: dict[int, dict[str, int]] = {}
    for r in rows:
        w = ws.setdefault(r.workspace, dict.fromkeys(
            ("jsonb", "columns", "rows", "bytes", "registered", "feeding"), 0))
        w[r.layout] += 1
        w["rows"] += r.est_rows
        w["bytes"] += r.bytes
        w["registered"] += bool(r.v1_table)
        w["feeding"] += bool(r.feeds)
    scope = [r for r in rows if r.feeds]
    return Summary(dict(sorted(ws.items())), len(rows), sum(r.est_rows for r in rows),
                   sum(r.bytes for r in rows), sum(bool(r.v1_table) for r in rows), len(scope),
                   sum(r.est_rows for r in scope))


def role_of(r: CensusRow) -> str:
    """What a table is to this migration, in a few words.

    >>> role_of(CensusRow("public", "mvpw1_41", 1, 41, "jsonb", 2, 335, 1, "user", 7, ""))
    'V1 user -> 7 V2 table(s)'
    """
    if r.feeds:
        return f"V1 {r.v1_table} -> {r.feeds} V2 table(s)"
    if r.v1_table:
        return f"registered as {r.v1_table}, not mapped"
    return f"V2 {r.v2_table}" if r.v2_table else "out of scope"


def size_text(n: int) -> str:
    """Bytes for people.

    >>> size_text(0), size_text(1536), size_text(5 * 1024 ** 3)
    ('0 B', '1.5 KiB', '5.0 GiB')
    """
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def take_census(root: Path, spec: Spec, conn: psycopg.Connection,
                v2_workspace: int | None = None) -> tuple[list[CensusRow], bool]:
    """Read the catalog over ``conn`` (only reads), write the census seed.

    Returns the rows and whether the seed file changed.
    """
    rows = read_catalog(conn, spec, v2_workspace)
    return rows, write_census(root, rows)
