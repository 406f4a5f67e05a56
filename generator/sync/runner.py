"""dbt in-process: the invocation, and a monitor that turns dbt's events into table states."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from generator import db
from generator.errors import BuildFailed
from generator.sync.audit import TableState, record_table
from generator.sync.explain import TestOutcome

OnEvent = Callable[[TableState], None]
"""Called with a table's state when its model starts and when it finishes."""


def preload() -> threading.Thread:
    """Import dbt in a background thread: the ~2 s of imports overlap with the sync's checks,
    which spend their time waiting on the database (dbt_invoke then finds the modules
    loaded, or waits for the import to finish)."""
    def load() -> None:
        try:
            import dbt.adapters.postgres  # noqa: F401
            import dbt.cli.main  # noqa: F401
        except Exception:  # dbt_invoke imports again and reports the error itself
            pass

    thread = threading.Thread(target=load, name="dbt-preload", daemon=True)
    thread.start()
    return thread


PARSE_CACHE_KEEP = 6
"""Saved parse states kept per target dir (one per database and vars: ~2 MB each)."""


def dbt_invoke(target: db.Target, root: Path, args: list[str],
               callbacks: Sequence[Callable] = ()) -> object:
    """Run dbt in-process with the profile env of ``target``; returns the dbtRunnerResult.

    dbt keeps one partial-parse state, valid for one database and one set of ``--vars``; a
    changed-only sync and a full sync pass different vars, so alternating between them (or
    between databases) parsed the whole project each time (~4 s at 500 columns). Each
    (database, vars) pair keeps its own saved state here, handed to dbt when it exists."""
    from dbt.cli.main import dbtRunner

    os.environ.update(target.dbt_env(root))
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    full = [*args, "--project-dir", str(root), "--profiles-dir", str(root / "profiles")]
    out = Path(os.environ.get("DBT_TARGET_PATH") or root / "target")
    vars_arg = args[args.index("--vars") + 1] if "--vars" in args else ""
    key = hashlib.sha1("\0".join([str(root.resolve()), target.params.get("dbname") or "",
                                  str(target.params.get("host") or ""),
                                  str(target.params.get("port") or ""), vars_arg]
                                 ).encode()).hexdigest()[:16]
    saved = out / "parse_cache" / f"{key}.msgpack"
    if saved.is_file():
        full += ["--partial-parse-file-path", str(saved)]
    before = _stamp(out / "partial_parse.msgpack")
    res = dbtRunner(callbacks=list(callbacks)).invoke(full)
    if _stamp(out / "partial_parse.msgpack") != before:
        _save_parse_state(out, saved)
    return res


