"""What the dashboard shows, read over one read-only connection (shared by pages and JSON)."""

from __future__ import annotations

import psycopg
from psycopg import sql

from generator import catalog
from generator import spec as specmod
from generator.census import CensusRow, role_of, size_text, summarize
from generator.config import AUDIT_SCHEMA, TOLERANCE, UNMAPPED_COLUMN
from generator.coverage import coverage as spec_coverage
from generator.inventory import Inventory
from generator.keypath import encode_path, is_sensitive, mask
from generator.live import FIGURES
from generator.publish.identity import IDENTITY_KINDS
from generator.status import collect_status
from generator.sync.audit import last_problems, lock_held

AUDIT_TABLES = {"sync_runs", "sync_run_tables", "v1_synced_ids", "xano_rejects",
                "publish_runs", "publish_run_tables", "publish_conflicts", "published_rows",
                "live_state", "mirror_runs", "v1_row_hashes", "v1_changes", "model_state",
                "seed_state", "sync_run_problems", "model_state_v1", "v1_state", "v1_versions",
                "shape_backup"}
"""Bookkeeping tables of xano_audit (not stored test failures)."""
AUDIT_PREFIXES = ("xano_accounting__", "xano_rejects__", "published_rows__")
"""Models of xano_audit (not stored test failures)."""
SAMPLE = 5


def read_only(conn: psycopg.Connection) -> psycopg.Connection:
    """Make every transaction of this connection read-only."""
    conn.execute("set default_transaction_read_only = on")
    return conn


def counts(conn: psycopg.Connection, spec: specmod.Spec) -> dict:
    """Every V1 and V2 table with live and expected counts."""
    keys = ("layer", "table", "count", "expected", "gap", "pct", "rejects", "deleted_in_v1",
            "main", "within_tolerance", "domain", "last_sync", "last_status", "relation",
            "live_count", "live_gap", "live_only", "live_within_tolerance", "live_source",
            "live_at", "live_relation", *(f"live_{k}" for k in FIGURES))
    rows = [{k: r.get(k) for k in keys} for r in collect_status(conn, spec)]
    return {"tolerance": TOLERANCE, "tables": rows}


def story(conn: psycopg.Connection, spec: specmod.Spec, status: list[dict],
          inventory: Inventory) -> dict:
    """Per domain the 1 -> N flow; headline figures of the whole workspace."""
    v2_counts = {r["table"]: r["count"] or 0 for r in status if r["layer"] == "v2"}
    v1_counts = {r["table"]: r["count"] or 0 for r in status if r["layer"] == "v1"}
    keys_by_table: dict[str, int] = {}
    for k in inventory.keys:
        keys_by_table[k.v1_table] = keys_by_table.get(k.v1_table, 0) + 1
    domains = []
    for domain in dict.fromkeys(t.domain for t in spec.tables):
        flows = []
        for v1 in dict.fromkeys(t.v1_table for t in spec.tables if t.domain == domain):
            targets = [{"table": t.name, "v2_id": t.v2_id, "rows": v2_counts.get(t.name, 0),
                        "columns": len(t.columns), "grain": t.grain, "main": t.is_main}
                       for t in spec.for_v1(v1)]
            flows.append({"v1_table": v1, "relation": spec.v1(v1).relation,
                          "rows": v1_counts.get(v1, 0), "keys": keys_by_table.get(v1, 0),
                          "targets": targets})
        domains.append({"domain": domain, "flows": flows})
    used = spec.v1_tables()
    return {
        "headline": {
            "v1_tables": len(used),
            "v2_tables": len(spec.tables),
            "jsonb_keys": sum(keys_by_table.get(t, 0) for t in used),
            "typed_columns": sum(len(t.columns) for t in spec.tables),
            "v1_rows": sum(v1_counts.get(t, 0) for t in used),
            "v2_rows": sum(v2_counts.values()),
        },
        "domains": domains,
    }


def scale(rows: list[CensusRow]) -> dict:
    """The whole instance from the census seed: totals, per workspace, every table."""
    s = summarize(rows)
    return {
        "total_tables": s.tables, "total_rows": s.rows, "total_size": size_text(s.bytes),
        "in_scope": s.in_scope, "in_scope_rows": s.in_scope_rows,
        "workspaces": [{"workspace": ws, **w, "size": size_text(w["bytes"])}
                       for ws, w in s.workspaces.items()],
        "tables": [{"schema": r.schema, "relation": r.relation, "workspace": r.workspace,
                    "est_rows": r.est_rows, "size": size_text(r.bytes), "layout": r.layout,
                    "v1_table": r.v1_table, "feeds": r.feeds, "role": role_of(r)}
                   for r in sorted(rows, key=lambda r: (-r.est_rows, r.relation))],
    }


