"""Discovery scans: exact inventory figures on planted tables, classes, masking, parallel scans."""

from __future__ import annotations

import collections
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import db as dbmod
from generator import inventory as inv
from generator import profile
from generator.fixtures import load_table
from generator.registry import V1Table
from generator.scan import scan_table

PATTERNS = ["password", "*api_key*", "*token*", "*secret*", "*_sub", "stripe_*"]
T = V1Table("planted", 9001)
pytestmark = pytest.mark.compat  # also run on PostgreSQL 15 in CI


def _load(conn, records):
    rows = [(i, None if r is None else json.dumps(r)) for i, r in enumerate(records, start=1)]
    load_table(conn, T, rows)


def _scan(conn):
    res = scan_table(conn, T, PATTERNS)
    return res.table, {p.key_path: p for p in res.keys}


@pytest.mark.integration
def test_planted_values_give_exact_figures(conn):
    records = [
        {"n": 1, "s": "12", "b": True, "ts": 1700000000000, "d": "2024-01-31", "password": "hunter22",
         "img": {"path": "/a.png", "size": 10}, "h": [{"e": "x", "at": 1}, {"e": "y"}]},
        {"n": "2", "s": "1.5", "b": "true", "ts": 1700000000, "d": "2024-02-30", "password": None,
         "img": {"path": "/b.png"}, "h": []},
        {"n": None, "s": "", "b": 1, "ts": "soon", "d": "", "img": None, "h": [{"e": "z"}]},
        {"n": 4.5, "s": "abc", "b": False, "ts": 1700000000001, "d": "2024-03-01",
         "weird key ';--": 1},
        None,
        [1, 2],
        "text",
    ]
    _load(conn, records)
    table, p = _scan(conn)
    assert (table.rows, table.xdo_null, table.xdo_not_object) == (7, 1, 2)
    n = p["n"]
    assert (n.rows_with_key, n.null_count, n.n_number, n.n_string) == (4, 1, 2, 1)
    assert (n.num_integer + n.num_zero_one, n.num_fractional, n.str_integer) == (1, 1, 1)
    assert (n.inferred_type, n.drift_share) == ("numeric", 0.0)
    s = p["s"]
    assert (s.empty_string_count, s.str_integer, s.str_decimal) == (1, 1, 1)
    assert (s.min_length, s.max_length) == (0, 3)
    assert s.inferred_type == "text"
    b = p["b"]
    assert (b.n_boolean, b.str_boolean, b.num_zero_one) == (2, 1, 1)
    assert (b.inferred_type, b.drift_share) == ("boolean", 0.0)
    ts = p["ts"]
    assert (ts.num_epoch_ms, ts.num_epoch_s, ts.n_string) == (2, 1, 1)
    # 3 of 4 values fit timestamptz: under the 90% rule, so the safe inference is text
    assert (ts.inferred_type, ts.drift_share) == ("text", 0.0)
    d = p["d"]
    assert (d.str_date, d.empty_string_count, d.inferred_type) == (3, 1, "date")
    pw = p["password"]
    assert pw.sensitive and pw.example == "***masked (8 chars)***"
    assert "hunter22" not in inv.render_csv([pw], inv.CSV_FIELDS)
    img_path = p["img.path"]
    assert (img_path.kind, img_path.rows_with_key, img_path.example) == ("object", 2, "/a.png")
    assert p["img"].inferred_type == "jsonb" and p["img"].null_count == 1
    he = p["h[].e"]
    assert (he.kind, he.occurrences, he.rows_with_key) == ("array", 3, 2)
    assert (p["h"].min_array_length, p["h"].max_array_length) == (0, 2)
    assert p["h[].at"].occurrences == 1
    assert p["weird key ';--"].rows_with_key == 1


@pytest.mark.integration
def test_empty_table_and_hostile_values_are_profiled(conn):
    _load(conn, [])
    table, p = _scan(conn)
    assert table.rows == 0 and p == {}
    _load(conn, [{"big": 10**30, "huge": float("1e300"), "k" * 200: "x", "nul": "\\u0000",
                  "emoji 🎉": "é"}])
    table, p = _scan(conn)
    assert p["big"].num_big_integer == 1 and p["big"].inferred_type == "numeric"
    assert p["k" * 200].rows_with_key == 1
    assert p["nul"].example == "\\u0000"
    assert p["emoji 🎉"].inferred_type == "text"


