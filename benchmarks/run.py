"""Benchmark report: every promised ratio, measured against its baseline in the same run.

For each --scale: a scratch database and a scratch copy of the project; each step runs as its
own process (wall time, rows/s, peak client RSS from wait4). Writes benchmarks/README.md with
--write; numbers only ever come from this script's measurements.

Usage: python benchmarks/run.py --scale 1 --scale 10 [--write]
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
from dataclasses import dataclass
from pathlib import Path

from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import db as dbmod  # noqa: E402
from generator.registry import load_registry  # noqa: E402

V1_TABLES = load_registry(ROOT).tables
V1 = {t.name: t for t in V1_TABLES}


def one_percent_keys() -> list[tuple[str, str]]:
    """Per V1 table of the spec, one top-level key a row-grain V2 table maps as plain text."""
    from generator.spec import load_spec

    spec = load_spec(ROOT)
    out = []
    for v1 in spec.v1_tables():
        keys = [c.v1_path for t in spec.for_v1(v1) if t.grain == "row" for c in t.columns
                if not c.special and c.transform == "text" and len(c.steps()) == 1]
        if keys:
            out.append((v1, keys[0]))
    return out


@dataclass
class Step:
    name: str
    seconds: float
    rows: int | None = None
    peak_mb: float | None = None


def _run(argv: list[str], env: dict, cwd: Path) -> tuple[float, float]:
    """Run a process; returns (wall seconds, its peak RSS in MB, from wait4)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            out.seek(0)
            tail = out.read().decode(errors="replace")[-3000:]
            raise SystemExit(f"step failed: {' '.join(argv)}\n{tail}")
    return wall, usage.ru_maxrss / 1024


def _run_parallel(argvs: list[list[str]], env: dict, cwd: Path) -> tuple[float, float]:
    """Run processes at once; returns (wall seconds until the last ends, the largest peak MB)."""
    start = time.perf_counter()
    procs = [subprocess.Popen(a, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) for a in argvs]
    peak = 0.0
    for proc in procs:
        _, status, usage = os.wait4(proc.pid, 0)
        peak = max(peak, usage.ru_maxrss / 1024)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"step failed: {proc.args}\n{proc.stderr.read().decode()[-3000:]}")
    return time.perf_counter() - start, peak


def handwritten_sections() -> dict[str, str]:
    """The sections of benchmarks/handwritten.sql (prologue, a, b, epilogue)."""
    out: dict[str, list[str]] = {}
    current = None
    for line in (ROOT / "benchmarks" / "handwritten.sql").read_text().splitlines():
        if line.startswith("-- @section "):
            current = line.split()[-1]
            out[current] = []
        elif current:
            out[current].append(line)
    return {k: "\n".join(v) + "\n" for k, v in out.items()}


def _writes(conn) -> int:
    row = conn.execute("select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
                       "from pg_stat_user_tables where schemaname = 'xano_v2'").fetchone()
    return int(row[0])


