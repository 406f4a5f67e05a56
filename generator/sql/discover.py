"""The discovery query: one pass over a V1 table (or an id range of it).

This query is fixed text: key names only ever come *out* of it as data, never go in. The table
is a composed identifier, the id range bound parameters.
"""

from __future__ import annotations

from psycopg import sql

# Per (row, path) one tuple: top-level keys, keys of object values (one level), keys of objects
# inside arrays. Each value is classified once; the grouping keeps the output small.
_SCAN = r"""
with src as (
    select id, xdo from {table} where id >= %(lo)s and id < %(hi)s
),
kv as (
    -- rows from (jsonb_each, jsonb_each_text): the text of each value is produced once here,
    -- instead of re-evaluating `#>>` in every branch of the classification below.
    select
        s.id,
        e.key,
        p.sub_key,
        p.kind,
        p.v,
        p.tv,
        p.first_in_row
    from src as s
    cross join lateral rows from (
        jsonb_each(case when jsonb_typeof(s.xdo) = 'object' then s.xdo end),
        jsonb_each_text(case when jsonb_typeof(s.xdo) = 'object' then s.xdo end)
    ) as e(key, value, key_t, value_t)
    cross join lateral (
        select null::text as sub_key, 'top'::text as kind, e.value as v, e.value_t as tv,
            true as first_in_row
        union all
        select n.key, 'object', n.value, n.value_t, true
        from rows from (jsonb_each(e.value), jsonb_each_text(e.value)) as n(key, value, k, value_t)
        where jsonb_typeof(e.value) = 'object'
        union all
        select a.key, 'array', a.value, a.value_t, a.rn = 1
        from (
            select n.key, n.value, n.value_t,
                row_number() over (partition by n.key order by el.ord) as rn
            from jsonb_array_elements(e.value) with ordinality as el(val, ord)
            cross join lateral rows from (jsonb_each(el.val), jsonb_each_text(el.val))
                as n(key, value, k, value_t)
            where jsonb_typeof(e.value) = 'array' and jsonb_typeof(el.val) = 'object'
        ) as a
    ) as p
),
typed as (
    select
        kv.*,
        jsonb_typeof(kv.v) as jt,
        kv.tv as s,
        case when jsonb_typeof(kv.v) = 'number' then (kv.v)::numeric end as n
    from kv
),
classified as (
    select
        t.*,
        case t.jt
            when 'string' then case
                when t.s = '' then 'empty'
                -- cheap dispatch on the first character before any regex
                when ascii(t.s) between 48 and 57 or ascii(t.s) in (9, 32, 43, 45, 46) then case
                    when t.s ~ '^\s*[-+]?[0-9]+\s*$' then 'integer'
                    when t.s ~ '^\s*[-+]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(\.[0-9]+)?[eE][-+]?[0-9]+)\s*$'
                        or t.s ~ '^\s*-?[0-9]{{1,3}}(,[0-9]{{3}})+(\.[0-9]+)?\s*$' then 'decimal'
                    when t.s ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$' then 'date'
                    when t.s ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[T ][0-9]{{2}}:[0-9]{{2}}' then 'timestamp'
                    when length(t.s) = 36 and t.s ~* '^[0-9a-f]{{8}}-([0-9a-f]{{4}}-){{3}}[0-9a-f]{{12}}$'
                        then 'uuid'
                    else 'text'
                end
                when length(t.s) <= 5
                    and lower(btrim(t.s)) in ('true', 'false', 'yes', 'no', 't', 'f', 'y', 'n')
                    then 'boolean'
                when length(t.s) = 36 and t.s ~* '^[0-9a-f]{{8}}-([0-9a-f]{{4}}-){{3}}[0-9a-f]{{12}}$'
                    then 'uuid'
                when strpos(t.s, '@') > 0 and t.s ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' then 'email'
                else 'text'
            end
            when 'number' then case
                when t.n <> trunc(t.n) then 'fractional'
                when abs(t.n) between 946684800000 and 4102444800000 then 'epoch_ms'
                when abs(t.n) between 946684800 and 4102444800 then 'epoch_s'
                when t.n in (0, 1) then 'zero_one'
                when t.n between -9223372036854775808 and 9223372036854775807 then 'integer'
                else 'big_integer'
            end
            else t.jt
        end as cls
    from typed as t
)
select
    key,
    sub_key,
    kind,
    jt,
    cls,
    count(*) as occurrences,
    count(*) filter (where first_in_row) as rows_with_key,
    min(length(s)) filter (where jt = 'string') as min_len,
    max(length(s)) filter (where jt = 'string') as max_len,
    min(case when jt = 'array' then jsonb_array_length(v) end) as min_arr,
    max(case when jt = 'array' then jsonb_array_length(v) end) as max_arr,
    min(id) as example_id
from classified
group by key, sub_key, kind, jt, cls
"""

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
