{#
    Custom schemas are used as given (xano_v2, xano_audit, xano_spec), not prefixed with the
    target schema: the V2 tables must live in a schema of a stable, documented name.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
