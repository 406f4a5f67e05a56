"""Golden files: the generated model SQL of a row-grain and an array-grain table (no server).

Regenerate after an intended change with ``XANO_UPDATE_GOLDEN=1 pytest tests/unit`` and review
the diff like any other code change.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.emit.models import element_stage_sql, model_sql, stage_sql
from generator.sql import build

from .small_spec import small_spec

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("table,unmapped", [("u_roles", []), ("t_tags", []),
                                            ("u", ["nick name", "it's"])])
def test_model_sql_matches_its_golden_file(table, unmapped):
    spec = small_spec()
    t = spec.table(table)
    got = model_sql(t, spec.v1(t.v1_table), unmapped)
    path = GOLDEN / f"{table}.sql"
    if os.environ.get("XANO_UPDATE_GOLDEN"):
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("v1,table", [("user", None), ("team", "t_tags")])
def test_stage_sql_matches_its_golden_file(v1, table):
    spec = small_spec()
    if table:
        got, name = element_stage_sql(spec.table(table)), f"stage_{table}"
    else:
        got, name = stage_sql(v1, spec.for_v1(v1), spec.v1(v1), ["nick name"]), f"stage_{v1}"
    path = GOLDEN / f"{name}.sql"
    if os.environ.get("XANO_UPDATE_GOLDEN"):
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")


# (builder, expected SQL): the small pieces every model is made of
CASES = [
    (build.col("user", "r"), '"r"."user"'),
    (build.lit("it's"), "'it''s'"),
    (build.arrow(build.col("xdo", "v1"), "a.b"), '"v1"."xdo" -> \'a.b\''),
    (build.fn("to_bigint", build.col("x")), '"xano_fn".to_bigint("x")'),
]


@pytest.mark.parametrize("expression,expected", CASES, ids=[c[1] for c in CASES])
def test_builders_render_quoted_postgres(expression, expected):
    assert build.render(expression) == expected


@pytest.mark.parametrize("key,fits", [("email", True), ("k" * 63, True), ("k" * 64, False),
                                      ("é" * 32, False), ("a\nb", False), ("__ref__x", False),
                                      ("", False)])
def test_only_short_plain_keys_become_record_columns(key, fits):
    assert build.fits_record(key) is fits


def test_parent_index_of_an_array_table_has_a_stable_name_within_the_limit():
    from dataclasses import replace

    t = small_spec().table("t_tags")
    assert build.render(build.parent_index(t)) == (
        'CREATE INDEX IF NOT EXISTS "t_tags__t_id__idx" ON "__dbt_this__"("t_id")')
    long = replace(t, name="é" * 31)  # 62 bytes: the name must be cut on a character
    name = build.parent_index(long).this.this.name
    assert len(name.encode()) <= 63 and name == build.parent_index(long).this.this.name
    assert name != build.parent_index(replace(t, name="é" * 30 + "x")).this.this.name
