"""sqlglot builders of the proof: the rejects and the value accounting of one V1 table.

Both read V1 through the CTE ``v1``, whose body is a placeholder the template turns into
``{{ xano_v1_rows(...) }}`` (the one macro that knows the changed-only filter). Column names
say what they hold: ``raw__<v2 table>__<column>``, ``rejected__...``, ``<v2 table>__<column>``
(shortened with a digest past PostgreSQL's 63 bytes, so two long names never collide).
"""

from __future__ import annotations

from sqlglot import exp

from generator.spec import PH_ROWS, Column, Table
from generator.sql import stage
from generator.sql.build import (
    MASK,
    RAW_MAX,
    call,
    col,
    fn,
    ident,
    lit,
    ref_placeholder,
    source_placeholder,
)
from generator.transforms import TRANSFORMS

REJECT_COLUMNS = ("v1_table", "v1_id", "key_path", "element_position", "v2_table", "v2_column",
                  "raw_value", "target_type", "reason")
"""Columns of every rejects model."""
ACCOUNTING_COLUMNS = ("v1_table", "v2_table", "v2_column", "key_path", "v1_values",
                      "v2_present", "rejected")
"""Columns of every accounting model."""
_META = ("k", "key_path", "v2_table", "v2_column", "target_type", "sensitive", "path")
"""Columns of a rejects model's column list: what a reject row says of the value's column."""


def rows_placeholder(v1_table: str, scope: str) -> str:
    """Placeholder table for ``{{ xano_v1_rows(v1_table, scope) }}`` (see emit.text).

    >>> rows_placeholder("user", "all")
    '__rows__all__user'
    """
    return f"{PH_ROWS}{scope}__{v1_table}"


named = stage.named
"""A column name made of parts joined by ``__`` (:func:`generator.sql.stage.named`)."""
_mapped = stage.mapped


# -- rejects ----------------------------------------------------------------------------------
def _meta(pairs: list[tuple[Table, Column]], element: bool) -> exp.Values:
    """One row per mapped column (numbered from 1): key path, V2 table and column, target type,
    sensitive, and the path of its value inside the record (inside the element)."""
    rows = []
    for k, (t, c) in enumerate(pairs, 1):
        steps = [key for key, _ in c.steps()][1 if element else 0:]
        rows.append(exp.Tuple(expressions=[
            exp.Literal.number(k), lit(c.v1_path), lit(t.name), lit(c.name),
            lit(TRANSFORMS[c.transform].reject_label), exp.Boolean(this=c.sensitive),
            exp.cast(exp.Array(expressions=[lit(x) for x in steps]), "text[]")]))
    return exp.Values(expressions=rows)


def _which(flags: list[exp.Expression]) -> exp.Expression:
    """The numbers (from 1) of the flags that are true, as an array."""
    return call("array_remove", exp.Array(expressions=[
        exp.Case(ifs=[exp.If(this=f.copy(), true=exp.Literal.number(k))])
        for k, f in enumerate(flags, 1)]), exp.null())


def _reject_rows(v1_table: str, flagged: str, meta: str, value: exp.Expression,
                 id_: exp.Expression, position: exp.Expression, join_on: exp.Expression
                 ) -> exp.Select:
    """One reject row per (flagged row, rejected column): the raw value read from V1 at the
    column's path under ``value`` (the record, or the element)."""
    raw = exp.JSONBExtract(this=value, expression=col("path", "c"))
    raw_value = exp.Case(ifs=[exp.If(this=col("sensitive", "c"), true=lit(MASK))],
                         default=call("left", exp.cast(raw, "text"), exp.Literal.number(RAW_MAX)))
    unnest = exp.Lateral(this=exp.Unnest(expressions=[col("k", "f")]),
                         alias=exp.TableAlias(this=ident("u"), columns=[ident("k")]))
    return (exp.select(exp.alias_(lit(v1_table), ident("v1_table")),
                       exp.alias_(id_, ident("v1_id")), col("key_path", "c"),
                       exp.alias_(exp.cast(position, "bigint"), ident("element_position")),
                       col("v2_table", "c"), col("v2_column", "c"),
                       exp.alias_(raw_value, ident("raw_value")), col("target_type", "c"),
                       exp.alias_(fn("reject_reason", raw.copy(), col("target_type", "c")),
                                  ident("reason")))
            .from_(exp.to_table(flagged).as_("f", quoted=True))
            .join(exp.Table(this=ident(source_placeholder(v1_table)),
                            alias=exp.TableAlias(this=ident("v1"))), on=join_on)
            .join(exp.Join(this=unnest, kind="CROSS"))
            .join(exp.to_table(meta).as_("c", quoted=True),
                  on=exp.EQ(this=col("k", "c"), expression=col("k", "u"))))


