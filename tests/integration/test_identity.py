"""Identity across V1 and a live V2 that is not one id space with it (issue 29).

The live V2 is the baseline of test_publish (a tenth of the main records under V2's own ids,
V1 ids held by other records, V2's references in V2's ids), and once more laid out otherwise:
every main record under another id than V1's. Every check reads the live tables with its own
SQL and judges identity by natural key (test_publish.oracle), never through xano_audit.identity.
"""

from __future__ import annotations

import json

import pytest
from psycopg import sql

from generator import db as dbmod
from generator.baseline import translate
from generator.live import live_tables, resolve

from . import test_publish as tp
from .test_publish import (
    WS,
    _admin,
    _publish,
    assert_local_is_live,
    assert_owners_kept,
    cli,
    live_rows,
    local_rows,
    oracle,
    rel,
    snapshot,
    xmins,
)

# the module fixtures of test_publish's live layout, set up once for this module too
xano, project, spec, prepared, env = tp.xano, tp.project, tp.spec, tp.prepared, tp.env
pytestmark = pytest.mark.integration


def _refcheck(e, project, ok=True):
    res = cli(e, "check-refs", project=project)
    out = res.stdout + res.stderr
    assert (res.returncode == 0) == ok, out
    assert "Traceback" not in out
    return out


def _figures(out: str) -> dict[tuple[str, str], list[int]]:
    """(table, column) -> checked, ok, unset, dangling, wrong of check-refs' table."""
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").replace("┃", "│").split("│")]
        if len(cells) == 8 and cells[3].replace(",", "").isdigit():
            rows[(cells[0], cells[1])] = [int(c.replace(",", "")) for c in cells[3:]]
    return rows


@pytest.mark.compat
def test_every_reference_names_the_same_entity_and_check_refs_proves_it(env, project, spec):
    e = env
    res = _publish(e, project)
    assert "read back and verified" in res.stdout
    ids = assert_local_is_live(e, spec)
    out = _refcheck(e, project)
    figs = _figures(out)
    for col in (("participant", "transaction_id"), ("transaction", "agent_id"),
                ("agent", "user_id"), ("network_member", "agent_id"),
                ("user_credentials", "user_id"), ("network_hierarchy", "ancestor_agent_id")):
        checked, good, unset, dangling, wrong = figs[col]
        assert checked > 0 and dangling == wrong == 0 and good + unset == checked, (col, out)
    assert "0 wrong or dangling" in out
    # a remapped transaction is named by its V2 id in the participants V1 links to it
    moved = {k: v for k, v in ids["transaction"].items() if k != v}
    assert moved
    with _admin(e) as conn:
        links = conn.execute("select p.id, p.transaction_id from public.mvpw5_696 p "
                             "where p.transaction_id = any(%s)", (list(moved.values()),)
                             ).fetchall()
    assert links  # V2's ids, not V1's, in the rows publish wrote or kept

    # planted defect: a written reference that names another transaction
    part = spec.table("participant")
    live_id, old = links[0]
    other = next(v for v in ids["transaction"].values() if v != old)
    with _admin(e) as conn:
        conn.execute("update public.mvpw5_696 set transaction_id = %s where id = %s",
                     (other, live_id))
        lt, _ = resolve(conn, live_tables(spec, WS, [part])[0])
        d = conn.execute(sql.SQL("select {} from {} l where l.id = %s").format(
            lt.live_digest("l"), lt.ident), (live_id,)).fetchone()[0]
    with dbmod.connect(e["local"]) as conn:  # as if this tool had written it
        conn.execute("update xano_audit.published_rows set d = %s where v2_table = "
                     "'participant' and id = %s", (d, live_id))
    out = _refcheck(e, project, ok=False)
    assert f"wrong participant.transaction_id: live row {live_id} names transaction {other}" \
        in out
    assert _figures(out)[("participant", "transaction_id")][4] == 1


