"""Catalog helpers shared by every module that touches a server: exists, count, swap in.

Relation names always travel as ``psycopg.sql.Identifier``; nothing here pastes a name into SQL.
"""

from __future__ import annotations

import psycopg
from psycopg import sql


def exists(conn: psycopg.Connection, schema: str, name: str) -> bool:
    """True when the relation ``schema.name`` exists (table, view, ...)."""
    return conn.execute("select to_regclass(format('%%I.%%I', %s::text, %s::text)) is not null",
                        (schema, name)).fetchone()[0]


def count(conn: psycopg.Connection, schema: str, name: str) -> int | None:
    """Exact row count, or None when the relation does not exist."""
    if not exists(conn, schema, name):
        return None
    return conn.execute(sql.SQL("select count(*) from {}").format(
        sql.Identifier(schema, name))).fetchone()[0]


def columns(conn: psycopg.Connection, schema: str, name: str) -> dict[str, str]:
    """Column name -> formatted type of a relation, in column order (empty when missing)."""
    rows = conn.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
        "where a.attrelid = to_regclass(format('%%I.%%I', %s::text, %s::text)) "
        "and a.attnum > 0 and not a.attisdropped order by a.attnum", (schema, name)).fetchall()
    return dict(rows)


def load_table_name(name: str, suffix: str) -> str:
    """Name of the side table a relation is loaded into before the swap.

    >>> load_table_name("mvpw1_41", "load")
    'mvpw1_41__load'
    """
    return f"{name}__{suffix}"


def create_load_table(cur: psycopg.Cursor, schema: str, name: str, suffix: str,
                      columns: list[tuple[str, str]] | None = None) -> sql.Composed:
    """(Re)create an empty load table, ``(id bigint not null, xdo jsonb)`` or the given
    ``(name, type)`` columns (``id`` among them); returns its name."""
    load = sql.Identifier(schema, load_table_name(name, suffix))
    cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
    cur.execute(sql.SQL("drop table if exists {}").format(load))
    if columns is None:
        cur.execute(sql.SQL("create table {} (id bigint not null, xdo jsonb)").format(load))
    else:
        cur.execute(sql.SQL("create table {} ({})").format(load, sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in columns)))
    return load


def swap_in(cur: psycopg.Cursor, schema: str, name: str, suffix: str) -> None:
    """Replace ``schema.name`` by its load table (primary key added), in the caller's transaction.

    Readers see the old table or the new one, never a half-loaded one.
    """
    load_name = load_table_name(name, suffix)
    load = sql.Identifier(schema, load_name)
    cur.execute(sql.SQL("alter table {} add primary key (id)").format(load))
    cur.execute(sql.SQL("drop table if exists {}").format(sql.Identifier(schema, name)))
    cur.execute(sql.SQL("alter table {} rename to {}").format(load, sql.Identifier(name)))
    cur.execute(sql.SQL("alter index {} rename to {}").format(
        sql.Identifier(schema, load_name + "_pkey"), sql.Identifier(name + "_pkey")))