# The classes as first defined: one pattern per class, tried in this order. The scan query
# decides most values with cheaper exact checks; these tests hold it to this definition.
_REFERENCE_STRING = r"""
select case
    when s = '' then 'empty'
    when ascii(s) between 48 and 57 or ascii(s) in (9, 32, 43, 45, 46) then case
        when s ~ '^\s*[-+]?[0-9]+\s*$' then 'integer'
        when s ~ '^\s*[-+]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(\.[0-9]+)?[eE][-+]?[0-9]+)\s*$'
            or s ~ '^\s*-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?\s*$' then 'decimal'
        when s ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then 'date'
        when s ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}' then 'timestamp'
        when length(s) = 36 and s ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' then 'uuid'
        else 'text'
    end
    when length(s) <= 5 and lower(btrim(s)) in ('true', 'false', 'yes', 'no', 't', 'f', 'y', 'n')
        then 'boolean'
    when length(s) = 36 and s ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' then 'uuid'
    when strpos(s, '@') > 0 and s ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' then 'email'
    else 'text'
end
from unnest(%s::text[]) as u(s)
"""
_REFERENCE_NUMBER = """
select case
    when n <> trunc(n) then 'fractional'
    when abs(n) between 946684800000 and 4102444800000 then 'epoch_ms'
    when abs(n) between 946684800 and 4102444800 then 'epoch_s'
    when n in (0, 1) then 'zero_one'
    when n between -9223372036854775808 and 9223372036854775807 then 'integer'
    else 'big_integer'
end
from unnest(%s::numeric[]) as u(n)
"""
TRICKY_STRINGS = [
    "", "0", "12", "-5", "+5", "-", "+", "5-", "1-2", "--1", " 12 ", "\t7", "1 2", "1.5", ".5",
    "5.", ".", "-.5", "-5.", "+.5", "-.", "1.2.3", "1e5", "1E-5", "1,000", "12,34", "-1,000.5",
    "1,000,000.25", "2024-01-31", "2024-1-31", "2024-01-311", "20240131", "2024-01-31T10:20",
    "2024-01-31 10:20:30Z", "2024-01-31X10:20", "2024-01-31T1:20", "2024-01-31T10:2",
    "12345678-1234-1234-1234-123456789abc", "ABCDEF12-1234-1234-1234-123456789ABC",
    "12345678-1234-1234-1234-123456789abz", "x@y.z", "a@b.c", "@b.c", "a@.c", "a@b.", "a@bc",
    "a@b@c.d", "a b@c.d", "a@b.c ", "a\t@b.c", "a\x0b@b.c", "vv@vv.vv", "ä@ö.de", "a\u00a0@b.c",
    "a@b\u3000.c", ":@", "a@", "a@b", "a@.", "true", "False", "YES", " no", "t", "y ", "yess",
    "abc", "280AA126", "2/2/1",
    "ext-035c", "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "١٢٣", "12\u00a0", "٠@b.c",
]


@pytest.mark.integration
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.lists(st.text(alphabet="0123456789-+.,eE :T@ab\t\u00a0", max_size=22),
                      max_size=25))
def test_string_classes_match_their_patterns(conn, extra):
    values = TRICKY_STRINGS + extra
    _load(conn, [{"v": v} for v in values])
    _, p = _scan(conn)
    want = collections.Counter(r[0] for r in conn.execute(_REFERENCE_STRING, (values,)))
    got = p["v"]
    assert got.empty_string_count == want["empty"]
    for cls in profile.STRING_CLASSES:
        assert getattr(got, f"str_{cls}") == want[cls], cls
    assert got.n_string == len(values)


@pytest.mark.integration
def test_number_classes_match_their_definition(conn):
    values = ["0", "1", "1.0", "-1", "2", "1.5", "-0.5", "946684799", "946684800", "-946684800",
              "4102444800", "4102444801", "946684800000", "-1700000000000", "4102444800000",
              "4102444800001", "1e3", "2.50", "9223372036854775807", "9223372036854775808",
              "-9223372036854775809", "1e30", "123456789012345678901234567890.0"]
    _load(conn, [json.loads(f'{{"v": {v}}}') for v in values])
    _, p = _scan(conn)
    want = collections.Counter(r[0] for r in conn.execute(_REFERENCE_NUMBER, (values,)))
    got = p["v"]
    for cls in (*profile.NUMBER_CLASSES, "zero_one", "big_integer"):
        assert getattr(got, f"num_{cls}") == want[cls], cls
    assert got.n_number == len(values)


@pytest.mark.integration
def test_scan_split_across_connections_gives_the_same_inventory(conn, fresh_db):
    records = [{"i": i, "s": str(i), "tag": ["a", "b", None][i % 3],
                "h": [{"e": "x"}, {"e": "y", "at": i}] if i % 4 else [],
                "img": {"path": f"/{i}.png"} if i % 5 else None} for i in range(1, 400)]
    _load(conn, records)
    alone = scan_table(conn, T, PATTERNS)
    with dbmod.connect(fresh_db) as h1, dbmod.connect(fresh_db) as h2:
        split = scan_table(conn, T, PATTERNS, helpers=[h1, h2])
    assert inv.render_csv(split.keys, inv.CSV_FIELDS) == inv.render_csv(alone.keys, inv.CSV_FIELDS)
    assert split.table == alone.table
    assert {k.key_path: k.rows_with_key for k in split.keys}["h[].at"] == 300


def test_paths_of_any_depth_are_profiled(conn):
    records = [
        {"addr": {"geo": {"lat": 1.5, "pt": {"x": 1}}}, "h": [{"who": {"id": 7}}, {"who": {}}]},
        {"addr": {"geo": {"lat": "2.5"}}, "h": [{"who": {"id": 8, "tags": [{"t": "a"}]}}]},
        {"addr": {"geo": None}, "h": [], "k.dot": {"in[ner]": {"z": True}}},
    ]
    _load(conn, records)
    _, p = _scan(conn)
    assert p["addr.geo.lat"].rows_with_key == 2 and p["addr.geo.lat"].kind == "object"
    assert (p["addr.geo.lat"].n_number, p["addr.geo.lat"].str_decimal) == (1, 1)
    assert p["addr.geo.pt.x"].occurrences == 1 and p["addr.geo.pt.x"].example == "1"
    assert p["h[].who.id"].kind == "array" and p["h[].who.id"].rows_with_key == 2
    assert p["h[].who.tags[].t"].example == "a"
    assert p["k\\.dot.in\\[ner\\].z"].n_boolean == 1
    assert p["addr.geo"].null_count == 1
