"""Generated files of the proof: rejects, value accounting, value reconciliation tests."""

from __future__ import annotations

import re

from generator.emit.models import v1_cte
from generator.emit.text import indent, jinja_literal, sql_header, sql_text, yaml_doc
from generator.spec import Column, Spec, Table
from generator.sql import build, proof, stage
from generator.transforms import TRANSFORMS

PROOF_WIDTH = 160
"""Line width of the rejects and accounting models: one mapped column a line."""


def accounting_sql(spec: Spec, v1: str) -> str:
    """Audit model: per mapped column of V1 `v1`, V1 values = V2 present + rejected."""
    return (sql_header(f"value accounting of V1 {v1}: every non-null mapped V1 value is "
                       "present in V2 or in its rejects")
            + sql_text(proof.accounting(v1, spec.for_v1(v1)), PROOF_WIDTH) + "\n")


def reconcile_sql(t: Table) -> str:
    """Singular test: every V2 value equals its typed V1 value in the stage (a closure table:
    the closure of V1's links, computed again)."""
    if t.grain == "closure":
        # a changed-only sync checks the pairs of depth 1 against V1's links (the walk ran
        # only if they moved); a full sync every pair against the closure computed from V1
        # dbt parses with the changed-only branch off (xano_reads_changed is false while
        # parsing): what that branch alone refs is named for dbt's dependencies
        changed = sql_text(stage.direct_mismatches(t))
        hints = "".join(f"-- depends_on: {{{{ ref('{r}') }}}}\n"
                        for r in sorted(set(re.findall(r"ref\('([^']+)'\)", changed))))
        return (sql_header(f"value reconciliation of V2 {t.name}: pairs that differ from the "
                           "closure of V1's links (returns id + mismatched columns)")
                + hints + f"{{% if xano_reads_changed('{t.v1_table}') %}}\n"
                + f"with model as (\n    select * from {{{{ ref('{t.name}') }}}}\n)\n"
                + changed + "\n{% else %}\n"
                + v1_cte(t.v1_table, "all") + ",\n\n" + "expected as (\n"
                + indent(jinja_literal(build.render(build.closure_model(t)))) + "\n),\n\n"
                + f"model as (\n    select * from {{{{ ref('{t.name}') }}}}\n)\n\n"
                + jinja_literal(build.render(build.reconcile(t))) + "\n{% endif %}\n")
    else:
        head = ("with expected as (\n" + indent(sql_text(stage.model_select(t, "check")))
                + "\n),\n\n")
        what = "their typed V1 values in the stage"
    return (sql_header(f"value reconciliation of V2 {t.name}: rows whose values differ from "
                       f"{what} (returns id + mismatched columns)")
            + head
            + f"model as (\n    select * from {{{{ ref('{t.name}') }}}}\n)\n\n"
            + jinja_literal(build.render(build.reconcile(t))) + "\n")


def rejects_sql(spec: Spec, v1: str) -> str:
    """The rejects of one V1 table: every meaningful V1 value its transform turned into NULL."""
    return (sql_header(f"quarantine of V1 {v1}: one row per (id, key[, element]) whose value "
                       "did not fit its V2 type; the V2 column holds NULL")
            + "{{ config(materialized='incremental', incremental_strategy='append', "
            "on_schema_change='append_new_columns', "
            f"pre_hook=\"{{{{ xano_forget_rejects('{v1}') }}}}\") }}}}\n"
            + sql_text(proof.rejects(v1, spec.for_v1(v1)), PROOF_WIDTH) + "\n")


def rejects_union_sql(spec: Spec) -> str:
    """xano_rejects: the rejects of every V1 table in one relation."""
    parts = [f"select * from {{{{ ref('xano_rejects__{v1}') }}}}" for v1 in spec.v1_tables()]
    body = "\nunion all\n".join(parts) if parts else (
        "select " + ", ".join(f"null::text as {c}" for c in proof.REJECT_COLUMNS) + " where false")
    return (sql_header("every rejected V1 value, one relation (the per-V1-table rejects "
                       "models, unioned)")
            + "{{ config(materialized='view') }}\n" + body + "\n")


def _accounting_entries(spec: Spec) -> list[dict]:
    """YAML entries of the accounting models with their tests."""
    out = []
    for v1 in spec.v1_tables():
        out.append({
            "name": f"xano_accounting__{v1}",
            "description": f"Value accounting of V1 `{v1}`: per mapped V2 column, the V1 values "
                           "(non-null, non-blank), the V2 values present for those rows, and "
                           "the rejects. v1_values = v2_present + rejected must hold.",
            "data_tests": [
                "xano_accounting_balances",
                "xano_reject_share_below",
                {"xano_rejects_absent": {"config": {"severity": "warn"}}},
            ],
            "columns": [{"name": n, "description": d} for n, d in (
                ("v1_table", "V1 table"), ("v2_table", "V2 table"), ("v2_column", "V2 column"),
                ("key_path", "V1 key path"), ("v1_values", "Non-null, non-blank V1 values"),
                ("v2_present", "V2 values present for rows that exist in V1"),
                ("rejected", "Values quarantined in xano_rejects"))],
        })
    return out