def bench_scale(base: dbmod.Target, scale: float) -> tuple[list[Step], dict]:
    name = "bench_" + uuid.uuid4().hex[:8]
    with dbmod.connect(base) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    target = dbmod.Target(dict(base.params, dbname=name))
    proj = Path(tempfile.mkdtemp(prefix="xano-bench-")) / "proj"
    for d in ("models", "macros", "seeds", "profiles", "tests/dbt"):
        shutil.copytree(ROOT / d, proj / d)
    shutil.copy(ROOT / "dbt_project.yml", proj)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(target.dbt_env(proj))
    env["PYTHONPATH"] = str(ROOT)  # the generator of this checkout, not an installed one
    py = [sys.executable, "-m", "generator"]
    dbt = [sys.executable, "-c", "from dbt.cli.main import cli; cli()"]
    steps: list[Step] = []
    ratios: dict = {}

    def step(label, argv, rows=None):
        wall, peak = _run(argv, env, proj)
        steps.append(Step(label, wall, rows, peak))
        return wall

    try:
        step("fixtures", py + ["fixtures", "--scale", str(scale)])
        with dbmod.connect(target) as conn:
            v1_rows = sum(conn.execute(sql.SQL("select count(*) from {}").format(
                sql.Identifier("xano_v1", t.relation))).fetchone()[0] for t in V1_TABLES)
        steps[-1].rows = v1_rows
        step("discover", py + ["discover"], v1_rows)
        step("generate", py, None)
        step("dbt seed", dbt + ["seed", "--quiet"])
        t_v2 = step("dbt run, the 23 V2 tables only (from empty)",
                    dbt + ["run", "--quiet", "--select", "path:models/stage path:models/v2"])
        with dbmod.connect(target) as conn:
            v2_rows = int(conn.execute("select sum(n_live_tup) from pg_stat_user_tables "
                                       "where schemaname = 'xano_v2'").fetchone()[0] or 0)
        steps[-1].rows = v2_rows
        t_hand = handwritten(proj, env, v2_rows, steps)
        ratios["dbt run of the V2 tables / hand-written SQL (issue 4, <= 1.5)"] = t_v2 / t_hand
        with dbmod.connect(target) as conn:
            conn.execute("drop schema xano_v2 cascade; drop schema if exists xano_stage cascade; "
                         "drop schema if exists xano_audit cascade")
        t_run = step("dbt run, all models incl. rejects + accounting (from empty)",
                     dbt + ["run", "--quiet"], v2_rows)
        t_test = step("dbt test", dbt + ["test", "--quiet", "--exclude", "test_type:unit"])
        ratios["dbt test / dbt run (issue 5, <= 1.5)"] = t_test / t_run
        parts = {"the V2 tables": t_v2, "rejects + accounting": max(t_run - t_v2, 0.0),
                 "the tests": t_test}
        top = max(parts, key=parts.get)
        ratios["step that dominates a build from empty"] = (
            f"{top} ({parts[top]:.1f} s of {sum(parts.values()):.1f} s: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in parts.items()) + ")")
        with dbmod.connect(target) as conn:
            conn.execute("drop schema xano_v2 cascade; drop schema if exists xano_stage cascade; "
                         "drop schema if exists xano_audit cascade")
        t_full = step("full sync (from empty V2)", py + ["sync"], v2_rows)
        ratios["full sync (V2 tables + rejects + accounting + tests) / hand-written SQL "
               "(issue 18, <= 2)"] = t_full / t_hand
        with dbmod.connect(target) as conn:
            before = _writes(conn)
        t_noop = step("no-op resync (V1 unchanged)", py + ["sync"])
        with dbmod.connect(target) as conn:
            steps[-1].rows = _writes(conn) - before
            ratios["no-op resync / full sync (issue 18, <= 0.03)"] = t_noop / t_full
            ratios["rows written by the no-op resync (must be 0)"] = steps[-1].rows
            changed = 0
            for v1, key in one_percent_keys():
                # a mapped text key of 1 % of the rows: each changed row changes a V2 value
                changed += conn.execute(sql.SQL(
                    "update {} set xdo = jsonb_set(xdo, array[{k}], to_jsonb(coalesce("
                    "xdo ->> {k}, '') || '*')) where id % 100 = 0 and jsonb_typeof(xdo) = "
                    "'object'").format(sql.Identifier("xano_v1", V1[v1].relation),
                                       k=sql.Literal(key))).rowcount
            before = _writes(conn)
        t_one = step("1%-change resync", py + ["sync"])
        with dbmod.connect(target) as conn:
            written = _writes(conn) - before
        steps[-1].rows = written
        ratios["1%-change resync / full sync (issue 18, <= 0.1)"] = t_one / t_full
        ratios["V1 rows changed / V2 rows written by the 1% resync"] = f"{changed} / {written}"
        bench_publish(target, env, proj, step, steps, ratios)
    finally:
        with dbmod.connect(base) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(name)))
        shutil.rmtree(proj.parent, ignore_errors=True)
    return steps, ratios


