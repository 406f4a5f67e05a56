"""Which V2 tables a sync touches, and how dbt is asked for them (no server)."""

from __future__ import annotations

import pytest

from generator.errors import SyncError
from generator.sync.run import dbt_selector_for, selected_tables
from generator.sync.runner import owning_table

from .small_spec import small_spec

CASES = [
    (None, ["u", "u_roles", "t", "t_tags"]),
    ("user", ["u", "u_roles"]),                 # a domain
    ("deals", ["t", "t_tags"]),
    ("u_roles", ["u", "u_roles"]),              # a V2 table: every table of its V1 table
    ("t_tags+", ["t", "t_tags"]),               # dbt's graph operator is accepted
    ("+u", ["u", "u_roles"]),
]


@pytest.mark.parametrize("select,expected", CASES, ids=[str(c[0]) for c in CASES])
def test_selector_picks_whole_v1_tables(select, expected):
    assert [t.name for t in selected_tables(small_spec(), select)] == expected


def test_unknown_selector_lists_the_domains():
    with pytest.raises(SyncError, match=r"unknown selector 'nosuch': use a domain \(deals, user\)"):
        selected_tables(small_spec(), "nosuch")


def test_dbt_selector_adds_the_stage_and_audit_models_of_the_v1_tables():
    spec = small_spec()
    tables = selected_tables(spec, "user")
    assert dbt_selector_for(tables, full=True) == [
        "--select", "u u_roles xano_typed__user xano_rejects__user xano_rejects "
        "xano_accounting__user"]
    assert dbt_selector_for(tables, full=False) == [
        "--select", "u u_roles xano_typed__user xano_rejects__user xano_rejects"]
    team = selected_tables(spec, "t_tags")  # an array table reads its element stage
    assert "xano_typed__elements__t_tags" in dbt_selector_for(team)[1].split()
    assert dbt_selector_for(None, full=True) == ["--exclude", "resource_type:seed"]
    assert dbt_selector_for(None, full=False) == ["--exclude",
                                                  "resource_type:seed xano_accounting__*"]


@pytest.mark.parametrize("test_name,owner", [
    ("unique_u_roles_id", "u_roles"),
    ("not_null_u_id", "u"),
    ("xano_reconcile__t_tags", "t_tags"),
    ("relationships_u_roles_user_id__id__ref_u_", "u_roles"),
    ("xano_accounting_balances_xano_accounting__user", None),
])
def test_test_results_are_attributed_to_the_longest_table_name(test_name, owner):
    assert owning_table(test_name, ["u", "u_roles", "t", "t_tags"]) == owner