def test_an_email_change_keeps_the_live_id_and_is_an_update(env, project, spec):
    e = env
    _publish(e, project)
    ids = oracle(e, spec)["user"]
    k = min(ids)  # the first user: under V2's own id
    live_id = ids[k]
    assert live_id != k
    with _admin(e) as conn:
        conn.execute("update public.mvpw1_41 set xdo = xdo || jsonb_build_object('email', "
                     "'renamed.' || (xdo ->> 'email')) where id = %s", (k,))
    for args in (("mirror",), ("sync",)):
        res = cli(e, *args, project=project)
        assert res.returncode == 0, res.stdout + res.stderr
    res = _publish(e, project, "--dry-run")
    assert f"would update user id {k} (live id {live_id}): email:" in res.stdout, res.stdout
    assert f"held user id {k} " not in res.stdout and f"fresh id user id {k} " not in res.stdout
    splits = [t for t in spec.tables if t.parent == "user"]
    before = snapshot(e["live"], spec)
    res = _publish(e, project)
    after = snapshot(e["live"], spec)
    assert_owners_kept(before, after, spec)
    assert live_rows(e["live"], spec.table("user"))[live_id]["email"].startswith("renamed.")
    assert oracle(e, spec)["user"][k] == live_id
    for t in splits:  # the user's split rows stay where they were
        assert {i for i, (fk, _) in after[t.name].items() if fk == live_id} == \
            {i for i, (fk, _) in before[t.name].items() if fk == live_id}
    with dbmod.connect(e["local"]) as conn:
        assert conn.execute("select live_id, how from xano_audit.identity where v2_table = "
                            "'user' and k = %s", (k,)).fetchone() == (live_id, "key")
    stamps = xmins(e["live"], spec)
    assert "wrote 0 row(s)" in _publish(e, project).stdout
    assert xmins(e["live"], spec) == stamps
    with dbmod.connect(e["local"]) as conn:  # a mirror published by a release without the map
        conn.execute("drop table xano_audit.identity")
    assert "wrote 0 row(s)" in _publish(e, project).stdout  # its record is the map's start
    assert xmins(e["live"], spec) == stamps
    with dbmod.connect(e["local"]) as conn:
        assert conn.execute("select live_id, how from xano_audit.identity where v2_table = "
                            "'user' and k = %s", (k,)).fetchone() == (live_id, "recorded")


def test_same_id_other_key_undecided_is_held_until_a_person_decides(env, project, spec):
    e = env
    user = spec.table("user")
    ids = oracle(e, spec)["user"]
    k = max(i for i, v in ids.items() if i == v)  # live under its own id
    other = min(i for i in live_rows(e["live"], user) if i != k)
    cols = [c.name for c in user.columns if c.name != "id"]
    half = [c for j, c in enumerate(cols) if j % 2 == 0 and c not in ("email",)]
    with _admin(e) as conn:  # the live row k: another email, every other field from another
        conn.execute(sql.SQL("update {t} l set email = 'someone.else@example.com', {sets} "
                             "from {t} o where l.id = %s and o.id = %s").format(
            t=rel(user), sets=sql.SQL(", ").join(
                sql.SQL("{c} = o.{c}").format(c=sql.Identifier(c)) for c in half)), (k, other))
    before = snapshot(e["live"], spec)
    res = _publish(e, project)
    out = res.stdout
    assert f"held user id {k} (same id, other natural key; live row {k} kept" in out, out
    assert "someone.else@example.com" in out and "(evidence):" in out
    after = snapshot(e["live"], spec)
    assert after["user"][k] == before["user"][k]  # untouched
    for t in (t for t in spec.tables if t.parent == "user"):
        assert {i: r for i, r in after[t.name].items() if r[0] == k} == \
            {i: r for i, r in before[t.name].items() if r[0] == k}, t.name
    assert_local_is_live(e, spec, {"user": {k}})
    decisions = project / "seeds" / "xano_identity_decisions.csv"
    saved = decisions.read_text()
    try:
        decisions.write_text(saved + f"user,{k},pair,{k},checked by hand\n")
        res = _publish(e, project)
        assert f"held user id {k}" not in res.stdout
        assert live_rows(e["live"], user)[k]["email"] == local_rows(e["local"], user)[k]["email"]
        assert_local_is_live(e, spec)
        with dbmod.connect(e["local"]) as conn:
            assert conn.execute("select how from xano_audit.identity where v2_table = 'user' "
                                "and k = %s", (k,)).fetchone() == ("decided",)
        decisions.write_text(saved + "user,1,merge,,\n")  # a bad decision: one line, nothing
        bad = _publish(e, project, ok=False)
        assert bad.returncode == 1 and "xano_identity_decisions.csv:2: decision must be" in \
            bad.stderr and "Traceback" not in bad.stderr
    finally:
        decisions.write_text(saved)


