"""The owner's documented mapping is the default spec: every column mapping of the field-mapping
JSON of 2026-02-04 (``.flow/V1_V2_FIELD_MAPPING.json``, as collected in
``../shared/real-workspace/mapping.csv``, copied to tests/cases/owner_mapping.csv) is a spec row
with its V2 column, its V1 key and a transform of its cast, and says it is documented."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from generator.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
COPY = ROOT / "tests" / "cases" / "owner_mapping.csv"
SHARED = ROOT.parent / "shared" / "real-workspace" / "mapping.csv"
FIELD_MAPPING = ".flow/V1_V2_FIELD_MAPPING.json"
CASTS = {"none": {"id"}, "text": {"text", "trim", "lower_trim", "image_url"},
         "boolean": {"boolean"}, "integer": {"bigint"}, "decimal": {"numeric"},
         "timestamp": {"epoch_ms"}, "date": {"date"}, "json": {"jsonb", "closure_path"}}
"""The documented cast -> the transforms that implement it."""
CLOSURE = {"(none)": {"$depth", "$path"}}
"""Documented derived columns of the closure table and the sources that build them."""


def documented() -> list[dict[str, str]]:
    with COPY.open(newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r["source_file"].startswith(FIELD_MAPPING)]


def missing_mappings() -> list[str]:
    """Each documented mapping the spec lacks, one line with why."""
    spec = load_spec(ROOT)
    tables = {t.name: t for t in spec.tables}
    out = []
    for r in documented():
        table = r["v2_table"].split(" (")[0]
        column, key, cast = r["v2_column"], r["v1_key"], r["cast_or_type"]
        where = f"{table}.{column} <- {key} ({cast})"
        t = tables.get(table)
        col = next((c for c in t.columns if c.name == column), None) if t else None
        if col is None:
            out.append(f"{where}: no such spec column")
            continue
        if t.grain == "closure":
            sources = CLOSURE.get(key) or {"$ancestor" if key == t.links[0] else
                                           "$descendant" if key == t.links[1] else key}
        else:
            sources = {"$id", "$parent_id"} if key == "id" else {key}
        if col.v1_path not in sources:
            out.append(f"{where}: the spec reads {col.v1_path!r}")
        elif col.transform not in (CASTS.get(cast, {cast}) if t.grain != "closure"
                                   else {"id", "closure_path"}):
            out.append(f"{where}: the spec's transform is {col.transform}")
        elif col.provenance != "documented":
            out.append(f"{where}: the spec marks it {col.provenance}")
    return out


def test_every_documented_mapping_of_the_field_mapping_json_is_in_the_spec():
    rows = documented()
    assert len(rows) == 155  # the JSON's column mappings (FACTS.md §2)
    assert missing_mappings() == []


def test_the_committed_copy_is_the_shared_fact_sheet():
    if not SHARED.exists():
        pytest.skip("../shared/real-workspace is not next to this checkout")
    assert COPY.read_bytes() == SHARED.read_bytes()
