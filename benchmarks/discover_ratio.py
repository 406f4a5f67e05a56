"""Benchmark: full key inventory vs the naive `SELECT DISTINCT jsonb_object_keys(xdo)`.

Builds a V1-shaped table of N rows in a scratch database of the chosen server (default: the
fixture `user` records, ~41 top-level keys plus object values), then times, on the same table
in the same run:
- naive: `select distinct jsonb_object_keys(xdo)` as the server plans it (it may use parallel
  workers);
- floor: one pass that only reads every value's JSON type (`jsonb_each` + `jsonb_typeof`), the
  least any typed profile has to do, on one connection;
- full: `discover`'s scan (`generator.scan.scan_table`) with `--jobs` connections;
and prints the ratios. Usage:
    python benchmarks/discover_ratio.py [--rows 1000000] [--table user] [--jobs 2] [--dsn DSN]
"""

from __future__ import annotations

import argparse
import contextlib
import time
import uuid
from pathlib import Path

from psycopg import sql

from generator import db as dbmod
from generator.fixtures import generate_rows, load_table
from generator.fixtures.records import BASE_COUNTS, Ctx
from generator.registry import load_registry
from generator.scan import scan_table

NAIVE = "select distinct jsonb_object_keys(xdo) from {t}"
FLOOR = ("select jsonb_typeof(e.value), count(*) from {t} cross join lateral "
         "jsonb_each(case when jsonb_typeof(xdo) = 'object' then xdo end) as e group by 1")


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--table", default="user", help="fixture table whose records are used")
    ap.add_argument("--jobs", type=int, default=2, help="connections for the full scan")
    ap.add_argument("--dsn", default=None)
    args = ap.parse_args()
    base = dbmod.resolve(args.dsn)
    table = load_registry(Path(__file__).resolve().parent.parent).table(args.table)
    name = "bench_" + uuid.uuid4().hex[:8]
    with dbmod.connect(base) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    target = dbmod.Target(dict(base.params, dbname=name))
    try:
        with contextlib.ExitStack() as stack:
            conn = stack.enter_context(dbmod.connect(target))
            helpers = [stack.enter_context(dbmod.connect(target)) for _ in range(args.jobs - 1)]
            counts = dict(BASE_COUNTS, **{table.name: args.rows})
            t0 = time.perf_counter()
            load_table(conn, table, generate_rows(table.name, Ctx(7, counts)))
            rel = sql.Identifier("xano_v1", table.relation)
            conn.execute(sql.SQL("vacuum analyze {}").format(rel))
            print(f"table={table.name} rows={args.rows:,} load={time.perf_counter() - t0:.1f}s "
                  f"jobs={args.jobs}")
            naive_q, floor_q = (sql.SQL(q).format(t=rel) for q in (NAIVE, FLOOR))
            for label in ("warm-up", "measured"):
                naive = _timed(lambda: conn.execute(naive_q).fetchall())
                floor = _timed(lambda: conn.execute(floor_q).fetchall())
                res = None

                def full_scan() -> None:
                    nonlocal res
                    res = scan_table(conn, table, ["password"], helpers=helpers)

                full = _timed(full_scan)
                top = sum(1 for k in res.keys if k.kind == "top")
                print(f"{label}: naive distinct keys {naive:.2f}s ({top} top-level keys); "
                      f"type-only floor {floor:.2f}s ({floor / naive:.2f}x); full inventory "
                      f"{full:.2f}s ({len(res.keys)} key paths), ratio {full / naive:.2f}x "
                      f"(target <= 2x)")
    finally:
        with dbmod.connect(base) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(name)))


if __name__ == "__main__":
    main()
