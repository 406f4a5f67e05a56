"""Safe casts (xano_fn): table-driven cases; hostile inputs return NULL, never an error."""

from __future__ import annotations

import json
import re

import jinja2
import pytest

from ..conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.compat]  # compat: also on PG 15


def _functions_sql() -> str:
    text = (ROOT / "macros" / "xano_functions.sql").read_text()
    body = re.search(r"{% macro xano_create_functions\(\) %}(.*){% endmacro %}", text, re.S)
    return jinja2.Template(body.group(1)).render()


@pytest.fixture
def fn_conn(conn):
    conn.execute(_functions_sql())
    return conn


CASES = [
    ("to_bigint", 12, 12), ("to_bigint", "12", 12), ("to_bigint", " -7 ", -7),
    ("to_bigint", 12.5, None), ("to_bigint", 10**30, None), ("to_bigint", "", None),
    ("to_bigint", "9223372036854775808", None), ("to_bigint", True, None),
    ("to_numeric", "1,234.50", "1234.50"), ("to_numeric", "NaN", None),
    ("to_numeric", "Infinity", None), ("to_numeric", "1e3", "1000"), ("to_numeric", {"a": 1}, None),
    ("to_numeric", "0." + "0" * 7000 + "1e-9999", None), ("to_numeric", "1e99999", None),
    ("to_boolean", "TRUE", True), ("to_boolean", "yes", True), ("to_boolean", 0, False),
    ("to_boolean", 2, None), ("to_boolean", "maybe", None), ("to_boolean", [True], None),
    ("to_date", "2024-02-29", "2024-02-29"), ("to_date", "2023-02-29", None),
    ("to_date", "2023-02-30", None), ("to_date", "0000-01-01", None), ("to_date", "2023-13-01", None),
    ("to_date", 20240101, None),
    ("epoch_ms_to_timestamptz", 1700000000000, "2023-11-14 22:13:20+00"),
    ("epoch_ms_to_timestamptz", 1700000000, "2023-11-14 22:13:20+00"),
    ("epoch_ms_to_timestamptz", 253402300799000, "9999-12-31 23:59:59+00"),
    ("epoch_ms_to_timestamptz", 253402300800000, None),
    ("epoch_ms_to_timestamptz", "1e-400", "1970-01-01 00:00:00+00"),
    ("epoch_ms_to_timestamptz", "soon", None),
    ("trim_text", "\u00a0 Zoë \t", "Zoë"), ("lower_trim", " A@B.COM ", "a@b.com"),
    ("to_text", {"x": 1}, None), ("to_text", 1.5, "1.5"),
    ("image_url", {"path": "/a.png"}, "/a.png"), ("image_url", {"name": "x"}, None),
    ("to_jsonb_value", None, None), ("has_value", "  ", False), ("has_value", 0, True),
]


@pytest.mark.parametrize("func,value,expected", CASES)
def test_safe_cast(fn_conn, func, value, expected):
    raw = json.dumps(value) if not isinstance(value, str) or not value.startswith("1e-4") \
        else value
    if func == "epoch_ms_to_timestamptz" and value == "1e-400":
        raw = "1e-400"  # a JSON number too small for float8
    got = fn_conn.execute(f"select xano_fn.{func}(%s::jsonb)::text", (raw,)).fetchone()[0]
    if expected is None or isinstance(expected, str):
        want = expected
    else:
        want = fn_conn.execute("select %s::text", (expected,)).fetchone()[0]
        want = {"True": "true", "False": "false"}.get(want, want)
    if func == "epoch_ms_to_timestamptz" and want:
        got = fn_conn.execute("select %s::timestamptz = %s::timestamptz", (got, want)).fetchone()[0]
        want = True
    assert got == want


def test_no_input_raises(fn_conn):
    nasty = ["1e-400", "1e400", '"' + "9" * 2000 + '"', '"1e-99999"', '"-0"', "[]", "{}",
             "null", '"\\u00e9"', '"' + "0." + "0" * 20000 + "1" + '"', "-1e-400"]
    for func in ("to_bigint", "to_numeric", "to_boolean", "to_date", "epoch_ms_to_timestamptz",
                 "to_text", "trim_text", "lower_trim", "image_url", "to_jsonb_value"):
        for v in nasty:
            fn_conn.execute(f"select xano_fn.{func}(%s::jsonb)", (v,)).fetchone()
