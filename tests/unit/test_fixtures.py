"""Fixture sizes: counts scale linearly and match production at scale 1 (no server)."""

from __future__ import annotations

import pytest

from generator.errors import FixtureError
from generator.fixtures import scaled_counts
from generator.fixtures.records import BASE_COUNTS, Ctx, record


def test_counts_scale_linearly_and_match_production_at_scale_1():
    assert scaled_counts(1.0)["user"] == 335
    assert scaled_counts(1.0)["network"] == 86_617
    assert scaled_counts(0.5)["network"] == round(86_617 * 0.5)
    assert scaled_counts(20)["participant"] == BASE_COUNTS["participant"] * 20
    # V2's documented gaps stay a minority of each table
    for table, gap in (("agent", 491), ("transaction", 2_596), ("participant", 29_175)):
        assert gap < BASE_COUNTS[table] / 2


@pytest.mark.parametrize("scale", [0, -1, float("nan")])
def test_non_positive_scale_is_refused(scale):
    with pytest.raises(FixtureError, match="--scale must be > 0"):
        scaled_counts(scale)


def test_records_are_a_pure_function_of_seed_table_and_id():
    ctx = Ctx(7, dict(BASE_COUNTS))
    assert record("user", 5, ctx) == record("user", 5, ctx)
    assert record("user", 5, ctx) != record("user", 5, Ctx(8, dict(BASE_COUNTS)))
