"""The rules of a mapping spec: every problem of a built :class:`generator.spec.Spec` as one
``file:row: message`` line, all at once (:func:`validate`; :func:`generator.spec.build_spec`
raises them as one SpecError)."""

from __future__ import annotations

import re

from generator.config import (
    IGNORED_FILE,
    MAX_IDENT,
    UNMAPPED_COLUMN,
    V1_TABLES_FILE,
    V2_COLUMNS_FILE,
    V2_TABLES_FILE,
)
from generator.spec import (
    CLOSURE_PATHS,
    GRAINS,
    LIVE_LAYOUTS,
    PROVENANCES,
    RESERVED_PREFIXES,
    SPECIAL_PATHS,
    Column,
    Spec,
    Table,
)
from generator.transforms import TRANSFORMS

_LIVE_RELATION = re.compile(r"(?:[a-z_][a-z0-9_$]{0,62}\.)?[a-z_][a-z0-9_$]{0,62}")
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_JINJA = ("{{", "{%", "{#", "}}", "%}", "#}")


def validate(spec: Spec, orphan_tables: dict[str, int] | None = None) -> list[str]:
    """All problems of a spec, one line each (file:row: message).

    ``orphan_tables``: V2 table names that only the columns file knows, with their first row.
    """
    out: list[str] = []
    names = [t.name for t in spec.tables]
    known_v1 = set(spec.registry.names())
    for name, row in sorted((orphan_tables or {}).items()):
        out.append(f"{V2_COLUMNS_FILE}:{row}: column of unknown V2 table {name!r}")
    seen: set[str] = set()
    for t in spec.tables:
        where = f"{V2_TABLES_FILE}:{t.row}"
        if t.name in seen:
            out.append(f"{where}: V2 table {t.name!r} defined twice")
        seen.add(t.name)
        if not _PLAIN_NAME.fullmatch(t.name):
            out.append(f"{where}: V2 table name {t.name!r} must be a plain identifier "
                       f"(letters, digits, _; at most {MAX_IDENT} bytes): it is a dbt model name")
        elif t.name.startswith(RESERVED_PREFIXES):
            out.append(f"{where}: V2 table name {t.name!r} starts with a prefix reserved for "
                       f"generated placeholders ({', '.join(RESERVED_PREFIXES)})")
        if not _PLAIN_NAME.fullmatch(t.domain):
            out.append(f"{where}: domain {t.domain!r} must be a plain identifier (it names a "
                       "folder and a doc block)")
        if t.v1_table not in known_v1:
            out.append(f"{where}: V1 table {t.v1_table!r} is not registered in "
                       f"{V1_TABLES_FILE}")
        if t.grain not in GRAINS:
            out.append(f"{where}: grain must be one of {sorted(GRAINS)}, got {t.grain!r}")
        if t.grain == "array" and not t.array_path:
            out.append(f"{where}: array grain needs array_path")
        if t.grain == "closure":
            out += _check_closure(t, where)
        if t.parent and t.parent not in names:
            out.append(f"{where}: parent {t.parent!r} does not exist")
        if t.parent and not t.parent_column:
            out.append(f"{where}: parent_column is required when parent is set")
        if not t.description:
            out.append(f"{where}: description is empty")
        out += _check_live(t, where)
        names_here = {c.name for c in t.columns}
        for k in t.natural_key:
            if k not in names_here:
                out.append(f"{where}: natural_key column {k!r} is not a column of {t.name}")
        if t.natural_key and t.parent:
            out.append(f"{where}: natural_key is for main and closure tables (split and child "
                       "tables match on their parent FK)")
        keys = [c for c in t.columns if c.name == "id"]
        if not keys:
            out.append(f"{where}: V2 table {t.name!r} has no key column 'id'")
        if t.parent and t.parent_column not in {c.name for c in t.columns}:
            out.append(f"{where}: parent_column {t.parent_column!r} is not a column of {t.name}")
        col_seen: set[str] = set()
        for c in t.columns:
            out += _check_column(t, c, col_seen, names)
    live: dict[str, str] = {}
    for t in spec.tables:  # two V2 tables must never write one live table
        key = t.live_relation or (f"v2 id {t.v2_id}" if t.v2_id else "")
        if key and key in live:
            out.append(f"{V2_TABLES_FILE}:{t.row}: {t.name} and {live[key]} would publish to "
                       f"the same live table ({key})")
        live.setdefault(key, t.name)
    mains = {}
    for t in spec.tables:
        if t.is_main:
            if t.v1_table in mains:
                out.append(f"{V2_TABLES_FILE}:{t.row}: V1 table {t.v1_table!r} has two main tables "
                           f"({mains[t.v1_table]}, {t.name})")
            mains[t.v1_table] = t.name
    for t in spec.tables:
        if t.v1_table not in mains and t.v1_table in known_v1:
            out.append(f"{V2_TABLES_FILE}:{t.row}: V1 table {t.v1_table!r} has no main table")
    out += _cycles(spec)
    for ig in spec.ignored:
        if ig.v1_table not in known_v1:
            out.append(f"{IGNORED_FILE}:{ig.row}: V1 table {ig.v1_table!r} is not registered in "
                       f"{V1_TABLES_FILE}")
        if not ig.reason:
            out.append(f"{IGNORED_FILE}:{ig.row}: a reason is required")
    return out


