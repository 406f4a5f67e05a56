"""``spec evidence`` against a live V2 whose data says where the spec is wrong.

The shared synced workspace holds a live V2 (workspace 5, laid out like the owner's); here it
is planted with (1) a documented mapping that is wrong (a live column actually filled from
another V1 key), (2) a live column the spec does not fill, filled from a V1 key the spec does
not map, and (3) a sensitive column mapped correctly. The columns are chosen from the spec,
not named, so the test holds for any spec.
"""

from __future__ import annotations

import csv
import io
import shutil

import pytest
from psycopg import sql

from generator import db as dbmod
from generator.config import EVIDENCE_MIN_ROWS
from generator.spec import load_spec

from ..conftest import ROOT, clone_db, drop_db, run_cli

pytestmark = pytest.mark.integration
WS = "5"
NOTE_KEY = "v2_only_note"


@pytest.fixture
def planted(pg_server, synced_db, tmp_path):
    proj = tmp_path / "proj"
    for name in ("macros", "profiles", "seeds", "models", "tests/dbt"):
        shutil.copytree(ROOT / name, proj / name)
    for name in ("dbt_project.yml", "V2_SYNC_PIPELINE_GUIDE.md"):
        shutil.copy(ROOT / name, proj / name)
    target = clone_db(pg_server, synced_db, "evid")
    spec = load_spec(proj)
    with dbmod.connect(target) as conn:
        counts = {t.name: conn.execute(sql.SQL("select count(*) from {}").format(
            sql.Identifier(*t.live_name(int(WS))))).fetchone()[0] for t in spec.tables}
        big = [t for t in spec.tables if t.is_main and counts[t.name] >= 3 * EVIDENCE_MIN_ROWS
               and len(t.natural_key) == 1]
        # (1) two text columns of one main table fed by different V1 keys: A gets B's values
        table, a, b = next(
            (t, x, y) for t in big for x in t.columns for y in t.columns
            if x.v2_type == y.v2_type == "text" and not x.special and not y.special
            and x.v1_path != y.v1_path and not x.sensitive and not y.sensitive
            and x.name not in t.natural_key and y.name not in t.natural_key
            and "." not in x.v1_path + y.v1_path
            and _filled(conn, t, y.name) > 0.8 and _distinct(conn, t, y.name) > 10)
        live = sql.Identifier(*table.live_name(int(WS)))
        conn.execute(sql.SQL("update {} set {} = {}").format(
            live, sql.Identifier(a.name), sql.Identifier(b.name)))
        # (2) a live column the spec does not fill, from a V1 key the spec does not map
        rel = sql.Identifier("xano_v1", spec.v1(table.v1_table).relation)
        conn.execute(sql.SQL("update {} set xdo = xdo || jsonb_build_object({}, 'note ' || id) "
                             "where jsonb_typeof(xdo) = 'object'").format(
            rel, sql.Literal(NOTE_KEY)))
        conn.execute(sql.SQL("alter table {} add column v2_note text").format(live))
        # V2 holds some records under its own ids: the note of the same record, by key
        nk = sql.Identifier(table.natural_key[0])
        conn.execute(sql.SQL("update {l} set v2_note = v.xdo ->> {k} from xano_v2.{t} x "
                             "join {r} v on v.id = x.id where lower(btrim(x.{nk}::text)) = "
                             "lower(btrim({l}.{nk}::text))").format(
            l=live, k=sql.Literal(NOTE_KEY), r=rel, t=sql.Identifier(table.name), nk=nk))
        # (3) a sensitive column, untouched: its mapping is right
        secret_t, secret_c = next((t, c) for t in spec.tables for c in t.columns
                                  if c.sensitive and counts[t.name] >= 3 * EVIDENCE_MIN_ROWS
                                  and _filled(conn, t, c.name) > 0.5)
        secrets = [r[0] for r in conn.execute(sql.SQL(
            "select {c} from xano_v2.{t} where length({c}) > 3").format(
            c=sql.Identifier(secret_c.name), t=sql.Identifier(secret_t.name)))]
    env = {"XANO_V2_WORKSPACE": WS}
    res = run_cli("discover", "--table", table.v1_table, target=target, cwd=proj)
    assert res.returncode == 0, res.stdout + res.stderr
    res = run_cli("mirror", "--source-dsn", target.uri(), "--v2-only", target=target, env=env,
                  cwd=proj)
    assert res.returncode == 0, res.stdout + res.stderr
    yield {"target": target, "proj": proj, "table": table, "a": a, "b": b,
           "secret": (secret_t, secret_c), "secrets": secrets}
    drop_db(pg_server, target)


def _filled(conn, t, column: str) -> float:
    n, filled = conn.execute(sql.SQL("select count(*), count({}) from xano_v2.{}").format(
        sql.Identifier(column), sql.Identifier(t.name))).fetchone()
    return filled / n if n else 0.0


def _distinct(conn, t, column: str) -> int:
    return conn.execute(sql.SQL("select count(distinct {}) from xano_v2.{}").format(
        sql.Identifier(column), sql.Identifier(t.name))).fetchone()[0]


def test_evidence_contradicts_the_wrong_mapping_proposes_keys_and_keeps_secrets(planted):
    p = planted
    table, a, b = p["table"], p["a"], p["b"]
    res = run_cli("spec", "evidence", target=p["target"], cwd=p["proj"])
    out = res.stdout + res.stderr
    assert res.returncode == 1 and "Traceback" not in out, out
    assert f"contradicted {table.name}.{a.name} <- {a.v1_path}" in out
    rows = {(r["v2_table"], r["v2_column"]): r for r in csv.DictReader(io.StringIO(
        (p["proj"] / "seeds" / "xano_mapping_evidence.csv").read_text()))}
    wrong = rows[(table.name, a.name)]
    assert wrong["verdict"] == "contradicted"
    assert wrong["proposed_v1_path"] == b.v1_path and float(wrong["proposed_agreement"]) >= 0.95
    extra = rows[(table.name, "v2_note")]
    assert extra["verdict"] == "unmapped" and extra["proposed_v1_path"] == NOTE_KEY
    assert extra["proposed_transform"] in ("text", "trim")
    st, sc = p["secret"]
    secret = rows[(st.name, sc.name)]
    assert secret["verdict"] == "confirmed" and int(secret["matched"]) >= EVIDENCE_MIN_ROWS
    text = out + (p["proj"] / "seeds" / "xano_mapping_evidence.csv").read_text()
    assert p["secrets"] and not [s for s in p["secrets"] if s in text]
    # the guide, the dbt docs and status show it once the project is regenerated
    st_res = run_cli("status", "--json", target=p["target"], cwd=p["proj"])
    assert f'"column": "{a.name}"' in st_res.stdout and '"layer": "evidence"' in st_res.stdout
