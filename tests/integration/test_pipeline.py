"""The whole path through the real CLI and real dbt: baseline -> sync -> rerun -> change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from psycopg import sql

from generator import db as dbmod
from generator.config import LOCK_KEY

from ..conftest import DBT_TARGET, ROOT, clone_db, drop_db, run_cli

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def synced(pg_server, baseline_db, synced_db):
    """A copy of the shared workspace after its first sync, and its V2 counts before it."""
    before = _counts(baseline_db)
    target = clone_db(pg_server, synced_db, "pipe")
    yield target, before, None
    drop_db(pg_server, target)


def _counts(target):
    with dbmod.connect(target) as conn:
        names = [r[0] for r in conn.execute(
            "select tablename from pg_tables where schemaname = 'xano_v2'")]
        return {n: conn.execute(sql.SQL("select count(*) from {}").format(
            sql.Identifier("xano_v2", n))).fetchone()[0] for n in names}


def _writes(target, table=None):
    with dbmod.connect(target) as conn:
        q = ("select coalesce(sum(n_tup_ins), 0), coalesce(sum(n_tup_upd), 0), "
             "coalesce(sum(n_tup_del), 0) from pg_stat_user_tables where schemaname = 'xano_v2'")
        if table:
            q += f" and relname = '{table}'"
        return tuple(int(x) for x in conn.execute(q).fetchone())


@pytest.mark.compat
def test_sync_closes_every_gap_and_keeps_v2_only_rows(synced, pg_server):
    target, before, res = synced
    after = _counts(target)
    with dbmod.connect(target) as conn:
        v1 = {t: conn.execute(f"select count(*) from xano_v1.{rel}").fetchone()[0]
              for t, rel in (("user", "mvpw1_41"), ("agent", "mvpw1_36"),
                             ("transaction", "mvpw1_34"), ("participant", "mvpw1_39"),
                             ("network", "mvpw1_48"))}
        run = conn.execute("select status, selector from xano_audit.sync_runs "
                           "order by run_id desc limit 1").fetchone()
        per_table = conn.execute("select count(*) from xano_audit.sync_run_tables t join "
                                 "xano_audit.sync_runs r using (run_id) where r.status = "
                                 "'success'").fetchone()[0]
    assert before == {}  # nothing synced before: the baseline is the live V2, not xano_v2
    for t in ("user", "agent", "transaction", "participant", "user_credentials", "agent_rezen"):
        assert after[t] == v1[t.split("_")[0] if t.startswith(("user_", "agent_")) else t]
    assert after["network_member"] == v1["network"]
    assert run == ("success", "all") and per_table == 23
    res = run_cli("status", target=target)
    assert res.returncode == 0, res.stdout + res.stderr
    # a row only V2 has (e.g. written by hand) survives every sync
    copy = clone_db(pg_server, target, "v2only")
    try:
        with dbmod.connect(copy) as conn:
            top = conn.execute("select max(id) from xano_v2.network_member").fetchone()[0]
            conn.execute("insert into xano_v2.network_member (id, status) values (%s, 'v2 only')",
                         (top + 1000,))
        for args in (("sync",), ("sync", "--full")):
            res = run_cli(*args, target=copy)
            assert res.returncode == 0, res.stdout + res.stderr
        with dbmod.connect(copy) as conn:
            assert conn.execute("select status from xano_v2.network_member where id = %s",
                                (top + 1000,)).fetchone() == ("v2 only",)
    finally:
        drop_db(pg_server, copy)


@pytest.mark.compat
def test_rerun_on_unchanged_v1_writes_zero_rows(synced):
    target, _, _ = synced
    before = _writes(target)
    res = run_cli("sync", target=target)
    assert res.returncode == 0, res.stderr
    assert _writes(target) == before
    with dbmod.connect(target) as conn:  # nothing changed in V1: nothing built, all recorded
        statuses = {r[0] for r in conn.execute(
            "select status from xano_audit.sync_run_tables where run_id = "
            "(select max(run_id) from xano_audit.sync_runs)")}
    assert statuses == {"unchanged"}


@pytest.mark.compat
def test_changed_v1_row_writes_only_its_v2_rows(synced):
    target, _, _ = synced
    before_user = _writes(target, "user")
    before_all = _writes(target)
    with dbmod.connect(target) as conn:
        conn.execute("update xano_v1.mvpw1_41 set xdo = jsonb_set(xdo, '{first_name}', "
                     "'\"Renamed\"') where id = 2")
    res = run_cli("sync", "--select", "user", target=target)
    assert res.returncode == 0, res.stderr
    after_user = _writes(target, "user")
    after_all = _writes(target)
    assert (after_user[0] - before_user[0], after_user[1] - before_user[1]) == (0, 1)
    assert tuple(a - b for a, b in zip(after_all, before_all)) == (0, 1, 0)
    with dbmod.connect(target) as conn:
        assert conn.execute('select first_name from xano_v2."user" where id = 2').fetchone()[0] \
            == "Renamed"


def test_second_sync_is_refused_while_one_runs(synced):
    target, _, _ = synced
    with dbmod.connect(target) as holder:
        holder.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))
        holder.execute("insert into xano_audit.sync_runs (selector, who, host, pid) "
                       "values ('all', 'other', 'elsewhere', 4242)")
        res = run_cli("sync", target=target)
        holder.execute("delete from xano_audit.sync_runs where pid = 4242")
    assert res.returncode == 1
    assert "sync already running since" in res.stderr and "pid 4242" in res.stderr


def test_wrong_selector_is_one_line(synced):
    target, _, _ = synced
    res = run_cli("sync", "--select", "nosuch", target=target)
    assert res.returncode == 1
    assert "unknown selector 'nosuch'" in res.stderr and "Traceback" not in res.stderr


def _project_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "proj"
    for name in ("models", "macros", "seeds", "profiles", "tests/dbt"):
        shutil.copytree(ROOT / name, dst / name)
    shutil.copy(ROOT / "dbt_project.yml", dst / "dbt_project.yml")
    return dst


def test_check_passes_on_main_and_fails_after_hand_edit(tmp_path):
    proj = _project_copy(tmp_path)
    assert run_cli("--check", cwd=proj).returncode == 0
    model = proj / "models" / "v2" / "user" / "user_roles.sql"
    model.write_text(model.read_text() + "\n-- hand edit\n")
    res = run_cli("--check", cwd=proj)
    assert res.returncode == 1
    assert "stale: models/v2/user/user_roles.sql" in res.stderr


def test_check_fails_after_editing_a_mapping_row(tmp_path):
    proj = _project_copy(tmp_path)
    cols = proj / "seeds" / "xano_v2_columns.csv"
    cols.write_text(cols.read_text().replace("Login email, trimmed and lower-cased",
                                             "Login email, lower-cased and trimmed"))
    res = run_cli("--check", cwd=proj)
    assert res.returncode == 1 and "_user__models.yml" in res.stderr


def test_unclaimed_key_stops_generation(tmp_path):
    proj = _project_copy(tmp_path)
    inv = proj / "seeds" / "xano_v1_key_inventory.csv"
    lines = inv.read_text().splitlines()
    extra = lines[1].split(",")
    extra[0], extra[1] = "user", "favourite_colour"
    inv.write_text("\n".join(lines + [",".join(extra)]) + "\n")
    res = run_cli(cwd=proj)
    assert res.returncode == 1
    assert "user.favourite_colour" in res.stderr and "unclaimed" in res.stderr
    res = run_cli("--allow-unmapped", cwd=proj)
    assert res.returncode == 0, res.stderr
    assert "_v1_unmapped" in (proj / "models/v2/user/user.sql").read_text()


def test_spec_errors_name_file_and_row(tmp_path):
    proj = _project_copy(tmp_path)
    cols = proj / "seeds" / "xano_v2_columns.csv"
    text = cols.read_text().replace("user_settings,privacy_mode,privacy_mode,boolean",
                                    "user_settings,privacy_mode,privacy_mode,frobnicate")
    text = text.replace("user_roles,is_mentor,", "user_roles,is_leader,")
    cols.write_text(text)
    res = run_cli(cwd=proj)
    assert res.returncode == 1
    assert "unknown transform 'frobnicate'" in res.stderr
    assert "column 'is_leader' appears twice in user_roles" in res.stderr
    assert "seeds/xano_v2_columns.csv:" in res.stderr and "Traceback" not in res.stderr


def _dbt(target, *args):
    import subprocess
    import sys

    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("PG")}
    env.update(target.dbt_env(ROOT))
    return subprocess.run([sys.executable, "-c", "from dbt.cli.main import cli; cli()", *args,
                           "--project-dir", str(ROOT)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


def test_planted_missing_rows_are_caught_by_the_right_tests(synced):
    target, _, _ = synced
    with dbmod.connect(target) as conn:
        conn.execute("delete from xano_v2.participant where id in (3, 5)")
        conn.execute("delete from xano_v2.agent_rezen where id = 2")
    res = _dbt(target, "test", "--select", "participant agent_rezen")
    assert res.returncode == 1
    out = res.stdout
    assert "FAIL 2 xano_covers_v1_ids_participant_id" in out
    assert "FAIL 1 xano_split_count_matches_grain_agent_rezen" in out
    with dbmod.connect(target) as conn:
        table = conn.execute("select tablename from pg_tables where schemaname = 'xano_audit' "
                             "and tablename like 'xano_covers_v1_ids_participant_id%'").fetchone()[0]
        missing = [r[0] for r in conn.execute(sql.SQL("select missing_v1_id from {} order by 1")
                                              .format(sql.Identifier("xano_audit", table)))]
    assert missing == [3, 5]
    res = run_cli("sync", "--full", target=target)  # a full sync repairs V2 edits
    assert res.returncode == 0, res.stdout + res.stderr
    assert _dbt(target, "test", "--select", "participant agent_rezen").returncode == 0


def _stored(conn, prefix):
    table = conn.execute("select tablename from pg_tables where schemaname = 'xano_audit' "
                         "and tablename like %s order by length(tablename) limit 1",
                         (prefix + "%",)).fetchone()[0]
    return conn.execute(sql.SQL("select * from {}").format(
        sql.Identifier("xano_audit", table))).fetchall()


@pytest.mark.compat
def test_planted_value_fk_and_duplicate_defects_fail_the_right_tests(synced):
    target, _, _ = synced
    with dbmod.connect(target) as conn:
        conn.execute("update xano_v2.agent_commission set commission_plan_name = 'tampered' "
                     "where id = 3")
        fk = conn.execute("select conname from pg_constraint where contype = 'f' and "
                          "conrelid = 'xano_v2.user_roles'::regclass").fetchone()[0]
        conn.execute(sql.SQL("alter table xano_v2.user_roles drop constraint {}").format(
            sql.Identifier(fk)))
        conn.execute("update xano_v2.user_roles set user_id = 999999 where id = 2")
        pk = conn.execute("select conname from pg_constraint where contype = 'p' and "
                          "conrelid = 'xano_v2.network_user_prefs'::regclass").fetchone()[0]
        conn.execute(sql.SQL("alter table xano_v2.network_user_prefs drop constraint {}")
                     .format(sql.Identifier(pk)))
        conn.execute("insert into xano_v2.network_user_prefs select * from "
                     "xano_v2.network_user_prefs where id = 4")
    try:
        res = _dbt(target, "test", "--select", "agent_commission user_roles network_user_prefs")
        out = res.stdout
        assert res.returncode == 1
        assert "FAIL 1 xano_reconcile__agent_commission" in out
        assert "FAIL 1 relationships_user_roles_user_id__id__ref_user_" in out
        assert "FAIL 1 xano_has_foreign_key_user_roles_user_id__ref_user_" in out
        assert "FAIL 1 unique_network_user_prefs_id" in out
        with dbmod.connect(target) as conn:
            assert _stored(conn, "xano_reconcile__agent_commission")[0][1:] == (
                3, ["commission_plan_name"])
            assert _stored(conn, "relationships_user_roles_user_id")[0][0] == 999999
            assert _stored(conn, "unique_network_user_prefs_id")[0][0] == 4
    finally:
        with dbmod.connect(target) as conn:
            conn.execute("delete from xano_v2.network_user_prefs a using "
                         "xano_v2.network_user_prefs b where a.id = 4 and b.id = 4 "
                         "and a.ctid > b.ctid")
            conn.execute(sql.SQL("alter table xano_v2.network_user_prefs add constraint {} "
                                 "primary key (id)").format(sql.Identifier(pk)))
            conn.execute("update xano_v2.user_roles set user_id = 2 where id = 2")
            conn.execute(sql.SQL("alter table xano_v2.user_roles add constraint {} foreign key "
                                 '(user_id) references xano_v2."user" (id)').format(
                sql.Identifier(fk)))
    res = run_cli("sync", "--full", target=target)
    assert res.returncode == 0, res.stdout + res.stderr


def test_rejects_above_the_configured_share_fail(synced):
    target, _, _ = synced
    res = _dbt(target, "test", "--select", "xano_accounting__participant",
               "--vars", "{xano_reject_fail_share: 0}")
    assert res.returncode == 1
    assert "FAIL" in res.stdout and "xano_reject_share_below_xano_accounting__participant" \
        in res.stdout
    res = _dbt(target, "test", "--select", "xano_accounting__participant")
    assert res.returncode == 0 and "WARN" in res.stdout


def test_dbt_docs_describe_every_v2_model_and_column(synced):
    import json

    target, _, _ = synced
    res = _dbt(target, "docs", "generate")
    assert res.returncode == 0, res.stdout[-2000:]
    manifest = json.loads((DBT_TARGET / "manifest.json").read_text())
    models = [n for n in manifest["nodes"].values()
              if n["resource_type"] == "model" and n["fqn"][1] == "v2"]
    assert len(models) == 23
    assert [m["name"] for m in models if not m["description"].strip()] == []
    empty = [f"{m['name']}.{c}" for m in models for c, col in m["columns"].items()
             if not col["description"].strip()]
    assert empty == []
    subs = next(m for m in models if m["name"] == "user_subscriptions")
    assert "From V1 `user.stripe_customer_id`" in subs["columns"]["stripe_customer_id"][
        "description"]
    assert "splits into 7 V2 table(s)" in subs["description"]
    assert "exposure.xano_v2_sync.trust_dashboard" in manifest["exposures"]
    sources = [s for s in manifest["sources"].values() if s["source_name"] == "xano_v1"]
    assert {s["meta"]["xano_table_id"] for s in sources} >= {41, 48}


def test_guide_is_rendered_from_the_spec_and_check_catches_staleness(tmp_path):
    proj = _project_copy(tmp_path)
    shutil.copy(ROOT / "V2_SYNC_PIPELINE_GUIDE.md", proj)
    guide = (proj / "V2_SYNC_PIPELINE_GUIDE.md").read_text()
    assert "| `stripe_customer_id` | `stripe_customer_id` | `text` | `text` |" in guide
    assert run_cli("--check", cwd=proj).returncode == 0
    (proj / "V2_SYNC_PIPELINE_GUIDE.md").write_text(guide.replace(
        "Stripe customer id; never displayed", "edited by hand"))
    res = run_cli("--check", cwd=proj)
    assert res.returncode == 1 and "stale: V2_SYNC_PIPELINE_GUIDE.md" in res.stderr
    prose = guide.replace("## Architecture", "## Architecture (hand-edited prose)")
    (proj / "V2_SYNC_PIPELINE_GUIDE.md").write_text(prose)
    assert run_cli(cwd=proj).returncode == 0
    assert "## Architecture (hand-edited prose)" in (proj / "V2_SYNC_PIPELINE_GUIDE.md").read_text()


def test_v1_deletions_are_reported_and_pruned_only_when_asked(synced):
    import json

    target, _, _ = synced
    with dbmod.connect(target) as conn:
        conn.execute("delete from xano_v1.mvpw1_34 where id = 6")  # a transaction with splits
        v2_only = conn.execute("select count(*) from xano_v2.network_member n where not exists "
                               "(select 1 from xano_v1.mvpw1_48 v where v.id = n.id)").fetchone()[0]
    res = run_cli("sync", target=target)
    assert res.returncode == 0, res.stdout + res.stderr
    res = run_cli("status", "--json", target=target)
    rows = {r["table"]: r for r in json.loads(res.stdout) if r["layer"] == "v2"}
    assert rows["transaction"]["deleted_in_v1"] == 1
    with dbmod.connect(target) as conn:
        assert conn.execute("select count(*) from xano_v2.transaction where id = 6").fetchone()[0]
    res = run_cli("sync", "--prune", target=target)
    assert res.returncode == 0, res.stdout + res.stderr
    with dbmod.connect(target) as conn:
        for t, c in (("transaction", "id"), ("transaction_financials", "transaction_id"),
                     ("transaction_history", "transaction_id")):
            assert conn.execute(sql.SQL("select count(*) from {} where {} = 6").format(
                sql.Identifier("xano_v2", t), sql.Identifier(c))).fetchone()[0] == 0
        assert conn.execute("select count(*) from xano_v2.network_member n where not exists "
                            "(select 1 from xano_v1.mvpw1_48 v where v.id = n.id)"
                            ).fetchone()[0] == v2_only


def test_v1_table_dropped_since_discover_fails_clearly_and_is_recorded(synced):
    target, _, _ = synced
    with dbmod.connect(target) as conn:
        conn.execute("alter table xano_v1.mvpw1_43 rename to mvpw1_43_away")
    try:
        res = run_cli("sync", target=target)
    finally:
        with dbmod.connect(target) as conn:
            conn.execute("alter table xano_v1.mvpw1_43_away rename to mvpw1_43")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "V1 table participant_paid (xano_v1.mvpw1_43) is missing on the server" in res.stderr
    with dbmod.connect(target) as conn:
        status, reason = conn.execute("select status, reason from xano_audit.sync_runs "
                                      "order by run_id desc limit 1").fetchone()
    assert status == "failed" and "mvpw1_43" in reason


_CLOSURE_DIFF = """
with recursive link as (
    select distinct xano_fn.to_bigint(xdo -> 'sponsoring_agent_id') as a,
                    xano_fn.to_bigint(xdo -> 'downline_agent_id') as d
    from xano_v1.mvpw1_48
), edge as (
    select a, d from link where a is not null and d is not null and a <> d
), walk (a, d, depth, path) as (
    select a, d, 1, array[a, d] from edge
    union all
    select e.a, w.d, w.depth + 1, e.a || w.path from walk w join edge e on e.d = w.a
    where not e.a = any(w.path) and w.depth < 64
), expected as (
    select a, d, min(depth) as depth from walk group by a, d
), built as (
    select ancestor_agent_id as a, descendant_agent_id as d, depth
    from xano_v2.network_hierarchy
)
select (select count(*) from (select * from expected except select * from built) x)
     + (select count(*) from (select * from built except select * from expected) y)
