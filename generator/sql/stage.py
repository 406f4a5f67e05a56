"""sqlglot builders of the typed stage: every mapped V1 value typed once, with its flag.

One stage relation per V1 table (row grain: every mapped column of every row-grain V2 table it
feeds) and one per array table (one row per element). A stage row holds, per mapped column,

- ``v__<v2 table>__<column>``: the V2 value, ``xano_fn.<transform>(V1 value)``, typed once;
- ``h__<v2 table>__<column>``: true when the V1 value is meaningful (``xano_fn.has_value``).

A value is rejected exactly when ``h`` is true and ``v`` is NULL: the V2 models, the rejects,
the accounting and the value reconciliation all read these two columns, so no V1 value is
typed twice and none of them can disagree on a value. The raw V1 value is read again only for
the few rows that have a reject (the rejects model shows it).

Column names are built by :func:`generator.sql.proof.named` (63-byte rule, never colliding).
"""

from __future__ import annotations

from sqlglot import exp

from generator.config import ARRAY_ID_FACTOR, STAGE_PREFIX, UNMAPPED_COLUMN, fit_ident
from generator.errors import SpecError
from generator.spec import PH_STAGE, Column, Table
from generator.sql.build import (
    THIS,
    _build_object,
    call,
    closure_model,
    col,
    element_source,
    extraction_for,
    fn,
    ident,
    is_object,
    lit,
    pair_id,
    transformed,
    value_of,
)
from generator.transforms import TRANSFORMS

NOT_OBJECT = "xdo_not_object"
"""Stage column: the V1 record is not a JSON object (every value of it reads as absent)."""
ELEMENTS_PREFIX = f"{STAGE_PREFIX}elements__"
"""Name prefix of the element stages (one per array table)."""
MAX_COLUMNS = 1600
"""PostgreSQL's limit of columns per table: a stage wider than this cannot be built."""


def named(*parts: str) -> str:
    """A column name made of parts joined by ``__``, at most 63 bytes, never colliding.

    >>> named("network_hierarchy", "level")
    'network_hierarchy__level'
    >>> len(named("t" * 60, "c" * 60).encode()) <= 63
    True
    """
    return fit_ident("__".join(parts))


def typed_name(t: Table, c: Column | str) -> str:
    """Stage column of the typed V2 value of ``t.c``."""
    return named("v", t.name, c if isinstance(c, str) else c.name)


def has_name(t: Table, c: Column) -> str:
    """Stage column: the V1 value of ``t.c`` is meaningful."""
    return named("h", t.name, c.name)


def row_stage_name(v1_table: str) -> str:
    """The stage model of the row-grain tables of a V1 table."""
    return f"{STAGE_PREFIX}{v1_table}"


def element_stage_name(t: Table) -> str:
    """The stage model of an array table (one row per element)."""
    return f"{ELEMENTS_PREFIX}{t.name}"


def stage_of(t: Table) -> str:
    """The stage model a V2 table reads (a closure table: its V1 table's row stage, which holds
    its links typed)."""
    return element_stage_name(t) if t.grain == "array" else row_stage_name(t.v1_table)


def link_names(t: Table) -> tuple[str, str]:
    """Row-stage columns of a closure table's links (from, to), typed as bigint."""
    return typed_name(t, "link_from"), typed_name(t, "link_to")


def mapped(t: Table) -> list[Column]:
    """The columns of ``t`` read from a V1 value (not the row id, parent, position...)."""
    return [c for c in t.columns if not c.special]


def stage_rows(stage: str, v1_table: str, scope: str, alias: str = "s") -> exp.Expression:
    """Placeholder table for the rows of a stage model a model or test reads:
    ``(select * from {{ ref(stage) }} {{ xano_changed_where(v1_table, scope, column) }})``,
    the column being ``id`` (row stage) or ``v1_id`` (element stage); see emit.text."""
    column = "v1_id" if stage.startswith(ELEMENTS_PREFIX) else "id"
    return exp.Table(this=ident(f"{PH_STAGE}{scope}.{v1_table}.{stage}.{column}"),
                     alias=exp.TableAlias(this=ident(alias)))



def _check_width(name: str, columns: list[str]) -> None:
    if len(columns) > MAX_COLUMNS:
        raise SpecError(f"the typed stage {name} would have {len(columns):,} columns, more "
                        f"than PostgreSQL's {MAX_COLUMNS:,}: split the V1 table's mapping over "
                        "fewer columns or ignore keys")
    if len(set(columns)) != len(columns):
        dup = sorted({c for c in columns if columns.count(c) > 1})
        raise SpecError(f"the typed stage {name} would hold two columns named {dup[0]!r}")


