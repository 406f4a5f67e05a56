"""Benchmark: `mirror` throughput vs `pg_dump -t ... | psql` between two local servers.

Starts a second embedded server as the source (tables public.mvpw1_*, fixtures at --scale),
then mirrors into a scratch database of the default server and, in the same run, pipes
pg_dump of the same tables into another scratch database. Prints times and the ratio.
Usage: python benchmarks/mirror_ratio.py --scale 10
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import db as dbmod  # noqa: E402
from generator.fixtures import generate_rows, load_table, scaled_counts  # noqa: E402
from generator.fixtures.records import Ctx  # noqa: E402
from generator.mirror import mirror  # noqa: E402
from generator.registry import load_registry  # noqa: E402

V1_TABLES = load_registry(Path(__file__).resolve().parent.parent).tables


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=10)
    ap.add_argument("--dsn", default=None, help="target server (default: the embedded one)")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="xano-mirror-bench-"))
    src_server = dbmod.LocalServer(base / "src", settings={"synchronous_commit": "off"})
    src = src_server.start()
    dst_base = dbmod.resolve(args.dsn)
    dbs = ["mb_" + uuid.uuid4().hex[:8], "md_" + uuid.uuid4().hex[:8]]
    try:
        with dbmod.connect(src) as conn:
            ctx = Ctx(7, scaled_counts(args.scale))
            for t in V1_TABLES:
                load_table(conn, t, generate_rows(t.name, ctx), schema="public")
            size = conn.execute("select sum(pg_total_relation_size(c.oid)) from pg_class c "
                                "join pg_namespace n on n.oid = c.relnamespace "
                                "where n.nspname = 'public' and c.relkind = 'r'").fetchone()[0]
            size = float(size)
        with dbmod.connect(dst_base) as conn:
            for d in dbs:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(d)))
        t_mirror_db = dbmod.Target(dict(dst_base.params, dbname=dbs[0]))
        t0 = time.perf_counter()
        mirror(t_mirror_db, src.conninfo, list(V1_TABLES))
        t_mirror = time.perf_counter() - t0
        bin_dir = src_server.bin_dir
        dump = [str(bin_dir / "pg_dump"), "-d", src.conninfo, "--no-owner", "--no-acl"]
        for t in V1_TABLES:
            dump += ["-t", f"public.{t.relation}"]
        restore = [str(bin_dir / "psql"), "-q", "-v", "ON_ERROR_STOP=1",
                   "-d", dbmod.Target(dict(dst_base.params, dbname=dbs[1])).conninfo]
        t0 = time.perf_counter()
        p1 = subprocess.Popen(dump, stdout=subprocess.PIPE)
        p2 = subprocess.run(restore, stdin=p1.stdout, capture_output=True, text=True)
        p1.wait()
        t_dump = time.perf_counter() - t0
        if p1.returncode or p2.returncode:
            raise SystemExit(f"pg_dump | psql failed: {p2.stderr[-1000:]}")
        rows = sum(scaled_counts(args.scale).values())
        print(f"scale {args.scale:g}: {rows:,} rows, {size / 1e6:,.0f} MB on the source")
        print(f"mirror (COPY binary, verified, atomic swap): {t_mirror:.2f}s "
              f"({size / 1e6 / t_mirror:,.1f} MB/s)")
        print(f"pg_dump -t ... | psql:                       {t_dump:.2f}s "
              f"({size / 1e6 / t_dump:,.1f} MB/s)")
        print(f"throughput ratio mirror / pg_dump|psql: {t_dump / t_mirror:.2f} (target >= 0.7)")
    finally:
        try:
            with dbmod.connect(dst_base) as conn:
                for d in dbs:
                    conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                        sql.Identifier(d)))
        finally:
            src_server.destroy()
        shutil.rmtree(base, ignore_errors=True)
        os.environ.pop("PGPASSWORD", None)


if __name__ == "__main__":
    main()
