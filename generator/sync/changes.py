"""Change detection: which V1 rows changed since the last successful sync, and V1 deletions.

One pass per V1 table compares a stored ``jsonb_hash_extended(xdo, 0)`` per row; the changed
ids go to ``xano_audit.v1_changes``, where the models read them on a changed-only sync. The
hashes become the new snapshot only after a successful build.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg
import yaml
from psycopg import sql

from generator import catalog
from generator.config import AUDIT_SCHEMA, V1_SCHEMA, V2_SCHEMA
from generator.registry import V1Table
from generator.spec import Spec

_CHANGES = sql.Identifier(AUDIT_SCHEMA, "v1_changes")
_HASHES = sql.Identifier(AUDIT_SCHEMA, "v1_row_hashes")
_SYNCED = sql.Identifier(AUDIT_SCHEMA, "v1_synced_ids")


def _v1(t: V1Table) -> sql.Identifier:
    return sql.Identifier(V1_SCHEMA, t.relation)


def _gone_ids(t: V1Table) -> sql.Composed:
    """Ids synced before that V1 no longer has (V2-only rows were never synced)."""
    return sql.SQL("select s.id from {a} s where s.v1_table = {n} and not exists "
                   "(select 1 from {r} v where v.id = s.id)").format(
        a=_SYNCED, n=sql.Literal(t.name), r=_v1(t))


def detect_changes(conn: psycopg.Connection, tables: list[V1Table]) -> dict[str, int]:
    """Per V1 table: rows whose hash differs from the last successful sync, plus deletions."""
    out = {}
    for t in tables:
        name = t.name
        with conn.transaction():
            conn.execute(sql.SQL("delete from {c} where v1_table = {n}").format(
                c=_CHANGES, n=sql.Literal(name)))
            out[name] = conn.execute(sql.SQL(
                "insert into {c} (v1_table, id, h) select {n}, v.id, jsonb_hash_extended(v.xdo, 0) "
                "from {r} v left join {h} s on s.v1_table = {n} and s.id = v.id "
                "where s.id is null or s.h is distinct from jsonb_hash_extended(v.xdo, 0)").format(
                c=_CHANGES, n=sql.Literal(name), r=_v1(t), h=_HASHES)).rowcount
            # a V1 deletion is a change too (rejects and counts of that table move)
            out[name] += conn.execute(sql.SQL(
                "select count(*) from {h} s where s.v1_table = {n} and not exists "
                "(select 1 from {r} v where v.id = s.id)").format(
                h=_HASHES, n=sql.Literal(name), r=_v1(t))).fetchone()[0]
    conn.execute(sql.SQL("analyze {}").format(_CHANGES))
    return out


def forget_changes(conn: psycopg.Connection, names: list[str]) -> None:
    """Clear the change lists of V1 tables read in full this run."""
    conn.execute(sql.SQL("delete from {} where v1_table = any(%s)").format(_CHANGES), (names,))


def remember_hashes(conn: psycopg.Connection, tables: list[V1Table], full: set[str]) -> None:
    """After a successful build: the hashes seen at detection become the new snapshot.

    ``full``: V1 tables read in full this run (their whole snapshot is taken again). The hash
    stored is the one detect_changes() computed, not V1 as it is now: a row that
    changed again during the build is detected again next time.
    """
    for t in tables:
        name = t.name
        if name in full:
            src = sql.SQL("select {n}, v.id, jsonb_hash_extended(v.xdo, 0) from {r} v").format(
                n=sql.Literal(name), r=_v1(t))
        else:
            src = sql.SQL("select c.v1_table, c.id, c.h from {c} c where c.v1_table = {n}").format(
                c=_CHANGES, n=sql.Literal(name))
        conn.execute(sql.SQL(
            "insert into {h} as s (v1_table, id, h) {src} on conflict (v1_table, id) do update "
            "set h = excluded.h where s.h is distinct from excluded.h").format(h=_HASHES, src=src))
        conn.execute(sql.SQL(
            "delete from {h} s where s.v1_table = {n} and not exists "
            "(select 1 from {r} v where v.id = s.id)").format(
            h=_HASHES, n=sql.Literal(name), r=_v1(t)))


def remember_ids(conn: psycopg.Connection, tables: list[V1Table]) -> None:
    """Record the V1 ids this sync brought to V2 (only new ids: a no-op run writes nothing)."""
    for t in tables:
        name = t.name
        conn.execute(sql.SQL(
            "insert into {a} (v1_table, id) select {n}, v.id from {r} v where not exists "
            "(select 1 from {a} s where s.v1_table = {n} and s.id = v.id)").format(
            a=_SYNCED, n=sql.Literal(name), r=_v1(t)))


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
                if not catalog.exists(conn, V2_SCHEMA, t.name):
                    continue
                column = "id" if t.is_main else t.parent_column
                n = conn.execute(sql.SQL("delete from {t} where {c} in ({g})").format(
                    t=sql.Identifier(V2_SCHEMA, t.name), c=sql.Identifier(column), g=gone)
                ).rowcount
                if n:
                    out.append(f"{t.name}: {n:,} row(s) of deleted V1 rows pruned")
            for audit in (_HASHES, _SYNCED):
                conn.execute(sql.SQL("delete from {a} s where s.v1_table = {n} and s.id in ({g})")
                             .format(a=audit, n=sql.Literal(v1.name), g=gone))
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
        for m in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            models[m["name"]] = yaml.safe_dump(m, sort_keys=True).encode()
    out = {}
    for v1 in spec.v1_tables():
        tables = spec.for_v1(v1)
        paths = [root / "models" / "audit" / f"xano_accounting__{v1}.sql"]
        for t in tables:
            paths += [root / "models" / "v2" / t.domain / f"{t.name}.sql",
                      root / "tests" / "dbt" / "generated" / f"xano_reconcile__{t.name}.sql"]
        extra = b"".join(models.get(t.name, b"") for t in tables)
        out[v1] = _digest(root, paths, extra)
    return out


def seeds_digest(root: Path) -> str:
    """Digest of the seed files: `dbt seed` runs only when they changed."""
    return _digest(root, sorted(p for p in (root / "seeds").glob("*") if p.is_file()))