def row_stage(v1_table: str, tables: list[Table], unmapped: list[str]) -> exp.Select:
    """SELECT of the row stage of one V1 table over CTE ``v1`` (id, xdo)."""
    row_tables = [t for t in tables if t.grain == "row"]
    closures = [t for t in tables if t.grain == "closure"]
    pairs = [(t, c) for t in row_tables for c in mapped(t)]
    ex = extraction_for([c.top_key for _, c in pairs] + unmapped
                        + [k for t in closures for k in t.links])
    xdo = col("xdo", "v1")
    not_object = exp.and_(exp.Not(this=exp.Is(this=xdo, expression=exp.null())),
                          exp.NEQ(this=call("jsonb_typeof", xdo), expression=lit("object")))
    select = (exp.select(exp.alias_(col("id", "v1"), ident("id")),
                         exp.alias_(not_object, ident(NOT_OBJECT)))
              .from_(exp.to_table("v1").as_("v1", quoted=True)))
    names = ["id", NOT_OBJECT]
    for t, c in pairs:
        value = value_of(c, ex)
        select = select.select(exp.alias_(transformed(c, value), ident(typed_name(t, c))),
                               exp.alias_(fn("has_value", value), ident(has_name(t, c))))
        names += [typed_name(t, c), has_name(t, c)]
    for t in closures:
        for key, name in zip(t.links, link_names(t)):
            select = select.select(exp.alias_(fn(TRANSFORMS["bigint"].function, ex.top(key)),
                                              ident(name)))
            names.append(name)
    if unmapped:
        main = next(t for t in row_tables if t.is_main)
        kv: list[exp.Expression] = []
        for k in unmapped:
            kv += [lit(k), ex.top(k)]
        obj = call("nullif", call("jsonb_strip_nulls", _build_object(kv)),
                   exp.cast(lit("{}"), "jsonb"))
        select = select.select(exp.alias_(obj, ident(typed_name(main, UNMAPPED_COLUMN))))
        names.append(typed_name(main, UNMAPPED_COLUMN))
    _check_width(row_stage_name(v1_table), names)
    join = ex.join()
    return select.join(join) if join is not None else select


def element_stage(t: Table) -> exp.Select:
    """SELECT of an array table's stage over CTE ``v1``: one row per element (id = the V2
    element id, v1_id, position), each mapped value typed once with its flag."""
    element, join = element_source(t)
    ord_ = col("ord", "e")
    select = (exp.select(
        exp.alias_(exp.Add(this=exp.Mul(this=col("id", "v1"),
                                        expression=exp.Literal.number(ARRAY_ID_FACTOR)),
                           expression=ord_), ident("id")),
        exp.alias_(col("id", "v1"), ident("v1_id")),
        exp.alias_(ord_, ident("position")))
        .from_(exp.to_table("v1").as_("v1", quoted=True)).join(join))
    names = ["id", "v1_id", "position"]
    for c in mapped(t):
        value = value_of(c, None, element)
        select = select.select(exp.alias_(transformed(c, value), ident(typed_name(t, c))),
                               exp.alias_(fn("has_value", value), ident(has_name(t, c))))
        names += [typed_name(t, c), has_name(t, c)]
    _check_width(element_stage_name(t), names)
    return select.where(exp.LT(this=ord_, expression=exp.Literal.number(ARRAY_ID_FACTOR)))


def rejected(t: Table, c: Column, alias: str = "s") -> exp.Expression:
    """The value was rejected: meaningful in V1, NULL after its transform."""
    return exp.and_(col(has_name(t, c), alias),
                    exp.Is(this=col(typed_name(t, c), alias), expression=exp.null()))


_ELEMENT = {"$element_id": "id", "$parent_id": "v1_id", "$id": "v1_id", "$position": "position"}


def model_select(t: Table, scope: str, unmapped: bool = False) -> exp.Select:
    """A row or array V2 table as it reads its stage: each column the stage's typed value
    (``scope``: model or check, see macros/xano_stage_rows.sql)."""
    select = exp.select().from_(stage_rows(stage_of(t), t.v1_table, scope))
    for c in t.columns:
        if c.special:
            value = col(_ELEMENT[c.v1_path] if t.grain == "array" else "id", "s")
        else:
            value = col(typed_name(t, c), "s")
        select = select.select(exp.alias_(value, ident(c.name)))
    if unmapped:
        select = select.select(exp.alias_(col(typed_name(t, UNMAPPED_COLUMN), "s"),
                                          ident(UNMAPPED_COLUMN)))
    return select


def any_of(conds: list[exp.Expression]) -> exp.Expression:
    return exp.Paren(this=exp.or_(*conds)) if len(conds) > 1 else conds[0]


