"""Generated files of the V2 models: one SQL per V2 table, one YAML per domain, the sources.

SQL is built by :mod:`generator.sql.build` (sqlglot) and framed here in a small Jinja template
(``source()``, ``{{ this }}``, the changed-only filter, ``is_incremental()``).
"""

from __future__ import annotations

import re

from generator.config import (
    ARRAY_ID_FACTOR,
    UNMAPPED_COLUMN,
    V1_SCHEMA,
    V1_SOURCE,
    fit_ident,
)
from generator.emit.text import indent, jinja_literal, sql_header, sql_text, yaml_doc
from generator.inventory import CSV_FIELDS, Inventory
from generator.registry import V1Table
from generator.spec import Column, Spec, Table
from generator.sql import build, stage
from generator.transforms import TRANSFORMS


def changed_only_filter(v1: str, alias: str) -> str:
    """Jinja block: on a changed-only sync, only the changed rows of V1 table ``v1`` (the
    macros xano_reads_changed and xano_changed_ids, macros/xano_v1_rows.sql).

    >>> print(changed_only_filter("user", '"v1"'), end="")
        {% if is_incremental() and xano_reads_changed('user') %}
        and "v1".id = {{ xano_changed_ids('user') }}
        {% endif %}
    """
    return (f"    {{% if is_incremental() and xano_reads_changed('{v1}') %}}\n"
            f"    and {alias}.id = {{{{ xano_changed_ids('{v1}') }}}}\n"
            "    {% endif %}\n")


def v1_cte(v1: str, scope: str = "model") -> str:
    """``with v1 as ({{ xano_v1_rows(...) }})``: the V1 rows a model or test reads."""
    return f"with v1 as (\n    {{{{ xano_v1_rows('{v1}', '{scope}') }}}}\n)"


def stage_sql(v1: str, tables: list[Table], src: V1Table, unmapped: list[str]) -> str:
    """The typed stage of V1 table ``v1``: one row per V1 row, every mapped value of its
    row-grain V2 tables typed once with its flag (generator.sql.stage)."""
    select = stage.row_stage(v1, tables, unmapped)
    return (sql_header(f"typed stage of V1 {v1} ({src.relation}): per V1 row, each mapped "
                       "value typed once (v__<table>__<column>) and whether V1 holds one "
                       "(h__<table>__<column>)")
            + _stage_config(v1, stage.row_stage_name(v1), "id", select)
            + v1_cte(v1, "all") + "\n"
            + jinja_literal(build.render(select)) + "\n")


def element_stage_sql(t: Table) -> str:
    """The typed stage of array table ``t``: one row per element, typed once with flags."""
    select = stage.element_stage(t)
    return (sql_header(f"typed stage of V2 {t.name}: per element of V1 {t.v1_table}."
                       f"{t.array_path}[], each mapped value typed once with its flag")
            + _stage_config(t.v1_table, stage.element_stage_name(t), "v1_id", select)
            + v1_cte(t.v1_table, "all") + "\n"
            + jinja_literal(build.render(select)) + "\n")


def _stage_config(v1: str, name: str, column: str, select) -> str:
    """The stage's config (macros/xano_stage.sql): its V1 table, the column of V1 ids, its
    index, and its columns (a stage whose columns differ from these is rebuilt). The model
    reads every V1 row; on a changed-only sync the materialization narrows it to the changed
    ids (PostgreSQL pushes that filter down to V1's index)."""
    columns = [e.alias_or_name for e in select.expressions]
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", c) for c in columns)  # generated, never V1 text
    listed = ", ".join(f"'{c}'" for c in columns)
    return (f"{{{{ config(materialized='xano_stage', v1_table='{v1}', id_column='{column}', "
            f"index_name='{fit_ident(f'{name}__{column}', keep='__idx')}', "
            f"stage_columns=[{listed}]) }}}}\n")


