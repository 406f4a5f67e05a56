{#
    The V1 rows a model or a test reads: the one place that knows the changed-only filter.

    scope 'model': every row, except on a changed-only sync of an incremental model that
                   exists already: then only the rows detect_changes() listed
    scope 'check': the same for tests (no is_incremental() there)
    scope 'all':   every row (whole-table passes such as the accounting)

    A V1 table the sync reads in full (its models changed; see xano_reads_changed) is always
    read in full.
#}
{% macro xano_v1_rows(v1_table, scope='model') -%}
    select id, xdo from {{ source(var('xano_v1_source'), v1_table) }}
    {{- xano_changed_where(v1_table, scope) }}
{%- endmacro %}


{#
    The `where` that narrows a read of V1 table `v1_table`'s rows (column `column` holds its
    V1 ids) to the changed rows, by the scopes of xano_v1_rows; empty when every row is read.
    The models and tests that read the typed stage (models/stage) call it on the stage.
#}
{% macro xano_changed_where(v1_table, scope='model', column='id') -%}
    {%- if scope != 'all' and (scope == 'check' or is_incremental())
          and xano_reads_changed(v1_table) %}
    where {{ adapter.quote(column) }} = {{ xano_changed_ids(v1_table) }}
    {%- endif %}
{%- endmacro %}



{#
    True on a changed-only sync for a V1 table not read in full: then models and tests read only
    its changed rows. The sync says so through the environment (XANO_DBT_CHANGED_ONLY=1 and the
    comma-separated XANO_DBT_FULL_V1), read only while nodes execute: dbt parses with execute
    false, so the parse state neither records these values nor depends on them, and a
    changed-only sync reuses the parse of a full one (--vars are part of dbt's parse state: one
    set per sync parsed the 500-column project again, ~3.5 s). By hand the vars
    xano_changed_only and xano_full_v1 say the same.
#}
{% macro xano_reads_changed(v1_table) -%}
    {%- if not execute -%}{%- do return(false) -%}{%- endif -%}
    {%- set by_env = env_var('XANO_DBT_CHANGED_ONLY', '') == '1' -%}
    {%- set full = env_var('XANO_DBT_FULL_V1', '').split(',') if by_env
                   else var('xano_full_v1', []) -%}
    {%- do return((by_env or var('xano_changed_only', false)) and v1_table not in full) -%}
{%- endmacro %}


{#
    The changed ids of a V1 table, as the right side of `=`: an array, so that PostgreSQL
    looks each id up by index (`in (select ...)` made it hash-join a scan of the whole table).
#}
{% macro xano_changed_ids(v1_table) -%}
    any(array(select c.id from xano_audit.v1_changes as c where c.v1_table = '{{ v1_table }}'))
{%- endmacro %}


{#
    Before a rejects model appends the rejects of this run's rows: forget the old rejects of
    those rows (and of V1 rows deleted since); a full run forgets them all.
#}
{% macro xano_forget_rejects(v1_table) -%}
    {%- if is_incremental() %}
    delete from {{ this }} as r
    {%- if xano_reads_changed(v1_table) %}
    where r.v1_id = {{ xano_changed_ids(v1_table) }}
    or not exists (select 1 from {{ source(var('xano_v1_source'), v1_table) }} as s where s.id = r.v1_id)
    {%- endif %}
    {%- endif %}
{%- endmacro %}
