"""The live V2 tables: where they are, their layout, a V2 row in Xano's conventions, and the
local record of their counts.

A live V2 table is, by default, ``public.mvpw<V2 workspace>_<v2_id>`` in Xano's JSONB layout
(``id bigint primary key, xdo jsonb``); the spec may name another relation and/or the
``columns`` layout (one column per V2 column, same names and types). Every statement here is
composed with ``psycopg.sql``; names never reach SQL as text.

Xano's conventions inside ``xdo`` (what :func:`payload` builds from a V2 row): timestamps as
epoch-millisecond numbers, dates as ``"YYYY-MM-DD"``, numerics as numbers, booleans, objects
and arrays as they are, NULL as JSON ``null`` (the key is kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from generator import catalog
from generator.config import AUDIT_SCHEMA, LIVE_SCHEMA, V2_SCHEMA
from generator.spec import Column, Spec, Table

PAIRS_PER_CALL = 50
"""jsonb_build_object takes at most 100 arguments: larger rows are built in chunks joined
with ``||``."""

HOLDS: dict[str, tuple[str, ...]] = {
    "bigint": ("bigint",),
    "numeric": ("numeric",),
    "boolean": ("boolean",),
    "timestamptz": ("timestamp with time zone",),
    "date": ("date",),
    "text": ("text", "character varying"),
    "jsonb": ("jsonb",),
}
"""V2 type -> live column types (``format_type``) that hold every value of it unchanged.

Narrower or lossy types (integer, numeric(p,s), varchar(n), timestamp without time zone,
json) are refused before anything is written."""


@dataclass(frozen=True)
class LiveTable:
    """One V2 table of the spec and the live table ``publish`` writes it to."""

    table: Table
    """The V2 table of the spec."""
    schema: str
    """Schema of the live table."""
    name: str
    """Relation name of the live table."""

    @property
    def layout(self) -> str:
        """'jsonb' or 'columns'."""
        return self.table.layout

    @property
    def ident(self) -> sql.Identifier:
        """The live relation as a quoted identifier."""
        return sql.Identifier(self.schema, self.name)

    @property
    def label(self) -> str:
        """``schema.name`` for messages."""
        return f"{self.schema}.{self.name}"

    @property
    def fields(self) -> tuple[Column, ...]:
        """The V2 columns publish writes besides ``id`` (keys of ``xdo`` / live columns)."""
        return tuple(c for c in self.table.columns if c.name != "id")

    @property
    def local(self) -> sql.Identifier:
        """The local V2 table (dbt model)."""
        return sql.Identifier(V2_SCHEMA, self.table.name)

    @property
    def copy(self) -> sql.Identifier:
        """The local copy of the live table made by ``mirror --v2-workspace``."""
        return sql.Identifier(LIVE_SCHEMA, self.table.name)


def live_tables(spec: Spec, workspace: int, tables: Sequence[Table] | None = None
                ) -> list[LiveTable]:
    """The live tables of ``tables`` (default: every V2 table) in V2 workspace ``workspace``.

    A V2 table with neither a V2 id nor a live_relation has no live table (a table drafted
    before its live id is known): it is left out.
    """
    out = []
    for t in tables if tables is not None else spec.tables:
        if not t.has_live:
            continue
        schema, name = t.live_name(workspace)
        out.append(LiveTable(t, schema, name))
    return out


# -- Xano's conventions --------------------------------------------------------------------------
def xano_value(value: sql.Composable, v2_type: str) -> sql.Composable:
    """A V2 value as the jsonb Xano stores (SQL NULL stays NULL: the object keeps the key).

    >>> from psycopg.sql import Identifier
    >>> xano_value(Identifier("d"), "date").as_string(None)
    'to_jsonb(to_char("d", \\'YYYY-MM-DD\\'))'
    """
    if v2_type == "timestamptz":
        return sql.SQL("to_jsonb(trim_scale(extract(epoch from {}) * 1000))").format(value)
    if v2_type == "date":
        return sql.SQL("to_jsonb(to_char({}, 'YYYY-MM-DD'))").format(value)
    if v2_type == "numeric":
        return sql.SQL("to_jsonb(trim_scale({}))").format(value)
    if v2_type == "jsonb":
        return value
    return sql.SQL("to_jsonb({})").format(value)


def _object(pairs: list[tuple[str, sql.Composable]]) -> sql.Composable:
    if not pairs:
        return sql.SQL("'{}'::jsonb")
    chunks = []
    for i in range(0, len(pairs), PAIRS_PER_CALL):
        args = [sql.SQL("{}, {}").format(sql.Literal(k), v) for k, v in
                pairs[i:i + PAIRS_PER_CALL]]
        chunks.append(sql.SQL("jsonb_build_object({})").format(sql.SQL(", ").join(args)))
    return sql.SQL(" || ").join(chunks)


def payload(lt: LiveTable, alias: str) -> sql.Composable:
    """``xdo`` of a V2 row (columns of ``alias``) in Xano's conventions, every key present."""
    return _object([(c.name, xano_value(sql.Identifier(alias, c.name), c.v2_type))
                    for c in lt.fields])


