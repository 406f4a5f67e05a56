"""The live V2 tables without a server: relations, conversions into live types, Xano's
conventions, the digest and natural key expressions, the publish summary."""

from __future__ import annotations

import pytest
from psycopg.sql import Identifier

from generator.convert import accepted, conversion, digest, natural_key, xano_value
from generator.errors import PublishError
from generator.live import LiveTable, live_tables
from generator.publish.audit import FieldDiff, RowDiff, TableOutcome
from generator.publish.identity import FRESH, HELD
from generator.publish.run import PublishResult, selected_tables
from generator.spec import Column, Table
from generator.transforms import TRANSFORMS
from generator.views import publish_lines

from .small_spec import small_spec


def _sql(composable) -> str:
    return composable.as_string(None)


C = Identifier("c")

# (V2 type, SQL of the value of column "c" as Xano keeps it in xdo)
VALUES = [
    ("timestamptz", 'to_jsonb(trim_scale((extract(epoch from "c") * 1000)))'),
    ("date", "to_jsonb(to_char(\"c\", 'YYYY-MM-DD'))"),
    ("numeric", 'to_jsonb(trim_scale("c"))'),
    ("jsonb", '"c"'),
    ("bigint", 'to_jsonb("c")'),
    ("boolean", 'to_jsonb("c")'),
    ("text", 'to_jsonb("c")'),
]


@pytest.mark.parametrize("v2_type,expected", VALUES, ids=[v[0] for v in VALUES])
def test_xano_value_follows_xanos_conventions(v2_type, expected):
    assert _sql(xano_value(C, v2_type)) == expected


# (V2 type, live column type, SQL of the value written, SQL of the fit check or None)
CONVERSIONS = [
    ("timestamptz", "bigint", '(round((extract(epoch from "c") * 1000)))::bigint',
     '(extract(microseconds from "c") % 1000 = 0)'),
    ("timestamptz", "timestamp with time zone", '"c"', None),
    ("timestamptz", "numeric", '(extract(epoch from "c") * 1000)', None),
    ("timestamptz", "timestamp without time zone", "(\"c\" at time zone 'UTC')", None),
    ("date", "date", '"c"', None),
    ("date", "text", "to_char(\"c\", 'YYYY-MM-DD')", None),
    ("date", "character varying(10)", "to_char(\"c\", 'YYYY-MM-DD')",
     '(char_length("c") <= 10)'),
    ("bigint", "bigint", '("c")::bigint', None),
    ("bigint", "integer", '("c")::integer', '("c" between -2147483648 and 2147483647)'),
    ("numeric", "numeric", '"c"', None),
    ("numeric", "numeric(10,2)", '"c"', '(round("c", 2) = "c" and abs("c") < 100000000)'),
    ("numeric", "double precision", '("c")::double precision',
     '(("c")::double precision::numeric = "c")'),
    ("boolean", "boolean", '"c"', None),
    ("text", "text", '"c"', None),
    ("text", "character varying(255)", '"c"', '(char_length("c") <= 255)'),
    ("jsonb", "jsonb", '"c"', None),
    ("jsonb", "json", '("c")::json', None),
]


@pytest.mark.parametrize("v2_type,live,written,fits", CONVERSIONS,
                         ids=[f"{c[0]}->{c[1]}" for c in CONVERSIONS])
def test_a_v2_value_is_converted_into_the_live_column_type(v2_type, live, written, fits):
    cv = conversion(v2_type, live)
    assert cv is not None and cv.live_type == live
    assert _sql(cv.to_live(C)) == written
    assert (None if cv.fits is None else _sql(cv.fits(C))) == fits


@pytest.mark.parametrize("v2_type,live", [("timestamptz", "integer"), ("date", "boolean"),
                                           ("text", "integer"), ("jsonb", "bigint"),
                                           ("bigint", "uuid"), ("timestamptz", "date")])
def test_a_live_type_that_cannot_hold_the_values_has_no_conversion(v2_type, live):
    assert conversion(v2_type, live) is None


def test_every_v2_type_of_the_vocabulary_can_be_published_as_itself():
    for t in TRANSFORMS.values():
        live = {"timestamptz": "timestamp with time zone"}.get(t.v2_type, t.v2_type)
        assert conversion(t.v2_type, live) is not None, t.v2_type
        assert accepted(t.v2_type)


def test_numerics_are_compared_without_trailing_zeros_and_json_as_jsonb():
    assert _sql(conversion("numeric", "numeric").norm(C)) == 'trim_scale("c")'
    assert _sql(conversion("jsonb", "json").norm(C)) == '("c")::jsonb'