def runs(conn: psycopg.Connection, limit: int = 20) -> dict:
    """Sync history and the per-table progress of the latest run (live while it runs)."""
    if not catalog.exists(conn, AUDIT_SCHEMA, "sync_runs"):
        return {"runs": [], "latest": None, "tables": [], "running": False, "problems": []}
    cur = conn.execute(f"""
        select run_id, started_at, ended_at, selector, who, host, pid, status, reason
        from {AUDIT_SCHEMA}.sync_runs order by run_id desc limit %s""", (limit,))
    cols = [d.name for d in cur.description]
    history = [dict(zip(cols, r)) for r in cur]
    latest = history[0]["run_id"] if history else None
    tables = []
    if latest is not None:
        cur = conn.execute(f"""
            select v2_table, v1_count, v2_before, v2_after, inserted, updated, unchanged,
                rejected, tests_passed, tests_warned, tests_failed, status, duration_s
            from {AUDIT_SCHEMA}.sync_run_tables where run_id = %s order by v2_table""",
                           (latest,))
        cols = [d.name for d in cur.description]
        tables = [dict(zip(cols, r)) for r in cur]
    return {"runs": history, "latest": latest, "tables": tables, "running": lock_held(conn),
            "problems": last_problems(conn)}


def publishes(conn: psycopg.Connection, limit: int = 20, conflicts: int = 50) -> dict:
    """Publish history, the latest publish per table, and its conflicts (already masked)."""
    if not catalog.exists(conn, AUDIT_SCHEMA, "publish_runs"):
        return {"runs": [], "latest": None, "tables": [], "conflicts": [], "conflict_count": 0}
    cur = conn.execute(f"""
        select run_id, started_at, ended_at, target, v2_workspace, selector, options, who,
            status, reason
        from {AUDIT_SCHEMA}.publish_runs order by run_id desc limit %s""", (limit,))
    cols = [d.name for d in cur.description]
    history = [dict(zip(cols, r)) for r in cur]
    latest = history[0]["run_id"] if history else None
    cur = conn.execute(f"""
        select v2_table, relation, layout, inserted, updated, unchanged, conflicts, overwritten,
            pruned, live_only, live_before, live_after, verified, status, duration_s, matched,
            duplicates, orphans, collisions, blocked, deduped, changed_live
        from {AUDIT_SCHEMA}.publish_run_tables where run_id = %s""", (latest,))
    cols = [d.name for d in cur.description]
    tables = [dict(zip(cols, r)) for r in cur]
    out = {}
    kinds = list(IDENTITY_KINDS)
    for name, test in (("conflicts", "not (kind = any(%s))"), ("collisions", "kind = any(%s)")):
        cur = conn.execute(sql.SQL(
            "select v2_table, id, live_id, kind, fields, overwritten from {} "
            "where run_id = %s and " + test + " order by 1, 2 limit %s").format(
            sql.Identifier(AUDIT_SCHEMA, "publish_conflicts")), (latest, kinds, conflicts))
        cols = [d.name for d in cur.description]
        out[name] = [dict(zip(cols, r)) for r in cur]
    return {"runs": history, "latest": latest, "tables": tables, "conflicts": out["conflicts"],
            "collisions": out["collisions"],
            "conflict_count": sum(t["conflicts"] or 0 for t in tables),
            "changed_live": sum(t["changed_live"] or 0 for t in tables),
            "collision_count": sum(t["collisions"] or 0 for t in tables)}