def model_sql(t: Table, src: V1Table, unmapped: list[str]) -> str:
    """The dbt model of one V2 table fed by V1 table ``src``: a row or array table reads its
    typed stage, a closure table V1 itself."""
    extra: list[str] = []
    moved = ""
    if t.grain == "closure":  # a link anywhere can change any pair: every link, every time
        body = ("with extracted as (\n" + indent(sql_text(stage.closure_select(t))) + "\n)\n\n")
        # ... but when no link moved, no pair can change: a changed-only sync skips the walk
        moved = (f"{{% if xano_reads_changed('{t.v1_table}') %}}\n"
                 + indent("and " + sql_text(stage.links_moved(t))) + "\n{% endif %}\n")
    else:
        if unmapped:
            extra = [UNMAPPED_COLUMN]
        body = ("with extracted as (\n"
                + indent(sql_text(stage.model_select(t, "model", bool(unmapped)))) + "\n"
                + ")\n\n")
    depends = f"-- depends_on: {{{{ ref('{t.parent}') }}}}\n" if t.parent else ""
    return (
        sql_header(f"V2 {t.name} (Xano table {t.v2_id or 'n/a'}) from V1 {t.v1_table} "
                   f"({src.relation}), grain: {t.grain}")
        + depends
        + body
        + "select * from extracted\n"
        + "{% if is_incremental() %}\n"
        + "where\n"
        + indent(sql_text(build.diff_condition(t, extra))) + "\n"
        + moved
        + "{% endif %}\n"
    )


def _array_prune_hook(t: Table) -> str:
    return (sql_text(build.array_prune(t)) + "\n"
            + changed_only_filter(t.v1_table, alias='"v1"'))


CLOSURE_ORIGINS = {
    "$id": "a stable digest of (ancestor, descendant)",
    "$ancestor": "the upper end of a chain of links",
    "$descendant": "the lower end of a chain of links",
    "$depth": "the number of links between them (1: a direct link)",
    "$path": "the ids along the chain, ancestor first",
}
"""Where each column of a closure table comes from (docs)."""


def column_doc(t: Table, c: Column) -> str:
    """Column description: the spec's text plus V1 origin and transform."""
    if t.grain == "closure":
        a, b = t.links
        origin = (f"{CLOSURE_ORIGINS[c.v1_path]}, over the links V1 `{t.v1_table}.{a}` -> "
                  f"`{t.v1_table}.{b}` of every V1 row")
    elif c.v1_path == "$id":
        origin = f"V1 `{t.v1_table}.id` (row id)"
    elif c.v1_path == "$parent_id":
        origin = f"V1 `{t.v1_table}.id` of the parent row"
    elif c.v1_path == "$position":
        origin = f"position in V1 `{t.v1_table}.{t.array_path}[]`"
    elif c.v1_path == "$element_id":
        origin = f"V1 `{t.v1_table}.id` * {ARRAY_ID_FACTOR:,} + position"
    else:
        origin = f"V1 `{t.v1_table}.{c.v1_path}`"
    text = (f"{c.description}. From {origin}; transform `{c.transform}` "
            f"({TRANSFORMS[c.transform].doc}). Mapping {c.provenance}"
            + (f" ({c.source})." if c.source else "."))
    if c.sensitive:
        text += " Sensitive: never shown in samples, docs, logs or the dashboard."
    if c.references:
        text += f" References `{c.references}.id` (orphans reported as warnings)."
    return jinja_literal(text)


def changed_rows(t: Table) -> dict:
    """Config of a row-level test that narrows it, on a changed-only sync, to the rows it wrote:
    ``meta.xano_changed`` names the V1 table and the test's column holding that V1 table's ids
    (an explicit setting, not a string parsed out of ``where``).

    The macros get_where_subquery and xano_changed_v1 (macros/tests/xano_tests.sql) read it; an
    array table's rows belong to a V1 row through their parent column.
    """
    return {"meta": {"xano_changed": {
        "v1_table": t.v1_table, "column": "id" if t.grain == "row" else t.parent_column}}}


