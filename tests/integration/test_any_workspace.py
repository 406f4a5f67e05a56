"""Any Xano workspace: a workspace unlike the fixtures comes in by editing data and running
commands only; the census sees every Xano table of a server, registered or not."""

from __future__ import annotations

import csv
import json
import random
import shutil

import pytest
from psycopg import sql

from generator import db as dbmod
from generator.fixtures import load_table
from generator.fixtures.census_tables import documented_tables
from generator.registry import V1Table, load_registry

from ..conftest import ROOT, create_db, drop_db, run_cli

pytestmark = pytest.mark.compat  # also run on PostgreSQL 15 in CI

SPEC_HEADERS = {
    "xano_v1_tables.csv": "v1_table,workspace,table_id,description\n",
    "xano_v2_tables.csv": "v2_table,v2_id,domain,v1_table,grain,array_path,parent,parent_column,"
                          "description\n",
    "xano_v2_columns.csv": "v2_table,column,v1_path,transform,v2_type,nullable,sensitive,"
                           "references,description\n",
    "xano_ignored_keys.csv": "v1_table,key_path,reason\n",
}


def _empty_project(tmp_path):
    """A project with the tool's code and macros but no registry, spec or inventory."""
    proj = tmp_path / "proj"
    for name in ("macros", "profiles"):
        shutil.copytree(ROOT / name, proj / name)
    for name in ("models", "tests/dbt", "seeds"):
        (proj / name).mkdir(parents=True)
    shutil.copy(ROOT / "dbt_project.yml", proj)
    shutil.copy(ROOT / "seeds" / "xano_sensitive_keys.csv", proj / "seeds")
    for name, header in SPEC_HEADERS.items():
        (proj / "seeds" / name).write_text(header)
    return proj


def _film(i: int, rng: random.Random) -> dict:
    rec = {
        "Title": rng.choice(["Heat", "Alien", "Up", "Ran"]) + f" {i}",
        "US Gross": round(rng.uniform(1e5, 9e8), 2),
        "id": f"tt{1000000 + i}",                               # a string key named id
        "Released": 1_600_000_000_000 + i * 86_400_000,        # epoch milliseconds
        "Is Classic": rng.random() < 0.5,
        "props": {"geo": {"lat": round(rng.uniform(-80, 80), 4),
                          "lon": round(rng.uniform(-170, 170), 4),
                          "city": {"name": rng.choice(["LA", "Paris", "Tokyo"])}},
                  "Mag": rng.randint(1, 9)},
        "Cast List": rng.sample(["Pacino", "De Niro", "Weaver", "Mifune"], 2),
        "api_token": f"tok-{rng.getrandbits(48):x}",
    }
    if i % 7 == 0:
        del rec["US Gross"]
    if i % 11 == 0:
        rec["props"]["geo"]["lat"] = None
    return rec


# V2 column -> SQL giving the expected value from V1 `v.xdo`
EXPECTED = {
    "title": "v.xdo ->> 'Title'",
    "us_gross": "(v.xdo ->> 'US Gross')::numeric",
    "id_2": "v.xdo ->> 'id'",
    "released": "to_timestamp((v.xdo ->> 'Released')::numeric / 1000)",
    "is_classic": "(v.xdo ->> 'Is Classic')::boolean",
    "props": "v.xdo -> 'props'",
    "props_mag": "(v.xdo #>> '{{props,Mag}}')::bigint",
    "props_geo_lat": "(v.xdo #>> '{{props,geo,lat}}')::numeric",
    "props_geo_lon": "(v.xdo #>> '{{props,geo,lon}}')::numeric",
    "props_geo_city_name": "v.xdo #>> '{{props,geo,city,name}}'",
    "cast_list": "v.xdo -> 'Cast List'",
    "api_token": "v.xdo ->> 'api_token'",
}