def _check_entries() -> list[dict]:
    samples = {"name": SAMPLES, "description": "Sample V1 records (id, xdo) the transform check "
               "views read; their dbt unit tests replace these rows.",
               "columns": [{"name": "id", "description": "Sample id"},
                           {"name": "xdo", "description": "Sample record"}]}
    return [samples] + [{"name": t.name, "description": f"{t.description}. Generated from the "
             "transform vocabulary; the dbt unit tests in models/unit_tests run on it.",
             "columns": [{"name": c.name, "description": c.description} for c in t.columns]}
            for t in transform_check_tables()]


def audit_yaml(spec: Spec) -> str:
    """Docs of the audit models: accounting per V1 table and the rejects."""
    cols = {
        "v1_table": "V1 table of the value", "v1_id": "V1 row id",
        "key_path": "V1 key path ($xdo: the whole record is not a JSON object)",
        "element_position": "1-based array position for array-grain tables",
        "v2_table": "V2 table that received NULL", "v2_column": "V2 column that received NULL",
        "raw_value": "The V1 value as JSON text (first 200 chars; masked when sensitive)",
        "target_type": "Type the value had to fit", "reason": "Why it did not fit",
    }
    per_v1 = [{"name": f"xano_rejects__{v1}",
               "description": f"Quarantine of V1 `{v1}`: values that could not be cast to their "
                              "V2 type, from one pass over the rows of each run. Computed with the "
                              "same xano_fn functions as the V2 models, so the two cannot "
                              "disagree.",
               "columns": [{"name": k, "description": v} for k, v in cols.items()]}
              for v1 in spec.v1_tables()]
    union = [{"name": "xano_rejects",
              "description": "Every rejected V1 value: the per-V1-table rejects models, unioned.",
              "columns": [{"name": k, "description": v} for k, v in cols.items()]}]
    return yaml_doc({"version": 2, "models": _accounting_entries(spec) + _check_entries()
                     + per_v1 + union})


# -- transform checks -------------------------------------------------------------------------
SAMPLES = "xano_transform_samples"
"""Model of sample V1 records (id, xdo) the transform check models read."""


def transform_check_tables() -> tuple[Table, Table]:
    """Two fixed tables over the samples seed: one column per transform (reading key ``v``),
    and an array-grain table over ``items[]``. Built by the same builders as every V2 model and
    bound to nothing in the spec, so the transforms' dbt unit tests survive any spec edit."""
    key = Column("xano_transform_cases", "id", "$id", "id", "bigint", False, False, "", "Case")
    cases = [key] + [Column("xano_transform_cases", t.name, "v", t.name, t.v2_type, True, False,
                            "", t.doc) for t in TRANSFORMS.values() if t.function]
    elements = [Column("xano_transform_elements", name, path, transform, v2_type, False, False,
                       "", name)
                for name, path, transform, v2_type in (
                    ("id", "$element_id", "id", "bigint"), ("parent_id", "$parent_id", "id",
                                                              "bigint"),
                    ("position", "$position", "id", "bigint"))]
    elements.append(Column("xano_transform_elements", "value", "items[]", "trim", "text", True,
                           False, "", "element, trimmed"))
    return (Table("xano_transform_cases", "", "checks", SAMPLES, "row", "", "", "",
                  "Every transform applied to the key v of each sample", tuple(cases)),
            Table("xano_transform_elements", "", "checks", SAMPLES, "array", "items",
                  "xano_transform_cases", "parent_id",
                  "One row per element of items[] of each sample", tuple(elements)))


SAMPLE_ROWS = (
    (1, '{"v": 1700000000000, "items": [" cash ", "vip"]}'), (2, '{"v": "1,234.50"}'),
    (3, '{"v": " yes "}'), (4, '{"v": "2024-02-29"}'),
    (5, '{"v": {"path": "/a.png", "size": 3}}'), (6, '{"v": "2023-02-30"}'),
)
"""The samples the check views show (their dbt unit tests bring their own rows)."""


def samples_sql() -> str:
    """The samples model: a few V1-like records (id, xdo) for the transform check views."""
    rows = ",\n".join(f"        ({i}, {build.render(build.lit(x))}::jsonb)" for i, x in SAMPLE_ROWS)
    return (sql_header("samples for the transform check views (their dbt unit tests bring "
                       "their own rows)")
            + "{{ config(materialized='view') }}\n"
            + "select * from (\n    values\n" + rows + "\n) as samples (id, xdo)\n")


def transform_check_sql(t: Table) -> str:
    """A check model: the generated SQL of ``t`` over the samples seed, as a view."""
    select = build.array_model(t) if t.grain == "array" else build.row_model(t, [])
    return (sql_header(f"transform check {t.name}: {t.description.lower()} (the transforms' "
                       "dbt unit tests run on it)")
            + "{{ config(materialized='view') }}\n"
            + f"with v1 as (\n    select id, xdo from {{{{ ref('{SAMPLES}') }}}}\n),\n\n"
            + "checked as (\n" + indent(jinja_literal(build.render(select))) + "\n)\n\n"
            + "select * from checked\n")
