{#
    Generic integrity tests, attached to every V2 model by the generator from the mapping spec.
    Each returns the offending rows (stored in xano_audit with store_failures), so a failure
    names the table (test name) and the ids (stored rows).
#}

{% test xano_covers_v1_ids(model, column_name, v1_source) %}
{#- every V1 id appears in the domain's main table; failing rows are the missing ids
    (on a changed-only sync: every changed V1 id, see xano_changed_v1) -#}
select v1.id as missing_v1_id
from {{ v1_source }} as v1
where not exists (
    select 1
    from (select * from {{ model }}) as m
    where m.{{ adapter.quote(column_name) }} = v1.id
)
{{ xano_changed_v1('v1') }}
{% endtest %}


{% test xano_count_within_tolerance(model, v1_source, tolerance=none) %}
{#- |V2 rows - V1 rows| within the tolerance (default: var xano_count_tolerance) -#}
{%- set tol = tolerance if tolerance is not none else var('xano_count_tolerance') -%}
with counts as (
    select
        (select count(*) from {{ v1_source }}) as v1_rows,
        (select count(*) from {{ model }}) as v2_rows
)
select
    v1_rows,
    v2_rows,
    {{ tol }} as tolerance
from counts
where abs(v2_rows - v1_rows) > {{ tol }} * greatest(v1_rows, 1)
{% endtest %}


{% test xano_split_count_matches_grain(model, v1_source, parent_column, array_key=none) %}
{#- a split table has exactly the rows its grain implies: one per V1 row, or one per element;
    rows of V1 rows deleted since (kept until a sync with --prune) are not counted; on a
    changed-only sync, the rows of the changed V1 rows (the model side is narrowed by its
    `where`, the V1 side by xano_changed_v1) -#}
with expected as (
    {% if array_key %}
    select coalesce(sum(least(jsonb_array_length(xdo -> {{ xano_literal(array_key) }}), {{ var('xano_array_id_factor') - 1 }})), 0) as n
    from {{ v1_source }} as v1
    where jsonb_typeof(xdo -> {{ xano_literal(array_key) }}) = 'array'
    {{ xano_changed_v1('v1') }}
    {% else %}
    select count(*) as n
    from {{ v1_source }} as v1
    where true {{ xano_changed_v1('v1') }}
    {% endif %}
),

actual as (
    select count(*) as n
    from (select * from {{ model }}) as m
    where exists (
        select 1 from {{ v1_source }} as v1 where v1.id = m.{{ adapter.quote(parent_column) }}
    )
)

select
    expected.n as expected_rows,
    actual.n as actual_rows
from expected
cross join actual
where expected.n <> actual.n
{% endtest %}


{% macro xano_literal(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}


{% test xano_accounting_balances(model) %}
{#- every non-null mapped V1 value is present in V2 or quarantined in rejects -#}
select *
from {{ model }}
where v1_values <> v2_present + rejected
{% endtest %}


{% test xano_reject_share_below(model, share=none) %}
{#- rejects above the share of a key's values (var xano_reject_fail_share) fail the build -#}
{%- set limit = share if share is not none else var('xano_reject_fail_share') -%}
select *, round(rejected::numeric / nullif(v1_values, 0), 4) as reject_share
from {{ model }}
where rejected > {{ limit }} * v1_values
{% endtest %}


{% test xano_rejects_absent(model) %}
{#- any reject at all: attached with severity warn, so rejects below the share only warn -#}
select *
from {{ model }}
where rejected > 0
{% endtest %}


{% test xano_has_foreign_key(model, column_name, to) %}
{#- the database constraint from model.column_name to `to` exists (a full refresh of the
    parent drops it with cascade: this test notices) -#}
select
    '{{ model.identifier }}' as table_name,
    '{{ column_name | replace("'", "''") }}' as column_name,
    'foreign key to {{ to.identifier }} is missing' as problem
where not exists (
    select 1
    from pg_constraint as c
    inner join pg_class as t on t.oid = c.conrelid
    inner join pg_namespace as n on n.oid = t.relnamespace
    inner join pg_class as r on r.oid = c.confrelid
    inner join pg_attribute as a on a.attrelid = t.oid and a.attnum = any(c.conkey)
    where c.contype = 'f'
        and n.nspname = '{{ model.schema }}'
        and t.relname = '{{ model.identifier }}'
        and r.relname = '{{ to.identifier }}'
        and a.attname = '{{ column_name | replace("'", "''") }}'
)
{% endtest %}


{#
    The V1 side of a test narrowed by `meta: {xano_changed: {v1_table, column}}` (the config
    generator/emit/models.changed_rows writes): on a changed-only sync, `and <alias>.id` is one
    of the changed ids of that V1 table (nothing on any other run, and for V1 tables read in
    full).
#}
{% macro xano_changed_scope() -%}
    {%- set meta = config.get('meta') or {} -%}
    {%- do return(meta.get('xano_changed')) -%}
{%- endmacro %}


{% macro xano_changed_v1(alias) -%}
    {%- set scope = xano_changed_scope() -%}
    {%- if scope and xano_reads_changed(scope['v1_table']) -%}
    and {{ alias }}.id = {{ xano_changed_ids(scope['v1_table']) }}
    {%- endif -%}
{%- endmacro %}


{#
    Tests narrowed to the rows a changed-only sync wrote. A generic test with
    meta.xano_changed = {v1_table, column} reads, on a changed-only sync, only the rows whose
    <column> is an id of a changed row of that V1 table (the whole table on any other run, and
    for V1 tables read in full). `where` works as dbt documents it, on top.
#}
{% macro get_where_subquery(relation) -%}
    {%- set scope = xano_changed_scope() -%}
    {%- set where = config.get('where') -%}
    {%- set conditions = [] -%}
    {%- if scope and xano_reads_changed(scope['v1_table']) -%}
        {%- do conditions.append(adapter.quote(scope['column']) ~ ' = '
                                 ~ xano_changed_ids(scope['v1_table'])) -%}
    {%- endif -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
        (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}


{% test xano_unique_combination(model, columns) %}
{#- no two rows share these columns (a closure table's (ancestor, descendant) pair): failing
    rows are the repeated combinations -#}
select {% for c in columns %}{{ adapter.quote(c) }}, {% endfor %}count(*) as rows
from {{ model }}
group by {% for c in columns %}{{ adapter.quote(c) }}{% if not loop.last %}, {% endif %}{% endfor %}
having count(*) > 1
{% endtest %}
