"""Preflight: stop before anything is written when the models are stale, a V1 table is missing,
a column's type fits none of its values, or V1 rows carry keys the inventory lacks."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from generator import catalog
from generator.config import AUDIT_SCHEMA, V1_SCHEMA
from generator.coverage import impossible_columns
from generator.errors import SyncError
from generator.inventory import read_inventory
from generator.keypath import encode_path, top_key
from generator.spec import Spec
from generator.sync.changes import Detection


def preflight(conn: psycopg.Connection, root: Path, spec: Spec) -> None:
    """Raise SyncError when the models are stale, a V1 table is missing, or V1 has new keys."""
    from generator.emit import check_cached

    # allow_unmapped: files generated with --allow-unmapped are as valid as the others; keys the
    # inventory does not know are caught below
    stale = check_cached(root, allow_unmapped=True).stale
    if stale:
        raise SyncError(f"generated files are stale ({', '.join(stale[:5])}); run "
                        "`python -m generator` and commit")
    impossible = impossible_columns(spec, read_inventory(root))
    if impossible:
        raise SyncError("the spec gives column(s) a type none of their V1 values fits; "
                        "nothing was written:\n" + "\n".join(impossible))
    for name in spec.v1_tables():
        rel = spec.v1(name).relation
        if not catalog.exists(conn, V1_SCHEMA, rel):
            raise SyncError(f"V1 table {name} ({V1_SCHEMA}.{rel}) is missing on the server")


def new_keys(conn: psycopg.Connection, root: Path, spec: Spec,
             found: dict[str, Detection]) -> None:
    """Stop before building when V1 rows read this run carry keys the inventory lacks.

    Only the rows this run reads are looked at: none of an unchanged table, the changed ids
    of a table read in part, every row of a table read in full.
    """
    inventory = read_inventory(root)
    new: list[str] = []
    for name, d in found.items():
        if d.mode == "unchanged" or (d.mode == "rows" and not d.changed):
            continue
        only = sql.SQL("")
        if d.mode == "rows":
            only = sql.SQL(" and id = any(array(select c.id from {} c where c.v1_table = {}))"
                           ).format(sql.Identifier(AUDIT_SCHEMA, "v1_changes"), sql.Literal(name))
        known = sorted(top_key(p) for p in inventory.top_level_paths(name))
        rel = sql.Identifier(V1_SCHEMA, d.table.relation)
        # `xdo - known` is empty for a row without unknown keys: one cheap test per row; the
        # keys themselves are listed only when some row has one
        # (a CASE: only an object can lose keys; AND would not keep arrays away from `-`)
        unknown = sql.SQL("case when jsonb_typeof(xdo) = 'object' "
                          "then (xdo - %s::text[]) <> '{}'::jsonb end")
        if not conn.execute(sql.SQL("select exists (select 1 from {} where {}{})").format(
                rel, unknown, only), (known,)).fetchone()[0]:
            continue
        cur = conn.execute(sql.SQL(
            "select distinct k from (select xdo - %s::text[] as rest from {r} where {u}{o}) s, "
            "jsonb_object_keys(s.rest) as k").format(r=rel, u=unknown, o=only), (known, known))
        new += [f"{name}.{encode_path(k)}" for (k,) in cur]
    if new:
        raise SyncError("V1 has keys the inventory does not know; run `python -m generator "
                        "discover`, map them, regenerate: " + ", ".join(sorted(new)[:20]))
