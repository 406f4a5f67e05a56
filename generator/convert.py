"""V2 values in the live V2's own column types, and one portable digest to compare them.

A V2 column of the spec has a V2 type (``timestamptz``, ``date``, ``numeric``, ...). The live
V2 table may keep it in another PostgreSQL type: Xano's standard SQL columns hold timestamps as
epoch-millisecond ``bigint``, dates as ``date`` or text, decimals as ``numeric`` or ``double
precision``. :func:`conversion` says how a V2 value becomes the live column's value
(``to_live``, run on the local server), whether every value survives (``fits``: a boolean on
the local value, None when every value does) and how a live value is normalized before it is
compared (``norm``, run on both servers: numeric 1.50 and 1.5 are equal, json is compared as
jsonb).

Rows are compared through :func:`digest`: the first 64 bits of the md5 of the row text of the
normalized live-typed values. Both servers compute it from values of the same types in the
same session settings (:data:`SESSION_SETTINGS`), so a digest computed on the live server
equals the one computed on the local server for equal values, across PostgreSQL versions.

Every expression is composed with ``psycopg.sql``; names never reach SQL as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from psycopg import sql

Expr = sql.Composable
SESSION_SETTINGS = (("timezone", "UTC"), ("datestyle", "ISO, YMD"),
                    ("intervalstyle", "postgres"), ("extra_float_digits", "1"))
"""Settings both servers use while computing digests (text output of dates and floats)."""

_EPOCH = sql.SQL("timestamptz '1970-01-01 00:00:00+00'")


@dataclass(frozen=True)
class Conversion:
    """How a V2 value is written into a live column of one PostgreSQL type."""

    live_type: str
    """The live column's type as ``format_type`` shows it (typmod included)."""
    to_live: Callable[[Expr], Expr]
    """Local V2 value -> the value the live column stores, of exactly ``live_type``."""
    fits: Callable[[Expr], Expr] | None = None
    """A boolean on the local V2 value: True when it survives the conversion (None: always)."""
    norm: Callable[[Expr], Expr] = lambda x: x
    """A live-typed value in the form compared on both servers."""
    note: str = ""
    """What the conversion does, for messages and the guide ('' when it is the identity)."""


def _base(live_type: str) -> tuple[str, list[int]]:
    """('character varying', [255]) of 'character varying(255)'.

    >>> _base("numeric(10,2)")
    ('numeric', [10, 2])
    >>> _base("timestamp(3) with time zone")
    ('timestamp with time zone', [3])
    """
    m = re.fullmatch(r"([a-z ]+?)(?:\(([0-9, ]+)\))?( with(?:out)? time zone)?", live_type)
    if not m:
        return live_type, []
    mods = [int(x) for x in (m.group(2) or "").split(",") if x.strip()]
    return m.group(1) + (m.group(3) or ""), mods


def _cast(type_sql: str) -> Callable[[Expr], Expr]:
    return lambda x: sql.SQL("({})::{}").format(x, sql.SQL(type_sql))


def _between(lo: int, hi: int) -> Callable[[Expr], Expr]:
    bounds = sql.SQL(f"{int(lo)} and {int(hi)}")
    return lambda x: sql.SQL("({} between {})").format(x, bounds)


def _numeric_fits(mods: list[int]) -> Callable[[Expr], Expr] | None:
    if not mods:
        return None
    p, s = mods[0], (mods[1] if len(mods) > 1 else 0)
    return lambda x: sql.SQL("(round({x}, {s}) = {x} and abs({x}) < {lim})").format(
        x=x, s=sql.Literal(s), lim=sql.Literal(10 ** (p - s)))


def _length_fits(mods: list[int]) -> Callable[[Expr], Expr] | None:
    if not mods:
        return None
    return lambda x: sql.SQL("(char_length({}) <= {})").format(x, sql.Literal(mods[0]))


def _trim_scale(x: Expr) -> Expr:
    return sql.SQL("trim_scale({})").format(x)


def _epoch_ms(x: Expr) -> Expr:
    return sql.SQL("(extract(epoch from {}) * 1000)").format(x)


INT_RANGES = {"bigint": (-2**63, 2**63 - 1), "integer": (-2**31, 2**31 - 1),
              "smallint": (-2**15, 2**15 - 1)}
