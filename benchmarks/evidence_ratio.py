"""Benchmark: `spec evidence` for the whole workspace next to the `mirror` of the live V2.

Lays the fixtures at --scale with the live V2 baseline (workspace 5) into a scratch database,
syncs once, then times `mirror --v2-only` (the copy evidence reads) and `spec evidence`; the
evidence makes one pass over each paired live copy and local V2 table, and one over a sample
of the paired V1 rows where it proposes. Prints both times and their ratio.
Usage: python benchmarks/evidence_ratio.py --scale 1
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import db as dbmod  # noqa: E402
from generator import evidence  # noqa: E402
from generator.baseline import DEFAULT_WORKSPACE  # noqa: E402
from generator.fixtures import create_workspace  # noqa: E402
from generator.inventory import read_inventory  # noqa: E402
from generator.live import live_tables  # noqa: E402
from generator.mirror import mirror  # noqa: E402
from generator.spec import load_spec  # noqa: E402
from generator.sync.run import run_sync  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--dsn", default=None, help="server (default: the embedded one)")
    args = ap.parse_args()
    base = dbmod.resolve(args.dsn)
    name = "ev_" + uuid.uuid4().hex[:8]
    with dbmod.connect(base) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    target = dbmod.Target(dict(base.params, dbname=name), embedded=base.embedded)
    try:
        create_workspace(target, ROOT, scale=args.scale, v2_baseline=True)
        run_sync(target, ROOT)
        spec = load_spec(ROOT)
        lts = live_tables(spec, DEFAULT_WORKSPACE)
        t0 = time.perf_counter()
        mirror(target, target.conninfo, [], live=lts, v2_workspace=DEFAULT_WORKSPACE)
        t_mirror = time.perf_counter() - t0
        with dbmod.connect(target) as conn:
            rows = conn.execute("select sum(n_live_tup) from pg_stat_user_tables "
                                "where schemaname = 'xano_live'").fetchone()[0]
            t0 = time.perf_counter()
            found = evidence.gather(conn, spec, read_inventory(ROOT), lts)
            t_evidence = time.perf_counter() - t0
        summary = evidence.summary(found)
        verdicts = {v: sum(s[v] for s in summary.values()) for v in evidence.VERDICTS}
        print(f"scale {args.scale}: {int(rows or 0):,} live V2 rows in {len(lts)} tables")
        print(f"mirror of the live V2 (--v2-only): {t_mirror:8.2f} s")
        print(f"spec evidence (whole workspace):   {t_evidence:8.2f} s  "
              f"({len(found)} columns: {verdicts})")
        print(f"evidence / mirror: {t_evidence / t_mirror:.2f}")
    finally:
        with dbmod.connect(base) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(name)))


if __name__ == "__main__":
    main()
