"""The discovery query: one pass over a V1 table (or an id range of it).

This query is fixed text: key names only ever come *out* of it as data, never go in. The table
is a composed identifier, the id range bound parameters.
"""

from __future__ import annotations

from psycopg import sql

# One pass over the rows of an id range. Per (row, path) one item: top-level keys, keys of object
# values, keys of objects inside arrays. Each item is classified once into a small code (see
# CODES) and grouped by (path, code): the output is a few rows per path.
#
# Why it is shaped like this (measured on 1M-row tables, see benchmarks/discover_ratio.py):
# - `offset 0` fences make PostgreSQL compute jsonb_typeof, the text and the numeric of a value
#   once; without them every reference in the CASE below re-evaluates the expression.
# - Nested paths cost a second look only for rows that have any: the per-row gate
#   `xdo @? 'lax $.*.*'` is true exactly when some value is a non-empty object or an array
#   holding one; flat rows never enter the nested branch.
# - Exact cheap checks (digits-only, `d`, character positions) decide the common strings before
#   any regular expression runs; the regular expressions stay as the definition for the rest,
#   so every class means exactly what its pattern says (tests/test_inventory.py checks both).
_SCAN = r"""
with src as (
    select id, xdo
    from {table}
    where id >= %(lo)s and id < %(hi)s and jsonb_typeof(xdo) = 'object'
),
items as (
    select s.id, i.key, i.sub_key, i.kind, i.deep, i.v, i.first_in_row
    from src as s
    cross join lateral (
        select e.key, null::text as sub_key, 0 as kind, '' as deep, e.value as v,
            true as first_in_row
        from jsonb_each(s.xdo) as e
        union all
        select p.key, c.sub_key, c.kind, '', c.v, c.first_in_row
        from jsonb_each(s.xdo) as p
        cross join lateral (
            select o.key as sub_key, 1 as kind, o.value as v, true as first_in_row
            from jsonb_each(p.value) as o
            where jsonb_typeof(p.value) = 'object'
            union all
            select a.sub_key, 2, a.v, a.rn = 1
            from (
                select n.key as sub_key, n.value as v,
                    row_number() over (partition by n.key order by el.ord) as rn
                from jsonb_array_elements(p.value) with ordinality as el(val, ord)
                cross join lateral jsonb_each(el.val) as n
                where jsonb_typeof(p.value) = 'array' and jsonb_typeof(el.val) = 'object'
            ) as a
        ) as c
        where s.xdo @? 'lax $.*.*' and jsonb_typeof(p.value) in ('object', 'array')
        union all
        -- three levels and deeper: only rows that nest that far; `deep` is the encoded rest
        -- of the path below the second level (keys escaped as in generator.keypath)
        select p.key, d.sub_key, d.kind, d.deep, d.v, d.rn = 1
        from jsonb_each(s.xdo) as p
        cross join lateral (
            select w.sub_key, w.kind, w.deep, w.v,
                row_number() over (partition by w.sub_key, w.kind, w.deep) as rn
            from (
                with recursive w (sub_key, kind, deep, v) as (
                    select o.key, 1, ''::text, o.value
                    from jsonb_each(case when jsonb_typeof(p.value) = 'object'
                        then p.value end) as o
                    union all
                    select n.key, 2, '', n.value
                    from jsonb_array_elements(case when jsonb_typeof(p.value) = 'array'
                        then p.value end) as el(val)
                    cross join lateral jsonb_each(case when jsonb_typeof(el.val) = 'object'
                        then el.val end) as n
                    union all
                    select w.sub_key, w.kind, w.deep || c.sep || replace(replace(replace(
                        replace(c.key, '\', '\\'), '.', '\.'), '[', '\['), ']', '\]'), c.v
                    from w
                    cross join lateral (
                        select '.' as sep, o.key, o.value as v
                        from jsonb_each(case when jsonb_typeof(w.v) = 'object'
                            then w.v end) as o
                        union all
                        select '[].', n.key, n.value
                        from jsonb_array_elements(case when jsonb_typeof(w.v) = 'array'
                            then w.v end) as el(val)
                        cross join lateral jsonb_each(case when jsonb_typeof(el.val) = 'object'
                            then el.val end) as n
                    ) as c
                )
                select * from w where deep <> ''
            ) as w
        ) as d
        where s.xdo @? 'lax $.*.*.*' and jsonb_typeof(p.value) in ('object', 'array')
    ) as i
),
typed as (
    select
        id, key, sub_key, kind, deep, v, first_in_row,
        -- the JSON type as a small integer: compared many times below
        case jsonb_typeof(v)
            when 'string' then 1 when 'number' then 2 when 'boolean' then 3
            when 'object' then 4 when 'array' then 5 else 6
        end as t
    from items
    offset 0
),
valued as (
    select
        id, key, sub_key, kind, deep, v, first_in_row, t,
        case when t = 1 then v #>> '{{}}' end as s,
        case when t = 2 then v::numeric end as n
    from typed
    offset 0
),
shaped as (
    select
        id, key, sub_key, kind, deep, v, first_in_row, t, s, n,
        ascii(s) as a,
        length(s) as l,
        -- the non-digit characters of a string that starts like a number or a date
        case when ascii(s) between 48 and 57 or ascii(s) in (43, 45, 46)
            then translate(s, '0123456789', '') end as d
    from valued
    offset 0
),
classified as (
    select
        id, key, sub_key, kind, deep, first_in_row,
        case t
            when 1 then case
                when l = 0 then 1
                when a between 48 and 57 or a in (9, 32, 43, 45, 46) then case
                    when d = '' then 2
                    when d in ('-', '+') and a = ascii(d) and l > 1 then 2
                    when d = '.' and l > 1 then 3
                    when d in ('-.', '+.') and a = ascii(d) and l > 2 then 3
                    when d = '--' and l = 10 and substr(s, 5, 1) = '-'
                        and substr(s, 8, 1) = '-' then 4
                    when l >= 16 and substr(s, 5, 1) = '-' and substr(s, 8, 1) = '-'
                        and substr(s, 11, 1) in ('T', ' ') and substr(s, 14, 1) = ':'
                        and translate(left(s, 16), '0123456789', '') in ('--T:', '-- :') then 5
                    -- the patterns below can only match when the other characters are
                    -- signs, separators, exponents or spaces, or a date-like start
                    when octet_length(s) = l and translate(d, ' +-.,eE' || chr(9)
                        || chr(10) || chr(11) || chr(12) || chr(13), '') <> ''
                        and substr(s, 5, 1) <> '-' and l <> 36 then 9
                    when s ~ '^\s*[-+]?[0-9]+\s*$' then 2
                    when s ~ '^\s*[-+]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(\.[0-9]+)?[eE][-+]?[0-9]+)\s*$'
                        or s ~ '^\s*-?[0-9]{{1,3}}(,[0-9]{{3}})+(\.[0-9]+)?\s*$' then 3
                    when s ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$' then 4
                    when s ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[T ][0-9]{{2}}:[0-9]{{2}}' then 5
                    when l = 36
                        and s ~* '^[0-9a-f]{{8}}-([0-9a-f]{{4}}-){{3}}[0-9a-f]{{12}}$' then 6
                    else 9
                end
                when l <= 5
                    and lower(btrim(s)) in ('true', 'false', 'yes', 'no', 't', 'f', 'y', 'n')
                    then 7
                when l = 36
                    and s ~* '^[0-9a-f]{{8}}-([0-9a-f]{{4}}-){{3}}[0-9a-f]{{12}}$' then 6
                when strpos(s, '@') > 1 and case
                    -- ASCII: no whitespace, one '@', a '.' inside the domain part
                    when octet_length(s) = l then
                        strpos(substr(s, strpos(s, '@') + 1), '@') = 0
                        and translate(s, ' ' || chr(9) || chr(10) || chr(11) || chr(12)
                            || chr(13), '') = s
                        and strpos(substr(s, strpos(s, '@') + 2,
                            greatest(l - strpos(s, '@') - 2, 0)), '.') > 0
                    -- other text: the pattern decides (its \s follows the server locale)
                    else s ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'
                end then 8
                else 9
            end
            when 2 then case
                when scale(n) > 0 and n <> trunc(n) then 11
                when n < 946684800 and n > -946684800 then case when n = 0 or n = 1 then 14
                    else 15 end
                when abs(n) between 946684800000 and 4102444800000 then 12
                when abs(n) between 946684800 and 4102444800 then 13
                when n between -9223372036854775808 and 9223372036854775807 then 15
                else 16
            end
            when 3 then 20
            when 4 then 21
            when 5 then 22
            else 23
        end as code,
        case t when 1 then l when 5 then jsonb_array_length(v) end as len
    from shaped
)
select
    key,
    sub_key,
    kind,
    deep,
    code,
    count(*) as occurrences,
    count(*) filter (where first_in_row) as rows_with_key,
    min(len) as min_len,
    max(len) as max_len,
    min(id) as example_id
from classified
group by key, sub_key, kind, deep, code
"""

