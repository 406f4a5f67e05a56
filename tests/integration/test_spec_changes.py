"""Spec changes and V1 deletions on a built V2, applied by a plain sync; a stopped sync explains
itself. One story on one database: each step edits data files, regenerates and syncs, and shows
with pg_stat_user_tables that only the affected V2 tables were written."""

from __future__ import annotations

import json
import shutil

import pytest
from psycopg import sql

from generator import db as dbmod
from generator.fixtures.hostile import BASE_ID, HOSTILE_KEYS

from ..conftest import ROOT, clone_db, drop_db, run_cli

SCALE = "0.02"


def _project(tmp_path):
    proj = tmp_path / "proj"
    for name in ("models", "macros", "seeds", "profiles", "tests/dbt"):
        shutil.copytree(ROOT / name, proj / name)
    shutil.copy(ROOT / "dbt_project.yml", proj)
    return proj


def _writes(conn) -> dict[str, tuple[int, int, int]]:
    """Rows inserted, updated, deleted per V2 table (pg_stat_user_tables, flushed)."""
    conn.execute("select pg_stat_force_next_flush()") if conn.info.server_version >= 150000 \
        else None
    rows = conn.execute("select relname, n_tup_ins, n_tup_upd, n_tup_del from "
                        "pg_stat_user_tables where schemaname = 'xano_v2'").fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _written(before: dict, after: dict) -> set[str]:
    return {t for t in after if after[t] != before.get(t, (0, 0, 0))}


def _edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _append(path, line: str) -> None:
    path.write_text(path.read_text() + line + "\n")


def _ok(res):
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res


def _columns(conn, table: str) -> dict[str, str]:
    return dict(conn.execute(
        "select attname, format_type(atttypid, atttypmod) from pg_attribute where attrelid = "
        "to_regclass(%s) and attnum > 0 and not attisdropped", (f'xano_v2."{table}"',)))


@pytest.fixture
def built(pg_server, synced_db, tmp_path):
    """A project copy and a copy of the shared workspace after its first sync."""
    target = clone_db(pg_server, synced_db, "shape")
    yield target, _project(tmp_path)
    drop_db(pg_server, target)