def test_digest_and_natural_key_are_plain_sql_both_servers_run():
    assert _sql(digest([Identifier("a"), Identifier("b")])) == (
        "('x' || left(md5(row(\"a\", \"b\", null::integer)::text), 16))::bit(64)::bigint")
    text = _sql(natural_key([Identifier("email")]))
    assert "lower(btrim((\"email\")::text))" in text and "nullif(" in text


def _table(grain: str = "row", parent: str = "", layout: str = "",
           nk: tuple[str, ...] = ()) -> Table:
    cols = (Column("w", "id", "$id", "id", "bigint", False, False, "", "k"),
            Column("w", "p_id", "$id", "id", "bigint", False, False, "", "fk"),
            Column("w", "name", "name", "text", "text", True, False, "", "n"))
    return Table("w", "9", "w", "user", grain, "x" if grain == "array" else "", parent,
                 "p_id" if parent else "", "W", cols, live_layout=layout, natural_key=nk)


def test_each_grain_matches_live_rows_on_its_own_key():
    main = LiveTable(_table(nk=("name",)), "public", "mvpw5_9")
    split = LiveTable(_table(parent="p"), "public", "mvpw5_9")
    child = LiveTable(_table("array", parent="p"), "public", "mvpw5_9")
    assert (main.grain, split.grain, child.grain) == ("main", "split", "array")
    assert _sql(main.live_key("l")) == '"l"."id"::bigint'
    assert '"l"."p_id"' in _sql(split.live_key("l"))
    jsonb = LiveTable(_table(parent="p", layout="jsonb"), "public", "mvpw5_9")
    assert "\"l\".\"xdo\" ->> 'p_id'" in _sql(jsonb.live_key("l"))
    assert _sql(split.live_nk("l")) == "null::text"
    assert "\"l\".\"name\"" in _sql(main.live_nk("l"))


def test_a_child_row_is_written_with_its_parents_live_id():
    cv = conversion("bigint", "bigint")
    t = LiveTable(_table(parent="p"), "public", "mvpw5_9", (cv, conversion("text", "text")))
    vals = [_sql(v) for v in t.local_values("x", fk=Identifier("t", "fk"))]
    assert vals[0] == '("t"."fk")::bigint' and vals[1] == '"x"."name"'


def test_live_tables_default_to_the_xano_relation_of_the_v2_workspace_parents_first():
    spec = small_spec()
    lts = live_tables(spec, 3)
    assert [(lt.table.name, lt.label) for lt in lts][:1] == [("u", "public.mvpw3_1")]
    seen = set()
    for lt in lts:
        assert not lt.table.parent or lt.table.parent in seen
        seen.add(lt.table.name)


def test_select_takes_domains_and_tables_and_names_an_unknown_one():
    spec = small_spec()
    assert [t.name for t in selected_tables(spec, "deals, u_roles")] == ["u_roles", "t",
                                                                        "t_tags"]
    with pytest.raises(PublishError, match="unknown --select 'nope'"):
        selected_tables(spec, "nope")


def test_publish_summary_counts_conflicts_fresh_ids_and_held_records():
    t = TableOutcome("u", "public.mvpw3_1", "columns", inserted=2, updated=1, unchanged=5,
                     live_only=1, verified=True, duplicates=1, orphans=0, collision_count=1,
                     identity={"by_id": 4, "by_key": 2, "fresh": 1, "new": 1, "held": 1},
                     unresolved={"agent_id": 3})
    t.conflicts.append(RowDiff(7, "edited in V2", ()))
    t.collisions.append(RowDiff(9, FRESH[0], (FieldDiff("email", "a@x", "b@y"),), False, 31))
    t.collisions.append(RowDiff(5, HELD, (FieldDiff("email", "c@x", "d@y"),), False, 5))
    lines = publish_lines(PublishResult(4, "h:5432/db", False, [t]))
    assert lines[0] == ("fresh id u id 9 -> live id 31 (id held by another record: inserted "
                        "under a fresh id; the live row 9 is kept): email: live a@x / local b@y")
    assert lines[1].startswith("held u id 5 (same id, other natural key; live row 5 kept, the "
                               "record and its split rows not written: decide in seeds/")
    assert lines[2].startswith("unresolved u.agent_id: 3 row(s) name a record not placed live")
    assert lines[3] == "conflict u id 7 (edited in V2, kept): no field differs"
    assert lines[-1] == ("publish run 4: wrote 3 row(s): 2 inserted, 1 updated, 0 pruned; "
                         "5 unchanged; 1 conflict(s); 2 record(s) paired under V2's other id, "
                         "1 under a fresh id (their V1 id is another live record's), 1 held; "
                         "1 duplicate(s), 0 orphan(s) and 1 V2-only row(s) kept; read back and "
                         "verified")
    dry = publish_lines(PublishResult(None, "h:5432/db", True, [t]))
    assert dry[-1].startswith("dry run: would write 3 row(s)") and "nothing was written" in dry[-1]
