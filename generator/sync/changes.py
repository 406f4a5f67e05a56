"""Change detection: which V1 rows changed since the last successful sync, and V1 deletions.

Two levels, neither of which reads the JSON of an unchanged row:

- **Table fingerprint.** Every V1 table of the local mirror carries a statement-level trigger
  that counts its writes in ``xano_audit.v1_versions`` (transactional: a committed write is
  always counted). A table with the same relation (oid) and the same write count as at the last
  successful sync has not changed: no row is read at all.
- **Rows.** Otherwise the rows written since the last sync are those whose ``xmin`` is not
  older than the snapshot horizon the last sync recorded (``pg_snapshot_xmin``): a scan of the
  heap's row headers, no detoasting. A new relation (the mirror swapped it in, the fixtures
  rebuilt it) or a horizon too old to compare is read in full. The changed ids go to
  ``xano_audit.v1_changes``, where the models read them on a changed-only sync.

The new fingerprint and horizon are stored only after a successful build (:func:`remember`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from generator import catalog, yamlio
from generator.config import AUDIT_SCHEMA, V1_SCHEMA, V2_SCHEMA
from generator.registry import V1Table
from generator.spec import Spec
from generator.sql import stage

_CHANGES = sql.Identifier(AUDIT_SCHEMA, "v1_changes")
_SYNCED = sql.Identifier(AUDIT_SCHEMA, "v1_synced_ids")
_STATE = sql.Identifier(AUDIT_SCHEMA, "v1_state")
_VERSIONS = sql.Identifier(AUDIT_SCHEMA, "v1_versions")
TRIGGER = "xano_v1_version"
"""Name of the write-counting trigger on every V1 table."""
MAX_AGE = 1_000_000_000
"""A horizon older than this many transactions is not compared (xids wrap at 2^31)."""

STATE_DDL = f"""
create table if not exists {AUDIT_SCHEMA}.v1_versions (
    relid oid primary key,
    version bigint not null
);
create table if not exists {AUDIT_SCHEMA}.v1_state (
    v1_table text primary key,
    relid oid not null,
    version bigint,
    horizon xid8 not null,
    synced_at timestamptz not null default now()
);
create or replace function {AUDIT_SCHEMA}.bump_v1_version() returns trigger
language plpgsql as $fn$
begin
    insert into {AUDIT_SCHEMA}.v1_versions as v (relid, version) values (tg_relid, 1)
    on conflict (relid) do update set version = v.version + 1;
    return null;
