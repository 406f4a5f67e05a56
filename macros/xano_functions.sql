{#
    Safe casts from a V1 jsonb value to V2 types. Each is one SQL expression, immutable, so
    Postgres inlines it into the calling query (no per-row function call). A value that does not
    fit returns NULL (never an error); models, the rejects view and the reconciliation tests
    all call these same functions, so V2 and rejects cannot disagree.
    Guards are nested CASEs, not AND chains: constant folding never reaches a cast whose guard
    is false, so literal inputs (unit tests) cannot raise either.
#}
{% macro xano_create_functions() %}
create schema if not exists xano_fn;

create or replace function xano_fn.has_value(v jsonb) returns boolean
language sql immutable parallel safe as $fn$
    select coalesce(
        jsonb_typeof(v) <> 'null'
        and not (jsonb_typeof(v) = 'string' and btrim(v #>> '{}') = ''),
        false)
$fn$;

create or replace function xano_fn.to_text(v jsonb) returns text
language sql immutable parallel safe as $fn$
    select case when jsonb_typeof(v) in ('string', 'number', 'boolean') then v #>> '{}' end
$fn$;

create or replace function xano_fn.trim_text(v jsonb) returns text
language sql immutable parallel safe as $fn$
    select regexp_replace(
        xano_fn.to_text(v), '^[\s\u00a0\ufeff]+|[\s\u00a0\ufeff]+$', '', 'g')
$fn$;

create or replace function xano_fn.lower_trim(v jsonb) returns text
language sql immutable parallel safe as $fn$
    select lower(xano_fn.trim_text(v))
$fn$;

create or replace function xano_fn.to_numeric(v jsonb) returns numeric
language sql immutable parallel safe as $fn$
    select case jsonb_typeof(v)
        when 'number' then (v)::numeric
        when 'string' then case
            -- numeric input beyond ~16k digits of scale overflows: longer strings are rejects
            when length(v #>> '{}') > 1000 then null
            when btrim(v #>> '{}') ~ '^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]{1,4})?$'
                then btrim(v #>> '{}')::numeric
            when btrim(v #>> '{}') ~ '^[-+]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$'
                then replace(btrim(v #>> '{}'), ',', '')::numeric
        end
    end
$fn$;

create or replace function xano_fn.to_bigint(v jsonb) returns bigint
language sql immutable parallel safe as $fn$
    select case
        when xano_fn.to_numeric(v) is null then null
        when xano_fn.to_numeric(v) <> trunc(xano_fn.to_numeric(v)) then null
        when xano_fn.to_numeric(v) between -9223372036854775808 and 9223372036854775807
            then xano_fn.to_numeric(v)::bigint
    end
$fn$;

create or replace function xano_fn.to_boolean(v jsonb) returns boolean
language sql immutable parallel safe as $fn$
    select case jsonb_typeof(v)
        when 'boolean' then (v)::boolean
        when 'number' then case (v)::numeric when 1 then true when 0 then false end
        when 'string' then case
            when lower(btrim(v #>> '{}')) in ('true', 't', 'yes', 'y', '1', 'on') then true
            when lower(btrim(v #>> '{}')) in ('false', 'f', 'no', 'n', '0', 'off') then false
        end
    end
$fn$;

create or replace function xano_fn.epoch_ms_to_timestamptz(v jsonb) returns timestamptz
language sql immutable parallel safe as $fn$
    -- Xano stores epoch milliseconds; a magnitude below 1e11 can only be seconds
    -- (1e11 ms is 1973, 1e11 s is year 5138), so such values are read as seconds.
    select case
        when xano_fn.to_numeric(v) is null then null
        when abs(xano_fn.to_numeric(v)) < 100000000000 then
            case when xano_fn.to_numeric(v) between -62135596800 and 253402300799
                then to_timestamp(round(xano_fn.to_numeric(v), 6)::float8) end
        -- rounded to microseconds before float8: 1e-400 would underflow float8 and raise
        when xano_fn.to_numeric(v) between -62135596800000 and 253402300799999
            then to_timestamp(round(xano_fn.to_numeric(v) / 1000, 6)::float8)
    end
$fn$;

create or replace function xano_fn.to_date(v jsonb) returns date
language sql immutable parallel safe as $fn$
    select case
        when jsonb_typeof(v) = 'string' and (v #>> '{}') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then
            case
                when substr(v #>> '{}', 1, 4)::int < 1 then null
                when substr(v #>> '{}', 6, 2)::int not between 1 and 12 then null
                when substr(v #>> '{}', 9, 2)::int between 1 and (
                    case
                        when substr(v #>> '{}', 6, 2)::int = 2 then
                            case when (substr(v #>> '{}', 1, 4)::int % 4 = 0
                                       and substr(v #>> '{}', 1, 4)::int % 100 <> 0)
                                      or substr(v #>> '{}', 1, 4)::int % 400 = 0
                                then 29 else 28 end
                        when substr(v #>> '{}', 6, 2)::int in (4, 6, 9, 11) then 30
                        else 31
                    end)
                    then make_date(substr(v #>> '{}', 1, 4)::int,
                                   substr(v #>> '{}', 6, 2)::int,
                                   substr(v #>> '{}', 9, 2)::int)
            end
    end
$fn$;

create or replace function xano_fn.image_url(v jsonb) returns text
language sql immutable parallel safe as $fn$
    select case jsonb_typeof(v)
        when 'object' then case when jsonb_typeof(v -> 'path') = 'string' then v ->> 'path' end
        when 'string' then v #>> '{}'
    end
$fn$;

create or replace function xano_fn.to_jsonb_value(v jsonb) returns jsonb
language sql immutable parallel safe as $fn$
    select case when jsonb_typeof(v) <> 'null' then v end
$fn$;

create or replace function xano_fn.reject_reason(v jsonb, target text) returns text
language sql immutable parallel safe as $fn$
    select case
        when jsonb_typeof(v) in ('object', 'array')
            then 'JSON ' || jsonb_typeof(v) || ' where ' || target || ' was expected'
        else 'JSON ' || jsonb_typeof(v) || ' value does not fit ' || target
    end
$fn$;
{% endmacro %}
