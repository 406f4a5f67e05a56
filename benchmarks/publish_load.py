"""Benchmark: publish into a live V2 the app is writing, and the app's write latency.

A second embedded server plays the live Xano instance: V1 (workspace 1) and the V2 baseline
(workspace 5, Xano's standard SQL columns). The local mirror mirrors V1, syncs the selected
domain and publishes once. Then V1 changes 20% of its transactions, the mirror and the sync
run again, and an app (tests/apptraffic.py) writes the live transaction table at a steady rate
(half updates of one random row, hot rows of the change among them; half inserts) while the
second publish runs (the tables the selected ones name, user and agent for transaction, are
filled and published first: the publish pairs their identity). Prints the app's write latency alone and during the publish (p50, p99,
max), whether the publish landed on its first try, and the rows it left to the app.
Usage: python benchmarks/publish_load.py --scale 1 [--rate 100] [--select transaction]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import db as dbmod  # noqa: E402
from generator.baseline import lay_live_v2  # noqa: E402
from generator.fixtures import generate_rows, load_table, scaled_counts  # noqa: E402
from generator.fixtures.records import Ctx  # noqa: E402
from generator.mirror import mirror  # noqa: E402
from generator.publish.run import PublishOptions, check_options, publish  # noqa: E402
from generator.registry import load_registry  # noqa: E402
from generator.spec import load_spec  # noqa: E402
from generator.sync.run import run_sync  # noqa: E402
from tests.apptraffic import AppTraffic  # noqa: E402

WS = 5


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--rate", type=float, default=100.0, help="app writes per second")
    ap.add_argument("--select", default="transaction", help="domain(s) synced and published")
    ap.add_argument("--alone", type=float, default=5.0, help="seconds of app traffic alone")
    args = ap.parse_args()
    spec = load_spec(ROOT)
    # the publish also reads the tables the selected ones name (parents, referenced records:
    # their identity), so those are filled, laid live and published first too
    lts, _ = check_options(ROOT, PublishOptions("postgresql://x/y", WS, select=args.select))
    domains = sorted({lt.table.domain for lt in lts})
    chosen = [t for t in spec.tables if t.domain in domains]
    v1_names = {t.v1_table for t in chosen}
    first_select = ",".join(domains)
    base = Path(tempfile.mkdtemp(prefix="xano-load-bench-"))
    live_server = dbmod.LocalServer(base / "live", settings={"synchronous_commit": "off"})
    admin = live_server.start()
    local_base = dbmod.resolve(None)
    local = dbmod.Target(dict(local_base.params, dbname="pl_" + uuid.uuid4().hex[:8]))
    try:
        with dbmod.connect(admin) as conn:
            conn.execute("create database xano")
        live = dbmod.Target(dict(admin.params, dbname="xano"))
        with dbmod.connect(local_base) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(
                local.params["dbname"])))
        v1 = load_registry(ROOT).tables
        t0 = time.perf_counter()
        with dbmod.connect(live) as conn:  # the other V1 tables exist, empty
            ctx = Ctx(7, scaled_counts(args.scale))
            for t in v1:
                load_table(conn, t, generate_rows(t.name, ctx) if t.name in v1_names else [],
                           schema="public")
        print(f"scale {args.scale:g}: V1 {', '.join(sorted(v1_names))} laid "
              f"({time.perf_counter() - t0:.0f} s)")
        mirror(local, live.conninfo, v1)
        run_sync(local, ROOT)
        with dbmod.connect(local) as lconn, dbmod.connect(live) as conn:
            lay_live_v2(lconn, conn, spec, WS, args.scale, tables=chosen)
        t0 = time.perf_counter()
        first = publish(local, ROOT, PublishOptions(live.conninfo, WS, select=first_select))
        print(f"first publish ({first_select}): {sum(t.written for t in first.tables):,} rows "
              f"written in {time.perf_counter() - t0:.1f} s")
        options = PublishOptions(live.conninfo, WS, select=args.select)
        main_tx = spec.main_table("transaction")
        rel = spec.v1("transaction").relation
        with dbmod.connect(live) as conn:
            hot = [r[0] for r in conn.execute(sql.SQL(
                "update {} set xdo = xdo || jsonb_build_object('notes', 'changed in V1 ' || id) "
                "where id % 5 = 0 returning id").format(sql.Identifier("public", rel)))]
        mirror(local, live.conninfo, v1)
        run_sync(local, ROOT)
        app = AppTraffic(dict(live.params), main_tx.live_name(WS), "notes", args.rate, hot)
        app.start()
        time.sleep(args.alone)
        app.mark("publish")
        t0 = time.perf_counter()
        try:
            second = publish(local, ROOT, options)
            landed = "landed on its first try"
        except Exception as exc:  # noqa: BLE001 - a benchmark reports any failure
            second, landed = None, f"FAILED: {exc}"
        took = time.perf_counter() - t0
        app.mark("after")
        time.sleep(1.0)
        app.stop()
        alone, during = app.phase("start").summary(), app.phase("publish").summary()
        print(f"app alone ({alone['writes']} writes):          p50 {alone['p50']:7.2f} ms  "
              f"p99 {alone['p99']:7.2f} ms  max {alone['max']:7.2f} ms")
        print(f"app during the publish ({during['writes']} writes): p50 {during['p50']:7.2f} "
              f"ms  p99 {during['p99']:7.2f} ms  max {during['max']:7.2f} ms")
        if second is not None:
            print(f"publish under load: {landed} in {took:.1f} s; "
                  f"{sum(t.written for t in second.tables):,} rows written, "
                  f"{sum(t.changed_live for t in second.tables):,} left to the app; "
                  f"app write errors: {len(app.errors)}")
        else:
            print(f"publish under load: {landed}")
    finally:
        with dbmod.connect(local_base) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(local.params["dbname"])))
        live_server.destroy()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