end
$fn$;
"""


def _v1(t: V1Table) -> sql.Identifier:
    return sql.Identifier(V1_SCHEMA, t.relation)


def _gone_ids(t: V1Table) -> sql.Composed:
    """Ids synced before that V1 no longer has (V2-only rows were never synced)."""
    return sql.SQL("select s.id from {a} s where s.v1_table = {n} and not exists "
                   "(select 1 from {r} v where v.id = s.id)").format(
        a=_SYNCED, n=sql.Literal(t.name), r=_v1(t))


@dataclass
class Detection:
    """What changed in one V1 table since the last successful sync."""

    table: V1Table
    mode: str
    """unchanged (nothing to read), rows (the ids in v1_changes), all (read every row)."""
    changed: int
    """Rows listed (rows mode) or in the table (all mode)."""
    deleted: int
    """Ids synced before that V1 no longer has."""
    relid: int
    version: int | None
    horizon: int
    """Snapshot horizon (xid8) of this detection, stored after a successful sync."""

    @property
    def active(self) -> bool:
        """True when this run has anything to do for the table."""
        return self.mode == "all" or self.changed > 0 or self.deleted > 0


def _ensure_trigger(conn: psycopg.Connection, t: V1Table) -> bool:
    """Install the write-counting trigger on a V1 table; False when not permitted."""
    has = conn.execute("select count(*) from pg_trigger where tgrelid = to_regclass("
                       "format('%%I.%%I', %s::text, %s::text)) and tgname = %s",
                       (V1_SCHEMA, t.relation, TRIGGER)).fetchone()[0]
    if has:
        return True
    try:
        with conn.transaction():
            conn.execute(sql.SQL(
                "create trigger {} after insert or update or delete or truncate on {} "
                "for each statement execute function {}()").format(
                sql.Identifier(TRIGGER), _v1(t), sql.Identifier(AUDIT_SCHEMA, "bump_v1_version")))
    except psycopg.errors.InsufficientPrivilege:
        return False  # the row-level detection still works, only the shortcut is lost
    return True


def detect_changes(conn: psycopg.Connection, tables: list[V1Table],
                   full: set[str] = frozenset()) -> dict[str, Detection]:
    """Per V1 table: unchanged, the changed ids (into v1_changes), or every row.

    ``full``: V1 tables read in full anyway (their models changed): no row is listed.
    """
    conn.execute(STATE_DDL)
    stored = {r[0]: r[1:] for r in conn.execute(
        sql.SQL("select v1_table, relid, version, horizon::text::bigint from {}").format(_STATE))}
    out: dict[str, Detection] = {}
    for t in tables:
        counted = _ensure_trigger(conn, t)
        with conn.transaction():
            # one snapshot for the fingerprint, the horizon and the scan
            conn.execute("set transaction isolation level repeatable read")
            relid, version, horizon, now = conn.execute(sql.SQL(
                "select {r}::regclass::oid, (select version from {v} where relid = "
                "{r}::regclass::oid), pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
                "pg_current_xact_id()::text::bigint").format(
                r=sql.Literal(f'{V1_SCHEMA}."{t.relation}"'), v=_VERSIONS)).fetchone()
            version = (version or 0) if counted else None
            old = stored.get(t.name)
            conn.execute(sql.SQL("delete from {} where v1_table = {}").format(
                _CHANGES, sql.Literal(t.name)))
            if t.name in full or old is None or old[0] != relid or now - old[2] > MAX_AGE:
                n = catalog.count(conn, V1_SCHEMA, t.relation) or 0
                out[t.name] = Detection(t, "all", n, 0, relid, version, horizon)
                continue
            if version is not None and old[1] == version:
                out[t.name] = Detection(t, "unchanged", 0, 0, relid, version, horizon)
                continue
            deleted = conn.execute(sql.SQL("select count(*) from ({}) g").format(_gone_ids(t))
                                   ).fetchone()[0]
            changed = conn.execute(sql.SQL(
                "insert into {c} (v1_table, id) select {n}, v.id from {r} v "
                "where age(v.xmin) <= age(xid({h}::xid8))").format(
                c=_CHANGES, n=sql.Literal(t.name), r=_v1(t), h=sql.Literal(str(old[2])))
            ).rowcount
            if deleted:  # the typed stage forgets the rows of the ids listed: these too
                conn.execute(sql.SQL("insert into {c} (v1_table, id) select {n}, g.id from "
                                     "({g}) g").format(c=_CHANGES, n=sql.Literal(t.name),
                                                       g=_gone_ids(t)))
            out[t.name] = Detection(t, "rows", changed, deleted, relid, version, horizon)
    conn.execute(sql.SQL("analyze {}").format(_CHANGES))
    return out


def remember(conn: psycopg.Connection, found: dict[str, Detection]) -> None:
    """After a successful build: this detection is the new snapshot of each V1 table, and the
    ids it brought to V2 are recorded (only new ids: a no-op run writes nothing)."""
    for d in found.values():
        if d.mode == "unchanged":
            continue
        conn.execute(sql.SQL(
            "insert into {s} (v1_table, relid, version, horizon) values ({n}, {r}, {v}, "
            "{h}::xid8) on conflict (v1_table) do update set relid = excluded.relid, "
            "version = excluded.version, horizon = excluded.horizon, synced_at = now()").format(
            s=_STATE, n=sql.Literal(d.table.name), r=sql.Literal(d.relid),
            v=sql.Literal(d.version), h=sql.Literal(str(d.horizon))))
        ids = (_v1(d.table) if d.mode == "all" else sql.SQL(
            "(select id from {c} where v1_table = {n})").format(
            c=_CHANGES, n=sql.Literal(d.table.name)))
        conn.execute(sql.SQL(
            "insert into {a} (v1_table, id) select {n}, v.id from {ids} v where not exists "
            "(select 1 from {a} s where s.v1_table = {n} and s.id = v.id)").format(
            a=_SYNCED, n=sql.Literal(d.table.name), ids=ids))


def deleted_in_v1(conn: psycopg.Connection, t: V1Table) -> int:
    """V1 ids synced before that V1 no longer has (V2-only rows are never counted)."""
    if not catalog.exists(conn, AUDIT_SCHEMA, "v1_synced_ids"):
        return 0
    if not catalog.exists(conn, V1_SCHEMA, t.relation):
        return 0
    return conn.execute(sql.SQL("select count(*) from ({}) g").format(_gone_ids(t))
                        ).fetchone()[0]


def prune(conn: psycopg.Connection, spec: Spec, tables: list[V1Table]) -> list[str]:
    """Delete V2 rows whose V1 row was deleted (--prune): splits first, then the main table.

    Only ids this tool synced are deleted, never rows only V2 has. Returns one line per V2
    table that lost rows.
    """
    out = []
    with conn.transaction():
        for v1 in tables:
            gone = _gone_ids(v1)
            for t in sorted(spec.for_v1(v1.name), key=lambda x: x.is_main):
                if not catalog.exists(conn, V2_SCHEMA, t.name) or t.grain == "closure":
                    continue  # a closure drops the pairs of gone links when it is rebuilt
                column = "id" if t.is_main else t.parent_column
                n = conn.execute(sql.SQL("delete from {t} where {c} in ({g})").format(
                    t=sql.Identifier(V2_SCHEMA, t.name), c=sql.Identifier(column), g=gone)
                ).rowcount
                if n:
                    out.append(f"{t.name}: {n:,} row(s) of deleted V1 rows pruned")
            conn.execute(sql.SQL("delete from {a} s where s.v1_table = {n} and s.id in ({g})")
                         .format(a=_SYNCED, n=sql.Literal(v1.name), g=gone))
    return out


def _digest(root: Path, paths: list[Path], extra: bytes = b"") -> str:
    h = hashlib.sha256(extra)
    for path in paths:
        if path.is_file():
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def global_digest(root: Path) -> str:
    """Digest of what every model depends on: macros and dbt_project.yml."""
    paths = [root / "dbt_project.yml"]
    paths += sorted(p for p in (root / "macros").rglob("*") if p.is_file())
    return _digest(root, paths)


def v1_digests(root: Path, spec: Spec) -> dict[str, str]:
    """Per V1 table, the digest of everything that decides its V2 values and their checks:
    the models and reconciliation tests of its V2 tables, their YAML (contracts, tests), its
    accounting model. A V1 table whose digest changed is re-read in full by the next sync."""
    models = {}
    for path in sorted((root / "models" / "v2").glob("*/_*__models.yml")):
        for m in (yamlio.load(path) or {}).get("models", []):
            models[m["name"]] = json.dumps(m, sort_keys=True, default=str).encode()
    out = {}
    for v1 in spec.v1_tables():
        tables = spec.for_v1(v1)
        paths = [root / "models" / "audit" / f"xano_accounting__{v1}.sql",
                 root / "models" / "audit" / f"xano_rejects__{v1}.sql"]
        paths += [root / "models" / "stage" / f"{s}.sql" for s in dict.fromkeys(
            stage.stage_of(t) for t in tables)]
        for t in tables:
            paths += [root / "models" / "v2" / t.domain / f"{t.name}.sql",
                      root / "tests" / "dbt" / "generated" / f"xano_reconcile__{t.name}.sql"]
        extra = b"".join(models.get(t.name, b"") for t in tables)
        out[v1] = _digest(root, paths, extra)
    return out


def seeds_digest(root: Path) -> str:
    """Digest of the seed files: `dbt seed` runs only when they changed."""
    return _digest(root, sorted(p for p in (root / "seeds").glob("*") if p.is_file()))
