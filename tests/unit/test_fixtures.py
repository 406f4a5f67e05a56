"""The synthetic V1 records without a server: production's sizes and key counts, the documented
key names and casts, natural keys, the sponsor forest, secrets and the stand-in tables."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter

import pytest

from generator.errors import FixtureError
from generator.fixtures import scaled_counts
from generator.fixtures.census_tables import documented_tables, unregistered
from generator.fixtures.network import build_forest
from generator.fixtures.records import BASE_COUNTS, BUILDERS, KEY_COUNTS, MESS, Ctx, record
from generator.keypath import is_sensitive
from generator.registry import Registry, V1Table, load_registry

from ..conftest import ROOT

DOCUMENTED = ROOT / "tests" / "cases" / "v1_documented_keys.csv"
"""V1 keys of the owner's documents, with the cast V2 reads them with (FIELD_MAPPING first)."""
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _documented() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    with DOCUMENTED.open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            out.setdefault(r["v1_table"], {})[r["v1_key"]] = r["cast"]
    return out


def _rows(table: str, n: int, scale: float = 1.0, seed: int = 7) -> list[dict]:
    ctx = Ctx(seed, scaled_counts(scale))
    return [record(table, i, ctx) for i in range(1, min(n, ctx.counts[table]) + 1)]


def test_counts_scale_linearly_and_match_production_at_scale_1():
    assert scaled_counts(1.0) == {"user": 335, "team": 256, "network": 86_618, "agent": 37_041,
                                  "transaction": 55_023, "participant": 702_072,
                                  "participant_paid": 111_897}
    assert scaled_counts(0.5)["network"] == round(86_618 * 0.5)
    assert scaled_counts(20)["participant"] == BASE_COUNTS["participant"] * 20
    assert scaled_counts(0.0001)["user"] == 1  # at least one row
    # V2's documented gaps stay a minority of each table
    for table, gap in (("agent", 491), ("transaction", 2_596), ("participant", 29_175)):
        assert gap < BASE_COUNTS[table] / 2


@pytest.mark.parametrize("scale", [0, -1, float("nan")])
def test_non_positive_scale_is_refused(scale):
    with pytest.raises(FixtureError, match="--scale must be > 0"):
        scaled_counts(scale)


def test_records_are_a_pure_function_of_seed_table_and_id():
    ctx, same, other = (Ctx(seed, dict(BASE_COUNTS)) for seed in (7, 7, 8))
    for table in BUILDERS:
        assert record(table, 5, ctx) == record(table, 5, same)
        assert record(table, 5, ctx) != record(table, 5, other)


def test_each_table_has_production_key_count_and_row_1_carries_every_key():
    assert {t: KEY_COUNTS[t] for t in ("user", "agent", "transaction", "participant",
                                       "network")} == {"user": 111, "agent": 132,
                                                       "transaction": 119, "participant": 30,
                                                       "network": 57}
    assert 24 <= KEY_COUNTS["participant_paid"] <= 30 and 15 <= KEY_COUNTS["team"] <= 25
    for table in BUILDERS:
        rows = _rows(table, 400, scale=0.01)  # the smallest scale the tests use: 3 users
        first = set(rows[0])
        assert len(first) == KEY_COUNTS[table], table
        assert set().union(*rows) == first, f"{table}: keys beyond row 1's"
        present = Counter(k for r in rows for k in r)
        # optional keys are in the large majority of rows
        assert min(present.values()) >= 0.9 * len(rows) or len(rows) < 30, table


NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")


def _castable(cast: str, v: object) -> bool:
    """Whether V2's safe cast for ``cast`` takes ``v`` (else the value would be a reject)."""
    if cast == "text":
        return isinstance(v, str)
    if cast == "boolean":
        return isinstance(v, bool) or v in ("true", "false", 0, 1)
    if cast == "integer":
        return (isinstance(v, int) and not isinstance(v, bool)) or (
            isinstance(v, str) and v.isdigit())
    if cast == "decimal":
        return (isinstance(v, int | float) and not isinstance(v, bool)) or (
            isinstance(v, str) and NUMBER.fullmatch(v) is not None)
    if cast == "timestamp":
        return isinstance(v, int) and 10**9 <= v < 10**13  # ms, or the odd one in seconds
    if cast == "date":
        try:
            return isinstance(v, str) and DATE.fullmatch(v) and bool(dt.date.fromisoformat(v))
        except ValueError:
            return False
    if cast == "json":
        return isinstance(v, dict)
    raise AssertionError(cast)


