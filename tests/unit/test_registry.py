"""The V1 table registry is data: validation lines name file and row (no server)."""

from __future__ import annotations

import pytest

from generator.errors import SpecError
from generator.registry import build_registry, load_registry

from ..conftest import ROOT
from .small_spec import rows

HEAD = "v1_table,workspace,table_id,description\n"
CASES = [
    ("user,1,41,x\nuser,1,42,y\n", "xano_v1_tables.csv:3: V1 table 'user' is registered twice"),
    ("user,1,41,x\npeople,1,41,y\n",
     "xano_v1_tables.csv:3: relation mvpw1_41 is registered twice (first at row 2)"),
    ("user,one,41,x\n", "xano_v1_tables.csv:2: workspace must be a positive integer"),
    ("user,1,0,x\n", "xano_v1_tables.csv:2: table_id must be a positive integer"),
    ("User Table,1,41,x\n", "xano_v1_tables.csv:2: V1 table name 'User Table' must be"),
]


@pytest.mark.parametrize("body,line", CASES, ids=[c[1][19:60] for c in CASES])
def test_bad_registry_rows_are_one_line_each(body, line):
    with pytest.raises(SpecError) as err:
        build_registry(rows(HEAD + body))
    assert any(p.startswith("seeds/" + line) for p in err.value.problems), err.value.problems


def test_the_committed_registry_names_each_relation():
    reg = load_registry(ROOT)
    assert reg.table("user").relation == "mvpw1_41"
    assert reg.table("mvpw1_48").name == "network"
    assert len({t.relation for t in reg.tables}) == len(reg.tables)


def test_another_workspace_is_a_row_not_code():
    reg = build_registry(rows(HEAD + "deals,7,1234,CRM deals\n"))
    assert reg.table("deals").relation == "mvpw7_1234"
    with pytest.raises(KeyError, match="unknown V1 table 'user' \\(known: deals\\)"):
        reg.table("user")
