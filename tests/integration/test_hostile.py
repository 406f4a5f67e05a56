"""The hostile workspace end to end: fixtures --hostile, discover, generate --allow-unmapped,
sync (models + every test). Run with -s to see the summary."""

from __future__ import annotations

import json
import shutil

import pytest

from generator import db as dbmod
from generator.fixtures.hostile import BASE_ID, HOSTILE_KEYS

from ..conftest import ROOT, create_db, drop_db, run_cli

pytestmark = pytest.mark.integration
OWN_SCHEMAS = ("xano_v2", "xano_stage", "xano_audit", "xano_spec", "xano_fn")


def _objects(conn):
    return set(conn.execute("""
        select n.nspname, c.relname, c.relkind from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
          and n.nspname not like 'pg_temp%%' and n.nspname not like 'pg_toast_temp%%'
        union all
        select n.nspname, p.proname, 'f' from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname not in ('pg_catalog', 'information_schema')""").fetchall())


def test_hostile_workspace_discover_generate_sync_test(pg_server, tmp_path):
    target = create_db(pg_server, "hostile")
    proj = tmp_path / "proj"
    for d in ("models", "macros", "seeds", "profiles", "tests/dbt"):
        shutil.copytree(ROOT / d, proj / d)
    shutil.copy(ROOT / "dbt_project.yml", proj)
    try:
        res = run_cli("fixtures", "--scale", "0.01", "--hostile", target=target)
        assert res.returncode == 0, res.stderr
        with dbmod.connect(target) as conn:
            before = _objects(conn)
        res = run_cli("discover", target=target, cwd=proj)
        assert res.returncode == 0, res.stderr
        assert "+ it's" in res.stdout and "+ party 🎉" in res.stdout
        assert run_cli(cwd=proj).returncode == 1  # unclaimed hostile keys stop generation
        res = run_cli("--allow-unmapped", cwd=proj)
        assert res.returncode == 0, res.stderr
        res = run_cli("sync", target=target, cwd=proj, timeout=900)
        assert res.returncode == 0, res.stdout[-4000:] + res.stderr
        with dbmod.connect(target) as conn:
            after = _objects(conn)
            rejects = conn.execute(
                "select reason, count(*) from xano_audit.xano_rejects group by 1 order by 2 desc"
            ).fetchall()
            unmapped = conn.execute(
                "select _v1_unmapped from xano_v2.network_member where id = %s",
                (BASE_ID + 1,)).fetchone()[0]
            big = conn.execute("select length(notes) from xano_v2.network_user_prefs "
                               "where id = %s", (BASE_ID + 5,)).fetchone()[0]
            tags = conn.execute("select count(*) from xano_v2.transaction_tags where "
                                "transaction_id = %s", (BASE_ID + 1,)).fetchone()[0]
            balance = conn.execute(
                "select sum(v1_values), sum(v2_present), sum(rejected) from ("
                + " union all ".join(f"select * from xano_audit.xano_accounting__{t}" for t in (
                    "user", "network", "agent", "transaction", "participant", "participant_paid"))
                + ") a").fetchone()
        outside = {o for o in before ^ after if o[0] not in OWN_SCHEMAS}
        assert outside == set()  # nothing created or dropped by a key's text
        assert set(unmapped) == set(HOSTILE_KEYS)  # unclaimed keys preserved, exactly
        assert big == 5 * 1024 * 1024 and tags == 10_000
        assert balance[0] == balance[1] + balance[2]
        from generator.inventory import read_inventory
        from generator.keypath import top_key

        found = {top_key(k.key_path) for k in read_inventory(proj).keys_of("network")}
        assert set(HOSTILE_KEYS) <= found
        print("\nHOSTILE RUN SUMMARY")
        print(f"  hostile keys found by discover: {len(set(HOSTILE_KEYS) & found)} of "
              f"{len(HOSTILE_KEYS)}; preserved in network_member._v1_unmapped: {len(unmapped)}")
        print(f"  values: V1 {balance[0]:,} = V2 {balance[1]:,} + rejects {balance[2]:,}")
        print("  rejects by reason: " + json.dumps(dict(rejects)))
        print(f"  database objects outside {OWN_SCHEMAS}: {len(before - {o for o in before if o[0] in OWN_SCHEMAS})}"
              f" before, {len(after - {o for o in after if o[0] in OWN_SCHEMAS})} after, changed: {len(outside)}")
    finally:
        drop_db(pg_server, target)
