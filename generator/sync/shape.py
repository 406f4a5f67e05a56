"""Shape alignment: a built V2 table takes the spec's columns before its model runs.

A spec changes every week: a column is added, retyped or removed, ``--allow-unmapped`` is
switched on or off. The generated models compare new rows with ``{{ this }}`` column by column,
so the table must already have the model's columns when dbt runs. The plan is computed from
the generated contracts (the domain YAML files) and the catalog, checked (key columns are never
retyped), then applied in one transaction:

- a new column is added (nullable; NOT NULL is set after the build filled it);
- a retyped column is converted through the new transform's xano_fn function (values that do
  not convert are kept in ``xano_audit.shape_backup``), then re-extracted from V1 by the sync;
- a removed column stays in place (its NOT NULL dropped, so new rows can be written), or with
  ``drop_removed`` is dropped after its values were kept in ``xano_audit.shape_backup``;
- a missing foreign key from a split table to its parent is restored (``not valid``: existing
  orphans stay visible to the relationships test).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from generator import catalog, yamlio
from generator.config import AUDIT_SCHEMA, FN_SCHEMA, V2_COLUMNS_FILE, V2_SCHEMA
from generator.errors import SyncError
from generator.spec import Spec
from generator.transforms import TRANSFORMS

BACKUP_DDL = f"""
create table if not exists {AUDIT_SCHEMA}.shape_backup (
    run_id bigint,
    v2_table text not null,
    v2_column text not null,
    id bigint,
    old_type text not null,
    old_value text,
    reason text not null,
    saved_at timestamptz not null default now()
)
"""


@dataclass(frozen=True)
class ContractColumn:
    """A column as the generated model declares it."""

    name: str
    data_type: str
    not_null: bool


def read_contracts(root: Path) -> dict[str, list[ContractColumn]]:
    """V2 table -> its contract columns, from the generated domain YAML files."""
    out: dict[str, list[ContractColumn]] = {}
    for path in sorted((root / "models" / "v2").glob("*/_*__models.yml")):
        doc = yamlio.load(path) or {}
        for model in doc.get("models", []):
            out[model["name"]] = [
                ContractColumn(c["name"], c["data_type"],
                               any(k.get("type") == "not_null" for k in c.get("constraints", [])))
                for c in model.get("columns", [])]
    return out


@dataclass(frozen=True)
class Change:
    """One change of a built V2 table's shape."""

    table: str
    column: str
    kind: str
    """add, retype, remove, drop, foreign_key."""
    old_type: str = ""
    new_type: str = ""
    transform: str = ""
    not_null: bool = False
    references: str = ""

    def describe(self) -> str:
        """One line for the sync's output."""
        return {
            "add": f"{self.table}.{self.column}: new column ({self.new_type}), filled from V1",
            "retype": f"{self.table}.{self.column}: {self.old_type} -> {self.new_type}, "
                      "re-extracted from V1 (values that do not convert kept in "
                      f"{AUDIT_SCHEMA}.shape_backup)",
            "remove": f"{self.table}.{self.column}: no longer in the spec; left in place "
                      "(sync --drop-removed-columns drops it)",
            "drop": f"{self.table}.{self.column}: no longer in the spec; dropped (values kept in "
                    f"{AUDIT_SCHEMA}.shape_backup)",
            "foreign_key": f"{self.table}.{self.column}: foreign key to {self.references} "
                           "restored",
        }[self.kind]


@dataclass
class Plan:
    """Every change the built V2 needs, per table."""

    changes: list[Change] = field(default_factory=list)

    @property
    def tables(self) -> set[str]:
        """V2 tables whose rows the changes touch."""
        return {c.table for c in self.changes if c.kind != "foreign_key"}


def _canonical(conn: psycopg.Connection, types: set[str]) -> dict[str, str]:
    """Type name -> PostgreSQL's own spelling (timestamptz -> timestamp with time zone)."""
    return {t: conn.execute("select coalesce(to_regtype(%s)::text, %s)", (t, t)).fetchone()[0]
            for t in types}


def _has_fk(conn: psycopg.Connection, table: str, column: str, parent: str) -> bool:
    return bool(conn.execute(
        "select count(*) from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid "
        "and a.attnum = any(c.conkey) where c.contype = 'f' and c.conrelid = "
        "to_regclass(format('%%I.%%I', %s::text, %s::text)) and c.confrelid = "
        "to_regclass(format('%%I.%%I', %s::text, %s::text)) and a.attname = %s",
        (V2_SCHEMA, table, V2_SCHEMA, parent, column)).fetchone()[0])