def test_spec_changes_apply_to_a_built_v2_through_a_plain_sync(built):
    """Three syncs: (1) every change that adds or retypes, each writing only its own table;
    (2) every removal, writing nothing; (3) the removed columns dropped on request."""
    target, proj = built
    cols = proj / "seeds" / "xano_v2_columns.csv"
    ignored = proj / "seeds" / "xano_ignored_keys.csv"
    conn = dbmod.connect(target)
    try:
        # V1 grows keys (user.nickname, network.mood); team stops being ignored
        conn.execute("update xano_v1.mvpw1_41 set xdo = xdo || jsonb_build_object('nickname', "
                     "'nick ' || id) where id % 2 = 0")
        conn.execute("update xano_v1.mvpw1_48 set xdo = xdo || '{\"mood\": \"calm\"}' "
                     "where id <= 5")
        _ok(run_cli("discover", "--table", "user", "--table", "network", "--table", "team",
                    target=target, cwd=proj))

        # 1. a new column (added, then filled from V1) and a retyped column (re-extracted) of
        #    user; a new V2 table of an existing V1 table (user_contact); a new V1 table (team,
        #    a drafted V2 table); an unclaimed key (network.mood) kept by --allow-unmapped. The
        #    transform unit tests, bound to their own check models, do not mind the retype.
        _append(cols, "user,nickname,nickname,trim,text,true,false,,Nickname")
        _edit(cols, "user,team_id,team_id,bigint,bigint,", "user,team_id,team_id,text,text,")
        _append(proj / "seeds" / "xano_v2_tables.csv",
                "user_contact,,user,user,row,,user,user_id,Contact data of a user")
        _append(cols, "user_contact,id,$id,id,bigint,false,false,,Primary key")
        _append(cols, "user_contact,user_id,$id,id,bigint,false,false,user,Owner")
        _append(cols, "user_contact,phone,cell_phone,trim,text,true,false,,Mobile phone")
        _edit(ignored, "team,*,", "team,legacy_x,")
        res = _ok(run_cli("spec", "draft", "--table", "team", "--v2-table", "team", cwd=proj))
        assert "+ table team (V1 team, grain row, main table)" in res.stdout
        assert run_cli(cwd=proj).returncode == 1  # the gate: mood is unclaimed
        _ok(run_cli("--allow-unmapped", cwd=proj))
        before = _writes(conn)
        res = _ok(run_cli("sync", target=target, cwd=proj))
        assert "user.nickname: new column (text), filled from V1" in res.stdout
        assert "user.team_id: bigint -> text" in res.stdout
        assert "network_member._v1_unmapped: new column (jsonb)" in res.stdout
        assert _written(before, _writes(conn)) == {"user", "user_contact", "team",
                                                   "network_member"}
        assert _columns(conn, "user")["team_id"] == "text"
        assert conn.execute("select count(*) from xano_v2.\"user\" u join xano_v1.mvpw1_41 v "
                            "using (id) where u.nickname is distinct from v.xdo ->> 'nickname' "
                            "or (u.team_id is distinct from v.xdo ->> 'team_id' and "
                            "jsonb_typeof(v.xdo -> 'team_id') in ('string', 'number'))"
                            ).fetchone()[0] == 0
        assert conn.execute("select count(nickname) from xano_v2.\"user\"").fetchone()[0] > 0
        assert conn.execute("select count(*) from xano_v2.user_contact").fetchone()[0] == \
            conn.execute("select count(*) from xano_v1.mvpw1_41").fetchone()[0]
        assert conn.execute("select count(*) from xano_v2.team").fetchone()[0] == \
            conn.execute("select count(*) from xano_v1.mvpw1_29").fetchone()[0]
        assert conn.execute("select count(*) from xano_v2.network_member where _v1_unmapped = "
                            "'{\"mood\": \"calm\"}'").fetchone()[0] == 5

        # 2. a removed column and the unmapped column no longer generated: left in place, and
        #    nothing is written
        line = next(ln for ln in cols.read_text().splitlines(keepends=True)
                    if ln.startswith("user,organization,organization,"))
        _edit(cols, line, "")
        _append(ignored, "user,organization,no longer migrated")
        _append(ignored, "network,mood,a passing mood")
        _ok(run_cli(cwd=proj))
        before = _writes(conn)
        res = _ok(run_cli("sync", target=target, cwd=proj))
        assert "user.organization: no longer in the spec; left in place" in res.stdout
        assert "network_member._v1_unmapped: no longer in the spec; left in place" in res.stdout
        assert "organization" in _columns(conn, "user")
        assert _written(before, _writes(conn)) == set()

        # 3. the removed columns dropped on request, their values kept aside
        kept = conn.execute("select count(organization) from xano_v2.\"user\"").fetchone()[0]
        _ok(run_cli("sync", "--drop-removed-columns", target=target, cwd=proj))
        assert "organization" not in _columns(conn, "user")
        assert "_v1_unmapped" not in _columns(conn, "network_member")
        backup = dict(conn.execute("select v2_table || '.' || v2_column, count(*) from "
                                   "xano_audit.shape_backup group by 1").fetchall())
        assert backup["user.organization"] == kept > 0
        assert backup["network_member._v1_unmapped"] == 5
    finally:
        conn.close()


def test_spec_changes_a_sync_cannot_apply_stop_before_writing(built):
    target, proj = built
    cols = proj / "seeds" / "xano_v2_columns.csv"
    conn = dbmod.connect(target)
    try:
        original = cols.read_text()
        # every value of first_name would be a reject as a date
        _edit(cols, "user,first_name,first_name,trim,text,", "user,first_name,first_name,date,date,")
        _ok(run_cli(cwd=proj))
        before = _writes(conn)
        res = run_cli("sync", target=target, cwd=proj)
        assert res.returncode == 1 and "Traceback" not in res.stderr
        assert "user.first_name: none of the" in res.stderr
        assert "fits date (transform date" in res.stderr and "nothing was written" in res.stderr
        assert _written(before, _writes(conn)) == set()
        # a key column cannot be retyped on a built V2
        cols.write_text(original.replace(
            "user_roles,user_id,$id,id,bigint,false,false,user,",
            "user_roles,user_id,$id,id,text,false,false,user,"))
        assert run_cli(cwd=proj).returncode == 1  # the spec itself refuses: id makes bigint
        # a removed V2 table that split tables still reference: one line naming file and row
        cols.write_text(original)
        tables = proj / "seeds" / "xano_v2_tables.csv"
        _edit(tables, 'user,664,user,user,row,,,,"App users (V1 user, main record)",,,false,email\n',
              "")
        res = run_cli(cwd=proj)
        assert res.returncode == 1 and "parent 'user' does not exist" in res.stderr
        assert "seeds/xano_v2_tables.csv:" in res.stderr
        assert _written(before, _writes(conn)) == set()
    finally:
        conn.close()


