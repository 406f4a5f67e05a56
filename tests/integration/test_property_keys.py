"""Property: any key name and value round-trips through discover -> generate -> dbt run.

Hypothesis draws key names (quotes, semicolons, SQL comments, unicode, names past Postgres'
63-byte identifier limit, names differing only in case) and JSON values; a throw-away project
maps each key of V1 `team` to a V2 column; after `dbt run` every V2 value equals the V1 value.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from psycopg import sql

from generator import db as dbmod
from generator.fixtures import load_table
from generator.keypath import encode_path
from generator.registry import load_registry

from ..conftest import ROOT, run_cli

pytestmark = pytest.mark.integration

KEY = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
              min_size=1, max_size=90)
VALUE = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
                  st.floats(allow_nan=False, allow_infinity=False),
                  st.text(st.characters(blacklist_categories=("Cs",),
                                        blacklist_characters="\x00"), max_size=30))


def _project(tmp, keys):
    proj = tmp / "proj"
    shutil.rmtree(proj, ignore_errors=True)
    for name in ("macros", "profiles"):
        shutil.copytree(ROOT / name, proj / name)
    (proj / "models").mkdir(parents=True)
    (proj / "tests" / "dbt").mkdir(parents=True)
    (proj / "seeds").mkdir()
    shutil.copy(ROOT / "dbt_project.yml", proj / "dbt_project.yml")
    shutil.copy(ROOT / "seeds" / "xano_sensitive_keys.csv", proj / "seeds")
    shutil.copy(ROOT / "seeds" / "xano_v1_tables.csv", proj / "seeds")
    with (proj / "seeds" / "xano_v2_tables.csv").open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["v2_table", "v2_id", "domain", "v1_table", "grain", "array_path", "parent",
                    "parent_column", "description"])
        w.writerow(["prop", "1", "prop", "team", "row", "", "", "", "property test table"])
    with (proj / "seeds" / "xano_v2_columns.csv").open("w", newline="") as fh:
        # quote every cell: with LF line ends the csv module leaves a CR in a key unquoted
        w = csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_ALL)
        w.writerow(["v2_table", "column", "v1_path", "transform", "v2_type", "nullable",
                    "sensitive", "references", "description"])
        w.writerow(["prop", "id", "$id", "id", "bigint", "false", "false", "", "key"])
        for i, k in enumerate(keys):
            w.writerow(["prop", f"c{i}", encode_path(k), "jsonb", "jsonb", "true", "false",
                        "", f"key {i}"])
    (proj / "seeds" / "xano_ignored_keys.csv").write_text("v1_table,key_path,reason\n")
    return proj


@pytest.fixture(scope="module")
def prop_db(pg_server):
    name = "prop_db"
    with dbmod.connect(pg_server) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield dbmod.Target(dict(pg_server.params, dbname=name))
    with dbmod.connect(pg_server) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(name)))


@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(keys=st.lists(KEY, min_size=1, max_size=6, unique=True),
       values=st.lists(VALUE, min_size=6, max_size=6))
@example(keys=["a'b", 'q"uote', "x; drop table y; --", "spa ce", "dot.ted", "br[ack]et",
               "🎉 emoji", "k" * 70 + "A", "k" * 70 + "B", "Case", "case", "{{ jinja }}",
               "x{%endraw%}{{ 7 * 6 }}{%raw%}", "{%- endraw %}{# c #}", "cr\r", "lf\n"],
         values=["v", 1, True, None, 1.5, "<script>x</script>"])
def test_any_key_round_trips_through_generate_and_dbt_run(prop_db, tmp_path_factory, keys,
                                                           values):
    tmp = tmp_path_factory.mktemp("prop")
    proj = _project(tmp, keys)
    records = [{k: values[(i + j) % len(values)] for j, k in enumerate(keys)} for i in range(3)]
    with dbmod.connect(prop_db) as conn:
        conn.execute("drop schema if exists xano_v2 cascade; drop schema if exists xano_stage cascade")
        load_table(conn, load_registry(ROOT).table("team"), [(i + 1, json.dumps(r)) for i, r in
                                            enumerate(records)])
        objects_before = _objects(conn)
    res = run_cli("discover", "--table", "team", target=prop_db, cwd=proj)
    assert res.returncode == 0, res.stderr
    res = run_cli(target=prop_db, cwd=proj)
    assert res.returncode == 0, res.stderr
    env = dict(prop_db.dbt_env(proj))
    out = subprocess.run([sys.executable, "-c", "from dbt.cli.main import cli; cli()", "run",
                          "--project-dir", str(proj), "--profiles-dir", str(proj / "profiles")],
                         cwd=proj, env={**env, "PATH": "/usr/bin:/bin"}, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:]
    with dbmod.connect(prop_db) as conn:
        for i, k in enumerate(keys):
            bad = conn.execute(sql.SQL(
                "select count(*) from xano_v1.mvpw1_29 v join xano_v2.prop p using (id) "
                "where p.{c} is distinct from nullif(v.xdo -> %s, 'null'::jsonb)").format(
                c=sql.Identifier(f"c{i}")), (k,)).fetchone()[0]
            assert bad == 0, f"key {k!r} did not round-trip"
        # nothing was created or dropped by a key's text: new objects are only the V2 table,
        # its index and the rejects table, in the project's own schemas
        after = _objects(conn)
        new = after - objects_before
        assert {o[0] for o in new} <= {"xano_v2", "xano_stage", "xano_audit"}
        assert ("xano_v2", "prop") in new
        assert objects_before - after == set()


def _objects(conn):
    return set(conn.execute(
        "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') "
        "and c.relkind in ('r', 'v', 'm', 'i', 'S')").fetchall())

