{#
    Materialization `xano_stage` of the typed stages (models/stage): an unlogged table that
    holds exactly the V1 rows, typed.

    - A full read of its V1 table (any run but a changed-only sync), a full refresh, a stage
      that does not exist yet, or one whose columns are not those of the model: the table is
      rebuilt, `create unlogged table ... as`, indexed and analyzed.
    - A changed-only sync: the rows of the changed V1 ids (V1's deletions among them) are
      deleted, and the model's rows of those ids appended (the model reads every V1 row; the
      filter on its V1 id column reaches V1's index).

    No temporary copy and no column introspection beyond one catalog query: the model's config
    names its columns (`stage_columns`), its V1 table (`v1_table`), the column holding V1 ids
    (`id_column`) and its index (`index_name`).
#}
{% materialization xano_stage, adapter='postgres' %}
    {%- set v1_table = config.require('v1_table') -%}
    {%- set id_column = config.get('id_column', 'id') -%}
    {%- set columns = config.require('stage_columns') -%}
    {%- set target = this.incorporate(type='table') -%}
    {%- set existing = load_cached_relation(this) -%}
    {%- set same_columns = false -%}
    {%- if existing is not none -%}
        {%- set found = run_query(
            "select coalesce(string_agg(attname, ',' order by attnum), '') from pg_attribute "
            ~ "where attrelid = '" ~ target ~ "'::regclass and attnum > 0 and not attisdropped") -%}
        {%- set same_columns = found.columns[0].values()[0] == columns | join(',') -%}
    {%- endif -%}
    {%- set rebuild = existing is none or not same_columns or should_full_refresh()
                      or not xano_reads_changed(v1_table) -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% call statement('main') -%}
        {% if rebuild %}
        drop table if exists {{ target }};
        create unlogged table {{ target }} as (
            {{ sql }}
        );
        create index {{ adapter.quote(config.require('index_name')) }} on {{ target }} ({{ adapter.quote(id_column) }});
        analyze {{ target }};
        {% else %}
        delete from {{ target }} where {{ adapter.quote(id_column) }} = {{ xano_changed_ids(v1_table) }};
        insert into {{ target }} ({% for c in columns %}{{ adapter.quote(c) }}{{ ", " if not loop.last }}{% endfor %})
        select {% for c in columns %}"s".{{ adapter.quote(c) }}{{ ", " if not loop.last }}{% endfor %}
        from (
            {{ sql }}
        ) as "s"
        where "s".{{ adapter.quote(id_column) }} = {{ xano_changed_ids(v1_table) }};
        {% endif %}
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do adapter.commit() %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target]}) }}
{% endmaterialization %}
