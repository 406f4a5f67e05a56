"""sqlglot builders of the proof: the rejects and the value accounting of one V1 table.

Both read V1 through the CTE ``v1``, whose body is a placeholder the template turns into
``{{ xano_v1_rows(...) }}`` (the one macro that knows the changed-only filter). Column names
say what they hold: ``raw__<v2 table>__<column>``, ``rejected__...``, ``<v2 table>__<column>``
(shortened with a digest past PostgreSQL's 63 bytes, so two long names never collide).
"""

from __future__ import annotations


from sqlglot import exp

from generator.config import ARRAY_ID_FACTOR, fit_ident
from generator.spec import PH_ROWS
from generator.spec import Column, Table
from generator.sql.build import (
    MASK,
    RAW_MAX,
    call,
    col,
    element_source,
    extraction_for,
    fn,
    ident,
    lit,
    ref_placeholder,
    transformed,
    value_of,
)
from generator.transforms import TRANSFORMS

REJECT_COLUMNS = ("v1_table", "v1_id", "key_path", "element_position", "v2_table", "v2_column",
                  "raw_value", "target_type", "reason")
"""Columns of every rejects model."""
ACCOUNTING_COLUMNS = ("v1_table", "v2_table", "v2_column", "key_path", "v1_values",
                      "v2_present", "rejected")
"""Columns of every accounting model."""
_CANDIDATE = ("key_path", "element_position", "v2_table", "v2_column", "target_type",
              "sensitive", "raw", "rejected")


def rows_placeholder(v1_table: str, scope: str) -> str:
    """Placeholder table for ``{{ xano_v1_rows(v1_table, scope) }}`` (see emit.text).

    >>> rows_placeholder("user", "all")
    '__rows__all__user'
    """
    return f"{PH_ROWS}{scope}__{v1_table}"


def named(*parts: str) -> str:
    """A column name made of parts joined by ``__``, at most 63 bytes, never colliding.

    >>> named("network_hierarchy", "level")
    'network_hierarchy__level'
    >>> len(named("t" * 60, "c" * 60).encode()) <= 63
    True
    """
    return fit_ident("__".join(parts))


def _v1_cte(v1_table: str, scope: str) -> exp.Select:
    return exp.select(exp.Star()).from_(exp.to_table(rows_placeholder(v1_table, scope)))


def _from_v1() -> exp.Table:
    return exp.to_table("v1").as_("v1", quoted=True)


def _mapped(t: Table) -> list[Column]:
    return [c for c in t.columns if not c.special]


# -- rejects ----------------------------------------------------------------------------------
def _candidate(t: Table, c: Column, position: exp.Expression, raw: exp.Expression,
               rejected: exp.Expression) -> exp.Tuple:
    return exp.Tuple(expressions=[
        lit(c.v1_path), exp.cast(position, "bigint"), lit(t.name), lit(c.name),
        lit(TRANSFORMS[c.transform].reject_label), exp.Boolean(this=c.sensitive), raw, rejected])


def _rejects_of(v1_table: str, source: exp.Expression, joins: list[exp.Join],
                candidates: list[exp.Tuple], v1_id: exp.Expression,
                where: exp.Expression | None = None) -> exp.Select:
    """One reject row per candidate value that was rejected."""
    values = exp.Lateral(this=exp.Subquery(this=exp.Values(expressions=candidates)),
                         alias=exp.TableAlias(this=ident("c"),
                                              columns=[ident(n) for n in _CANDIDATE]))
    raw = col("raw", "c")
    raw_value = exp.Case(ifs=[exp.If(this=col("sensitive", "c"), true=lit(MASK))],
                         default=call("left", exp.cast(raw, "text"),
                                      exp.Literal.number(RAW_MAX)))
    select = exp.select(exp.alias_(lit(v1_table), ident("v1_table")),
                        exp.alias_(v1_id, ident("v1_id")),
                        *[exp.alias_(col(n, "c"), ident(n)) for n in _CANDIDATE[:4]],
                        exp.alias_(raw_value, ident("raw_value")),
                        exp.alias_(col("target_type", "c"), ident("target_type")),
                        exp.alias_(fn("reject_reason", raw, col("target_type", "c")),
                                   ident("reason"))).from_(source)
    for j in [*joins, exp.Join(this=values, kind="CROSS")]:
        select = select.join(j)
    cond = col("rejected", "c")
    return select.where(exp.and_(where, cond) if where is not None else cond)