def live_payload(lt: LiveTable, alias: str) -> sql.Composable:
    """What a live row holds of the fields publish writes, in the form of :func:`payload`.

    JSONB layout: the publish's keys of ``xdo`` (a missing key reads as null; keys only the
    live V2 has are left out). Columns layout: the live columns converted like a V2 row.
    """
    if lt.layout == "columns":
        return payload(lt, alias)
    xdo = sql.Identifier(alias, "xdo")
    return _object([(c.name, sql.SQL("{} -> {}").format(xdo, sql.Literal(c.name)))
                    for c in lt.fields])


def live_hash(lt: LiveTable, alias: str) -> sql.Composable:
    """A cheap per-row hash of a live row, comparable only on the server that computed it.

    Used to notice a live row that changed since the last publish; equal values hash equal
    (jsonb and record hashing follow equality, e.g. 1.50 and 1.5). Seeded with the id, so two
    rows that swap their contents both change hash (bucket checks xor the hashes).
    """
    if lt.layout == "columns":
        return _record_hash(lt, alias)
    return sql.SQL("coalesce(jsonb_hash_extended({x}, {i}), {i})").format(
        x=sql.Identifier(alias, "xdo"), i=sql.Identifier(alias, "id"))


def local_hash(lt: LiveTable, alias: str) -> sql.Composable:
    """A cheap per-row hash of a local V2 row's published fields (local server only)."""
    return _record_hash(lt, alias)


def _record_hash(lt: LiveTable, alias: str) -> sql.Composable:
    # the trailing null keeps row() valid for a table with no field besides id
    cols = [sql.Identifier(alias, c.name) for c in lt.fields] + [sql.SQL("null::bigint")]
    return sql.SQL("hash_record_extended(row({}), {})").format(
        sql.SQL(", ").join(cols), sql.Identifier(alias, "id"))


def select_payload(lt: LiveTable, source: sql.Composable) -> sql.Composable:
    """``select id, xdo`` of a live table in the JSONB form (what mirror copies)."""
    return sql.SQL("select l.id::bigint as id, {p} as xdo from {s} l").format(
        p=live_payload(lt, "l") if lt.layout == "columns" else sql.SQL("l.xdo::jsonb"),
        s=source)


