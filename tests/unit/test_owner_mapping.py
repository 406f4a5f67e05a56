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


def test_every_documented_row_of_any_source_is_in_the_spec_or_explained():
    """Beyond the field-mapping JSON, the owner's other documents (the table-mapping doc, the
    UI's static mapping, the comparison route, task notes) name mappings too, some of them
    contradicting the JSON. Each row of the fact sheet is either what the spec does (same V2
    column reading the same V1 key) or listed in seeds/xano_mapping_alternatives.csv with the
    kind of disagreement and a note: nothing documented is silently dropped."""
    spec = load_spec(ROOT)
    tables = {t.name: t for t in spec.tables}
    with (ROOT / "seeds" / "xano_mapping_alternatives.csv").open(newline="",
                                                                 encoding="utf-8") as fh:
        explained = {(r["v2_table"], r["v2_column"], r["v1_key"]): r
                     for r in csv.DictReader(fh)}
    with COPY.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    unexplained = []
    for r in rows:
        table = r["v2_table"].split(" (")[0]
        column, key = r["v2_column"], r["v1_key"]
        t = tables.get(table)
        col = next((c for c in t.columns if c.name == column), None) if t else None
        reads = set()
        if col is not None:
            reads = {col.v1_path} | ({"id"} if col.v1_path in ("$id", "$parent_id") else set())
            if t.grain == "closure":
                reads |= {k for k, p in zip(t.links, ("$ancestor", "$descendant"))
                          if col.v1_path == p} | ({"(none)"} if col.v1_path in
                                                   ("$depth", "$path") else set())
        if key in reads:
            continue
        note = explained.get((table, column, key))
        if note is None or not (note["kind"].strip() and note["note"].strip()):
            unexplained.append(f"{table}.{column} <- {key} ({r['source_file']})")
    assert len(rows) > 155
    assert unexplained == []