def bench_publish(target: dbmod.Target, env: dict, proj: Path, step, steps: list[Step],
                  ratios: dict) -> None:
    """Publish the synced local V2 into a second server laid out like a live Xano instance
    (empty V2 tables of workspace 5, Xano's standard columns), against a plain COPY of the same
    rows; then 5.6 % of V1's transactions change, a sync runs, and the transaction domain is
    published again."""
    from benchmarks.publish_ratio import WS, _live_db, plain_copy
    from generator.spec import load_spec

    spec = load_spec(ROOT)
    live_server = dbmod.LocalServer(proj.parent / "live", settings={"synchronous_commit": "off"})
    admin = live_server.start()
    try:
        plain, live = _live_db(admin, "plain", spec), _live_db(admin, "xano", spec)
        t0 = time.perf_counter()
        rows = plain_copy(target, plain, spec)
        steps.append(Step("plain COPY of the local V2 rows into the live tables (converted, no "
                          "plan, no checks)", time.perf_counter() - t0, rows))
        py = [sys.executable, "-m", "generator"]
        pub = py + ["publish", "--target-dsn", live.conninfo, "--v2-workspace", str(WS)]
        t_full = step("full publish (empty live V2: identity, plan, batched writes, read-back)",
                      pub, rows)
        ratios["full publish / plain COPY (issue 30, <= 2.0)"] = t_full / steps[-2].seconds
        t_none = step("publish again, nothing changed (every table as the full publish left it:"
                      " none planned)", pub, 0)
        ratios["publish with nothing changed / full publish"] = t_none / t_full
        with dbmod.connect(target) as conn:
            rel = next(t.relation for t in V1_TABLES if t.name == "transaction")
            key = dict(one_percent_keys())["transaction"]
            moved = conn.execute(sql.SQL(
                "update {} set xdo = jsonb_set(xdo, array[{k}], to_jsonb(coalesce(xdo ->> {k}, "
                "'') || '+')) where id % 18 = 0 and jsonb_typeof(xdo) = 'object'").format(
                sql.Identifier("xano_v1", rel), k=sql.Literal(key))).rowcount
            total = conn.execute(sql.SQL("select count(*) from {}").format(
                sql.Identifier("xano_v1", rel))).fetchone()[0]
        step(f"sync after {moved / total:.1%} of V1 transactions changed", py + ["sync"])
        with dbmod.connect(live) as conn:
            before = int(conn.execute("select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)"
                                      " from pg_stat_user_tables").fetchone()[0])
        t_second = step("second publish of the transaction domain", pub + ["--select",
                                                                           "transaction"])
        with dbmod.connect(live) as conn:
            steps[-1].rows = int(conn.execute(
                "select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) from "
                "pg_stat_user_tables").fetchone()[0]) - before
        ratios["second publish of the transaction domain / full publish (issue 30, <= 0.10)"] = (
            t_second / t_full)
        ratios["V1 transactions changed / live rows written by the second publish"] = (
            f"{moved} / {steps[-1].rows}")
    finally:
        live_server.destroy()


def handwritten(proj: Path, env: dict, v2_rows: int, steps: list[Step]) -> float:
    """The hand-written floor: prologue, the two groups in two sessions at once, epilogue."""
    parts = handwritten_sections()
    files = {}
    for name, text in parts.items():
        files[name] = proj / f"handwritten_{name}.sql"
        files[name].write_text(text)
    psql = ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-f"]
    start = time.perf_counter()
    _, p1 = _run(psql + [str(files["prologue"])], env, proj)
    _, p2 = _run_parallel([psql + [str(files["a"])], psql + [str(files["b"])]], env, proj)
    _, p3 = _run(psql + [str(files["epilogue"])], env, proj)
    wall = time.perf_counter() - start
    steps.append(Step("hand-written SQL, the same 23 tables (no dbt; one pass per V1 table, "
                      "two sessions)", wall, v2_rows, max(p1, p2, p3)))
    return wall


def render(results: list[tuple[float, list[Step], dict]], server: str) -> str:
    scales = " ".join(f"--scale {scale:g}" for scale, _, _ in results)
    lines = ["# Benchmarks", "",
             f"Produced by `python benchmarks/run.py {scales} --write` "
             f"against {server} on {os.cpu_count()} cores; every number below is a measurement "
             "of that run. Peak memory is the client process (Python/dbt), not the server. "
             "The live Xano instance of the publish steps is a second PostgreSQL server on the "
             "same machine.", ""]
    for scale, steps, ratios in results:
        lines += [f"## scale {scale:g}", "", "| step | wall s | rows | rows/s | peak client MB |",
                  "|---|---:|---:|---:|---:|"]
        for s in steps:
            rate = f"{s.rows / s.seconds:,.0f}" if s.rows and s.seconds else ""
            lines.append(f"| {s.name} | {s.seconds:.2f} | "
                         f"{'' if s.rows is None else f'{s.rows:,}'} | {rate} | "
                         f"{'' if s.peak_mb is None else f'{s.peak_mb:,.0f}'} |")
        lines += ["", "| ratio (target) | measured |", "|---|---:|"]
        for k, v in ratios.items():
            lines.append(f"| {k} | {v:.2f} |" if isinstance(v, float) else f"| {k} | {v} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, action="append")
    ap.add_argument("--dsn")
    ap.add_argument("--write", action="store_true", help="write benchmarks/README.md")
    args = ap.parse_args()
    base = dbmod.resolve(args.dsn)
    with dbmod.connect(base) as conn:
        server = "PostgreSQL " + conn.execute("show server_version").fetchone()[0]
    results = []
    for scale in args.scale or [1.0]:
        steps, ratios = bench_scale(base, scale)
        results.append((scale, steps, ratios))
        print(render([(scale, steps, ratios)], server), flush=True)
    if args.write:
        (ROOT / "benchmarks" / "README.md").write_text(render(results, server) + "\n")


if __name__ == "__main__":
    main()
