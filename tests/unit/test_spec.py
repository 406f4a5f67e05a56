"""Spec validation, table-driven: each bad edit of a small valid spec gives its file:row line."""

from __future__ import annotations

import pytest

from generator.errors import SpecError
from generator.spec import build_spec

from .small_spec import COLUMNS, IGNORED, REGISTRY, TABLES
from .small_spec import rows as _rows


def _problems(tables: str = TABLES, columns: str = COLUMNS, ignored: str = IGNORED) -> list[str]:
    try:
        build_spec(_rows(tables), _rows(columns), _rows(ignored), registry=REGISTRY)
    except SpecError as exc:
        return exc.problems
    return []


def test_the_base_spec_is_valid():
    spec = build_spec(_rows(TABLES), _rows(COLUMNS), _rows(IGNORED), registry=REGISTRY)
    assert [t.name for t in spec.for_v1("user")] == ["u", "u_roles"]
    assert spec.main_table("transaction").name == "t"
    assert spec.table("t_tags").grain == "array"


# (what is edited, old text, new text, file:row, expected words in the problem line)
CASES = [
    ("columns", "u_roles,is_admin,is_admin,boolean", "u_roles,is_admin,is_admin,frobnicate",
     "xano_v2_columns.csv:7", "unknown transform 'frobnicate'"),
    ("columns", "u,born,birthday,date,date", "u,born,birthday,date,text",
     "xano_v2_columns.csv:4", "transform date produces date, not text"),
    ("columns", "u,email,email,", "u,born,email,", "xano_v2_columns.csv:4",
     "column 'born' appears twice in u"),
    ("columns", "u,email,email,", "u,{{x}},email,", "xano_v2_columns.csv:3",
     "contains Jinja delimiters"),
    ("columns", "u,email,email,", "u,__ref__x,email,", "xano_v2_columns.csv:3",
     "prefix reserved"),
    ("columns", "u,email,email,", "u," + "e" * 64 + ",email,", "xano_v2_columns.csv:3",
     "column name must be 1-63 bytes"),
    ("columns", ",,Email\n", ",,\n", "xano_v2_columns.csv:3", "description is empty"),
    ("columns", "t,owner_id,agent_id,bigint,bigint,true,false,u,",
     "t,owner_id,agent_id,bigint,bigint,true,false,nosuch,", "xano_v2_columns.csv:9",
     "references unknown V2 table 'nosuch'"),
    ("columns", "u,email,email,", "u,email,$weird,", "xano_v2_columns.csv:3",
     "unknown special source '$weird'"),
    ("columns", "u,email,email,", "u,email,$position,", "xano_v2_columns.csv:3",
     "needs transform 'id'"),
    ("columns", "u,email,email,", "u,email,list[].x,", "xano_v2_columns.csv:3",
     "array element path in a row-grain table"),
    ("columns", "t_tags,tag,tags[]", "t_tags,tag,other[]", "xano_v2_columns.csv:13",
     "the path must be tags[].<key> or tags[]"),
    ("columns", "u,id,$id", "u,key,$id", "xano_v2_tables.csv:2", "has no key column 'id'"),
    ("columns", "", "zz,id,$id,id,bigint,false,false,,Key\n", "xano_v2_columns.csv:14",
     "column of unknown V2 table 'zz'"),
    ("tables", "u,1,user,user,row", "u,1,user,nosuch,row", "xano_v2_tables.csv:2",
     "V1 table 'nosuch' is not registered in seeds/xano_v1_tables.csv"),
    ("tables", "t,3,deals,transaction,row", "t,3,deals,transaction,rows", "xano_v2_tables.csv:4",
     "grain must be one of"),
    ("tables", "t_tags,4,deals,transaction,array,tags", "t_tags,4,deals,transaction,array,",
     "xano_v2_tables.csv:5", "array grain needs array_path"),
    ("tables", "u_roles,2,user,user,row,,u,user_id", "u_roles,2,user,user,row,,nosuch,user_id",
     "xano_v2_tables.csv:3", "parent 'nosuch' does not exist"),
    ("tables", "u_roles,2,user,user,row,,u,user_id", "u_roles,2,user,user,row,,u,",
     "xano_v2_tables.csv:3", "parent_column is required"),
    ("tables", "u_roles,2,user,user,row,,u,user_id", "u_roles,2,user,user,row,,u,owner",
     "xano_v2_tables.csv:3", "parent_column 'owner' is not a column of u_roles"),
    ("tables", "u_roles,2,user,user,row,,u,user_id", "u_roles,2,user,user,row,,,",
     "xano_v2_tables.csv:3", "V1 table 'user' has two main tables (u, u_roles)"),
    ("tables", "u,1,user,user,row,,,", "u,1,user,user,row,,u_roles,user_id",
     "xano_v2_tables.csv:2", "parent cycle u -> u_roles -> u"),
    ("tables", "t,3,deals,", "t-1,3,deals,", "xano_v2_tables.csv:4", "must be a plain identifier"),
    ("tables", "t,3,deals,", "t,3,de als,", "xano_v2_tables.csv:4", "domain 'de als'"),
    ("tables", ",Deals\n", ",\n", "xano_v2_tables.csv:4", "description is empty"),
    ("tables", "u,1,user,user,row,,,,Users", "u,1,user,user,row,,,,Users\nu,9,user,user,row,,,,U",
     "xano_v2_tables.csv:3", "defined twice"),
    ("ignored", "team,*,not migrated", "nosuch,*,not migrated", "xano_ignored_keys.csv:2",
     "V1 table 'nosuch' is not registered"),
    ("ignored", "team,*,not migrated", "team,*,", "xano_ignored_keys.csv:2",
     "a reason is required"),
]