def raw_element(t: Table, ord_: exp.Expression) -> exp.Expression:
    """The V1 element at 1-based position ``ord_`` of the array of ``t`` (``v1.xdo``)."""
    arr = exp.JSONExtract(this=col("xdo", "v1"), expression=lit(t.array_path))
    guarded = exp.Case(ifs=[exp.If(this=is_object(arr, "array"), true=arr)])
    return call("jsonb_extract_path", guarded,
                exp.cast(exp.Sub(this=ord_, expression=exp.Literal.number(1)), "text"))


# -- closure tables: their links come typed from the row stage ---------------------------------
def _role(t: Table, path: str) -> str:
    return next(c.name for c in t.columns if c.v1_path == path)


def closure_select(t: Table) -> exp.Expression:
    """A closure table over its V1 table's row stage (every row: a link anywhere can change
    any pair)."""
    fr, to = link_names(t)
    return closure_model(t, stage_rows(row_stage_name(t.v1_table), t.v1_table, "all", "v1"),
                         (col(fr, "v1"), col(to, "v1")))


def _edges(t: Table) -> exp.Select:
    """The distinct links of the stage, as a closure's walk starts from them."""
    fr, to = col(link_names(t)[0], "s"), col(link_names(t)[1], "s")
    return (exp.select(exp.alias_(fr, ident("a")), exp.alias_(to, ident("d"))).distinct()
            .from_(stage_rows(row_stage_name(t.v1_table), t.v1_table, "all"))
            .where(exp.and_(exp.Not(this=exp.Is(this=fr, expression=exp.null())),
                            exp.Not(this=exp.Is(this=to, expression=exp.null())),
                            exp.NEQ(this=fr.copy(), expression=to.copy()))))


def _direct(t: Table, alias: str = "c", table: str = THIS) -> exp.Select:
    """The pairs of depth 1 of the closure table (``{{ this }}``): the links it was built on."""
    return (exp.select(exp.alias_(col(_role(t, "$ancestor"), alias), ident("a")),
                       exp.alias_(col(_role(t, "$descendant"), alias), ident("d")))
            .from_(exp.to_table(table).as_(alias, quoted=True))
            .where(exp.EQ(this=col(_role(t, "$depth"), alias), expression=exp.Literal.number(1))))


def links_gone(t: Table) -> exp.Expression:
    """A link the closure was built on is no longer in V1 (its pairs may be gone)."""
    return exp.Exists(this=exp.except_(_direct(t), _edges(t), distinct=True))


def links_moved(t: Table) -> exp.Expression:
    """The links of V1 differ from those the closure was built on: only then can a pair
    change (a changed-only sync skips the walk otherwise)."""
    return exp.Paren(this=exp.or_(exp.Exists(this=exp.except_(_edges(t), _direct(t),
                                                               distinct=True)), links_gone(t)))


def closure_prune(t: Table) -> exp.Expression:
    """DELETE the pairs a rebuilt closure no longer has (a link changed or went away)."""
    id_name = _role(t, "$id")
    sub = (exp.select(exp.Literal.number(1))
           .from_(exp.Subquery(this=closure_select(t), alias=exp.TableAlias(this=ident("c"))))
           .where(exp.EQ(this=col(id_name, "c"), expression=col(id_name, "t"))))
    return exp.Delete(this=exp.to_table(THIS).as_("t", quoted=True),
                      where=exp.Where(this=exp.Not(this=exp.Exists(this=sub))))


def direct_mismatches(t: Table, model: str = "model") -> exp.Select:
    """The reconciliation of a closure on a changed-only sync: its depth-1 pairs against the
    links of V1, both ways (v2_table, id, mismatched_columns); a full sync checks every pair."""
    direct = _direct(t, "m", model)
    edges = _edges(t)
    pid = pair_id(col("a", "x"), col("d", "x"))
    missing = (exp.select(exp.alias_(lit(t.name), ident("v2_table")), exp.alias_(pid, ident("id")),
                          exp.alias_(exp.Array(expressions=[lit("link missing")]),
                                     ident("mismatched_columns")))
               .from_(exp.Subquery(this=exp.except_(edges, direct.copy(), distinct=True),
                                   alias=exp.TableAlias(this=ident("x")))))
    extra = (exp.select(exp.alias_(lit(t.name), ident("v2_table")),
                        exp.alias_(pid.copy(), ident("id")),
                        exp.alias_(exp.Array(expressions=[lit("not a link of V1")]),
                                   ident("mismatched_columns")))
             .from_(exp.Subquery(this=exp.except_(direct, edges.copy(), distinct=True),
                                 alias=exp.TableAlias(this=ident("x")))))
    return exp.union(missing, extra, distinct=False)
