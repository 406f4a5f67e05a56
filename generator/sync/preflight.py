"""Preflight: stop before building when V1 changed shape or the committed models are stale."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from generator import catalog
from generator.config import V1_SCHEMA
from generator.coverage import impossible_columns
from generator.errors import SyncError
from generator.inventory import read_inventory
from generator.keypath import encode_path
from generator.spec import Spec


def preflight(conn: psycopg.Connection, root: Path, spec: Spec) -> None:
    """Raise SyncError when the models are stale, a V1 table is missing, or V1 has new keys."""
    from generator.emit import generate_project

    # allow_unmapped: files generated with --allow-unmapped are as valid as the others; keys the
    # inventory does not know are caught below
    stale = generate_project(root, check=True, allow_unmapped=True).stale
    if stale:
        raise SyncError(f"generated files are stale ({', '.join(stale[:5])}); run "
                        "`python -m generator` and commit")
    inventory = read_inventory(root)
    impossible = impossible_columns(spec, inventory)
    if impossible:
        raise SyncError("the spec gives column(s) a type none of their V1 values fits; "
                        "nothing was written:\n" + "\n".join(impossible))
    new: list[str] = []
    for name in spec.v1_tables():
        rel = spec.v1(name).relation
        if not catalog.exists(conn, V1_SCHEMA, rel):
            raise SyncError(f"V1 table {name} ({V1_SCHEMA}.{rel}) is missing on the server")
        known = inventory.top_level_paths(name)
        cur = conn.execute(sql.SQL(
            "select distinct jsonb_object_keys(xdo) from {} where jsonb_typeof(xdo) = 'object'"
        ).format(sql.Identifier(V1_SCHEMA, rel)))
        new += [f"{name}.{encode_path(k)}" for (k,) in cur if encode_path(k) not in known]
    if new:
        raise SyncError("V1 has keys the inventory does not know; run `python -m generator "
                        "discover`, map them, regenerate: " + ", ".join(sorted(new)[:20]))