def _column_entry(t: Table, c: Column, evidence: dict | None = None) -> dict:
    entry: dict = {"name": c.name, "description": column_doc(t, c), "data_type": c.v2_type}
    constraints: list[dict] = []
    tests: list = []
    # a closure's pairs belong to no single V1 row: its tests read the whole table
    scoped = {} if t.grain == "closure" else {"config": changed_rows(t)}
    if c.name == "id":
        constraints += [{"type": "not_null"}, {"type": "primary_key"}]
        tests += [{"unique": scoped}, {"not_null": scoped}]
    elif not c.nullable:
        constraints.append({"type": "not_null"})
        tests.append({"not_null": scoped})
    if t.parent and c.name == t.parent_column:
        constraints.append({"type": "foreign_key", "to": f"ref('{t.parent}')",
                            "to_columns": ["id"]})
        tests.append({"xano_has_foreign_key": {"arguments": {"to": f"ref('{t.parent}')"}}})
        tests.append({"relationships": {"arguments": {
            "to": f"ref('{t.parent}')", "field": "id"}, **scoped}})
    elif c.references:
        tests.append({"relationships": {
            "arguments": {"to": f"ref('{c.references}')", "field": "id"},
            "config": {"severity": "warn", **scoped.get("config", {})}}})
    if constraints:
        entry["constraints"] = constraints
    if tests:
        entry["data_tests"] = tests
    entry["meta"] = {"v1_path": jinja_literal(c.v1_path), "transform": c.transform,
                     "sensitive": c.sensitive, "provenance": c.provenance,
                     "source": jinja_literal(c.source) or None}
    seen = (evidence or {}).get((t.name, c.name))
    if seen is not None:
        entry["meta"]["live_evidence"] = {
            "verdict": seen.verdict, "matched": seen.matched, "agreeing": seen.agreeing,
            "proposed_v1_path": jinja_literal(seen.proposed_v1_path) or None,
            "proposed_transform": seen.proposed_transform or None}
    return entry


def _model_entry(t: Table, unmapped: list[str], evidence: dict | None = None) -> dict:
    columns = [_column_entry(t, c, evidence) for c in t.columns]
    if t.is_main and unmapped:
        columns.append({
            "name": UNMAPPED_COLUMN, "data_type": "jsonb",
            "description": jinja_literal(
                "V1 keys not claimed by the mapping spec, preserved as a JSON object "
                "(generated with --allow-unmapped): " + ", ".join(f"`{k}`" for k in unmapped)),
        })
    config: dict = {
        "contract": {"enforced": True},
        "unique_key": "id",
        "meta": {"xano_v2_table_id": t.v2_id or None, "xano_v2_id_assumed": t.v2_id_assumed,
                 "live_layout": t.layout, "v1_table": t.v1_table,
                 "grain": t.grain, "parent": t.parent or None},
    }
    if t.grain == "array":
        config["post_hook"] = [sql_text(build.parent_index(t)), _array_prune_hook(t)]
    if t.grain == "closure":  # a changed-only sync prunes only when a link went away
        config["post_hook"] = [sql_text(stage.closure_prune(t)) + "\n"
                               + f"{{% if xano_reads_changed('{t.v1_table}') %}}\n"
                               + "and " + sql_text(stage.links_gone(t)) + "\n{% endif %}\n"]
    grain = {"array": f"one row per element of `{t.array_path}[]`",
             "closure": "one row per (ancestor, descendant) pair reachable through the links "
                        f"`{t.links[0]}` -> `{t.links[1]}` of its rows (a closure table)"
             }.get(t.grain, "one row per V1 row")
    desc = (f"{t.description}. V2 table `{t.name}` (Xano id {t.v2_id or 'n/a'}); "
            f"from V1 `{t.v1_table}`, " + grain +
            (f"; split from `{t.parent}`." if t.parent else
             "; main table of the domain." if t.is_main else "."))
    desc = jinja_literal(desc) + f"\n\n{{{{ doc('xano_domain_{t.domain}') }}}}"
    source = f"{{{{ source('{V1_SOURCE}', '{t.v1_table}') }}}}"
    if t.is_main:
        for c in columns:
            if c["name"] == "id":
                c["data_tests"].append({"xano_covers_v1_ids": {"arguments": {
                    "v1_source": source}, "config": changed_rows(t)}})
        model_tests: list = [{"xano_count_within_tolerance": {"arguments": {
            "v1_source": source}}}]
    elif t.grain == "closure":
        model_tests = [{"xano_unique_combination": {"arguments": {
            "columns": list(t.natural_key)}}}]
    else:
        args = {"v1_source": source, "parent_column": t.parent_column}
        if t.grain == "array":
            args["array_key"] = jinja_literal(t.array_path)
        model_tests = [{"xano_split_count_matches_grain": {
            "arguments": args, "config": changed_rows(t)}}]
    return {"name": t.name, "description": desc, "config": config,
            "data_tests": model_tests, "columns": columns}