@pytest.mark.parametrize("table", ["user", "agent", "transaction", "participant", "network"])
def test_documented_keys_are_used_verbatim_with_values_of_their_cast(table):
    documented = _documented()[table]
    rows = _rows(table, 1500)
    assert set(documented) <= set(rows[0])
    if table == "participant":
        assert set(rows[0]) == set(documented)  # the complete documented list, nothing else
    for key, cast in documented.items():
        values = [r[key] for r in rows if r.get(key) not in (None, "")]
        rejects = len(values) - sum(bool(_castable(cast, v)) for v in values)
        assert rejects <= 0.025 * len(values), f"{table}.{key} ({cast}): {rejects} rejects"
        clean = [v for v in values if not isinstance(v, str) or cast in ("text", "date")]
        if cast == "timestamp":  # epoch milliseconds, seconds only now and then
            assert sum(v >= 10**12 for v in clean) >= 0.98 * len(clean), key
        if cast == "decimal":  # numbers with cents, not whole numbers only
            assert any(isinstance(v, float) and v != int(v) for v in clean), key


def test_documented_mess_typo_and_near_duplicates_are_there():
    agent = _rows("agent", 3000)
    assert all("deferredCapEndDate" not in r for r in agent)
    assert sum("deferredCapEndDat" in r for r in agent) > 0.95 * len(agent)
    for flag in ("director", "leader", "mentor"):
        values = [r[flag] for r in agent if r.get(flag) is not None]
        objects = sum(isinstance(v, dict) and set(v) == {"id", "name"} for v in values)
        assert 0.005 < objects / len(values) < 0.025, flag
        assert sum(isinstance(v, bool) for v in values) > 0.9 * len(values)
    participant = _rows("participant", 3000)
    for a, b in (("created_at", "createdAt"), ("updatedAt", "last_updatedAt"),
                 ("agent_id", "agent_id_raw"), ("transaction_id", "transaction_id_raw"),
                 ("stage", "status"), ("firstName", "full_name")):
        assert sum(a in r and b in r for r in participant) > 0.9 * len(participant), (a, b)
    assert {"cell_phone", "phone", "full_name", "first_name"} <= set(_rows("user", 1)[0])
    assert {"joinDate", "join_date", "sponsorId", "sponsor_id"} <= set(agent[0])
    as_string = [r["paidbyReal"] for r in participant if isinstance(r.get("paidbyReal"), str)]
    assert set(as_string) <= {"true", "false"} and len(as_string) > 0.01 * len(participant)


def test_natural_keys_are_present_unique_and_realistic():
    users = _rows("user", 335)
    emails = [r["email"] for r in users]
    assert all("@" in e for e in emails) and len(set(emails)) == len(emails)
    lowered = Counter(e.lower() for e in emails)
    duplicates = sum(n - 1 for n in lowered.values())
    # a few addresses come twice, in other letter case (exact duplicates never)
    assert 1 <= duplicates <= 2 * MESS["duplicate_email_mixed_case"] * len(users)
    for table, key in (("agent", "agent_id_raw"), ("transaction", "transaction_id_raw"),
                       ("participant", "participant_id")):
        values = [r[key] for r in _rows(table, 3000)]
        assert all(isinstance(v, str) and UUID.fullmatch(v) for v in values), table
        assert len(set(values)) == len(values), table
    network = _rows("network", 10**6, scale=0.02)
    combos = {(r["agent_id_raw"], r["downline_agent_id_raw"], r["tier"]) for r in network}
    assert len(combos) == len(network)
    assert {r["tier"] for r in network} == {"1", "2", "3", "4", "5"}


