"""Benchmark: full key inventory vs the naive `SELECT DISTINCT jsonb_object_keys(xdo)`.

Builds a V1-shaped table of N rows (network records, ~25 keys) in a scratch database of the
chosen server, then times both on the same table in the same run and prints the ratio.
Usage: python benchmarks/discover_ratio.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import time
import uuid

from psycopg import sql

from generator import db as dbmod
from generator.discover import scan_table
from generator.fixtures import generate_rows, load_table
from generator.fixtures.records import BASE_COUNTS, Ctx
from generator.registry import V1Table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dsn", default=None)
    args = ap.parse_args()
    base = dbmod.resolve(args.dsn)
    name = "bench_" + uuid.uuid4().hex[:8]
    with dbmod.connect(base) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    target = dbmod.Target(dict(base.params, dbname=name))
    try:
        with dbmod.connect(target) as conn:
            counts = dict(BASE_COUNTS, network=args.rows)
            t0 = time.perf_counter()
            table = V1Table("network", 48)
            load_table(conn, table, generate_rows("network", Ctx(7, counts)))
            conn.execute("vacuum analyze xano_v1.mvpw1_48")
            print(f"rows={args.rows:,} load={time.perf_counter() - t0:.1f}s")
            for label in ("warm-up", "measured"):
                t0 = time.perf_counter()
                conn.execute("select distinct jsonb_object_keys(xdo) from xano_v1.mvpw1_48") \
                    .fetchall()
                naive = time.perf_counter() - t0
                t0 = time.perf_counter()
                res = scan_table(conn, table, ["password"])
                full = time.perf_counter() - t0
                print(f"{label}: naive distinct keys {naive:.2f}s, full inventory {full:.2f}s "
                      f"({len(res.keys)} key paths), ratio {full / naive:.2f}x (target <= 2x)")
    finally:
        with dbmod.connect(base) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(name)))


if __name__ == "__main__":
    main()