def domain_yaml(spec: Spec, domain: str, unmapped: dict[str, list[str]],
                evidence: dict | None = None) -> str:
    """Models, contracts, constraints and tests of one domain (column meta: the live evidence
    of ``spec evidence``, when it ran)."""
    models = [_model_entry(t, unmapped.get(t.v1_table, []) if t.is_main else [], evidence)
              for t in spec.tables if t.domain == domain]
    return yaml_doc({"version": 2, "models": models})


def stage_yaml(spec: Spec) -> str:
    """Docs of the typed stage models (their columns are named by generator.sql.stage)."""
    models = []
    for v1 in spec.v1_tables():
        feeds = ", ".join(f"`{t.name}`" for t in spec.for_v1(v1) if t.grain == "row")
        models.append({"name": stage.row_stage_name(v1), "description": (
            f"Typed stage of V1 `{v1}`: one row per V1 row; per mapped column of {feeds}, the "
            "V2 value typed once (`v__<table>__<column>`) and whether the V1 value is "
            "meaningful (`h__<table>__<column>`). A value is rejected when `h` is true and `v` "
            "is NULL. The V2 models, rejects, accounting and reconciliation tests read it; an "
            "unlogged table, rebuilt from V1 by any full sync."),
            "config": {"meta": {"v1_table": v1}}})
        for t in spec.for_v1(v1):
            if t.grain == "array":
                models.append({"name": stage.element_stage_name(t), "description": (
                    f"Typed stage of V2 `{t.name}`: one row per element of V1 "
                    f"`{v1}.{jinja_literal(t.array_path)}[]` (`id` = the V2 element id, "
                    "`v1_id`, `position`), each mapped value typed once with its flag."),
                    "config": {"meta": {"v1_table": v1}}})
    return yaml_doc({"version": 2, "models": models})


def sources_yaml(spec: Spec, inventory: Inventory) -> str:
    """Sources for the V1 tables, Xano ids in meta."""
    entries = []
    for name in spec.v1_tables():
        t = spec.v1(name)
        prof = inventory.table(name)
        feeds = ", ".join(f"`{x.name}`" for x in spec.for_v1(name))
        entries.append({
            "name": name,
            "identifier": t.relation,
            "description": f"V1 `{name}` (Xano table {t.table_id}, workspace {t.workspace}) in "
                           f"Xano's JSONB format: `id` plus the whole record in `xdo`. "
                           f"Feeds {feeds}.",
            "meta": {"xano_table_id": t.table_id, "xano_workspace": t.workspace,
                     "rows_at_discovery": prof.rows if prof else 0,
                     "top_level_keys": prof.keys if prof else 0},
            "columns": [
                {"name": "id", "description": "Xano record id", "data_tests": ["unique",
                                                                              "not_null"]},
                {"name": "xdo", "description": "The whole record as jsonb"},
            ],
        })
    return yaml_doc({"version": 2, "sources": [{
        "name": V1_SOURCE, "schema": V1_SCHEMA,
        "description": "Local mirror of the V1 (legacy) Xano workspace, JSONB format.",
        "tables": entries}]})