def test_sponsor_links_form_a_forest_agents_and_network_agree():
    counts = scaled_counts(0.02)
    ctx = Ctx(7, counts)
    forest = build_forest(7, counts["agent"], counts["network"])
    assert forest == ctx.forest
    assert all(forest.sponsor[a] < a for a in range(1, counts["agent"] + 1))  # no cycles
    network = [record("network", i, ctx) for i in range(1, counts["network"] + 1)]
    tier1 = Counter(r["downline_agent_id"] for r in network if r["tier"] == "1")
    non_roots = {a for a in range(1, counts["agent"] + 1) if forest.sponsor[a]}
    assert set(tier1) == non_roots and set(tier1.values()) == {1}
    for r in network:
        down, tier = r["downline_agent_id"], int(r["tier"])
        assert r["sponsoring_agent_id"] == forest.sponsor[down]
        assert r["agent_id"] == forest.ancestor(down, tier) != 0
    agents = [record("agent", i, ctx) for i in range(1, counts["agent"] + 1)]
    sponsors = {i: r["sponsorId"] for i, r in enumerate(agents, start=1)
                if str(r.get("sponsorId")).isdigit()}  # not null, "" or garbage
    assert len(sponsors) > 0.9 * len(non_roots)
    assert {i for i, s in sponsors.items() if int(s) != forest.sponsor[i]} == set()


def test_references_point_into_their_tables_with_few_orphans():
    counts = scaled_counts(1.0)
    checks = [("agent", "user_id", "user"), ("participant", "transaction_id", "transaction"),
              ("participant", "agent_id", "agent"), ("transaction", "team_id", "team"),
              ("transaction", "transaction_owner_agent_id", "agent"),
              ("network", "user_id", "user"), ("user", "team_id", "team")]
    for table, key, target in checks:
        values = [int(r[key]) for r in _rows(table, 3000) if isinstance(r.get(key), int)
                  or (isinstance(r.get(key), str) and r[key].isdigit())]
        orphans = sum(not 1 <= v <= counts[target] for v in values)
        assert orphans <= 0.02 * len(values), (table, key)
    txn = _rows("transaction", 500)
    for r in txn:
        for p in r.get("participants") or []:
            assert {"agent_id", "role", "split_pct"} <= set(p) and 1 <= p["agent_id"]
        for h in r.get("history") or []:
            assert isinstance(h["event"], str) and h["at"] >= 10**12 and 1 <= h["by_user_id"]
        assert all(isinstance(t, str) for t in r.get("tags") or [])


def test_secrets_are_secret_shaped_and_masked():
    with (ROOT / "seeds" / "xano_sensitive_keys.csv").open(encoding="utf-8") as f:
        patterns = [r["pattern"] for r in csv.DictReader(f)]
    secrets = {"user": ["password", "api_key", "google_sub", "stripe_customer_id", "magic_link",
                        "confirmation_code", "push_token", "twoFactorSecret",
                        "reset_password_token", "fub_api_key", "stripe_subscription_id"],
               "agent": ["api_key", "rezen_api_token", "fub_api_key"],
               "participant_paid": ["stripe_transfer_id", "stripe_payout_id"]}
    for table, keys in secrets.items():
        assert set(keys) <= set(_rows(table, 1)[0])
        assert [k for k in keys if not is_sensitive(k, patterns)] == []
    for r in _rows("user", 50):
        assert re.fullmatch(r"\$2b\$10\$[0-9a-f]{53}", r["password"])
        assert r.get("stripe_customer_id") in (None, "") or r["stripe_customer_id"].startswith(
            "cus_")


def test_stand_ins_cover_the_owner_251_tables_except_registered_ones():
    tables = documented_tables()
    assert len(tables) == len({t.table_id for t in tables}) == 251
    real = Registry(tuple(V1Table(n, i) for n, i in (("user", 41), ("team", 29), ("agent", 36),
                                                      ("network", 48), ("transaction", 34),
                                                      ("participant", 39),
                                                      ("participant_paid", 43))))
    assert len(unregistered(real)) == 244
    registered = {t.relation for t in load_registry(ROOT).tables}
    assert {t.v1_table().relation for t in unregistered(load_registry(ROOT))}.isdisjoint(
        registered)
    fub_calls = next(t for t in tables if t.table_id == 117)
    assert (fub_calls.stand_in_rows(1.0), fub_calls.stand_in_rows(0.0001)) == (2000, 546)