def rejects(v1_table: str, tables: list[Table]) -> exp.Expression:
    """Every rejected value of one V1 table, from its typed stage (of this run's rows).

    A value is rejected when the stage says V1 holds one (``h``) and its typed value (``v``)
    is NULL. The stage rows with a reject are found from those flags alone; only they are
    joined back to V1, for the raw value the quarantine shows (read at the column's path).
    Array tables the same way, per element, from their element stages.
    """
    row_cols = [(t, c) for t in tables if t.grain == "row" for c in _mapped(t)]
    flags = [stage.rejected(t, c) for t, c in row_cols]
    flagged = (exp.select(col("id", "s"), col(stage.NOT_OBJECT, "s"),
                          exp.alias_(_which(flags) if flags else exp.cast(
                              exp.Array(expressions=[]), "int[]"), ident("k")))
               .from_(stage.stage_rows(stage.row_stage_name(v1_table), v1_table, "model"))
               .where(stage.any_of([col(stage.NOT_OBJECT, "s"), *flags])))
    ctes: list[tuple[str, exp.Expression]] = [("flagged", flagged)]
    on_id = exp.EQ(this=col("id", "v1"), expression=col("id", "f"))
    xdo = col("xdo", "v1")
    # a whole record that is no JSON object: only its shape is shown (it may hold secrets)
    shape = exp.DPipe(this=exp.DPipe(this=call("jsonb_typeof", xdo), expression=lit(" of ")),
                      expression=exp.DPipe(this=exp.cast(call("length", exp.cast(xdo, "text")),
                                                         "text"), expression=lit(" chars")))
    whole = (exp.select(exp.alias_(lit(v1_table), ident("v1_table")),
                        exp.alias_(col("id", "f"), ident("v1_id")),
                        exp.alias_(lit("$xdo"), ident("key_path")),
                        exp.alias_(exp.cast(exp.null(), "bigint"), ident("element_position")),
                        exp.alias_(lit(tables[0].name if tables else ""), ident("v2_table")),
                        exp.alias_(lit(""), ident("v2_column")),
                        exp.alias_(shape, ident("raw_value")),
                        exp.alias_(lit("object"), ident("target_type")),
                        exp.alias_(lit("xdo is not a JSON object"), ident("reason")))
             .from_(exp.to_table("flagged").as_("f", quoted=True))
             .join(exp.Table(this=ident(source_placeholder(v1_table)),
                             alias=exp.TableAlias(this=ident("v1"))), on=on_id.copy())
             .where(col(stage.NOT_OBJECT, "f")))
    parts: list[exp.Select] = [whole]
    if row_cols:
        ctes.append(("columns", exp.select(exp.Star()).from_(exp.Subquery(
            this=_meta(row_cols, False), alias=exp.TableAlias(
                this=ident("m"), columns=[ident(n) for n in _META])))))
        parts.append(_reject_rows(v1_table, "flagged", "columns", xdo.copy(), col("id", "f"),
                                  exp.null(), on_id.copy()))
    for t in tables:
        if t.grain != "array" or not _mapped(t):
            continue
        pairs = [(t, c) for c in _mapped(t)]
        e_flags = [stage.rejected(t, c) for c in _mapped(t)]
        name, meta = named("flagged", t.name), named("columns", t.name)
        ctes += [(name, exp.select(col("v1_id", "s"), col("position", "s"),
                                   exp.alias_(_which(e_flags), ident("k")))
                  .from_(stage.stage_rows(stage.element_stage_name(t), v1_table, "model"))
                  .where(stage.any_of(e_flags))),
                 (meta, exp.select(exp.Star()).from_(exp.Subquery(
                     this=_meta(pairs, True), alias=exp.TableAlias(
                         this=ident("m"), columns=[ident(n) for n in _META]))))]
        parts.append(_reject_rows(
            v1_table, name, meta, stage.raw_element(t, col("position", "f")),
            col("v1_id", "f"), col("position", "f"),
            exp.EQ(this=col("id", "v1"), expression=col("v1_id", "f"))))
    union = parts[0]
    for p in parts[1:]:
        union = exp.union(union, p, distinct=False)
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

    The V1 values are counted from the typed stage's flags (``h``: V1 holds a meaningful
    value), one pass over each stage; the V2 values present from each V2 table, for rows whose
    V1 row still exists (the stage holds exactly V1's rows); the rejects from the V1 table's
    rejects model.
    """
    row_stage = stage.row_stage_name(v1_table)
    ctes: list[tuple[str, exp.Select]] = []
    counts: list[str] = []
    rows: list[exp.Tuple] = []
    row_cols = [(t, c) for t in tables if t.grain == "row" for c in _mapped(t)]
    if row_cols:
        ctes.append(("v1_values", exp.select(*[
            _count_if(col(stage.has_name(t, c), "s"), named(t.name, c.name))
            for t, c in row_cols]).from_(stage.stage_rows(row_stage, v1_table, "all"))))
        counts.append("v1_values")
    sources = {t.name: "v1_values" for t in tables if t.grain == "row"}
    for t in tables:
        if t.grain != "array" or not _mapped(t):
            continue
        name = named("v1_values", t.name)
        ctes.append((name, exp.select(*[
            _count_if(col(stage.has_name(t, c), "s"), named(t.name, c.name))
            for c in _mapped(t)]).from_(stage.stage_rows(stage.element_stage_name(t), v1_table,
                                                         "all"))))
        counts.append(name)
        sources[t.name] = name
    for t in tables:
        if not _mapped(t):
            continue
        owner = "id" if t.grain == "row" else t.parent_column
        exists = exp.Exists(this=exp.select(exp.Literal.number(1)).from_(
            stage.stage_rows(row_stage, v1_table, "all", alias="x")).where(
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