def _audit_tables(conn, prefix: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "select tablename from pg_tables where schemaname = 'xano_audit' and "
        "starts_with(tablename, %s)", (prefix,))]


def test_v1_deletions_stop_the_sync_with_an_explanation_and_prune_repairs(built):
    target, proj = built
    conn = dbmod.connect(target)
    try:
        n_v1 = conn.execute("select count(*) from xano_v1.mvpw1_41").fetchone()[0]
        gone = conn.execute("delete from xano_v1.mvpw1_41 where id in (select id from "
                            "xano_v1.mvpw1_41 order by id desc limit ceil(%s * 0.1))",
                            (n_v1,)).rowcount
        assert gone / n_v1 >= 0.1
        res = run_cli("sync", target=target, cwd=proj)
        assert res.returncode == 1 and "Traceback" not in res.stderr
        line = (f"user: V2 has {n_v1:,} rows, V1 {n_v1 - gone:,} — {gone:,} V2 rows whose V1 "
                "row was deleted; sync --prune removes them")
        assert line in res.stderr
        assert "Got 1 result" not in res.stdout + res.stderr
        assert "not built because of user's failing test(s): " in res.stderr
        # the sync stored the failing rows of the failing test (and only of failing tests)
        stored = _audit_tables(conn, "xano_count_within_tolerance_user_")
        assert len(stored) == 1 and _audit_tables(conn, "unique_user_id") == []
        assert conn.execute(sql.SQL("select v1_rows, v2_rows from {}").format(
            sql.Identifier("xano_audit", stored[0]))).fetchall() == [(n_v1 - gone, n_v1)]
        status = run_cli("status", target=target, cwd=proj)
        assert line in status.stdout
        rows = json.loads(run_cli("status", "--json", target=target, cwd=proj).stdout)
        assert any(r["layer"] == "problem" and r["line"] == line for r in rows)
        res = run_cli("dashboard", "--out", str(proj / "r.html"), target=target, cwd=proj)
        assert line.replace("—", "&mdash;") in (proj / "r.html").read_text() or \
            line in (proj / "r.html").read_text()
        # the way out works: prune before the tests, then green and V2 equals V1
        res = _ok(run_cli("sync", "--prune", target=target, cwd=proj))
        assert f"user: {gone:,} row(s) of deleted V1 rows pruned" in res.stdout
        for table in ("user", "user_credentials", "user_roles", "user_onboarding"):
            key = "id" if table == "user" else "user_id"
            assert conn.execute(sql.SQL("select count(*) from {} t where not exists (select 1 "
                                        "from xano_v1.mvpw1_41 v where v.id = t.{})").format(
                sql.Identifier("xano_v2", table), sql.Identifier(key))).fetchone()[0] == 0
        assert conn.execute("select count(*) from xano_v2.\"user\"").fetchone()[0] == n_v1 - gone
        assert _audit_tables(conn, "xano_count_within_tolerance_user_") == []  # passed now
        assert json.loads(run_cli("status", "--json", target=target, cwd=proj).stdout)[-1][
            "layer"] != "problem"
    finally:
        conn.close()


def test_hostile_keys_switched_to_allow_unmapped_on_a_built_v2(built):
    target, proj = built
    _ok(run_cli("fixtures", "--scale", SCALE, "--hostile", target=target, cwd=proj))
    _ok(run_cli("discover", "--table", "network", "--table", "transaction", target=target,
                cwd=proj))
    assert run_cli(cwd=proj).returncode == 1
    _ok(run_cli("--allow-unmapped", cwd=proj))
    _ok(run_cli("sync", target=target, cwd=proj, timeout=900))
    with dbmod.connect(target) as conn:
        unmapped = conn.execute("select _v1_unmapped from xano_v2.network_member where id = %s",
                                (BASE_ID + 1,)).fetchone()[0]
    assert set(unmapped) == set(HOSTILE_KEYS)
