"""sqlglot builders for every generated statement (all identifiers quoted, keys as literals).

A V1 key never reaches SQL as text: it becomes a quoted identifier (jsonb_to_record column, only
when it fits Postgres' 63-byte limit) or a string literal (``xdo -> 'key'``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.postgres import Postgres

from generator.config import (
    ARRAY_ID_FACTOR,
    CLOSURE_MAX_DEPTH,
    FN_SCHEMA,
    MAX_IDENT,
    UNMAPPED_COLUMN,
    fit_ident,
)
from generator.spec import PH_REF, PH_SOURCE, PH_THIS, RESERVED_PREFIXES, Column, Table
from generator.transforms import TRANSFORMS

THIS = PH_THIS
"""Placeholder table name, replaced by ``{{ this }}`` in the template."""
MASK = "***masked***"
"""What a reject shows of a sensitive value."""
RAW_MAX = 200
"""Characters of a raw value kept in a reject."""


def ident(name: str) -> exp.Identifier:
    """Always-quoted identifier."""
    return exp.to_identifier(name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    """Quoted column reference."""
    return exp.Column(this=ident(name), table=ident(table) if table else None)


def lit(value: str) -> exp.Expression:
    """String literal (quotes escaped by sqlglot).

    Line breaks are spelled ``chr(13)``/``chr(10)``: dbt and Jinja read model files with newline
    translation, so a raw CR (or CRLF) inside a literal would not reach the server as written.

    >>> render(lit("a\\rb")).split()
    ['(', "'a'", '||', 'CHR(13)', '||', "'b'", ')']
    """
    if "\r" not in value and "\n" not in value:
        return exp.Literal.string(value)
    parts: list[exp.Expression] = []
    for piece in re.split(r"(\r|\n)", value):
        if piece in ("\r", "\n"):
            parts.append(call("chr", exp.Literal.number(ord(piece))))
        elif piece:
            parts.append(exp.Literal.string(piece))
    out = parts[0]
    for part in parts[1:]:
        out = exp.DPipe(this=out, expression=part)
    return exp.Paren(this=out)


def fn(name: str, *args: exp.Expression) -> exp.Expression:
    """Call ``xano_fn.<name>(args)``."""
    return exp.Dot(this=exp.to_identifier(FN_SCHEMA),
                   expression=exp.Anonymous(this=name, expressions=list(args)))


def call(name: str, *args: exp.Expression) -> exp.Anonymous:
    """Call a built-in function."""
    return exp.Anonymous(this=name, expressions=list(args))


def arrow(value: exp.Expression, key: str) -> exp.Expression:
    """``value -> 'key'`` (jsonb field access)."""
    return exp.JSONExtract(this=value, expression=lit(key))


def is_object(value: exp.Expression, kind: str = "object") -> exp.Expression:
    return exp.EQ(this=call("jsonb_typeof", value), expression=lit(kind))


class _Postgres(Postgres):
    """PostgreSQL as sqlglot writes it, except that a table alias with more than three column
    definitions (``jsonb_to_record(...) AS r(...)``) lists them one per line: a wide V1 table
    would otherwise make a single line of a thousand characters."""

    class Generator(Postgres.Generator):
        def tablealias_sql(self, expression: exp.TableAlias) -> str:
            if self.pretty and len(expression.args.get("columns") or []) > 3:
                alias = self.sql(expression, "this")
                return f"{alias}(\n{self.expressions(expression, key='columns')}\n)"
            return super().tablealias_sql(expression)


def render(expression: exp.Expression, width: int = 80) -> str:
    """Postgres, pretty, every identifier quoted (``width``: where a line is broken; the
    proof's per-column lists are read better one column a line)."""
    return expression.sql(dialect=_Postgres, pretty=True, identify=True, max_text_width=width)


def fits_record(key: str) -> bool:
    """Keys that can be a jsonb_to_record column (Postgres truncates longer identifiers; a line
    break would not survive dbt reading the model file)."""
    return (0 < len(key.encode()) <= MAX_IDENT and "\r" not in key and "\n" not in key
            and not key.startswith(RESERVED_PREFIXES))  # read as a literal instead


@dataclass(frozen=True)
class Extraction:
    """How the top-level keys of one V1 table are read in one pass."""

    record_keys: tuple[str, ...]
    """Keys read through jsonb_to_record (one detoast of xdo)."""

    def top(self, key: str) -> exp.Expression:
        """jsonb value of a top-level key."""
        if key in self.record_keys:
            return col(key, "r")
        return arrow(col("xdo", "v1"), key)

    def join(self) -> exp.Join | None:
        """LEFT JOIN LATERAL jsonb_to_record(...) AS r(...) ON TRUE."""
        if not self.record_keys:
            return None
        xdo = col("xdo", "v1")
        arg = exp.Case(ifs=[exp.If(this=is_object(xdo), true=xdo)])
        alias = exp.TableAlias(this=ident("r"), columns=[
            exp.ColumnDef(this=ident(k), kind=exp.DataType.build("jsonb"))
            for k in self.record_keys])
        lateral = exp.Lateral(this=call("jsonb_to_record", arg), alias=alias)
        return exp.Join(this=lateral, side="LEFT", on=exp.true())


def extraction_for(keys: list[str]) -> Extraction:
    """Record keys in first-seen order (deterministic), long keys left to ``->``."""
    seen: list[str] = []
    for k in keys:
        if fits_record(k) and k not in seen:
            seen.append(k)
    return Extraction(tuple(seen))


def value_of(c: Column, ex: Extraction, element: exp.Expression | None = None) -> exp.Expression:
    """jsonb value a column reads (element = current array element for array grain)."""
    steps = c.steps()
    value = element if element is not None else ex.top(steps[0][0])
    for key, _ in steps[1:]:
        value = arrow(value, key)
    return value


def transformed(c: Column, value: exp.Expression) -> exp.Expression:
    """The V2 value of a column: ``xano_fn.<transform>(value)``."""
    return fn(TRANSFORMS[c.transform].function, value)


def top_keys(table: Table) -> list[str]:
    """Top-level V1 keys a V2 table reads."""
    if table.grain == "array":
        return [table.array_path]
    return [c.top_key for c in table.columns if not c.special]


# -- models -----------------------------------------------------------------------------------
def row_model(table: Table, unmapped_keys: list[str]) -> exp.Select:
    """SELECT of a row-grain V2 table over CTE ``v1`` (id, xdo)."""
    ex = extraction_for(top_keys(table) + unmapped_keys)
    select = exp.select().from_(exp.to_table("v1").as_("v1", quoted=True))
    for c in table.columns:
        value = col("id", "v1") if c.special else transformed(c, value_of(c, ex))
        select = select.select(exp.alias_(value, ident(c.name)))
    if unmapped_keys:
        pairs: list[exp.Expression] = []
        for k in unmapped_keys:
            pairs += [lit(k), ex.top(k)]
        obj = _build_object(pairs)
        unmapped = call("nullif", call("jsonb_strip_nulls", obj), exp.cast(lit("{}"), "jsonb"))
        select = select.select(exp.alias_(unmapped, ident(UNMAPPED_COLUMN)))
    join = ex.join()
    if join is not None:
        select = select.join(join)
    return select


def element_source(table: Table) -> tuple[exp.Expression, exp.Join]:
    """The current element of an array table's array, and the lateral join that yields it."""
    arr = arrow(col("xdo", "v1"), table.array_path)
    guarded = exp.Case(ifs=[exp.If(this=is_object(arr, "array"), true=arr)])
    func = call("jsonb_array_elements", guarded)
    alias = exp.TableAlias(this=ident("e"), columns=[ident("val"), ident("ord")])
    lateral = exp.Lateral(this=func, alias=alias, ordinality=True)
    return col("val", "e"), exp.Join(this=lateral, kind="CROSS")


def array_model(table: Table) -> exp.Select:
    """SELECT of an array-grain V2 table: one row per element of ``xdo -> array_path``."""
    element, join = element_source(table)
    ord_ = col("ord", "e")
    special = {
        "$element_id": exp.Add(this=exp.Mul(this=col("id", "v1"),
                                            expression=exp.Literal.number(ARRAY_ID_FACTOR)),
                               expression=ord_),
        "$parent_id": col("id", "v1"),
        "$id": col("id", "v1"),
        "$position": ord_,
    }
    select = exp.select().from_(exp.to_table("v1").as_("v1", quoted=True)).join(join)
    for c in table.columns:
        value = special[c.v1_path] if c.special else transformed(c, value_of(c, None, element))
        select = select.select(exp.alias_(value, ident(c.name)))
    return select.where(exp.LT(this=ord_, expression=exp.Literal.number(ARRAY_ID_FACTOR)))


def diff_condition(table: Table, extra: list[str]) -> exp.Expression:
    """NOT EXISTS an identical row in the current table: only new or changed rows pass."""
    names = [c.name for c in table.columns] + extra
    cur = exp.Tuple(expressions=[col(n, "cur") for n in names])
    new = exp.Tuple(expressions=[col(n, "extracted") for n in names])
    sub = (exp.select(exp.Literal.number(1))
           .from_(exp.to_table(THIS).as_("cur", quoted=True))
           .where(exp.and_(exp.EQ(this=col("id", "cur"), expression=col("id", "extracted")),
                           exp.NullSafeEQ(this=cur, expression=new))))
    return exp.Not(this=exp.Exists(this=sub))


def array_prune(table: Table) -> exp.Expression:
    """DELETE elements whose position no longer exists in V1 (array shrank)."""
    arr = arrow(col("xdo", "v1"), table.array_path)
    length = call("coalesce", call("jsonb_array_length", exp.Case(
        ifs=[exp.If(this=is_object(arr, "array"), true=arr)])), exp.Literal.number(0))
    return exp.Delete(
        this=exp.to_table(THIS).as_("t", quoted=True),
        using=[exp.Table(this=ident(source_placeholder(table.v1_table)), alias=exp.TableAlias(
            this=ident("v1")))],
        where=exp.Where(this=exp.and_(
            exp.EQ(this=col(table.parent_column, "t"), expression=col("id", "v1")),
            exp.GT(this=col("position", "t"), expression=length))),
    )


def index_on(name: str, column: str) -> exp.Create:
    """CREATE INDEX IF NOT EXISTS ``name`` on one column of ``{{ this }}`` (a hook: stable
    name, runs on every build)."""
    return exp.Create(kind="INDEX", exists=True, this=exp.Index(
        this=ident(name), table=exp.to_table(THIS),
        params=exp.IndexParameters(columns=[exp.Ordered(this=col(column))])))


def parent_index(table: Table) -> exp.Create:
    """CREATE INDEX IF NOT EXISTS on a split table's parent column.

    The rows of an array table belong to their V1 row through that column: a changed-only
    sync's tests and the array prune look rows up by it (without the index, each of them
    scans the whole table). The name is stable (the hook runs on every build) and fits
    PostgreSQL's identifier limit.
    """
    return index_on(fit_ident(f"{table.name}__{table.parent_column}", keep="__idx"),
                    table.parent_column)


def _build_object(pairs: list[exp.Expression]) -> exp.Expression:
    """jsonb_build_object in chunks of 50 pairs (Postgres allows 100 arguments)."""
    chunks = [pairs[i:i + 100] for i in range(0, len(pairs), 100)] or [[]]
    objs = [call("jsonb_build_object", *chunk) for chunk in chunks]
    out = objs[0]
    for o in objs[1:]:
        out = exp.DPipe(this=out, expression=o)
    return out


# -- integrity ---------------------------------------------------------------------------------
def reconcile(table: Table, model_cte: str = "model") -> exp.Select:
    """Rows whose V2 values differ from the transform of their V1 values (one pass).

    ``expected`` is the table's extraction over V1; the result lists each differing id with the
    names of the columns that differ.
    """
    names = [c.name for c in table.columns]
    mismatch = [exp.Case(ifs=[exp.If(this=exp.NullSafeNEQ(this=col(n, "e"), expression=col(n, "m")),
                                     true=lit(n))]) for n in names]
    cols = exp.Anonymous(this="array_remove", expressions=[
        exp.Array(expressions=mismatch), exp.null()])
    return (exp.select(exp.alias_(lit(table.name), ident("v2_table")),
                       exp.alias_(col("id", "e"), ident("id")),
                       exp.alias_(cols, ident("mismatched_columns")))
            .from_(exp.to_table("expected").as_("e", quoted=True))
            .join(exp.to_table(model_cte).as_("m", quoted=True),
                  on=exp.EQ(this=col("id", "m"), expression=col("id", "e")))
            .where(exp.NullSafeNEQ(
                this=exp.Tuple(expressions=[col(n, "e") for n in names]),
                expression=exp.Tuple(expressions=[col(n, "m") for n in names]))))


def ref_placeholder(name: str) -> str:
    """Placeholder table name for ``{{ ref(name) }}`` (replaced in the template)."""
    return f"{PH_REF}{name}"


def source_placeholder(v1_table: str) -> str:
    """Placeholder table name for ``{{ source(config.V1_SOURCE, v1_table) }}``."""
    return f"{PH_SOURCE}{v1_table}"


# -- closure tables ------------------------------------------------------------------------------
_CLOSURE = """
WITH RECURSIVE links AS (
  SELECT DISTINCT __from__ AS a, __to__ AS d FROM __rows__ AS v1
), edges AS (
  SELECT a, d FROM links WHERE a IS NOT NULL AND d IS NOT NULL AND a <> d
), walk(ancestor, descendant, depth, path) AS (
  SELECT a, d, CAST(1 AS BIGINT), ARRAY[a, d] FROM edges
  UNION ALL
  SELECT e.a, w.descendant, w.depth + 1, ARRAY_PREPEND(e.a, w.path)
  FROM walk AS w JOIN edges AS e ON e.d = w.ancestor
  WHERE NOT e.a = ANY(w.path) AND w.depth < __max_depth__
), pairs AS (
  SELECT DISTINCT ON (ancestor, descendant) ancestor, descendant, depth, path
  FROM walk ORDER BY ancestor, descendant, depth, path
)
SELECT __columns__ FROM pairs AS p
"""
"""A closure over the links of the V1 rows: every (ancestor, descendant) pair reachable, at
its shortest depth, with the path of ids; a cycle stops its walk, and so does the depth limit.
The placeholders become expressions (the link keys as literals, never as text)."""


def pair_id(ancestor: exp.Expression, descendant: exp.Expression) -> exp.Expression:
    """The id of a closure pair: a stable 60-bit digest of (ancestor, descendant)."""
    from sqlglot import parse_one

    tree = parse_one("('x' || LEFT(MD5(__a__::TEXT || '>' || __d__::TEXT), 15))::BIT(60)::BIGINT",
                     dialect="postgres")
    return tree.transform(lambda n: (ancestor.copy() if n.name == "__a__" else descendant.copy())
                          if isinstance(n, exp.Column) and n.name in ("__a__", "__d__") else n)


def closure_model(table: Table, rows: exp.Expression | None = None,
                  links: tuple[exp.Expression, exp.Expression] | None = None) -> exp.Expression:
    """SELECT of a closure-grain V2 table over the V1 rows ``rows`` (default: CTE ``v1``),
    whose links are ``links`` (default: the link keys of ``v1.xdo`` as bigint; the typed stage
    holds them typed).

    The pair's id is a stable 60-bit digest of (ancestor, descendant), so a rebuilt closure
    keeps its ids and only new or changed pairs are written.
    """
    from sqlglot import parse_one

    a, b = table.links
    to_bigint = TRANSFORMS["bigint"].function
    value = {
        "$id": pair_id(col("ancestor", "p"), col("descendant", "p")),
        "$ancestor": col("ancestor", "p"), "$descendant": col("descendant", "p"),
        "$depth": col("depth", "p"), "$path": call("to_jsonb", col("path", "p")),
    }
    columns = [exp.alias_(value[c.v1_path], ident(c.name)) for c in table.columns]
    source = rows if rows is not None else exp.to_table("v1")
    tree = parse_one(_CLOSURE, dialect="postgres")

    def fill(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.name in ("__from__", "__to__"):
            if links is not None:
                return links[0 if node.name == "__from__" else 1].copy()
            key = a if node.name == "__from__" else b
            return fn(to_bigint, arrow(col("xdo", "v1"), key))
        if isinstance(node, exp.Column) and node.name == "__max_depth__":
            return exp.Literal.number(CLOSURE_MAX_DEPTH)
        if isinstance(node, exp.Table) and node.name == "__rows__":
            return exp.Subquery(this=source, alias=exp.TableAlias(this=ident("v1"))) \
                if not isinstance(source, exp.Table) else source.as_("v1", quoted=True)
        return node

    tree = tree.transform(fill)
    tree.set("expressions", columns)  # the final SELECT's list (was __columns__)
    return tree