FLOAT_EXACT = {"double precision": 2**53, "real": 2**24}
"""Largest integer each float type holds exactly."""
TEXTS = ("text", "character varying")


def conversion(v2_type: str, live_type: str) -> Conversion | None:
    """How a ``v2_type`` value is stored in a live column of ``live_type``; None when it cannot
    be (the live column is refused before anything is written).

    >>> conversion("timestamptz", "bigint").to_live(sql.Identifier("t")).as_string(None)
    '(round((extract(epoch from "t") * 1000)))::bigint'
    >>> conversion("bigint", "integer").fits(sql.Identifier("n")).as_string(None)
    '("n" between -2147483648 and 2147483647)'
    >>> conversion("date", "boolean") is None
    True
    """
    base, mods = _base(live_type)
    same = Conversion(live_type, lambda x: x)
    if v2_type == "bigint":
        if base in INT_RANGES:
            lo, hi = INT_RANGES[base]
            return Conversion(live_type, _cast(base), None if base == "bigint" else
                              _between(lo, hi), note=f"as {base}")
        if base == "numeric":
            return Conversion(live_type, _cast("numeric"), _numeric_fits(mods), _trim_scale,
                              "as numeric")
        if base in FLOAT_EXACT:
            lim = FLOAT_EXACT[base]
            return Conversion(live_type, _cast(base), _between(-lim, lim), note=f"as {base}")
        if base in TEXTS:
            return Conversion(live_type, _cast("text"), _length_fits(mods), note="as text")
    elif v2_type == "numeric":
        if base == "numeric":
            return Conversion(live_type, lambda x: x, _numeric_fits(mods), _trim_scale)
        if base in FLOAT_EXACT:
            return Conversion(live_type, _cast(base), lambda x: sql.SQL(
                "(({x})::{t}::numeric = {x})").format(x=x, t=sql.SQL(base)),
                note=f"as {base} (values it cannot hold exactly are refused)")
        if base in INT_RANGES:
            lo, hi = INT_RANGES[base]
            return Conversion(live_type, _cast(base), lambda x: sql.SQL(
                "(trunc({x}) = {x} and {b})").format(x=x, b=_between(lo, hi)(x)),
                note=f"as {base}")
        if base in TEXTS:
            return Conversion(live_type, lambda x: sql.SQL("trim_scale({})::text").format(x),
                              _length_fits(mods), note="as text")
    elif v2_type == "boolean":
        if base == "boolean":
            return same
        if base in INT_RANGES:
            return Conversion(live_type, lambda x: sql.SQL("({})::integer::{}").format(
                x, sql.SQL(base)), note="as 1/0")
        if base in TEXTS and not mods:
            return Conversion(live_type, _cast("text"), note="as 'true'/'false'")
    elif v2_type == "timestamptz":
        if base == "timestamp with time zone" and not mods:
            return same
        if base in ("bigint", "numeric", "double precision"):
            fn = {"bigint": lambda x: sql.SQL("(round({}))::bigint").format(_epoch_ms(x)),
                  "numeric": _epoch_ms,
                  "double precision": lambda x: sql.SQL("({})::double precision").format(
                      _epoch_ms(x))}[base]
            return Conversion(live_type, fn, None if base != "bigint" else lambda x: sql.SQL(
                "(extract(microseconds from {}) % 1000 = 0)").format(x),
                _trim_scale if base == "numeric" else (lambda x: x),
                "as epoch milliseconds (Xano's timestamp)")
        if base == "timestamp without time zone" and not mods:
            return Conversion(live_type, lambda x: sql.SQL("({} at time zone 'UTC')").format(x),
                              note="as UTC wall time")
    elif v2_type == "date":
        if base == "date":
            return same
        if base in TEXTS:
            return Conversion(live_type, lambda x: sql.SQL("to_char({}, 'YYYY-MM-DD')").format(x),
                              _length_fits(mods), note="as 'YYYY-MM-DD' text")
        if base == "timestamp with time zone":
            return Conversion(live_type, lambda x: sql.SQL(
                "(({})::timestamp at time zone 'UTC')").format(x), note="as midnight UTC")
        if base == "timestamp without time zone":
            return Conversion(live_type, _cast("timestamp"), note="as midnight")
        if base == "bigint":
            return Conversion(live_type, lambda x: sql.SQL(
                "(({} - date '1970-01-01')::bigint * 86400000)").format(x),
                note="as epoch milliseconds of midnight UTC")
    elif v2_type == "text":
        if base in TEXTS:
            return Conversion(live_type, lambda x: x, _length_fits(mods))
    elif v2_type == "jsonb":
        if base == "jsonb":
            return same
        if base == "json":
            return Conversion(live_type, _cast("json"), None,
                              lambda x: sql.SQL("({})::jsonb").format(x), "as json")
        if base == "text":
            return Conversion(live_type, _cast("text"), None, note="as JSON text")
    return None