def test_a_live_v2_with_every_main_record_under_other_ids(env, project, spec):
    """Another layout: every main record under V2's own ids (V1's id + an offset, in another
    order), every reference and parent FK in those ids, and the V1 ids free: nothing may be
    inserted twice, V2's ids are kept, every reference follows."""
    e = env
    mains = [t for t in spec.tables if t.is_main]
    with _admin(e) as conn:
        remaps = {}
        for t in mains:
            remap = sql.Identifier(f"remap_{t.name}")
            conn.execute(sql.SQL("create temp table {} as select id as old, 900000 + "
                                 "row_number() over (order by md5(id::text)) as new from {}")
                         .format(remap, rel(t)))
            conn.execute(sql.SQL("update {} l set id = r.new from {} r where l.id = r.old")
                         .format(rel(t), remap))
            remaps[t.name] = remap
        for t in spec.tables:
            if t.layout == "jsonb" or t.live_relation:
                col = t.parent_column
                conn.execute(sql.SQL(
                    "update {rel} l set xdo = jsonb_set(l.xdo, array[{c}], to_jsonb(r.new)) "
                    "from {remap} r where (l.xdo ->> {c})::bigint = r.old").format(
                    rel=sql.Identifier(*t.live_name(WS)), c=sql.Literal(col),
                    remap=remaps[t.parent]))
            else:
                translate(conn, rel(t), t, remaps)
        for t in mains:
            conn.execute(sql.SQL("select setval(pg_get_serial_sequence({}, 'id'), "
                                 "(select max(id) from {}))").format(
                sql.Literal(".".join(f'"{p}"' for p in t.live_name(WS))), rel(t)))
    was = oracle(e, spec)
    assert all(v >= 900000 for ids in was.values() for v in ids.values())
    before = snapshot(e["live"], spec)
    res = _publish(e, project)
    assert "read back and verified" in res.stdout
    assert_owners_kept(before, snapshot(e["live"], spec), spec)
    now = assert_local_is_live(e, spec)
    for name, ids in was.items():
        assert {k: now[name][k] for k in ids} == ids, name
    _refcheck(e, project)
    st = json.loads(cli(e, "status", "--json", project=project).stdout)
    figs = {r["table"]: r for r in st if r["layer"] == "v2"}
    assert figs["agent"]["live_by_key"] == len(was["agent"]) and figs["agent"]["live_by_id"] == 0
    stamps = xmins(e["live"], spec)
    assert "wrote 0 row(s)" in _publish(e, project).stdout
    assert xmins(e["live"], spec) == stamps


def test_a_new_decision_is_carried_out_once(env, project, spec):
    """A person says the V1 record is not the live record under its id: it is inserted once
    under a fresh id, the live record is untouched, and the next publish writes nothing."""
    e = env
    user = spec.table("user")
    ids = oracle(e, spec)["user"]
    k = max(i for i, v in ids.items() if i == v)
    decisions = project / "seeds" / "xano_identity_decisions.csv"
    saved = decisions.read_text()
    try:
        decisions.write_text(saved + f"user,{k},new,,another person\n")
        before = snapshot(e["live"], spec)
        res = _publish(e, project)
        assert f"fresh id user id {k} -> live id " in res.stdout, res.stdout
        after = snapshot(e["live"], spec)
        assert after["user"][k] == before["user"][k]
        with dbmod.connect(e["local"]) as conn:
            live_id, how = conn.execute("select live_id, how from xano_audit.identity where "
                                        "v2_table = 'user' and k = %s", (k,)).fetchone()
        assert how == "decided" and live_id != k and live_id in after["user"]
        mine = local_rows(e["local"], user)[k]
        assert live_rows(e["live"], user)[live_id]["email"] == mine["email"]
        stamps = xmins(e["live"], spec)
        assert "wrote 0 row(s)" in _publish(e, project).stdout
        assert xmins(e["live"], spec) == stamps
    finally:
        decisions.write_text(saved)
