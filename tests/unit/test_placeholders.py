"""The names the generated SQL turns into Jinja (spec.RESERVED_PREFIXES) can never come from
the data or the spec: a V1 key that looks like a placeholder is read as a plain literal, and a
V2 table or column name that does is refused (or, in a draft, renamed)."""

from __future__ import annotations

import re

import pytest

from generator.draft import unique_name
from generator.emit.models import model_sql, stage_sql
from generator.errors import SpecError
from generator.spec import RESERVED_PREFIXES, build_spec
from generator.sql import build, proof, stage

from .small_spec import COLUMNS, IGNORED, REGISTRY, SENSITIVE, TABLES, rows

# every placeholder the emitters produce and rewrite into {{ this }}, ref(), source(),
# xano_v1_rows(), taken from the emitters themselves (not from the list under test)
LOOKALIKES = [build.THIS, build.ref_placeholder("user"), build.source_placeholder("user"),
              proof.rows_placeholder("user", "all"), proof.rows_placeholder("team", "changed"),
              # a stage placeholder up to its first dot (a dot in a V1 path means nesting)
              stage.stage_rows(stage.row_stage_name("user"), "user", "model").name.split(".")[0]]
PLAIN = "plainkeyzz"


def jinja(sql: str) -> list[str]:
    """The Jinja constructs of a model, in order."""
    return re.findall(r"\{\{.*?\}\}|\{%.*?%\}", sql)


def assert_plain(sql: str, plain: str, key: str) -> None:
    """``key`` added no Jinja to the model and is only ever a string literal in it."""
    assert jinja(sql) == jinja(plain)
    assert f"'{key}'" in sql and f'"{key}"' not in sql


def spec_with(tables: str = TABLES, columns: str = COLUMNS):
    return build_spec(rows(tables), rows(columns), rows(IGNORED), rows(SENSITIVE),
                      registry=REGISTRY)


def model_for_key(key: str, table: str = "u") -> str:
    """The typed stage of the V1 table (the one model that reads V1's keys) and the V2 model
    (which reads only the stage's columns)."""
    spec = spec_with(columns=COLUMNS.replace("u,email,email,", f"u,email,{key},"))
    t = spec.table(table)
    return (stage_sql(t.v1_table, spec.for_v1(t.v1_table), spec.v1(t.v1_table), [])
            + model_sql(t, spec.v1(t.v1_table), []))


@pytest.mark.parametrize("key", LOOKALIKES)
def test_a_v1_key_shaped_like_a_placeholder_is_a_plain_literal(key):
    assert_plain(model_for_key(key), model_for_key(PLAIN), key)


@pytest.mark.parametrize("key", LOOKALIKES)
def test_an_unmapped_v1_key_shaped_like_a_placeholder_stays_plain(key):
    spec = spec_with()
    t = spec.table("u")

    def both(k: str) -> str:
        return (stage_sql(t.v1_table, spec.for_v1(t.v1_table), spec.v1(t.v1_table), [k])
                + model_sql(t, spec.v1(t.v1_table), [k]))

    assert_plain(both(key), both(PLAIN), key)


@pytest.mark.parametrize("name", LOOKALIKES)
def test_a_v2_column_named_like_a_placeholder_is_refused(name):
    with pytest.raises(SpecError) as err:
        spec_with(columns=COLUMNS.replace("u,email,email,", f"u,{name},email,"))
    assert name in str(err.value) and "reserved" in str(err.value)


@pytest.mark.parametrize("name", LOOKALIKES)
def test_a_v2_table_named_like_a_placeholder_is_refused(name):
    tables = TABLES.replace("\nu_roles,2,user,user,row,,u,", f"\n{name},2,user,user,row,,u,")
    columns = COLUMNS.replace("\nu_roles,", f"\n{name},")
    with pytest.raises(SpecError) as err:
        spec_with(tables, columns)
    assert name in str(err.value) and "reserved" in str(err.value)


@pytest.mark.parametrize("name", LOOKALIKES)
def test_a_drafted_column_never_takes_a_placeholder_name(name):
    got = unique_name(name, set())
    assert not got.startswith(RESERVED_PREFIXES) and name.strip("_") in got