def _stamp(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def _save_parse_state(out: Path, saved: Path) -> None:
    """Keep the state dbt just wrote as ``saved``; drop the oldest beyond PARSE_CACHE_KEEP.

    Called only when dbt wrote its state in this invocation: when nothing changed dbt skips
    parsing and leaves ``partial_parse.msgpack`` as the previous invocation wrote it, possibly
    for another database or other vars; copying that over ``saved`` made the next use of this
    key parse the whole project again."""
    state = out / "partial_parse.msgpack"
    try:
        if not state.is_file():
            return
        saved.parent.mkdir(parents=True, exist_ok=True)
        tmp = saved.with_name(f"{saved.name}.{os.getpid()}")
        shutil.copyfile(state, tmp)
        tmp.replace(saved)
        kept = sorted(saved.parent.glob("*.msgpack"), key=lambda p: p.stat().st_mtime,
                      reverse=True)
        for old in kept[PARSE_CACHE_KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:  # a cache: a read-only or full disk only costs a parse next time
        pass


def owning_table(test_name: str, tables: Sequence[str]) -> str | None:
    """The V2 table a dbt test belongs to: the longest table name inside the test's name.

    >>> owning_table("unique_user_roles_id", ["user", "user_roles"])
    'user_roles'
    """
    best = None
    for name in tables:
        if f"_{name}_" in f"_{test_name}_" and (best is None or len(name) > len(best)):
            best = name
    return best


class DbtMonitor:
    """Follows a dbt build: updates the table states, records them, reports each step.

    Passed to dbtRunner as a callback. A failure inside the monitor never breaks the build:
    it is kept in ``problems`` and reported after the build.
    """

    def __init__(self, conn: psycopg.Connection, run_id: int, states: dict[str, TableState],
                 on_event: OnEvent | None = None):
        self.conn, self.run_id, self.states, self.on_event = conn, run_id, states, on_event
        self.started: dict[str, float] = {}
        self.problems: list[str] = []

    def __call__(self, event) -> None:
        try:
            self.handle(event)
        except Exception as exc:  # a progress hiccup must never break the build
            self.problems.append(f"{type(exc).__name__}: {exc}")

    def handle(self, event) -> None:
        """Route one dbt event."""
        name = event.info.name
        if name == "NodeStart":
            self._started(event.data.node_info)
        elif name == "NodeFinished":
            self._finished(event.data.node_info, event.data.run_result)

    def _started(self, node) -> None:
        self.started[node.node_name] = time.monotonic()
        s = self.states.get(node.node_name)
        if s is not None:
            s.status = "running"
            self._emit(s)

    def _finished(self, node, res) -> None:
        if node.resource_type == "test":
            owner = owning_table(node.node_name, list(self.states))
            if owner:
                key = {"pass": "pass", "warn": "warn"}.get(res.status, "fail")
                self.states[owner].tests[key] += 1
            return
        s = self.states.get(node.node_name)
        if s is None:
            return
        from google.protobuf.json_format import MessageToDict

        s.status = res.status
        s.message = res.message or ""
        s.duration = time.monotonic() - self.started.get(node.node_name, time.monotonic())
        rows = MessageToDict(res.adapter_response).get("rows_affected")
        s.rows_affected = int(rows) if isinstance(rows, (int, float)) and rows >= 0 else None
        record_table(self.conn, self.run_id, s, None)  # the count comes at the end of the run
        self._emit(s)

    def _emit(self, s: TableState) -> None:
        if self.on_event:
            self.on_event(s)


@dataclass
class BuildReport:
    """What a failed build left behind: failing tests, skipped and failed models."""

    outcomes: list[TestOutcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errored: list[tuple[str, str]] = field(default_factory=list)
    """(model, first line of its error)."""


def _outcome(r) -> TestOutcome:
    node = r.node
    meta = getattr(node, "test_metadata", None)
    attached = getattr(node, "attached_node", None) or ""
    relation = getattr(node, "alias", "") or ""  # stored by keep_failing_rows or by dbt
    model = attached.rsplit(".", 1)[-1] if attached else ""
    if not model and node.name.startswith("xano_reconcile__"):
        model = node.name[len("xano_reconcile__"):]
    kwargs = dict(meta.kwargs) if meta else {}
    return TestOutcome(node.name, meta.name if meta else node.name, model,
                       getattr(node, "column_name", None) or "", int(r.failures or 0),
                       str(r.status), relation,
                       {k: v for k, v in kwargs.items() if isinstance(v, (str, int, float))},
                       (r.message or "").splitlines()[0] if r.message else "")


def report_of(res) -> BuildReport:
    """Failing tests, skipped and errored models of a dbtRunnerResult."""
    out = BuildReport()
    for r in getattr(res.result, "results", None) or []:
        kind, status = r.node.resource_type, str(r.status)
        if kind == "test" and status in ("fail", "error"):
            out.outcomes.append(_outcome(r))
        elif kind in ("model", "seed") and status == "skipped":
            out.skipped.append(r.node.name)
        elif kind in ("model", "seed") and status == "error":
            # dbt's first line names the model, the next one says what the database said
            lines = [ln.strip() for ln in (r.message or "").splitlines() if ln.strip()]
            out.errored.append((r.node.name, ": ".join(lines[:2])))
    return out


def keep_failing_rows(conn: psycopg.Connection, res) -> int:
    """Store the failing rows of this build's failing and warning tests, as dbt's
    store_failures would (``<audit schema>.<test name>``), and drop the tables of the tests
    that passed: a sync runs its tests without store_failures (one table per test and run
    costs more than the checks of a small resync) and keeps only what explains a failure.
    Returns the number of tables stored."""
    stored, passed = 0, []
    for r in getattr(res.result, "results", None) or []:
        node = r.node
        if node.resource_type != "test":  # unit tests have no failing rows
            continue
        rel = sql.Identifier(node.schema, node.alias)
        code = getattr(node, "compiled_code", None)
        if str(r.status) in ("fail", "warn") and code:
            with conn.transaction():
                conn.execute(sql.SQL("drop table if exists {}").format(rel))
                conn.execute(sql.SQL("create table {} as {}").format(rel, sql.SQL(code)))
            stored += 1
        elif str(r.status) == "pass":
            passed.append(rel)
    for i in range(0, len(passed), 200):
        conn.execute(sql.SQL("drop table if exists {}").format(sql.SQL(", ").join(
            passed[i:i + 200])))
    return stored


def build(target: db.Target, root: Path, args: list[str], monitor: DbtMonitor,
          env: dict[str, str] | None = None) -> None:
    """``dbt build`` with ``args`` and ``env`` set for its duration; raises BuildFailed (with
    its report) saying what failed.

    Tests run without store_failures; the failing rows of the tests that fail or warn are
    stored afterwards (keep_failing_rows)."""
    saved = {k: os.environ.get(k) for k in env or {}}
    os.environ.update(env or {})
    try:
        _build(target, root, args, monitor)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _build(target: db.Target, root: Path, args: list[str], monitor: DbtMonitor) -> None:
    # --no-write-json: the run is recorded in xano_audit (and dbt.log), not in a 3 MB
    # manifest.json + run_results.json rewritten on every sync (dbt docs writes its own)
    res = dbt_invoke(target, root, ["build", "--log-level", "none", "--log-level-file", "info",
                                    "--no-write-json", *args], callbacks=[monitor])
    if res.exception:
        raise BuildFailed(f"dbt error: {str(res.exception).splitlines()[0]}")
    keep_failing_rows(monitor.conn, res)
    if not res.success:
        report = report_of(res)
        states = monitor.states.values()
        bad = [s.name for s in states if s.status not in ("success", "pass", "unchanged")]
        raise BuildFailed(f"models not built: {', '.join(bad)}" if bad else
                          failure_summary(report), report)


def failure_summary(report: BuildReport) -> str:
    """The first line of a build whose models built but whose tests failed: how many, and what
    kind (a reject share above the limit is named as such, not as a V2 table's test).

    >>> o = TestOutcome("t", "xano_reject_share_below", "xano_accounting__user", "", 2, "fail",
    ...                 "r", {}, "")
    >>> failure_summary(BuildReport([o]))
    '1 error-severity test(s) failed: rejects above the limit in user (2 column(s))'
    """
    kinds: list[str] = []
    for o in report.outcomes:
        if o.test == "xano_reject_share_below":
            v1 = o.model.removeprefix("xano_accounting__")
            kinds.append(f"rejects above the limit in {v1} ({o.failures} column(s))")
        elif o.test == "xano_accounting_balances":
            kinds.append(f"value accounting off in {o.model.removeprefix('xano_accounting__')}")
        else:
            kinds.append(f"{o.test} on {o.model or o.name}")
    head = f"{len(report.outcomes)} error-severity test(s) failed"
    shown = list(dict.fromkeys(kinds))
    return head + (": " + "; ".join(shown[:5]) + ("; …" if len(shown) > 5 else "")
                   if shown else "")


def seed(conn: psycopg.Connection, root: Path) -> None:
    """Load every seed CSV into schema xano_spec as ``dbt seed --full-refresh`` would (same
    tables, same column types), with one COPY each: a sync needs them loaded, not the seconds
    dbt spends parsing the project and inserting through agate. Raises BuildFailed."""
    import csv

    from generator.config import SPEC_SCHEMA
    from generator.emit.models import seed_specs

    with conn.transaction():
        conn.execute(sql.SQL("create schema if not exists {}").format(
            sql.Identifier(SPEC_SCHEMA)))
        for s in seed_specs():
            path = root / "seeds" / f"{s['name']}.csv"
            rel = sql.Identifier(SPEC_SCHEMA, s["name"])
            conn.execute(sql.SQL("drop table if exists {} cascade").format(rel))
            if not path.exists():
                continue
            with path.open(newline="", encoding="utf-8") as fh:
                reader = csv.reader(fh)
                header = next(reader, [])
                types = s["config"]["column_types"]
                unknown = [h for h in header if h not in types]
                if unknown:
                    raise BuildFailed(f"seeds/{path.name}: column(s) {', '.join(unknown)} "
                                      "have no declared type (seeds/_seeds.yml)")
                conn.execute(sql.SQL("create table {} ({})").format(rel, sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(h), sql.SQL(types[h]))
                    for h in header)))
                with conn.cursor().copy(sql.SQL("copy {} from stdin").format(rel)) as cp:
                    for row in reader:  # a short row (a hand-appended line) ends in NULLs
                        row = row + [""] * (len(header) - len(row))
                        cp.write_row([v if v != "" else None for v in row[:len(header)]])