def rejects(v1_table: str, tables: list[Table]) -> exp.Expression:
    """Every rejected value of one V1 table, from one pass over its rows (of this run).

    ``typed`` reads each mapped key once (jsonb_to_record) and decides once per value whether
    it is rejected: meaningful in V1, NULL after its transform. Only the rows with a reject
    (``with_rejects``) expand into one candidate per mapped value. Array tables expand their
    elements the same way.
    """
    row_cols = [(t, c) for t in tables if t.grain == "row" for c in _mapped(t)]
    ex = extraction_for([c.top_key for _, c in row_cols])
    typed = exp.select(col("id", "v1"), col("xdo", "v1")).from_(_from_v1())
    xdo = col("xdo", "t")
    not_object = exp.and_(exp.Not(this=exp.Is(this=xdo, expression=exp.null())),
                          exp.NEQ(this=call("jsonb_typeof", xdo), expression=lit("object")))
    any_rejected: list[exp.Expression] = [not_object]
    candidates: list[exp.Tuple] = []
    for t, c in row_cols:
        raw, flag = named("raw", t.name, c.name), named("rejected", t.name, c.name)
        value = value_of(c, ex)
        typed = typed.select(exp.alias_(value, ident(raw)), exp.alias_(exp.and_(
            fn("has_value", value), exp.Is(this=transformed(c, value), expression=exp.null())),
            ident(flag)))
        any_rejected.append(col(flag, "t"))
        candidates.append(_candidate(t, c, exp.null(), col(raw, "t"), col(flag, "t")))
    if ex.join() is not None:
        typed = typed.join(ex.join())
    # a whole record that is no JSON object: only its shape is shown (it may hold secrets)
    shape = exp.DPipe(this=exp.DPipe(this=call("jsonb_typeof", xdo), expression=lit(" of ")),
                      expression=exp.DPipe(this=exp.cast(call("length", exp.cast(xdo, "text")),
                                                         "text"), expression=lit(" chars")))
    rejected_rows = exp.to_table("with_rejects").as_("t", quoted=True)
    whole = (exp.select(exp.alias_(lit(v1_table), ident("v1_table")),
                        exp.alias_(col("id", "t"), ident("v1_id")),
                        exp.alias_(lit("$xdo"), ident("key_path")),
                        exp.alias_(exp.cast(exp.null(), "bigint"), ident("element_position")),
                        exp.alias_(lit(tables[0].name if tables else ""), ident("v2_table")),
                        exp.alias_(lit(""), ident("v2_column")),
                        exp.alias_(shape, ident("raw_value")),
                        exp.alias_(lit("object"), ident("target_type")),
                        exp.alias_(lit("xdo is not a JSON object"), ident("reason")))
             .from_(rejected_rows).where(not_object.copy()))
    parts: list[exp.Select] = [whole]
    if candidates:
        parts.append(_rejects_of(v1_table, rejected_rows.copy(), [], candidates, col("id", "t")))
    array_ctes: list[tuple[str, exp.Select]] = []
    for t in tables:
        if t.grain != "array" or not _mapped(t):
            continue
        # the same for elements: typed once per element, only elements with a reject expand
        element, join = element_source(t)
        typed_e = (exp.select(col("id", "v1"), col("ord", "e")).from_(_from_v1()).join(join)
                   .where(exp.LT(this=col("ord", "e"),
                                 expression=exp.Literal.number(ARRAY_ID_FACTOR))))
        flags, cands = [], []
        for c in _mapped(t):
            raw, flag = named("raw", t.name, c.name), named("rejected", t.name, c.name)
            value = value_of(c, None, element)
            typed_e = typed_e.select(exp.alias_(value, ident(raw)), exp.alias_(exp.and_(
                fn("has_value", value),
                exp.Is(this=transformed(c, value), expression=exp.null())), ident(flag)))
            flags.append(col(flag, "t"))
            cands.append(_candidate(t, c, col("ord", "t"), col(raw, "t"), col(flag, "t")))
        name = named("typed", t.name)
        array_ctes.append((name, typed_e.offset(0)))
        parts.append(_rejects_of(v1_table, exp.to_table(name).as_("t", quoted=True), [], cands,
                                 col("id", "t"), exp.Paren(this=exp.or_(*flags))))
    union = parts[0]
    for p in parts[1:]:
        union = exp.union(union, p, distinct=False)
    ctes = [
        ("v1", _v1_cte(v1_table, "model")),
        ("typed", typed.offset(0)),  # the fence: every value is typed once, not per use
        ("with_rejects", exp.select(exp.Star()).from_(exp.to_table("typed").as_("t", quoted=True))
         .where(exp.or_(*any_rejected))),
        *array_ctes,
    ]
    for name, body in ctes:
        union = union.with_(ident(name), as_=body)
    return union


