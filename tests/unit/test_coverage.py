"""The coverage gate: claimed, inside a jsonb column, ignored, unclaimed, missing (no server)."""

from __future__ import annotations

import pytest

from generator.coverage import coverage, unclaimed_lines

from .small_spec import inventory, small_spec

# (inventory path, expected state, expected claim/reason)
CASES = [
    ("user:email", "claimed", ["u.email"]),
    ("user:is_admin", "claimed", ["u_roles.is_admin"]),
    ("transaction:tags", "claimed", ["t_tags"]),
    ("transaction:agent_id", "claimed", ["t.owner_id"]),
    ("team:name", "ignored", "not migrated"),
    ("team:logo.path", "ignored", "not migrated"),
    ("user:nickname", "unclaimed", None),
    ("user:email.domain", "unclaimed", None),  # `email` is a text column: no jsonb ancestor
]


@pytest.mark.parametrize("path,state,where", CASES, ids=[c[0] for c in CASES])
def test_each_key_is_claimed_ignored_or_unclaimed(path, state, where):
    inv = inventory(path)
    cov = coverage(small_spec(), inv)
    key = tuple(path.split(":", 1))
    if state == "claimed":
        assert cov.claimed[key] == where
    elif state == "ignored":
        assert cov.ignored[key] == where
    else:
        assert [p.key_path for p in cov.unclaimed] == [key[1]]


def test_keys_inside_a_jsonb_column_are_claimed_by_it():
    from generator.spec import build_spec

    from .small_spec import COLUMNS, IGNORED, REGISTRY, TABLES, rows

    cols = COLUMNS + "u,avatar,avatar,jsonb,jsonb,true,false,,Avatar\n"
    spec = build_spec(rows(TABLES), rows(cols), rows(IGNORED), registry=REGISTRY)
    cov = coverage(spec, inventory("user:avatar", "user:avatar.path"))
    assert cov.claimed[("user", "avatar.path")] == ["(inside avatar)"]
    assert cov.unclaimed == []


def test_spec_columns_the_inventory_lacks_are_missing():
    cov = coverage(small_spec(), inventory("user:email"))
    missing = {f"{c.table}.{c.name}" for c in cov.missing}
    assert missing == {"u.born", "u_roles.is_admin", "t.owner_id", "t_tags.tag"}


def test_unmapped_keys_group_paths_by_top_level_key():
    cov = coverage(small_spec(), inventory("user:nick", "user:nick.x", "user:zz",
                                           "transaction:extra"))
    assert cov.unmapped_keys() == {"user": ["nick", "zz"], "transaction": ["extra"]}
    assert unclaimed_lines(cov.unclaimed)[0] == "  user.nick  (50.0% of rows, text, e.g. -)"