@pytest.mark.parametrize("part,old,new,where,words", CASES,
                         ids=[f"{c[0]}:{c[4][:30]}" for c in CASES])
def test_each_bad_edit_is_one_line_naming_file_and_row(part, old, new, where, words):
    texts = {"tables": TABLES, "columns": COLUMNS, "ignored": IGNORED}
    if old:
        assert old in texts[part], old
        texts[part] = texts[part].replace(old, new, 1)
    else:
        texts[part] += new
    problems = _problems(**texts)
    hits = [p for p in problems if words in p]
    assert hits, problems
    assert hits[0].startswith(f"seeds/{where}: "), hits


def test_every_problem_is_reported_at_once():
    columns = (COLUMNS.replace("u_roles,is_admin,is_admin,boolean", "u_roles,is_admin,is_admin,x")
               .replace("u,born,birthday,date,date", "u,born,birthday,date,text"))
    problems = _problems(columns=columns)
    assert len(problems) == 2 and all(p.startswith("seeds/xano_v2_columns.csv:") for p in problems)


def test_a_row_missing_fields_is_named():
    problems = _problems(columns="v2_table,column\nu,id\n")
    assert any(p.startswith("seeds/xano_v2_columns.csv:2: missing field") for p in problems)


LIVE_TABLES = TABLES.replace("parent_column,description\n",
                             "parent_column,description,live_relation,live_layout,v2_id_assumed\n")
LIVE_CASES = [
    ("u,1,user,user,row,,,,Users", "u,1,user,user,row,,,,Users,,columns,", None),
    ("u,1,user,user,row,,,,Users", "u,1,user,user,row,,,,Users,app.users,,true", None),
    ("u,1,user,user,row,,,,Users", "u,x1,user,user,row,,,,Users", "v2_id must be a positive"),
    ("u,1,user,user,row,,,,Users", "u,,user,user,row,,,,Users", None),  # publish refuses it
    ("u,1,user,user,row,,,,Users", "u,1,user,user,row,,,,Users,,rows,",
     "live_layout must be one of columns, jsonb"),
    ("u,1,user,user,row,,,,Users", 'u,1,user,user,row,,,,Users,"a;drop table x",,',
     "live_relation must be [schema.]name"),
    ("u_roles,2,user", "u_roles,1,user", None),
]


@pytest.mark.parametrize("old,new,words", LIVE_CASES, ids=[c[1][26:] for c in LIVE_CASES])
def test_live_table_columns_are_optional_and_checked(old, new, words):
    problems = _problems(tables=LIVE_TABLES.replace(old, new, 1))
    if old.startswith("u_roles"):
        assert [p for p in problems if p.startswith("seeds/xano_v2_tables.csv:3: ")
                and "u_roles and u would publish to the same live table (v2 id 1)" in p]
    elif words is None:
        assert problems == []
    else:
        assert [p for p in problems if p.startswith("seeds/xano_v2_tables.csv:2: ")
                and words in p], problems


def test_live_name_defaults_to_the_xano_relation_of_the_v2_workspace():
    spec = build_spec(_rows(LIVE_TABLES.replace("Users\n", "Users,,,true\n", 1)
                            .replace("Deals\n", "Deals,crm.deals,jsonb,\n")),
                      _rows(COLUMNS), _rows(IGNORED), registry=REGISTRY)
    assert spec.table("u").live_name(7) == ("public", "mvpw7_1")
    assert spec.table("u").v2_id_assumed and spec.table("u").layout == "columns"
    assert spec.table("t").live_name(7) == ("crm", "deals")
    assert spec.table("t").layout == "jsonb"


def test_a_table_without_v2_id_syncs_but_has_no_live_table():
    from generator.live import live_tables

    spec = build_spec(_rows(LIVE_TABLES.replace("u,1,user", "u,,user", 1)), _rows(COLUMNS),
                      _rows(IGNORED), registry=REGISTRY)
    assert not spec.table("u").has_live and spec.table("t").has_live
    assert "u" not in [lt.table.name for lt in live_tables(spec, 7)]


def test_every_seed_row_has_as_many_fields_as_its_header():
    """A hand-edited seed with an unquoted comma shifts its row: dbt seed refuses the file
    and the sync's COPY would load the text into the wrong column."""
    import csv
    from pathlib import Path

    seeds = Path(__file__).resolve().parents[2] / "seeds"
    bad = []
    for path in sorted(seeds.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        bad += [f"{path.name}:{i}" for i, r in enumerate(rows[1:], start=2)
                if len(r) != len(rows[0])]
    assert bad == []