def test_a_workspace_unlike_the_fixtures_comes_in_by_data_and_commands(pg_server, tmp_path):
    target = create_db(pg_server, "byo")
    proj = _empty_project(tmp_path)
    rng = random.Random(5)
    films = V1Table("films", 9001, workspace=7)
    try:
        with dbmod.connect(target) as conn:
            load_table(conn, films, [(i, json.dumps(_film(i, rng))) for i in range(1, 61)])
        # 1. register the table: a row of data, not code
        with (proj / "seeds" / "xano_v1_tables.csv").open("a", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerow(["films", 7, 9001, "Film catalogue"])
        # 2. discover its keys
        res = run_cli("discover", target=target, cwd=proj)
        assert res.returncode == 0, res.stderr
        assert "films                     60 rows" in res.stdout
        # 3. draft the spec from the inventory
        res = run_cli("spec", "draft", "--table", "films", "--v2-table", "film", cwd=proj)
        assert res.returncode == 0, res.stderr
        assert "+ table film (V1 films, grain row, main table)" in res.stdout
        assert "+ film.id_2 <- id  text -> text" in res.stdout
        assert "+ film.api_token <- api_token  text -> text  (sensitive)" in res.stdout
        assert "+ film.released <- Released  epoch_ms -> timestamptz" in res.stdout
        assert "+ film.props_geo_city_name <- props.geo.city.name  text -> text" in res.stdout
        again = run_cli("spec", "draft", "--table", "films", cwd=proj)
        assert again.returncode == 0 and "nothing to draft" in again.stdout
        # 4. generate, 5. sync
        res = run_cli(cwd=proj)
        assert res.returncode == 0, res.stderr
        res = run_cli("sync", target=target, cwd=proj)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr
        # V2 values equal V1's, column by column
        with dbmod.connect(target) as conn:
            assert conn.execute("select count(*) from xano_v2.film").fetchone()[0] == 60
            for column, expected in EXPECTED.items():
                bad = conn.execute(sql.SQL(
                    "select count(*) from xano_v2.film f join xano_v1.mvpw7_9001 v "
                    "on v.id = f.id where f.{} is distinct from " + expected).format(
                    sql.Identifier(column))).fetchone()[0]
                assert bad == 0, column
            rejects = conn.execute("select count(*) from xano_audit.xano_rejects").fetchone()[0]
        assert rejects == 0
        assert run_cli("--check", cwd=proj).returncode == 0
    finally:
        drop_db(pg_server, target)


def _objects(conn):
    return conn.execute("select c.relname, c.relkind from pg_class c join pg_namespace n "
                        "on n.oid = c.relnamespace where n.nspname = 'public' order by 1"
                        ).fetchall()


def test_census_sees_every_xano_table_of_a_server(pg_server, tmp_path):
    fixtures = create_db(pg_server, "census_fx")
    source = create_db(pg_server, "census_src")
    proj = tmp_path / "proj"
    for name in ("models", "macros", "seeds", "profiles", "tests/dbt"):
        shutil.copytree(ROOT / name, proj / name)
    shutil.copy(ROOT / "dbt_project.yml", proj)
    shutil.copy(ROOT / "V2_SYNC_PIPELINE_GUIDE.md", proj)
    try:
        # the fixtures' server: the registered tables and a stand-in for every other table of
        # the owner's 251 (251 in all once the registry holds the real ids)
        assert run_cli("fixtures", "--scale", "0.01", target=fixtures, cwd=proj).returncode == 0
        res = run_cli("census", target=fixtures, cwd=proj)
        assert res.returncode == 0, res.stderr
        n = len({t.table_id for t in documented_tables()}
                | {t.table_id for t in load_registry(proj).tables})
        assert f"{n} Xano table(s)" in res.stdout
        assert f"in scope: 6 of {n} table(s)" in res.stdout
        # a second server laid out like a Xano instance, with far more tables than registered
        with dbmod.connect(source) as conn:
            for t in ("mvpw1_41", "mvpw1_48", "mvpw1_300", "mvpw1_301", "mvpw2_664"):
                conn.execute(sql.SQL("create table public.{} (id bigint primary key, xdo jsonb)")
                             .format(sql.Identifier(t)))
            conn.execute("insert into public.mvpw1_300 select g, jsonb_build_object('n', g) "
                         "from generate_series(1, 5000) g")
            conn.execute("create table public.mvpw2_700 (id serial primary key, name text)")
            conn.execute("create view public.x1_41 as select id from public.mvpw1_41")
            conn.execute("analyze")
            before = _objects(conn)
        res = run_cli("census", "--source-dsn", dbmod.Target(source.params).uri(),
                      "--v2-workspace", "2", cwd=proj)
        assert res.returncode == 0, res.stderr
        with dbmod.connect(source) as conn:
            assert _objects(conn) == before  # read only
        rows = list(csv.DictReader((proj / "seeds" / "xano_census.csv").open()))
        by = {r["relation"]: r for r in rows}
        assert set(by) == {"mvpw1_41", "mvpw1_48", "mvpw1_300", "mvpw1_301", "mvpw2_664",
                           "mvpw2_700"}
        assert by["mvpw1_300"]["est_rows"] == "5000" and by["mvpw1_300"]["v1_table"] == ""
        assert (by["mvpw1_41"]["v1_table"], by["mvpw1_41"]["feeds"]) == ("user", "7")
        assert by["mvpw2_664"]["v2_table"] == "user"
        assert by["mvpw2_700"]["layout"] == "columns"
        assert "workspace 2       1 JSONB +   1 column table(s)" in res.stdout
        # the guide and the dashboard show the whole instance
        assert run_cli(cwd=proj).returncode == 0
        guide = (proj / "V2_SYNC_PIPELINE_GUIDE.md").read_text()
        assert "6 Xano tables in 2 workspace(s)" in guide
        res = run_cli("dashboard", "--out", str(tmp_path / "r.html"), target=fixtures, cwd=proj)
        assert res.returncode == 0, res.stderr
        page = (tmp_path / "r.html").read_text()
        assert '<b id="s-tables">6</b>' in page and '<b id="s-scope">2</b>' in page
    finally:
        drop_db(pg_server, fixtures)
        drop_db(pg_server, source)
