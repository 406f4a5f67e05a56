{#
    Incremental strategy `xano_upsert`: upsert by unique key, writing only rows whose values
    changed. The models already send only new or changed rows (an anti-join against the current
    table); the WHERE on the conflict branch keeps an unchanged row from being rewritten even
    if one slips through. Rows that only the target has are never deleted.
#}
{% macro get_incremental_xano_upsert_sql(arg_dict) %}
    {%- set target = arg_dict["target_relation"] -%}
    {%- set source = arg_dict["temp_relation"] -%}
    {%- set unique_key = arg_dict["unique_key"] -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set columns = arg_dict["dest_columns"] | map(attribute="name") | list -%}
    {%- set updatable = [] -%}
    {%- for c in columns if c not in keys -%}{%- do updatable.append(c) -%}{%- endfor -%}
    insert into {{ target }} (
        {%- for c in columns %}{{ adapter.quote(c) }}{{ ", " if not loop.last }}{% endfor -%}
    )
    select
        {%- for c in columns %} {{ adapter.quote(c) }}{{ "," if not loop.last }}{% endfor %}
    from {{ source }}
    on conflict (
        {%- for k in keys %}{{ adapter.quote(k) }}{{ ", " if not loop.last }}{% endfor -%}
    )
    {%- if updatable %}
    do update set
        {%- for c in updatable %}
        {{ adapter.quote(c) }} = excluded.{{ adapter.quote(c) }}{{ "," if not loop.last }}
        {%- endfor %}
    where (
        {%- for c in updatable %}{{ target }}.{{ adapter.quote(c) }}{{ ", " if not loop.last }}{% endfor -%}
    ) is distinct from (
        {%- for c in updatable %}excluded.{{ adapter.quote(c) }}{{ ", " if not loop.last }}{% endfor -%}
    )
    {%- else %}
    do nothing
    {%- endif %}
{% endmacro %}