def _check_closure(t: Table, where: str) -> list[str]:
    """A closure table: its links, no parent, only closure columns, the pair as natural key."""
    out = []
    a, b = t.links
    if not a or not b or ">" in b or "." in a + b or "[" in a + b:
        out.append(f"{where}: closure grain needs array_path <from key>><to key> (two top-level "
                   f"V1 keys holding the ids of a link), got {t.array_path!r}")
    if t.parent:
        out.append(f"{where}: a closure table has no parent (it is derived from the links of "
                   "all V1 rows)")
    sources = {c.v1_path: c.name for c in t.columns}
    for need in ("$ancestor", "$descendant"):
        if need not in sources:
            out.append(f"{where}: closure table {t.name} needs a column from {need}")
    if {sources.get("$ancestor"), sources.get("$descendant")} != set(t.natural_key):
        out.append(f"{where}: a closure table's natural_key is its $ancestor and $descendant "
                   "columns")
    return out


def _check_live(t: Table, where: str) -> list[str]:
    """The V2 id and the live table of one V2 table."""
    out = []
    if t.v2_id and not (t.v2_id.isdigit() and int(t.v2_id) > 0):
        out.append(f"{where}: v2_id must be a positive integer, got {t.v2_id!r}")
    if t.live_relation and not _LIVE_RELATION.fullmatch(t.live_relation):
        out.append(f"{where}: live_relation must be [schema.]name in lower-case letters, "
                   f"digits and _, got {t.live_relation!r}")
    if t.live_layout and t.live_layout not in LIVE_LAYOUTS:
        out.append(f"{where}: live_layout must be one of {', '.join(LIVE_LAYOUTS)} (empty: "
                   f"columns), got {t.live_layout!r}")
    return out


def _check_column(t: Table, c: Column, seen: set[str], names: list[str]) -> list[str]:
    out = []
    where = f"{V2_COLUMNS_FILE}:{c.row}"
    if c.name in seen:
        out.append(f"{where}: column {c.name!r} appears twice in {t.name}")
    seen.add(c.name)
    if any(tok in c.name for tok in _JINJA):
        out.append(f"{where}: column name {c.name!r} contains Jinja delimiters")
    if c.name.startswith(RESERVED_PREFIXES):
        out.append(f"{where}: column name {c.name!r} starts with a prefix reserved for "
                   f"generated placeholders ({', '.join(RESERVED_PREFIXES)})")
    if not c.name or len(c.name.encode()) > MAX_IDENT or c.name == UNMAPPED_COLUMN:
        out.append(f"{where}: column name must be 1-{MAX_IDENT} bytes and not {UNMAPPED_COLUMN}")
    if c.transform not in TRANSFORMS:
        out.append(f"{where}: unknown transform {c.transform!r} "
                   f"(known: {', '.join(sorted(TRANSFORMS))})")
    elif TRANSFORMS[c.transform].v2_type != c.v2_type:
        out.append(f"{where}: transform {c.transform} produces "
                   f"{TRANSFORMS[c.transform].v2_type}, not {c.v2_type}")
    if not c.description:
        out.append(f"{where}: description is empty")
    if c.provenance not in PROVENANCES:
        out.append(f"{where}: provenance must be one of {', '.join(PROVENANCES)} (empty: "
                   f"proposed), got {c.provenance!r}")
    if c.references and c.references not in names:
        out.append(f"{where}: references unknown V2 table {c.references!r}")
    if t.grain == "closure":
        if c.v1_path not in CLOSURE_PATHS:
            out.append(f"{where}: a closure table's columns come from "
                       f"{', '.join(sorted(CLOSURE_PATHS))}, got {c.v1_path!r}")
        elif c.transform != ("closure_path" if c.v1_path == "$path" else "id"):
            out.append(f"{where}: {c.v1_path} needs transform "
                       f"{'closure_path' if c.v1_path == '$path' else 'id'}")
        return out
    if c.special:
        if c.v1_path in CLOSURE_PATHS - SPECIAL_PATHS:
            out.append(f"{where}: {c.v1_path} is only valid in a closure table")
        elif c.transform != "id":
            out.append(f"{where}: {c.v1_path} needs transform 'id'")
        elif t.grain == "row" and c.v1_path not in ("$id",):
            out.append(f"{where}: {c.v1_path} is only valid in an array-grain table")
        return out
    if c.v1_path.startswith("$"):
        out.append(f"{where}: unknown special source {c.v1_path!r}")
        return out
    try:
        steps = c.steps()
    except ValueError as exc:
        out.append(f"{where}: invalid V1 key path {c.v1_path!r}: {exc}")
        return out
    if not steps[0][0]:
        out.append(f"{where}: invalid V1 key path {c.v1_path!r}")
    arrays = [i for i, (_, arr) in enumerate(steps) if arr]
    if t.grain == "array":
        # tags[] (the elements) or tags[].a.b (keys of object elements, any depth)
        if steps[0] != (t.array_path, True) or arrays != [0]:
            out.append(f"{where}: in array table {t.name} the path must be "
                       f"{t.array_path}[].<key> or {t.array_path}[], got {c.v1_path!r}")
    elif arrays:
        out.append(f"{where}: {c.v1_path!r} is an array element path in a row-grain table")
    return out


def _cycles(spec: Spec) -> list[str]:
    parent = {t.name: t.parent for t in spec.tables}
    out = []
    for t in spec.tables:
        seen, cur = [t.name], t.parent
        while cur:
            if cur in seen:
                out.append(f"{V2_TABLES_FILE}:{t.row}: parent cycle {' -> '.join(seen + [cur])}")
                break
            seen.append(cur)
            cur = parent.get(cur, "")
    return out