def seeds_yaml() -> str:
    """Seed column types: everything text except the inventory's counts."""
    return yaml_doc({"version": 2, "seeds": seed_specs()})


def seed_specs() -> list[dict]:
    """Every seed with its description and column types (seeds_yaml; the sync's loader)."""
    int_cols = [f for f in CSV_FIELDS[3:] if f not in ("inferred_type", "drift_share",
                                                        "sensitive", "example")]
    seeds = [
        {"name": "xano_v1_tables", "description": "Registry of V1 tables: workspace, table id.",
         "config": {"column_types": {"v1_table": "text", "workspace": "bigint",
                                     "table_id": "bigint", "description": "text"}}},
        {"name": "xano_v1_key_inventory", "description": "Discovered V1 key inventory.",
         "config": {"column_types": {**{c: "text" for c in ("v1_table", "key_path", "kind",
                                                             "inferred_type", "example")},
                                     **{c: "bigint" for c in int_cols},
                                     "drift_share": "numeric", "sensitive": "boolean"}}},
        {"name": "xano_v1_table_inventory", "description": "Row counts per V1 table.",
         "config": {"column_types": {"v1_table": "text", "relation": "text",
                                     "xano_table_id": "bigint", "rows": "bigint",
                                     "xdo_null": "bigint", "xdo_not_object": "bigint",
                                     "keys": "bigint"}}},
        {"name": "xano_v2_tables", "description": "Mapping spec: V2 tables.",
         "config": {"column_types": {c: "text" for c in (
             "v2_table", "v2_id", "domain", "v1_table", "grain", "array_path", "parent",
             "parent_column", "description", "live_relation", "live_layout",
             "v2_id_assumed", "natural_key")}}},
        {"name": "xano_v2_columns", "description": "Mapping spec: V2 columns.",
         "config": {"column_types": {c: "text" for c in (
             "v2_table", "column", "v1_path", "transform", "v2_type", "nullable", "sensitive",
             "references", "description", "provenance", "source")}}},
        {"name": "xano_ignored_keys", "description": "V1 keys deliberately not migrated.",
         "config": {"column_types": {"v1_table": "text", "key_path": "text", "reason": "text"}}},
        {"name": "xano_census", "description": "Every Xano table on the server (catalog).",
         "config": {"column_types": {**{c: "text" for c in (
             "schema", "relation", "layout", "v1_table", "v2_table")},
             **{c: "bigint" for c in ("workspace", "table_id", "columns", "est_rows", "bytes",
                                      "feeds")}}}},
        {"name": "xano_sensitive_keys", "description": "Masking rule: sensitive key patterns.",
         "config": {"column_types": {"pattern": "text", "reason": "text"}}},
        {"name": "xano_mapping_evidence",
         "description": "What the live V2's data says of each mapped column (spec evidence).",
         "config": {"column_types": {**{c: "text" for c in (
             "v2_table", "v2_column", "v1_path", "transform", "verdict", "proposed_v1_path",
             "proposed_transform")}, "matched": "bigint", "agreeing": "bigint",
             "proposed_agreement": "numeric"}}},
        {"name": "xano_mapping_alternatives",
         "description": "Where the owner's other documents disagree with the spec.",
         "config": {"column_types": {c: "text" for c in (
             "v2_table", "v2_column", "v1_key", "chosen", "kind", "source", "note")}}},
        {"name": "xano_identity_decisions",
         "description": "A person's decisions on main records publish held (pair with a live "
                        "row, or new record).",
         "config": {"column_types": {"v2_table": "text", "local_id": "bigint",
                                     "decision": "text", "live_id": "bigint", "note": "text"}}},
    ]
    return seeds
