"""The live V2 tables: where they are, their layout and column types (read from the live
catalog), how a row of each side is read for comparison, and the local record of live figures.

A live V2 table is, by default, ``public.mvpw<V2 workspace>_<v2_id>`` in Xano's standard SQL
layout (``columns``: one typed column per V2 column, timestamps usually as epoch-millisecond
``bigint``); the spec may name another relation and/or Xano's JSONB layout (``id bigint, xdo
jsonb``). :func:`resolve` reads the live catalog once and fixes, per V2 column, how its value
is converted (:mod:`generator.convert`); a live column that cannot hold the values is refused
before anything is written, naming table and column.

Identity (who is the same record on both sides) is per V2 table:

- a main table matches on ``id`` (V2 reuses V1's ids) and its natural key;
- a split table (one row per parent) matches on its parent FK; its ``id`` is the live table's;
- an array child table matches per parent on content;
- a closure table matches on its natural key (the pair); its ``id`` is the live table's.

Every statement here is composed with ``psycopg.sql``; names never reach SQL as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import psycopg
from psycopg import sql

from generator import catalog
from generator.config import AUDIT_SCHEMA, LIVE_SCHEMA, V2_SCHEMA
from generator.convert import (
    Conversion,
    accepted,
    conversion,
    digest,
    jsonb_norm,
    natural_key,
    safe_bigint,
    xano_value,
)
from generator.spec import Column, Spec, Table

PAIRS_PER_CALL = 50
"""jsonb_build_object takes at most 100 arguments: larger rows are built in chunks joined
with ``||``."""


@dataclass(frozen=True)
class LiveTable:
    """One V2 table of the spec and the live table publish writes it to."""

    table: Table
    """The V2 table of the spec."""
    schema: str
    """Schema of the live table."""
    name: str
    """Relation name of the live table."""
    convs: tuple[Conversion, ...] = ()
    """Per field (:attr:`fields`), its conversion into the live column (columns layout; set by
    :func:`resolve`)."""
    sequence: str | None = None
    """The sequence behind the live ``id`` (serial or identity), as regclass text."""
    identity_always: bool = False
    """True when ``id`` is ``generated always as identity`` (explicit ids need OVERRIDING)."""
    blocks_insert: tuple[str, ...] = ()
    """Live columns publish does not fill that are NOT NULL without a default."""
    translated: str = ""
    """A temp view of the publish's session over the local V2 table whose reference columns
    hold the live ids of the records they point at (:mod:`generator.publish.identity`); ''
    reads the local V2 table as it is."""

    @property
    def layout(self) -> str:
        """'columns' (Xano's standard SQL) or 'jsonb'."""
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
    def grain(self) -> str:
        """How a live row is matched: 'main' (id and natural key), 'split' (one row per
        parent), 'array' (rows per parent, by content) or 'keyed' (natural key only: a closure
        table, whose ids are the live table's own)."""
        if self.table.is_main:
            return "main"
        if self.table.grain == "closure":
            return "keyed"
        return "array" if self.table.grain == "array" else "split"

    @property
    def fields(self) -> tuple[Column, ...]:
        """The V2 columns publish writes besides ``id`` (keys of ``xdo`` / live columns)."""
        return tuple(c for c in self.table.columns if c.name != "id")

    @property
    def local(self) -> sql.Identifier:
        """The local V2 rows as publish compares and writes them: the translated view when
        set, else the local V2 table (dbt model)."""
        if self.translated:
            return sql.Identifier(self.translated)
        return sql.Identifier(V2_SCHEMA, self.table.name)

    @property
    def references(self) -> tuple[Column, ...]:
        """The fields that hold the id of another V2 table's record, the parent FK excepted
        (that one follows the parent's placement)."""
        return tuple(c for c in self.fields if c.references
                     and c.name != self.table.parent_column)

    @property
    def copy(self) -> sql.Identifier:
        """The local copy of the live table made by ``mirror --v2-workspace``."""
        return sql.Identifier(LIVE_SCHEMA, self.table.name)

    def at(self, schema: str, name: str) -> LiveTable:
        """The same table read somewhere else (the local copy of the live table)."""
        return replace(self, schema=schema, name=name)

    # -- values of a live row ------------------------------------------------------------------
    def live_values(self, alias: str) -> list[sql.Composable]:
        """The publish's fields of a live row, normalized for comparison."""
        if self.layout == "jsonb":
            xdo = sql.Identifier(alias, "xdo")
            return [jsonb_norm(sql.SQL("{} -> {}").format(xdo, sql.Literal(c.name)))
                    for c in self.fields]
        return [cv.norm(sql.Identifier(alias, c.name)) for c, cv in zip(self.fields, self.convs)]

    def live_digest(self, alias: str) -> sql.Composable:
        """Digest of a live row's publish fields (comparable with :meth:`local_digest`)."""
        return digest(self.live_values(alias))

    def live_key(self, alias: str) -> sql.Composable:
        """What a live row is matched on: its id (main), or its parent FK as bigint."""
        if self.grain in ("main", "keyed"):
            return sql.SQL("{}::bigint").format(sql.Identifier(alias, "id"))
        fk = self.table.parent_column
        if self.layout == "jsonb":
            return safe_bigint(sql.SQL("{} ->> {}").format(sql.Identifier(alias, "xdo"),
                                                           sql.Literal(fk)))
        return safe_bigint(sql.SQL("{}::text").format(sql.Identifier(alias, fk)))

    def fk_equals(self, alias: str, value: sql.Composable) -> sql.Composable:
        """``live parent FK = value``, on the plain column when it is an integer (an index on
        it can serve)."""
        fk = self.table.parent_column
        if self.layout == "columns":
            typ = next((cv.live_type for c, cv in zip(self.fields, self.convs)
                        if c.name == fk), "")
            if typ in ("bigint", "integer", "smallint"):
                return sql.SQL("{} = {}").format(sql.Identifier(alias, fk), value)
        return sql.SQL("{} = {}").format(self.live_key(alias), value)

    def live_nk(self, alias: str) -> sql.Composable:
        """The natural key of a live row as text (NULL without one)."""
        cols = self.table.natural_key
        if not cols:
            return sql.SQL("null::text")
        if self.layout == "jsonb":
            xdo = sql.Identifier(alias, "xdo")
            return natural_key([sql.SQL("{} ->> {}").format(xdo, sql.Literal(c)) for c in cols])
        return natural_key([sql.Identifier(alias, c) for c in cols])

    # -- values of a local V2 row --------------------------------------------------------------
    def _source(self, alias: str, c: Column, fk: sql.Composable | None) -> sql.Composable:
        if fk is not None and c.name == self.table.parent_column:
            return fk
        return sql.Identifier(alias, c.name)

    def local_values(self, alias: str, fk: sql.Composable | None = None
                     ) -> list[sql.Composable]:
        """The local row's fields as the live table stores them (not normalized); ``fk``
        replaces the local parent id by the parent's live id (split and child tables)."""
        if self.layout == "jsonb":
            return [xano_value(self._source(alias, c, fk), c.v2_type) for c in self.fields]
        return [cv.to_live(self._source(alias, c, fk))
                for c, cv in zip(self.fields, self.convs)]

    def local_digest(self, alias: str, fk: sql.Composable | None = None) -> sql.Composable:
        """Digest of a local V2 row as it would be stored live (see :meth:`live_digest`)."""
        vals = self.local_values(alias, fk)
        if self.layout == "jsonb":
            return digest([jsonb_norm(v) for v in vals])
        return digest([cv.norm(v) for v, cv in zip(vals, self.convs)])

    def local_nk(self, alias: str) -> sql.Composable:
        """The natural key of a local row, in the form of :meth:`live_nk`."""
        cols = self.table.natural_key
        if not cols:
            return sql.SQL("null::text")
        by = {c.name: (c, cv) for c, cv in zip(self.fields, self.convs or [None] * 999)}
        parts = []
        for name in cols:
            c, cv = by[name]
            v = sql.Identifier(alias, name)
            parts.append(sql.SQL("({} #>> '{{}}')").format(xano_value(v, c.v2_type))
                         if self.layout == "jsonb" else cv.to_live(v))
        return natural_key(parts)

    def payload(self, alias: str, fk: sql.Composable | None = None) -> sql.Composable:
        """``xdo`` of a local V2 row in Xano's conventions, every key present (jsonb layout)."""
        return _object([(c.name, v) for c, v in zip(self.fields, self.local_values(alias, fk))])

    def shown(self, alias: str) -> sql.Composable:
        """A live row's publish fields as one jsonb object (for field diffs)."""
        if self.layout == "jsonb":
            vals = self.live_values(alias)
        else:
            vals = [sql.SQL("to_jsonb({})").format(v) for v in self.live_values(alias)]
        return _object([(c.name, v) for c, v in zip(self.fields, vals)])

    def local_shown(self, alias: str) -> sql.Composable:
        """A local row's fields as the live table would show them (for field diffs)."""
        if self.layout == "jsonb":
            vals = [jsonb_norm(v) for v in self.local_values(alias)]
        else:
            vals = [sql.SQL("to_jsonb({})").format(cv.norm(v))
                    for v, cv in zip(self.local_values(alias), self.convs)]
        return _object([(c.name, v) for c, v in zip(self.fields, vals)])


def _object(pairs: list[tuple[str, sql.Composable]]) -> sql.Composable:
    if not pairs:
        return sql.SQL("'{}'::jsonb")
    chunks = []
    for i in range(0, len(pairs), PAIRS_PER_CALL):
        args = [sql.SQL("{}, {}").format(sql.Literal(k), v) for k, v in
                pairs[i:i + PAIRS_PER_CALL]]
        chunks.append(sql.SQL("jsonb_build_object({})").format(sql.SQL(", ").join(args)))
    return sql.SQL(" || ").join(chunks)


def live_tables(spec: Spec, workspace: int, tables: Sequence[Table] | None = None
                ) -> list[LiveTable]:
    """The live tables of ``tables`` (default: every V2 table) in V2 workspace ``workspace``,
    parents before children.

    A V2 table with neither a V2 id nor a live_relation has no live table (a table drafted
    before its live id is known): it is left out.
    """
    chosen = [t for t in (tables if tables is not None else spec.tables) if t.has_live]
    out = []
    for t in sorted(chosen, key=lambda t: _depth(spec, t)):
        schema, name = t.live_name(workspace)
        out.append(LiveTable(t, schema, name))
    return out


def _depth(spec: Spec, t: Table) -> int:
    n, cur = 0, t
    while cur.parent:
        n, cur = n + 1, spec.table(cur.parent)
    return n


# -- the live catalog ----------------------------------------------------------------------------
def resolve(conn: psycopg.Connection, lt: LiveTable, write: bool = False,
            delete: bool = False) -> tuple[LiveTable, list[str]]:
    """``lt`` with its conversions read from the catalog, and what keeps it from being read
    (and written, with ``write``), one line each.

    Checks the relation exists and is a table, the columns and their types, a unique key on
    ``id``, and (``write``) the role's privileges. Reads the catalog only.
    """
    rel = conn.execute("select to_regclass(format('%%I.%%I', %s::text, %s::text))::oid",
                       (lt.schema, lt.name)).fetchone()[0]
    where = f"live table {lt.label} (V2 {lt.table.name})"
    if rel is None:
        return lt, [f"{where} does not exist"]
    kind = conn.execute("select relkind from pg_class where oid = %s", (rel,)).fetchone()[0]
    if kind not in ("r", "p"):
        return lt, [f"{where} is not a table (relkind {kind})"]
    cols = {r[0]: r[1:] for r in conn.execute(
        "select attname, format_type(atttypid, atttypmod), attnotnull, atthasdef, "
        "attidentity, attgenerated <> '' from pg_attribute "
        "where attrelid = %s and attnum > 0 and not attisdropped", (rel,))}
    out = []
    if "id" not in cols:
        out.append(f"{where}: column id is missing")
    elif conversion("bigint", cols["id"][0]) is None or cols["id"][0] not in (
            "bigint", "integer"):
        out.append(f"{where}: column id is {cols['id'][0]}, not an integer")
    convs: list[Conversion] = []
    filled = {"id"}
    if lt.layout == "jsonb":
        filled.add("xdo")
        if "xdo" not in cols:
            out.append(f"{where}: column xdo is missing (jsonb layout; set live_layout to "
                       "columns for Xano's standard SQL tables)")
        elif cols["xdo"][0] != "jsonb":
            out.append(f"{where}: column xdo is {cols['xdo'][0]}, which cannot hold every "
                       "jsonb value (needs jsonb)")
    else:
        for c in lt.fields:
            filled.add(c.name)
            if c.name not in cols:
                out.append(f"{where}: column {c.name} is missing (columns layout)")
                continue
            cv = conversion(c.v2_type, cols[c.name][0])
            if cv is None:
                out.append(f"{where}: column {c.name} is {cols[c.name][0]}, which cannot hold "
                           f"every {c.v2_type} value (needs {accepted(c.v2_type)})")
                continue
            convs.append(cv)
    blocks = tuple(sorted(n for n, (_, notnull, hasdef, ident, gen) in cols.items()
                          if n not in filled and notnull and not hasdef and not ident
                          and not gen))
    unique = conn.execute(
        "select count(*) from pg_index i where i.indrelid = %s and i.indisunique "
        "and i.indnatts = 1 and i.indpred is null and i.indexprs is null and "
        "i.indkey[0] = (select attnum from pg_attribute where attrelid = %s and attname = 'id')",
        (rel, rel)).fetchone()[0]
    if "id" in cols and not unique:
        out.append(f"{where}: no primary key or unique index on id")
    seq = conn.execute("select pg_get_serial_sequence(format('%%I.%%I', %s::text, %s::text), "
                       "'id')", (lt.schema, lt.name)).fetchone()[0] if "id" in cols else None
    if write:
        need = ["SELECT", "INSERT", "UPDATE"] + (["DELETE"] if delete else [])
        missing = [p for p in need if not conn.execute(
            "select has_table_privilege(%s, %s)", (rel, p)).fetchone()[0]]
        if missing:
            user = conn.execute("select current_user").fetchone()[0]
            out.append(f"{where}: role {user} lacks {', '.join(missing)} privilege")
        lacks = [p for p in ("USAGE", "UPDATE") if seq and not conn.execute(
            "select has_sequence_privilege(%s, %s)", (seq, p)).fetchone()[0]]
        if lacks:
            out.append(f"{where}: role lacks {', '.join(lacks)} on its id sequence {seq}")
    resolved = replace(lt, convs=tuple(convs), sequence=seq,
                       identity_always="id" in cols and cols["id"][3] == "a",
                       blocks_insert=blocks)
    return resolved, out


def fit_problems(conn: psycopg.Connection, lt: LiveTable) -> list[str]:
    """Local V2 values the live columns cannot hold (e.g. 3e9 for an ``integer`` column), one
    line per column with a count and an example id; read on the local server."""
    checks = [(c, cv) for c, cv in zip(lt.fields, lt.convs) if cv.fits is not None]
    if not checks:
        return []
    exprs = []
    for c, cv in checks:
        v = sql.Identifier("v", c.name)
        bad = sql.SQL("{} is not null and not {}").format(v, cv.fits(v))
        exprs.append(sql.SQL("count(*) filter (where {b}), min(v.id) filter (where {b})")
                     .format(b=bad))
    row = conn.execute(sql.SQL("select {} from {} v").format(sql.SQL(", ").join(exprs),
                                                           lt.local)).fetchone()
    out = []
    for k, (c, cv) in enumerate(checks):
        n, example = row[2 * k], row[2 * k + 1]
        if n:
            out.append(f"live table {lt.label} (V2 {lt.table.name}): column {c.name} is "
                       f"{cv.live_type}, which cannot hold {n} local value(s) (e.g. row id "
                       f"{example})")
    return out


# -- the local record of live figures ------------------------------------------------------------
FIGURES = ("matched", "to_insert", "to_update", "duplicates", "orphans", "collisions",
           "blocked", "conflicts", "by_id", "by_key", "fresh", "held", "unresolved")
"""Identity figures kept per live table: rows of both sides that are the same record, local
rows to insert, live rows to update, extra live rows of a parent, live rows whose parent is
not live, main records whose V1 id another live record holds, local rows whose parent is not
placed live, rows edited in V2 since this tool wrote them; main tables: records paired under
their own id, paired under V2's other id, inserted under a fresh id, held for a person; and
references written as NULL because the record they name is not placed live."""

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
);
alter table {state} add column if not exists figures jsonb
""").format(audit=sql.Identifier(AUDIT_SCHEMA), state=sql.Identifier(AUDIT_SCHEMA, "live_state"))


def record_live_state(conn: psycopg.Connection, lt: LiveTable, count: int,
                      live_only: int | None, source: str, run_id: int,
                      figures: dict[str, int] | None = None) -> None:
    """Remember the live count (and identity figures) of one V2 table as seen by a mirror or
    a publish (local)."""
    import json

    conn.execute(LIVE_STATE_DDL)
    conn.execute(sql.SQL(
        "insert into {} as s (v2_table, relation, live_count, live_only, source, run_id, "
        "figures) values (%s, %s, %s, %s, %s, %s, %s::jsonb) on conflict (v2_table) do update "
        "set relation = excluded.relation, live_count = excluded.live_count, "
        "live_only = excluded.live_only, source = excluded.source, run_id = excluded.run_id, "
        "figures = coalesce(excluded.figures, s.figures), recorded_at = now()").format(
        sql.Identifier(AUDIT_SCHEMA, "live_state")),
        (lt.table.name, lt.label, count, live_only, source, run_id,
         json.dumps(figures) if figures is not None else None))


def live_state(conn: psycopg.Connection) -> dict[str, dict]:
    """V2 table -> its last recorded live count (empty before any live mirror or publish)."""
    if not catalog.exists(conn, AUDIT_SCHEMA, "live_state"):
        return {}
    cur = conn.execute(sql.SQL("select v2_table, relation, live_count, live_only, source, "
                               "run_id, recorded_at, to_jsonb(s) -> 'figures' from {} s").format(
        sql.Identifier(AUDIT_SCHEMA, "live_state")))
    cols = [d.name for d in cur.description[:-1]] + ["figures"]
    return {r[0]: dict(zip(cols, r)) for r in cur}