KINDS = {0: "top", 1: "object", 2: "array"}
CODES = {
    1: ("string", "empty"), 2: ("string", "integer"), 3: ("string", "decimal"),
    4: ("string", "date"), 5: ("string", "timestamp"), 6: ("string", "uuid"),
    7: ("string", "boolean"), 8: ("string", "email"), 9: ("string", "text"),
    11: ("number", "fractional"), 12: ("number", "epoch_ms"), 13: ("number", "epoch_s"),
    14: ("number", "zero_one"), 15: ("number", "integer"), 16: ("number", "big_integer"),
    20: ("boolean", "boolean"), 21: ("object", "object"), 22: ("array", "array"),
    23: ("null", "null"),
}
"""Class codes of the scan query: code -> (JSON type, class)."""

PLANNER_OFF = ("enable_memoize", "enable_sort")
"""Planner settings turned off during the scan: group with a hash table, never by sorting every
item (the planner cannot estimate how many paths and classes a jsonb column holds); memoize
caches nothing useful (every jsonb value is distinct)."""

_ROWS = """
select
    count(*) as total,
    count(*) filter (where xdo is null) as xdo_null,
    count(*) filter (where xdo is not null and jsonb_typeof(xdo) <> 'object') as xdo_not_object,
    min(id) as min_id,
    max(id) as max_id
from {table}
"""

_EXAMPLE = {
    "top": "select xdo -> %(key)s from {table} where id = %(id)s",
    "object": "select xdo -> %(key)s -> %(sub)s from {table} where id = %(id)s",
    "array": """
        select el -> %(sub)s
        from {table}, jsonb_array_elements(xdo -> %(key)s) as el
        where id = %(id)s and jsonb_typeof(el) = 'object' and el ? %(sub)s
            and jsonb_typeof(el -> %(sub)s) <> 'null'
            and coalesce(el ->> %(sub)s, '') <> ''
        limit 1
    """,
}


def scan_query(schema: str, table: str) -> sql.Composed:
    """The one-pass profile query for an id range ``[lo, hi)`` of ``schema.table``."""
    return sql.SQL(_SCAN).format(table=sql.Identifier(schema, table))


def rows_query(schema: str, table: str) -> sql.Composed:
    """Row counts and id range of a V1 table."""
    return sql.SQL(_ROWS).format(table=sql.Identifier(schema, table))


def example_query(schema: str, table: str, kind: str) -> sql.Composed:
    """Fetch one example value of a path at a given row id (key names are parameters)."""
    return sql.SQL(_EXAMPLE[kind]).format(table=sql.Identifier(schema, table))