# -- layout check --------------------------------------------------------------------------------
def layout_problems(conn: psycopg.Connection, lt: LiveTable, write: bool = False,
                    delete: bool = False) -> list[str]:
    """What keeps ``lt`` from being read (and written, with ``write``), one line each.

    Checks the relation exists and is a table, the columns and their types, a unique key on
    ``id``, columns publish does not fill that would reject an insert, and (``write``) the
    role's privileges. Reads the catalog only.
    """
    rel = conn.execute("select to_regclass(format('%%I.%%I', %s::text, %s::text))::oid",
                       (lt.schema, lt.name)).fetchone()[0]
    where = f"live table {lt.label} (V2 {lt.table.name})"
    if rel is None:
        return [f"{where} does not exist"]
    kind = conn.execute("select relkind from pg_class where oid = %s", (rel,)).fetchone()[0]
    if kind not in ("r", "p"):
        return [f"{where} is not a table (relkind {kind})"]
    cols = {r[0]: r[1:] for r in conn.execute(
        "select attname, format_type(atttypid, atttypmod), attnotnull, atthasdef, "
        "attidentity <> '' or attgenerated <> '' from pg_attribute "
        "where attrelid = %s and attnum > 0 and not attisdropped", (rel,))}
    wanted = {"id": "bigint"}
    if lt.layout == "columns":
        wanted.update({c.name: c.v2_type for c in lt.fields})
    else:
        wanted["xdo"] = "jsonb"
    out = []
    for name, v2_type in wanted.items():
        if name not in cols:
            out.append(f"{where}: column {name} is missing ({lt.layout} layout)")
        elif cols[name][0] not in HOLDS[v2_type]:
            out.append(f"{where}: column {name} is {cols[name][0]}, which cannot hold "
                       f"every {v2_type} value (needs {' or '.join(HOLDS[v2_type])})")
    for name, (_, notnull, hasdef, generated) in cols.items():
        if name not in wanted and notnull and not hasdef and not generated:
            out.append(f"{where}: column {name} is not null without a default; publish "
                       "does not fill it, so an insert would fail")
    unique = conn.execute(
        "select count(*) from pg_index i where i.indrelid = %s and i.indisunique "
        "and i.indnatts = 1 and i.indpred is null and i.indexprs is null and "
        "i.indkey[0] = (select attnum from pg_attribute where attrelid = %s and attname = 'id')",
        (rel, rel)).fetchone()[0]
    if "id" in cols and not unique:
        out.append(f"{where}: no primary key or unique index on id")
    if write:
        need = ["SELECT", "INSERT", "UPDATE"] + (["DELETE"] if delete else [])
        missing = [p for p in need if not conn.execute(
            "select has_table_privilege(%s, %s)", (rel, p)).fetchone()[0]]
        if missing:
            user = conn.execute("select current_user").fetchone()[0]
            out.append(f"{where}: role {user} lacks {', '.join(missing)} privilege")
    return out


def id_sequence(conn: psycopg.Connection, lt: LiveTable) -> str | None:
    """The sequence behind the live table's ``id`` (serial or identity), as regclass text."""
    return conn.execute("select pg_get_serial_sequence(format('%%I.%%I', %s::text, %s::text), "
                        "'id')", (lt.schema, lt.name)).fetchone()[0]


# -- the local record of live counts -------------------------------------------------------------
LIVE_STATE_DDL = sql.SQL("""
create schema if not exists {audit};
create table if not exists {state} (
    v2_table text primary key,
    relation text not null,
    live_count bigint,
    live_only bigint,
    source text not null,
    run_id bigint,
    recorded_at timestamptz not null default now()
)""").format(audit=sql.Identifier(AUDIT_SCHEMA),
             state=sql.Identifier(AUDIT_SCHEMA, "live_state"))


def record_live_state(conn: psycopg.Connection, lt: LiveTable, count: int,
                      live_only: int | None, source: str, run_id: int) -> None:
    """Remember the live count of one V2 table as seen by a mirror or a publish (local)."""
    conn.execute(LIVE_STATE_DDL)
    conn.execute(sql.SQL(
        "insert into {} as s (v2_table, relation, live_count, live_only, source, run_id) "
        "values (%s, %s, %s, %s, %s, %s) on conflict (v2_table) do update set "
        "relation = excluded.relation, live_count = excluded.live_count, "
        "live_only = excluded.live_only, source = excluded.source, run_id = excluded.run_id, "
        "recorded_at = now()").format(sql.Identifier(AUDIT_SCHEMA, "live_state")),
        (lt.table.name, lt.label, count, live_only, source, run_id))


def live_only_in_copy(conn: psycopg.Connection, lt: LiveTable) -> int | None:
    """Rows of the local live copy that the local V2 does not have (V2-only rows)."""
    if not catalog.exists(conn, V2_SCHEMA, lt.table.name):
        return None
    return conn.execute(sql.SQL("select count(*) from {c} l where not exists "
                                "(select 1 from {v} v where v.id = l.id)").format(
        c=lt.copy, v=lt.local)).fetchone()[0]


def live_state(conn: psycopg.Connection) -> dict[str, dict]:
    """V2 table -> its last recorded live count (empty before any live mirror or publish)."""
    if not catalog.exists(conn, AUDIT_SCHEMA, "live_state"):
        return {}
    cur = conn.execute(sql.SQL("select v2_table, relation, live_count, live_only, source, "
                               "run_id, recorded_at from {}").format(
        sql.Identifier(AUDIT_SCHEMA, "live_state")))
    cols = [d.name for d in cur.description]
    return {r[0]: dict(zip(cols, r)) for r in cur}
