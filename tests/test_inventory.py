"""Discovery: exact inventory figures on planted tables, path encoding, inference, masking."""

from __future__ import annotations

import json

import pytest

from generator import inventory as inv
from generator.discover import scan_table
from generator.fixtures import load_table
from generator.registry import V1Table

PATTERNS = ["password", "*api_key*", "*token*", "*secret*", "*_sub", "stripe_*"]
T = V1Table("planted", 9001)


def _load(conn, records):
    rows = [(i, None if r is None else json.dumps(r)) for i, r in enumerate(records, start=1)]
    load_table(conn, T, rows)


def _scan(conn):
    res = scan_table(conn, T, PATTERNS)
    return res.table, {p.key_path: p for p in res.keys}


@pytest.mark.parametrize("path,decoded", [
    ("email", ("email", None, "top")),
    ("avatar.path", ("avatar", "path", "object")),
    ("history[].event", ("history", "event", "array")),
    ("a\\.b", ("a.b", None, "top")),
    ("we\\[ird\\]\\\\.x", ("we[ird]\\", "x", "object")),
])
def test_paths_round_trip(path, decoded):
    assert inv.decode_path(path) == decoded
    assert inv.encode_path(*decoded) == path


def test_sensitive_rule_is_a_pattern_list():
    assert inv.is_sensitive("google_sub", PATTERNS)
    assert inv.is_sensitive("stripe_customer_id", PATTERNS)
    assert inv.is_sensitive("meta.refresh_token", PATTERNS)
    assert not inv.is_sensitive("email", PATTERNS)


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


def test_inference_prefers_specific_types():
    p = inv.KeyProfile("t", "k", "top", occurrences=100, n_number=100, num_zero_one=100)
    assert inv.infer_type(p)[0] == "bigint"
    p = inv.KeyProfile("t", "k", "top", occurrences=10, n_string=10, str_uuid=9)
    assert inv.infer_type(p) == ("uuid", 0.1)
    p = inv.KeyProfile("t", "k", "top", occurrences=10, n_number=9, num_epoch_ms=9, n_string=1)
    assert inv.infer_type(p) == ("timestamptz", 0.1)
    p = inv.KeyProfile("t", "k", "top", occurrences=10, n_string=5, n_object=5)
    assert inv.infer_type(p) == ("jsonb", 0.0)


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_KEYS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                min_size=1, max_size=40)


@given(key=_KEYS, sub=st.one_of(st.none(), _KEYS), kind=st.sampled_from(["object", "array"]))
def test_any_key_path_encodes_and_decodes_exactly(key, sub, kind):
    kind = "top" if sub is None else kind
    assert inv.decode_path(inv.encode_path(key, sub, kind)) == (key, sub, kind)