def integrity(conn: psycopg.Connection, spec: specmod.Spec) -> dict:
    """Last test results per V2 table and a sample of failing rows of every stored test."""
    per_table: dict[str, dict] = {}
    if catalog.exists(conn, AUDIT_SCHEMA, "sync_run_tables"):
        for row in conn.execute(f"""
                select distinct on (v2_table) v2_table, tests_passed, tests_warned,
                    tests_failed, run_id
                from {AUDIT_SCHEMA}.sync_run_tables order by v2_table, run_id desc"""):
            per_table[row[0]] = {"pass": row[1], "warn": row[2], "fail": row[3], "run_id": row[4]}
    names = [t.name for t in spec.tables]
    secret = {c.name for t in spec.tables for c in t.columns if c.sensitive}
    patterns = list(spec.sensitive_patterns)
    failures = []
    stored = [r[0] for r in conn.execute(
        "select tablename from pg_tables where schemaname = %s order by 1", (AUDIT_SCHEMA,))]
    for name in stored:
        if name in AUDIT_TABLES or name.startswith(AUDIT_PREFIXES):
            continue
        n = conn.execute(sql.SQL("select count(*) from {}").format(
            sql.Identifier(AUDIT_SCHEMA, name))).fetchone()[0]
        if not n:
            continue
        cur = conn.execute(sql.SQL("select * from {} limit {}").format(
            sql.Identifier(AUDIT_SCHEMA, name), sql.Literal(SAMPLE)))
        cols = [d.name for d in cur.description]
        hidden = [c in secret or c == UNMAPPED_COLUMN
                  or is_sensitive(encode_path(c), patterns) for c in cols]
        owner = max((t for t in names if t in name), key=len, default="")
        sample = [[mask(str(v)) if h and v is not None else _cell(v)
                   for v, h in zip(r, hidden)] for r in cur]
        failures.append({"test": name, "v2_table": owner, "rows": n,
                         "columns": cols, "sample": sample})
    return {"tables": per_table, "failures": failures}


def coverage(spec: specmod.Spec, inventory: Inventory) -> dict:
    """Per V1 table every inventory key: mapped (to where), ignored (why) or unclaimed."""
    cov = spec_coverage(spec, inventory)
    prov = {f"{t.name}.{c.name}": c.provenance for t in spec.tables for c in t.columns}
    out: dict[str, list[dict]] = {}
    for k in inventory.keys:
        ident = (k.v1_table, k.key_path)
        if ident in cov.claimed:
            state, where = "mapped", ", ".join(
                f"{x} ({prov[x]})" if x in prov else x for x in cov.claimed[ident])
        elif ident in cov.ignored:
            state, where = "ignored", cov.ignored[ident]
        else:
            state, where = "unclaimed", ""
        out.setdefault(k.v1_table, []).append({
            "key_path": k.key_path, "type": k.inferred_type, "drift": _drift(k.drift_share),
            "rows_with_key": str(k.rows_with_key), "state": state, "where": where,
            "example": k.example})  # examples are masked by discover when sensitive
    summary = {t: {s: sum(1 for x in rows if x["state"] == s)
                   for s in ("mapped", "ignored", "unclaimed")} for t, rows in out.items()}
    provenance = {t.name: {p: sum(1 for c in t.columns if c.provenance == p and not c.special)
                           for p in ("documented", "proposed")} for t in spec.tables}
    return {"tables": out, "summary": summary, "provenance": provenance}


def evidence(root) -> dict:
    """What ``spec evidence`` found: verdict counts per V2 table, every column's verdict,
    proposals (key paths and shares only: no value is ever stored)."""
    from generator.evidence import VERDICTS, read, summary

    rows = list(read(root).values())
    return {"verdicts": list(VERDICTS), "summary": summary(rows),
            "columns": [{"table": e.v2_table, "column": e.v2_column, "v1_path": e.v1_path,
                         "transform": e.transform, "matched": e.matched,
                         "agreeing": e.agreeing, "verdict": e.verdict,
                         "proposed_v1_path": e.proposed_v1_path,
                         "proposed_transform": e.proposed_transform,
                         "proposed_agreement": e.proposed_agreement}
                        for e in sorted(rows, key=lambda e: (
                            VERDICTS.index(e.verdict) if e.verdict in VERDICTS else 9,
                            e.v2_table, e.v2_column))]}


def _drift(share: float) -> str:
    """Drift share as the inventory file writes it (4 decimals)."""
    return f"{share:.4f}"


def rejects(conn: psycopg.Connection) -> dict:
    """Reject counts by table, key and reason, with one (already masked) example each."""
    if not catalog.exists(conn, AUDIT_SCHEMA, "xano_rejects"):
        return {"total": 0, "groups": []}
    cur = conn.execute(f"""
        select v1_table, key_path, v2_table, v2_column, target_type, reason, count(*) as n,
            min(raw_value) as example, min(v1_id) as example_id
        from {AUDIT_SCHEMA}.xano_rejects
        group by 1, 2, 3, 4, 5, 6 order by n desc, 1, 2""")
    cols = [d.name for d in cur.description]
    groups = [dict(zip(cols, r)) for r in cur]
    return {"total": sum(g["n"] for g in groups), "groups": groups}


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 120 else text[:119] + "…"