def plan(conn: psycopg.Connection, spec: Spec, contracts: dict[str, list[ContractColumn]],
         drop_removed: bool = False) -> Plan:
    """Compare every built V2 table with its contract; SyncError for changes never applied."""
    out = Plan()
    problems: list[str] = []
    types = _canonical(conn, {c.data_type for cols in contracts.values() for c in cols})
    for t in spec.tables:
        current = catalog.columns(conn, V2_SCHEMA, t.name)
        if not current or t.name not in contracts:
            continue  # not built yet: dbt creates it with its contract
        wanted = {c.name: c for c in contracts[t.name]}
        keys = {"id", t.parent_column} - {""}
        spec_cols = {c.name: c for c in t.columns}
        for name, c in wanted.items():
            new_type = types[c.data_type]
            if name not in current:
                out.changes.append(Change(t.name, name, "add", new_type=new_type,
                                          not_null=c.not_null))
            elif current[name] != new_type:
                if name in keys:
                    row = spec_cols[name].row if name in spec_cols else 0
                    problems.append(
                        f"{V2_COLUMNS_FILE}:{row}: {t.name}.{name} is a key column of a built "
                        f"V2 table: it cannot change from {current[name]} to {new_type} (keep "
                        "its type, or drop the table by hand to rebuild it)")
                    continue
                transform = spec_cols[name].transform if name in spec_cols else "jsonb"
                out.changes.append(Change(t.name, name, "retype", current[name], new_type,
                                          transform))
        for name, old_type in current.items():
            if name not in wanted:
                out.changes.append(Change(t.name, name, "drop" if drop_removed else "remove",
                                          old_type))
        if t.parent and t.parent_column in current and catalog.exists(conn, V2_SCHEMA, t.parent)\
                and not _has_fk(conn, t.name, t.parent_column, t.parent):
            out.changes.append(Change(t.name, t.parent_column, "foreign_key",
                                      references=t.parent))
    if problems:
        raise SyncError("the spec changes a built V2 table in a way a sync cannot apply:\n"
                        + "\n".join(problems))
    return out


def _fn_of(transform: str) -> sql.Composable:
    function = TRANSFORMS[transform].function or "to_jsonb_value"
    return sql.Identifier(FN_SCHEMA, function)


def apply(conn: psycopg.Connection, changes: Plan, run_id: int | None) -> None:
    """Apply every change in one transaction (all or nothing)."""
    if not changes.changes:
        return
    with conn.transaction():
        conn.execute(BACKUP_DDL)
        for c in changes.changes:
            table = sql.Identifier(V2_SCHEMA, c.table)
            col = sql.Identifier(c.column)
            if c.kind == "add":
                conn.execute(sql.SQL("alter table {} add column {} {}").format(
                    table, col, sql.SQL(c.new_type)))
            elif c.kind == "retype":
                converted = sql.SQL("{}(to_jsonb({}))").format(_fn_of(c.transform), col)
                _backup(conn, run_id, c, sql.SQL("{} is not null and {} is null").format(
                    col, converted), "did not convert to " + c.new_type)
                conn.execute(sql.SQL("alter table {} alter column {} type {} using {}").format(
                    table, col, sql.SQL(c.new_type), converted))
            elif c.kind == "remove":
                conn.execute(sql.SQL("alter table {} alter column {} drop not null").format(
                    table, col))
            elif c.kind == "drop":
                _backup(conn, run_id, c, sql.SQL("{} is not null").format(col),
                        "column dropped from the spec")
                conn.execute(sql.SQL("alter table {} drop column {}").format(table, col))
            elif c.kind == "foreign_key":
                conn.execute(sql.SQL(
                    "alter table {} add foreign key ({}) references {} (id) not valid").format(
                    table, col, sql.Identifier(V2_SCHEMA, c.references)))


def _backup(conn: psycopg.Connection, run_id: int | None, c: Change, where: sql.Composable,
            reason: str) -> None:
    conn.execute(sql.SQL(
        "insert into {b} (run_id, v2_table, v2_column, id, old_type, old_value, reason) "
        "select {r}, {t}, {c}, id, {o}, {col}::text, {why} from {rel} where {w}").format(
        b=sql.Identifier(AUDIT_SCHEMA, "shape_backup"), r=sql.Literal(run_id),
        t=sql.Literal(c.table), c=sql.Literal(c.column), o=sql.Literal(c.old_type),
        col=sql.Identifier(c.column), why=sql.Literal(reason),
        rel=sql.Identifier(V2_SCHEMA, c.table), w=where))


def finish(conn: psycopg.Connection, changes: Plan) -> None:
    """After the build filled them: NOT NULL on the added columns that the contract wants."""
    for c in changes.changes:
        if c.kind == "add" and c.not_null:
            conn.execute(sql.SQL("alter table {} alter column {} set not null").format(
                sql.Identifier(V2_SCHEMA, c.table), sql.Identifier(c.column)))