# -- accounting -------------------------------------------------------------------------------
def present(c: Column, value: exp.Expression) -> exp.Expression:
    """True when a V2 value counts as present: what xano_fn.has_value says of its JSON, decided
    on the typed value (no conversion to jsonb): not NULL, and for text not blank."""
    not_null = exp.Not(this=exp.Is(this=value, expression=exp.null()))
    if c.v2_type == "jsonb":
        return fn("has_value", value)
    if c.v2_type == "text":
        return exp.and_(not_null, exp.NEQ(this=call("btrim", value), expression=lit("")))
    return not_null


def _count_if(cond: exp.Expression, alias: str) -> exp.Expression:
    return exp.alias_(exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=cond)),
                      ident(alias))


def accounting(v1_table: str, tables: list[Table]) -> exp.Select:
    """Per mapped column of one V1 table: V1 values, V2 values present, rejected (by name).

    One pass over V1 for the row-grain keys, one per array table, one per V2 table (rows whose
    V1 row still exists); the rejects come from the V1 table's rejects model.
    """
    ctes: list[tuple[str, exp.Select]] = [("v1", _v1_cte(v1_table, "all"))]
    counts: list[str] = []
    rows: list[exp.Tuple] = []
    row_cols = [(t, c) for t in tables if t.grain == "row" for c in _mapped(t)]
    ex = extraction_for([c.top_key for _, c in row_cols])
    if row_cols:
        v1_values = exp.select(*[_count_if(fn("has_value", value_of(c, ex)), named(t.name, c.name))
                                 for t, c in row_cols]).from_(_from_v1())
        if ex.join() is not None:
            v1_values = v1_values.join(ex.join())
        ctes.append(("v1_values", v1_values))
        counts.append("v1_values")
    sources = {t.name: "v1_values" for t in tables if t.grain == "row"}
    for t in tables:
        if t.grain != "array" or not _mapped(t):
            continue
        element, join = element_source(t)
        name = named("v1_values", t.name)
        ctes.append((name, exp.select(*[
            _count_if(fn("has_value", value_of(c, None, element)), named(t.name, c.name))
            for c in _mapped(t)]).from_(_from_v1()).join(join).where(
            exp.LT(this=col("ord", "e"), expression=exp.Literal.number(ARRAY_ID_FACTOR)))))
        counts.append(name)
        sources[t.name] = name
    for t in tables:
        if not _mapped(t):
            continue
        owner = "id" if t.grain == "row" else t.parent_column
        exists = exp.Exists(this=exp.select(exp.Literal.number(1)).from_(
            exp.to_table("v1").as_("x", quoted=True)).where(
            exp.EQ(this=col("id", "x"), expression=col(owner, "m"))))
        name = named("v2_present", t.name)
        ctes.append((name, exp.select(*[
            _count_if(present(c, col(c.name, "m")), named(t.name, c.name))
            for c in _mapped(t)]).from_(exp.to_table(ref_placeholder(t.name)).as_(
            "m", quoted=True)).where(exists)))
        counts.append(name)
        for c in _mapped(t):
            rows.append(exp.Tuple(expressions=[
                lit(t.name), lit(c.name), lit(c.v1_path),
                col(named(t.name, c.name), sources[t.name]),
                col(named(t.name, c.name), name)]))
    ctes.append(("rejected", exp.select(col("v2_table"), col("v2_column"),
                                        exp.alias_(exp.Count(this=exp.Star()), ident("n")))
                 .from_(exp.to_table(ref_placeholder(f"xano_rejects__{v1_table}")))
                 .group_by(col("v2_table"), col("v2_column"))))
    columns = exp.Lateral(this=exp.Subquery(this=exp.Values(expressions=rows)),
                          alias=exp.TableAlias(this=ident("a"), columns=[
                              ident(n) for n in ("v2_table", "v2_column", "key_path",
                                                 "v1_values", "v2_present")]))
    final = exp.select(exp.alias_(lit(v1_table), ident("v1_table")),
                       *[col(n, "a") for n in ("v2_table", "v2_column", "key_path", "v1_values",
                                               "v2_present")],
                       exp.alias_(call("coalesce", col("n", "r"), exp.Literal.number(0)),
                                  ident("rejected")))
    final = final.from_(exp.to_table(counts[0]).as_(counts[0], quoted=True)) if counts else \
        final.from_(exp.select(exp.Literal.number(1)).subquery("one"))
    for name in counts[1:]:
        final = final.join(exp.to_table(name).as_(name, quoted=True), join_type="cross")
    if rows:
        final = final.join(exp.Join(this=columns, kind="CROSS"))
    final = final.join(exp.to_table("rejected").as_("r", quoted=True), join_type="left",
                       on=exp.and_(
                           exp.EQ(this=col("v2_table", "r"), expression=col("v2_table", "a")),
                           exp.EQ(this=col("v2_column", "r"), expression=col("v2_column", "a"))))
    for name, body in ctes:
        final = final.with_(ident(name), as_=body)
    return final
