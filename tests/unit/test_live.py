"""The live V2 tables without a server: relations, Xano's conventions as SQL, type rules."""

from __future__ import annotations

import pytest

from generator.errors import PublishError
from generator.live import HOLDS, LiveTable, live_payload, live_tables, payload, xano_value
from generator.publish.audit import RowDiff, TableOutcome
from generator.publish.run import PublishResult, selected_tables
from generator.spec import Column, Table
from generator.transforms import TRANSFORMS
from generator.views import publish_lines

from .small_spec import small_spec


def _sql(composable) -> str:
    return composable.as_string(None)


# (V2 type, SQL of the value of column "c" as Xano keeps it in xdo)
VALUES = [
    ("timestamptz", 'to_jsonb(trim_scale(extract(epoch from "c") * 1000))'),
    ("date", "to_jsonb(to_char(\"c\", 'YYYY-MM-DD'))"),
    ("numeric", 'to_jsonb(trim_scale("c"))'),
    ("jsonb", '"c"'),
    ("bigint", 'to_jsonb("c")'),
    ("boolean", 'to_jsonb("c")'),
    ("text", 'to_jsonb("c")'),
]


@pytest.mark.parametrize("v2_type,expected", VALUES, ids=[v[0] for v in VALUES])
def test_xano_value_follows_xanos_conventions(v2_type, expected):
    from psycopg.sql import Identifier

    assert _sql(xano_value(Identifier("c"), v2_type)) == expected


def test_every_v2_type_of_the_vocabulary_can_be_published():
    assert {t.v2_type for t in TRANSFORMS.values()} <= set(HOLDS)


def _wide(n: int, layout: str = "") -> LiveTable:
    cols = (Column("w", "id", "$id", "id", "bigint", False, False, "", "k"),) + tuple(
        Column("w", f"c{i}", f"c{i}", "text", "text", True, False, "", "d") for i in range(n))
    return LiveTable(Table("w", "9", "w", "user", "row", "", "", "", "W", cols,
                           live_layout=layout), "public", "mvpw2_9")


def test_payload_keeps_every_key_and_builds_wide_rows_in_chunks():
    text = _sql(payload(_wide(120), "v"))
    assert text.count("jsonb_build_object(") == 3 and text.count(" || ") == 2
    assert "'c0', to_jsonb(\"v\".\"c0\")" in text and "'c119'" in text
    assert _sql(payload(_wide(0), "v")) == "'{}'::jsonb"


def test_live_payload_reads_only_the_published_keys_of_xdo_or_the_live_columns():
    assert _sql(live_payload(_wide(2), "l")) == (
        "jsonb_build_object('c0', \"l\".\"xdo\" -> 'c0', 'c1', \"l\".\"xdo\" -> 'c1')")
    assert _sql(live_payload(_wide(2, "columns"), "l")) == _sql(payload(_wide(2), "l"))


def test_live_tables_default_to_the_xano_relation_of_the_v2_workspace():
    spec = small_spec()
    assert [(lt.table.name, lt.label) for lt in live_tables(spec, 3)][:2] == [
        ("u", "public.mvpw3_1"), ("u_roles", "public.mvpw3_2")]


def test_select_takes_domains_and_tables_and_names_an_unknown_one():
    spec = small_spec()
    assert [t.name for t in selected_tables(spec, "deals, u_roles")] == ["u_roles", "t",
                                                                        "t_tags"]
    with pytest.raises(PublishError, match="unknown --select 'nope'"):
        selected_tables(spec, "nope")


def test_publish_summary_counts_and_conflict_lines():
    t = TableOutcome("u", "public.mvpw3_1", "jsonb", inserted=2, updated=1, unchanged=5,
                     live_only=1, verified=True)
    t.conflicts.append(RowDiff(7, "edited in V2", ()))
    lines = publish_lines(PublishResult(4, "h:5432/db", False, [t]))
    assert lines[0] == "conflict u id 7 (edited in V2, kept): no field differs"
    assert lines[-1] == ("publish run 4: wrote 3 row(s): 2 inserted, 1 updated, 0 pruned; "
                         "5 unchanged; 1 conflict(s); 1 V2-only row(s) kept; read back and "
                         "verified")
    dry = publish_lines(PublishResult(None, "h:5432/db", True, [t]))
    assert dry[-1].startswith("dry run: would write 3 row(s)") and "nothing was written" in dry[-1]
