{#
    Generic integrity tests, attached to every V2 model by the generator from the mapping spec.
    Each returns the offending rows (stored in xano_audit with store_failures), so a failure
    names the table (test name) and the ids (stored rows).
#}

{% test xano_covers_v1_ids(model, column_name, v1_source) %}
{#- every V1 id appears in the domain's main table; failing rows are the missing ids -#}
select v1.id as missing_v1_id
from {{ v1_source }} as v1
where not exists (
    select 1
    from {{ model }} as m
    where m.{{ adapter.quote(column_name) }} = v1.id
)
{% endtest %}


{% test xano_count_within_tolerance(model, v1_source, tolerance=none) %}
{#- |V2 rows - V1 rows| within the tolerance (default var xano_count_tolerance = 5%) -#}
{%- set tol = tolerance if tolerance is not none else var('xano_count_tolerance', 0.05) -%}
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


{% test xano_split_count_matches_grain(model, v1_source, array_key=none) %}
{#- a split table has exactly the rows its grain implies: one per V1 row, or one per element -#}
with expected as (
    {% if array_key %}
    select coalesce(sum(least(jsonb_array_length(xdo -> {{ xano_literal(array_key) }}), 999999)), 0) as n
    from {{ v1_source }}
    where jsonb_typeof(xdo -> {{ xano_literal(array_key) }}) = 'array'
    {% else %}
    select count(*) as n
    from {{ v1_source }}
    {% endif %}
),

actual as (
    select count(*) as n
    from {{ model }}
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
