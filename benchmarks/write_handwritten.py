"""Write benchmarks/handwritten.sql: the best plain SQL for the V2 tables, the floor the dbt
build is compared with (benchmarks/run.py).

Per V1 table one pass: every mapped key is read once (jsonb_to_record) and typed once in a
materialized CTE, and data-modifying CTEs insert every V2 table of that V1 table from it (array
tables expand the raw arrays the pass kept). Tables get their keys after the load, then the
foreign keys, then ANALYZE. The V1 tables are split into two groups of about the same number of
rows, which run.py runs in two sessions at once: both cores.

The SQL is plain text for psql; it is written by this script from the spec (so it covers the
same columns with the same transforms) and committed. Run: python benchmarks/write_handwritten.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.config import ARRAY_ID_FACTOR, V1_SCHEMA  # noqa: E402
from generator.fixtures.records import BASE_COUNTS  # noqa: E402
from generator.spec import Spec, Table, load_spec  # noqa: E402
from generator.sql import build  # noqa: E402
from generator.sql.proof import named  # noqa: E402

SCHEMA = "bench_hand"
OUT = ROOT / "benchmarks" / "handwritten.sql"


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _create(t: Table) -> str:
    cols = ", ".join(f"{q(c.name)} {c.v2_type}" for c in t.columns)
    return f"create table {SCHEMA}.{q(t.name)} ({cols});"


def one_pass(spec: Spec, v1: str) -> str:
    """The statements for one V1 table: create, one-pass load, keys."""
    tables = spec.for_v1(v1)
    rows = [t for t in tables if t.grain == "row"]
    arrays = [t for t in tables if t.grain == "array"]
    keys = [c.top_key for t in rows for c in t.columns if not c.special]
    ex = build.extraction_for(keys + [t.array_path for t in arrays])
    src = build.exp.select(build.col("id", "v1")).from_(
        build.exp.to_table("v1").as_("v1", quoted=True))
    for t in rows:
        for c in t.columns:
            if not c.special:
                src = src.select(build.exp.alias_(build.transformed(c, build.value_of(c, ex)),
                                                  build.ident(named(t.name, c.name))))
    for t in arrays:
        src = src.select(build.exp.alias_(ex.top(t.array_path),
                                          build.ident(named("array", t.name))))
    if ex.join() is not None:
        src = src.join(ex.join())
    body = build.render(src).replace('FROM "v1" AS "v1"',
                                     f"FROM {V1_SCHEMA}.{q(spec.v1(v1).relation)} AS \"v1\"")
    lines = [f"-- V1 {v1} ({spec.v1(v1).relation}): one pass, {len(tables)} V2 table(s)"]
    lines += [_create(t) for t in tables]
    inserts = []
    for t in rows:
        cols = ", ".join("src.id" if c.special else f"src.{q(named(t.name, c.name))}"
                         for c in t.columns)
        inserts.append(f"insert into {SCHEMA}.{q(t.name)} select {cols} from src")
    for t in arrays:
        arr = f"src.{q(named('array', t.name))}"
        special = {"$element_id": f"src.id * {ARRAY_ID_FACTOR} + e.ord", "$parent_id": "src.id",
                   "$id": "src.id", "$position": "e.ord"}
        cols = []
        for c in t.columns:
            if c.special:
                cols.append(special[c.v1_path])
            else:
                cols.append(build.render(build.transformed(c, build.value_of(
                    c, None, build.col("val", "e")))))
        inserts.append(
            f"insert into {SCHEMA}.{q(t.name)} select {', '.join(cols)} from src "
            f"cross join lateral jsonb_array_elements(case when jsonb_typeof({arr}) = 'array' "
            f"then {arr} end) with ordinality as e(val, ord) where e.ord < {ARRAY_ID_FACTOR}")
    ctes = ",\n".join(f"i{i} as (\n    {ins}\n)" for i, ins in enumerate(inserts))
    lines.append("with src as materialized (\n" + body + "\n),\n" + ctes + "\nselect 1;")
    lines += [f"alter table {SCHEMA}.{q(t.name)} add primary key (id);" for t in tables]
    return "\n".join(lines) + "\n"


def groups(spec: Spec) -> tuple[list[str], list[str]]:
    """Two groups of V1 tables with about the same number of rows (at any scale)."""
    a: list[str] = []
    b: list[str] = []
    na = nb = 0
    for v1 in sorted(spec.v1_tables(), key=lambda n: -BASE_COUNTS.get(n, 0)):
        if na <= nb:
            a.append(v1)
            na += BASE_COUNTS.get(v1, 0)
        else:
            b.append(v1)
            nb += BASE_COUNTS.get(v1, 0)
    return a, b


def render(spec: Spec) -> str:
    """The text of benchmarks/handwritten.sql for ``spec``."""
    a, b = groups(spec)
    fks = [f"alter table {SCHEMA}.{q(t.name)} add foreign key ({q(t.parent_column)}) "
           f"references {SCHEMA}.{q(t.parent)} (id);" for t in spec.tables if t.parent]
    text = [
        "-- Baseline for benchmarks/run.py: the best plain SQL for the V2 tables (written by",
        "-- benchmarks/write_handwritten.py from the spec). One pass per V1 table; the two groups",
        "-- run in two sessions at once (both cores). Sections: prologue, group a, group b,",
        "-- epilogue.",
        "-- @section prologue",
        f"drop schema if exists {SCHEMA} cascade;",
        f"create schema {SCHEMA};",
        "-- @section a",
        *[one_pass(spec, v1) for v1 in a],
        "-- @section b",
        *[one_pass(spec, v1) for v1 in b],
        "-- @section epilogue",
        *fks,
        "analyze;",
    ]
    return "\n".join(text) + "\n"


def main() -> None:
    spec = load_spec(ROOT)
    OUT.write_text(render(spec))
    a, b = groups(spec)
    print(f"wrote {OUT.relative_to(ROOT)}: group a {a}, group b {b}")


if __name__ == "__main__":
    main()