"""
"""Pairs of the closure table that differ from the closure of V1's links, computed here
independently of the generated SQL (both ways; the path may differ between equal depths)."""


def _stage_matches_v1(conn, stage: str, relation: str) -> bool:
    return conn.execute(sql.SQL(
        "select (select count(*) from {s}) = (select count(*) from {v}) and not exists ("
        "select id from {v} except select id from {s})").format(
        s=sql.Identifier("xano_stage", stage), v=sql.Identifier("xano_v1", relation))
    ).fetchone()[0]


def test_changed_only_syncs_keep_the_closure_and_the_stage_exact(synced):
    """A network change that moves no link writes no pair; a moved link and a deleted row
    rebuild exactly the closure of V1's links; the typed stage holds exactly V1's rows."""
    target, _, _ = synced
    with dbmod.connect(target) as conn:
        assert conn.execute(_CLOSURE_DIFF).fetchone()[0] == 0
        conn.execute("update xano_v1.mvpw1_48 set xdo = jsonb_set(xdo, '{status}', "
                     "'\"renamed\"') where id % 7 = 0")
    before = _writes(target, "network_hierarchy")
    res = run_cli("sync", target=target)
    assert res.returncode == 0, res.stdout + res.stderr
    assert _writes(target, "network_hierarchy") == before  # no link moved: no pair written
    with dbmod.connect(target) as conn:
        # a downline moves under another sponsor, and another row goes away
        moved, new_sponsor = conn.execute(
            "select a.id, (select xano_fn.to_bigint(b.xdo -> 'downline_agent_id') "
            "from xano_v1.mvpw1_48 b where b.id <> a.id and xano_fn.to_bigint(b.xdo -> "
            "'downline_agent_id') is not null order by b.id desc limit 1) "
            "from xano_v1.mvpw1_48 a where xano_fn.to_bigint(a.xdo -> 'sponsoring_agent_id') "
            "is not null order by a.id limit 1").fetchone()
        conn.execute("update xano_v1.mvpw1_48 set xdo = jsonb_set(xdo, '{sponsoring_agent_id}',"
                     " to_jsonb(%s::bigint)) where id = %s", (new_sponsor, moved))
        conn.execute("delete from xano_v1.mvpw1_48 where id = (select max(id) from "
                     "xano_v1.mvpw1_48 where xano_fn.to_bigint(xdo -> 'sponsoring_agent_id') "
                     "is not null)")
    res = run_cli("sync", target=target)
    assert res.returncode == 0, res.stdout + res.stderr
    assert _writes(target, "network_hierarchy") != before
    with dbmod.connect(target) as conn:
        assert conn.execute(_CLOSURE_DIFF).fetchone()[0] == 0
        assert _stage_matches_v1(conn, "xano_typed__network", "mvpw1_48")
        assert conn.execute("select count(*) from xano_stage.xano_typed__network where "
                            "v__network_member__status = 'renamed'").fetchone()[0] > 0
