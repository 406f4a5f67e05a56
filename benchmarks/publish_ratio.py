"""Benchmark: `publish` against a plain COPY of the same rows, and a 1%-change publish.

Builds the synthetic workspace at --scale in a scratch database of the default server (fixtures,
then `dbt run` of the V2 models), starts a second embedded server as the live Xano instance with
empty V2 tables in Xano's standard SQL columns (`public.mvpw5_<V2 id>`, timestamps as epoch-ms
bigint) in two databases, and measures:

1. plain COPY: every local V2 row, converted to the live column types, COPYed into the first
   database's tables (no planning, no identity, no checks, no audit): the floor for moving
   these rows;
2. full publish into the second database (empty V2): plan, batched writes, sequences,
   read-back, record;
3. a publish with nothing changed (must write 0 rows);
4. a publish after 1% of the rows of every local V2 table changed.

Prints times and the ratios of issue 26 (full publish / plain COPY <= 2; 1%-change publish /
full publish <= 0.1). The publish runs with force=True: the local V2 is built by `dbt run`, not by
an audited sync. Usage: python benchmarks/publish_ratio.py --scale 10
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
from generator.fixtures import create_workspace  # noqa: E402
from generator.baseline import create_live_table  # noqa: E402
from generator.live import live_tables, resolve  # noqa: E402
from generator.publish.run import PublishOptions, publish  # noqa: E402
from generator.spec import load_spec  # noqa: E402
from generator.sync.runner import dbt_invoke  # noqa: E402

WS = 5
CHANGE = {"text": "coalesce({c}, '') || '*'", "boolean": "not coalesce({c}, false)",
          "bigint": "coalesce({c}, 0) + 1", "numeric": "coalesce({c}, 0) + 1",
          "timestamptz": "date_trunc('second', coalesce({c}, now())) + interval '1 second'",
          "date": "coalesce({c}, current_date) + 1",
          "jsonb": "coalesce({c}, '{{}}'::jsonb) || '{{\"bench\": 1}}'::jsonb"}
"""How a value of each V2 type is changed for the 1% step."""


def _live_db(admin: dbmod.Target, name: str, spec) -> dbmod.Target:
    with dbmod.connect(admin) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    target = dbmod.Target(dict(admin.params, dbname=name))
    with dbmod.connect(target) as conn:
        for i, lt in enumerate(live_tables(spec, WS)):
            create_live_table(conn, lt, i)
    return target


def plain_copy(local: dbmod.Target, plain: dbmod.Target, spec) -> int:
    """COPY every local V2 row, converted to the live column types, into the live tables of
    ``plain`` (no plan, no identity, no checks, no audit): the floor for moving these rows.
    Returns the rows copied."""
    rows = 0
    with dbmod.connect(local) as src, dbmod.connect(plain, autocommit=False) as dst:
        for lt in live_tables(spec, WS):
            lt, _ = resolve(dst, lt)
            cols = sql.SQL(", ").join(map(sql.Identifier, ["id", *(c.name for c in lt.fields)]))
            dbmod.pipe(src, sql.SQL("copy (select v.id, {} from {} v) to stdout "
                                    "(format binary)").format(
                sql.SQL(", ").join(lt.local_values("v")), lt.local),
                dst, sql.SQL("copy {} ({}) from stdin (format binary)").format(lt.ident, cols))
        dst.commit()
        for lt in live_tables(spec, WS):
            rows += dst.execute(sql.SQL("select count(*) from {}").format(
                resolve(dst, lt)[0].ident)).fetchone()[0]
    return rows


def _change_one_percent(local: dbmod.Target, spec) -> int:
    changed = 0
    with dbmod.connect(local) as conn:
        for t in spec.tables:
            col = next((c for c in t.columns if c.name not in ("id", t.parent_column)
                        and not c.special), None)
            if col is None:  # a closure table: every column is derived
                continue
            expr = sql.SQL(CHANGE[col.v2_type].format(c="{c}")).format(c=sql.Identifier(col.name))
            changed += conn.execute(sql.SQL("update {t} set {c} = {e} where id % 100 = 7").format(
                t=sql.Identifier("xano_v2", t.name), c=sql.Identifier(col.name), e=expr)
            ).rowcount
    return changed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=10)
    ap.add_argument("--dsn", default=None, help="local server (default: the embedded one)")
    ap.add_argument("--local-db", default=None, metavar="NAME",
                    help="build the local V2 into this database and keep it; reuse it when it "
                         "exists (saves the build when profiling; its publish record is reset)")
    args = ap.parse_args()
    spec = load_spec(ROOT)
    base = Path(tempfile.mkdtemp(prefix="xano-publish-bench-"))
    live_server = dbmod.LocalServer(base / "live", settings={"synchronous_commit": "off"})
    admin = live_server.start()
    local_base = dbmod.resolve(args.dsn)
    local = dbmod.Target(dict(local_base.params,
                              dbname=args.local_db or "pb_" + uuid.uuid4().hex[:8]))
    try:
        with dbmod.connect(local_base) as conn:
            reuse = args.local_db and conn.execute(
                "select count(*) from pg_database where datname = %s",
                (args.local_db,)).fetchone()[0]
            if not reuse:
                conn.execute(sql.SQL("create database {}").format(
                    sql.Identifier(local.params["dbname"])))
        t0 = time.perf_counter()
        if reuse:
            with dbmod.connect(local) as conn:
                conn.execute("drop table if exists xano_audit.published_rows, "
                             "xano_audit.publish_conflicts, xano_audit.publish_run_tables, "
                             "xano_audit.publish_runs, xano_audit.live_state, "
                             "xano_audit.identity cascade")
        else:
            create_workspace(local, ROOT, scale=args.scale)
            for argv in (["seed", "--quiet"], ["run", "--quiet", "--select", "path:models/stage path:models/v2"]):
                if not dbt_invoke(local, ROOT, argv).success:
                    raise SystemExit(f"dbt {argv[0]} failed")
        with dbmod.connect(local) as conn:
            rows = sum(conn.execute(sql.SQL("select count(*) from {}").format(
                sql.Identifier("xano_v2", t.name))).fetchone()[0] for t in spec.tables)
        print(f"scale {args.scale:g}: {rows:,} local V2 rows in {len(spec.tables)} tables "
              f"(built in {time.perf_counter() - t0:.0f}s)")
        plain = _live_db(admin, "plain", spec)
        target = _live_db(admin, "xano", spec)

        t0 = time.perf_counter()
        plain_copy(local, plain, spec)
        t_copy = time.perf_counter() - t0

        options = PublishOptions(target.conninfo, WS, force=True)
        t0 = time.perf_counter()
        full = publish(local, ROOT, options)
        t_full = time.perf_counter() - t0
        written_full = sum(t.written for t in full.tables)
        print(f"plain COPY {t_copy:.2f}s, full publish {t_full:.2f}s ({written_full:,} rows)",
              flush=True)
        t0 = time.perf_counter()
        noop = publish(local, ROOT, options)
        t_noop = time.perf_counter() - t0
        changed = _change_one_percent(local, spec)
        t0 = time.perf_counter()
        one = publish(local, ROOT, options)
        t_one = time.perf_counter() - t0

        print(f"plain COPY of the same rows (xdo built, no checks): {t_copy:8.2f}s")
        print(f"full publish (empty live V2, {written_full:,} rows written, read back): "
              f"{t_full:8.2f}s")
        print(f"no-change publish ({sum(t.written for t in noop.tables)} rows written):"
              f"          {t_noop:8.2f}s")
        print(f"1%-change publish ({changed:,} local rows changed, "
              f"{sum(t.written for t in one.tables):,} written): {t_one:8.2f}s")
        print(f"ratio full publish / plain COPY: {t_full / t_copy:.2f} (target <= 2)")
        print(f"ratio 1%-change publish / full publish: {t_one / t_full:.3f} (target <= 0.1)")
    finally:
        try:
            if not args.local_db:
                with dbmod.connect(local_base) as conn:
                    conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                        sql.Identifier(local.params["dbname"])))
        finally:
            live_server.destroy()
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