def accepted(v2_type: str) -> str:
    """The live types a V2 type can be published into, for messages.

    >>> accepted("date")
    'date, text, character varying, timestamp with time zone, timestamp without time zone, bigint'
    """
    probe = ["bigint", "integer", "smallint", "numeric", "double precision", "real", "boolean",
             "text", "character varying", "date", "timestamp with time zone",
             "timestamp without time zone", "jsonb", "json"]
    order = {"date": ["date", "text", "character varying", "timestamp with time zone",
                      "timestamp without time zone", "bigint"]}
    return ", ".join(t for t in order.get(v2_type, probe) if conversion(v2_type, t))


# -- Xano's JSONB layout -------------------------------------------------------------------------
def xano_value(value: Expr, v2_type: str) -> Expr:
    """A V2 value as the jsonb Xano keeps in ``xdo`` (SQL NULL stays NULL).

    >>> xano_value(sql.Identifier("d"), "date").as_string(None)
    'to_jsonb(to_char("d", \\'YYYY-MM-DD\\'))'
    """
    if v2_type == "timestamptz":
        return sql.SQL("to_jsonb(trim_scale({}))").format(_epoch_ms(value))
    if v2_type == "date":
        return sql.SQL("to_jsonb(to_char({}, 'YYYY-MM-DD'))").format(value)
    if v2_type == "numeric":
        return sql.SQL("to_jsonb(trim_scale({}))").format(value)
    if v2_type == "jsonb":
        return value
    return sql.SQL("to_jsonb({})").format(value)


def jsonb_norm(x: Expr) -> Expr:
    """A jsonb value of ``xdo`` as compared: JSON null and a missing key alike, numbers with
    their trailing zeros trimmed."""
    return sql.SQL("(case jsonb_typeof({x}) when 'null' then null when 'number' then "
                   "to_jsonb(trim_scale(({x})::numeric)) else {x} end)").format(x=x)


# -- the digest ----------------------------------------------------------------------------------
def digest(values: list[Expr]) -> Expr:
    """A portable 64-bit digest of normalized live-typed values (see the module).

    >>> digest([sql.Identifier("a")]).as_string(None)
    '(\\'x\\' || left(md5(row("a", null::integer)::text), 16))::bit(64)::bigint'
    """
    # the trailing null keeps row() valid for a table with no field besides id
    return sql.SQL("('x' || left(md5(row({})::text), 16))::bit(64)::bigint").format(
        sql.SQL(", ").join([*values, sql.SQL("null::integer")]))


def natural_key(values: list[Expr]) -> Expr:
    """Text of a natural key from its live-typed values: trimmed, lower-cased, blank as NULL;
    NULL when every part is (a key that cannot confirm or deny identity).

    >>> print(natural_key([sql.Identifier("email")]).as_string(None))  # doctest: +ELLIPSIS
    (case when num_nonnulls(nullif(lower(btrim(("email")::text)), '')) = 0 then null else ...)
    """
    parts = sql.SQL(", ").join(sql.SQL("nullif(lower(btrim(({})::text)), '')").format(v)
                               for v in values)
    return sql.SQL("(case when num_nonnulls({p}) = 0 then null else array[{p}]::text end)"
                   ).format(p=parts)


def safe_bigint(text: Expr) -> Expr:
    """A text value as bigint, NULL when it is not an integer (no function needed on the live
    server).

    >>> safe_bigint(sql.Identifier("t")).as_string(None)
    '(case when btrim("t") ~ \\'^-?[0-9]{1,18}$\\' then btrim("t")::bigint end)'
    """
    return sql.SQL("(case when btrim({t}) ~ '^-?[0-9]{{1,18}}$' then btrim({t})::bigint end)"
                   ).format(t=text)
