"""Status: every V1 and V2 table with live and expected counts, gap, rejects and last sync.

Read-only; used by ``python -m generator status``, the sync's summary and the dashboard. The
live V2 columns (``live_*``) come from the last ``mirror --v2-workspace`` or ``publish``,
whichever recorded the table last; they are None before either ran. Their identity figures
(``live_matched``, ``live_to_insert``, ``live_to_update``, ``live_duplicates``,
``live_orphans``, ``live_collisions``, ``live_blocked``, ``live_conflicts``) say how the live
rows pair with the local V2 (:mod:`generator.publish.plan`); None until the local V2 is built.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from generator import catalog, db
from generator.config import (
    ARRAY_ID_FACTOR,
    AUDIT_SCHEMA,
    FN_SCHEMA,
    TOLERANCE,
    V1_SCHEMA,
    V2_SCHEMA,
)
from generator.live import FIGURES, live_state
from generator.spec import Spec, load_spec
from generator.sync.audit import last_problems
from generator.sync.changes import deleted_in_v1


def expected_counts(conn: psycopg.Connection, spec: Spec,
                    only: set[str] | None = None) -> dict[str, int]:
    """What each V2 table's grain implies from V1 (V1 rows, summed array lengths, or the pairs
    of a closure).

    ``only``: the V2 tables to count (default: all).
    """
    out: dict[str, int] = {}
    for t in spec.tables:
        if only is not None and t.name not in only:
            continue
        relation = spec.v1(t.v1_table).relation
        if not catalog.exists(conn, V1_SCHEMA, relation):
            continue
        rel = sql.Identifier(V1_SCHEMA, relation)
        if t.grain == "closure":
            if not conn.execute("select to_regnamespace(%s) is not null",
                                (FN_SCHEMA,)).fetchone()[0]:
                continue  # the safe casts come with the first build
            q = sql.SQL(closure_count(t, relation))
        elif t.grain == "row":
            q = sql.SQL("select count(*) from {}").format(rel)
        else:
            q = sql.SQL("select coalesce(sum(least(jsonb_array_length(xdo -> {k}), {m})), 0) "
                        "from {r} where jsonb_typeof(xdo -> {k}) = 'array'").format(
                k=sql.Literal(t.array_path), r=rel, m=sql.Literal(ARRAY_ID_FACTOR - 1))
        out[t.name] = int(conn.execute(q).fetchone()[0])
    return out


def closure_count(t, relation: str) -> str:
    """SQL counting the pairs a closure table derives from the local V1 mirror (sqlglot)."""
    from sqlglot import exp

    from generator.sql import build

    rows = exp.select(build.col("id"), build.col("xdo")).from_(
        exp.Table(this=build.ident(relation), db=build.ident(V1_SCHEMA)))
    count = exp.select(exp.Count(this=exp.Star())).from_(exp.Subquery(
        this=build.closure_model(t, rows), alias=exp.TableAlias(this=build.ident("c"))))
    return build.render(count)


def rejects_by_table(conn: psycopg.Connection) -> dict[str, int]:
    """V2 table -> values quarantined in xano_rejects."""
    if not catalog.exists(conn, AUDIT_SCHEMA, "xano_rejects"):
        return {}
    return dict(conn.execute(f"select v2_table, count(*) from {AUDIT_SCHEMA}.xano_rejects "
                             "group by 1").fetchall())


def within_tolerance(count: int | None, expected: int | None) -> bool:
    """True when a count is within the tolerance of what V1 implies (or nothing is expected).

    >>> within_tolerance(96, 100), within_tolerance(94, 100), within_tolerance(None, 0)
    (True, False, True)
    """
    if expected is None:
        return True
    if expected == 0:
        return not count
    return abs((count or 0) - expected) / expected <= TOLERANCE


def collect_status(conn: psycopg.Connection, spec: Spec) -> list[dict]:
    """Status rows read over an existing (possibly read-only) connection."""
    out: list[dict] = []
    exp = expected_counts(conn, spec)
    rejected = rejects_by_table(conn)
    last = {}
    if catalog.exists(conn, AUDIT_SCHEMA, "sync_run_tables"):
        last = {r[0]: (r[1], r[2]) for r in conn.execute(
            f"select distinct on (t.v2_table) t.v2_table, r.ended_at, r.status "
            f"from {AUDIT_SCHEMA}.sync_run_tables t join {AUDIT_SCHEMA}.sync_runs r "
            "using (run_id) order by t.v2_table, r.run_id desc")}
    for name in spec.v1_tables():
        rel = spec.v1(name).relation
        out.append({"layer": "v1", "table": name, "relation": f"{V1_SCHEMA}.{rel}",
                    "count": catalog.count(conn, V1_SCHEMA, rel)})
    live = live_state(conn)
    for t in spec.tables:
        n = catalog.count(conn, V2_SCHEMA, t.name)
        e = exp.get(t.name)
        gap = (n or 0) - e if e is not None else None
        pct = (100.0 * (n or 0) / e) if e else None
        ended, st = last.get(t.name, (None, None))
        extra = {}
        if t.is_main:
            extra["deleted_in_v1"] = deleted_in_v1(conn, spec.v1(t.v1_table))
        out.append({"layer": "v2", "table": t.name, "domain": t.domain, **extra,
                    "main": t.is_main, "count": n, "expected": e, "gap": gap,
                    "pct": round(pct, 2) if pct is not None else None,
                    "within_tolerance": within_tolerance(n, e),
                    "rejects": rejected.get(t.name, 0),
                    "last_sync": ended.isoformat() if ended else None,
                    "last_status": st, **_live_fields(live.get(t.name), e)})
    return out


def _live_fields(state: dict | None, expected: int | None) -> dict:
    """The live V2 columns of one status row."""
    figures = (state or {}).get("figures") or {}
    ident = {f"live_{k}": figures.get(k) for k in FIGURES}
    if state is None:
        return {"live_count": None, "live_gap": None, "live_pct": None, "live_only": None,
                "live_within_tolerance": True, "live_source": None, "live_at": None,
                "live_relation": None, **ident}
    n = state["live_count"]
    return {"live_count": n,
            "live_gap": n - expected if expected is not None and n is not None else None,
            "live_pct": round(100.0 * (n or 0) / expected, 2) if expected else None,
            "live_only": state["live_only"],
            "live_within_tolerance": within_tolerance(n, expected),
            "live_source": f"{state['source']} {state['run_id']}",
            "live_at": state["recorded_at"].isoformat(),
            "live_relation": state["relation"], **ident}


def status_rows(target: db.Target, root: Path) -> list[dict]:
    """Every V1 and V2 table with counts, expected counts, gap and last sync; then, when the
    last sync failed, its explained problems (rows of layer ``problem``); then the mapped
    columns the live V2's data contradicts (``spec evidence``; rows of layer ``evidence``)."""
    from generator.evidence import read as read_evidence

    with db.connect(target) as conn:
        rows = collect_status(conn, load_spec(root))
        rows += [{"layer": "problem", "table": p["v2_table"], **p} for p in last_problems(conn)]
    rows += [{"layer": "evidence", "table": e.v2_table, "column": e.v2_column,
              "v1_path": e.v1_path, "transform": e.transform, "matched": e.matched,
              "agreeing": e.agreeing, "verdict": e.verdict,
              "proposed_v1_path": e.proposed_v1_path or None,
              "proposed_transform": e.proposed_transform or None}
             for e in read_evidence(root).values() if e.verdict == "contradicted"]
    return rows


def outside_tolerance(rows: list[dict]) -> list[dict]:
    """Main V2 tables whose count, local or live, is off by more than the tolerance."""
    return [r for r in rows if r["layer"] == "v2" and r["main"]
            and not (r["within_tolerance"] and r.get("live_within_tolerance", True))]
