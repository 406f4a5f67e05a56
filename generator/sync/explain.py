"""A stopped sync explains itself: one line per failing test with the figures and the way out.

dbt says "Got 1 result, configured to fail if != 0". What a person needs is what is wrong, by
how much, and which command fixes it; and which models were skipped because of it. The figures
come from the live tables and from the failing rows dbt stored in ``xano_audit``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from generator import catalog
from generator.config import AUDIT_SCHEMA, REJECT_FAIL_SHARE, V1_SCHEMA, V2_SCHEMA, percent
from generator.spec import Spec
from generator.sync.changes import deleted_in_v1


@dataclass(frozen=True)
class TestOutcome:
    """A test that did not pass, as dbt reported it."""

    name: str
    """dbt node name."""
    test: str
    """Generic test name (unique, xano_count_within_tolerance, ...) or the singular test's."""
    model: str
    """The model it tests ('' when unknown)."""
    column: str
    """The column it tests ('' for model-level tests)."""
    failures: int
    """Failing rows dbt counted."""
    status: str
    """fail or error."""
    relation: str
    """Table in xano_audit holding the failing rows ('' when not stored)."""
    kwargs: dict = field(default_factory=dict)
    """Test arguments (e.g. ``to`` of relationships)."""
    message: str = ""


@dataclass(frozen=True)
class Problem:
    """One explained failure."""

    v2_table: str
    test: str
    line: str


def _n(v: int | None) -> str:
    return "-" if v is None else f"{v:,}"


def _sample(conn: psycopg.Connection, relation: str, column: str | int = 0, k: int = 3) -> str:
    """A few values of the stored failing rows ('' when not available)."""
    if not relation or not catalog.exists(conn, AUDIT_SCHEMA, relation):
        return ""
    cur = conn.execute(sql.SQL("select * from {} limit {}").format(
        sql.Identifier(AUDIT_SCHEMA, relation), sql.Literal(k)))
    cols = [d.name for d in cur.description]
    idx = cols.index(column) if isinstance(column, str) and column in cols else 0
    values = [str(r[idx]) for r in cur if r[idx] is not None]
    return f" (e.g. {', '.join(values)})" if values else ""


def _stored(conn: psycopg.Connection, relation: str) -> list[dict]:
    if not relation or not catalog.exists(conn, AUDIT_SCHEMA, relation):
        return []
    cur = conn.execute(sql.SQL("select * from {} limit 5").format(
        sql.Identifier(AUDIT_SCHEMA, relation)))
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, r)) for r in cur]


def _count_line(conn: psycopg.Connection, spec: Spec, t: str) -> str:
    v1 = spec.v1(spec.table(t).v1_table)
    n_v1 = catalog.count(conn, V1_SCHEMA, v1.relation) or 0
    n_v2 = catalog.count(conn, V2_SCHEMA, t) or 0
    gone = deleted_in_v1(conn, v1)
    missing = conn.execute(sql.SQL(
        "select count(*) from {v} v where not exists (select 1 from {t} m where m.id = v.id)")
        .format(v=sql.Identifier(V1_SCHEMA, v1.relation), t=sql.Identifier(V2_SCHEMA, t))
    ).fetchone()[0]
    head = f"{t}: V2 has {_n(n_v2)} rows, V1 {_n(n_v1)}"
    if gone:
        return (f"{head} — {_n(gone)} V2 rows whose V1 row was deleted; sync --prune "
                "removes them")
    if missing:
        return f"{head} — {_n(missing)} V1 rows missing in V2; sync --full writes them"
    extra = n_v2 - n_v1
    return (f"{head} — {_n(extra)} rows only V2 has (never synced from V1, kept by design); "
            "delete them in V2 or raise the dbt var xano_count_tolerance")


def _line(conn: psycopg.Connection, spec: Spec, o: TestOutcome) -> str:
    t, col, n = o.model, o.column, o.failures
    where = f"{t}.{col}" if col else t
    stored = f"; failing rows in {AUDIT_SCHEMA}.{o.relation}" if o.relation else ""
    if o.status == "error":
        return f"{where}: test {o.test} could not run: {o.message[:200]}"
    if o.test == "xano_count_within_tolerance":
        return _count_line(conn, spec, t)
    if o.test == "xano_covers_v1_ids":
        return (f"{t}: {_n(n)} V1 ids missing in V2{_sample(conn, o.relation)}; sync --full "
                "writes them")
    if o.test == "xano_split_count_matches_grain":
        rows = _stored(conn, o.relation)
        fig = (f" ({_n(rows[0]['actual_rows'])} rows, the grain implies "
               f"{_n(rows[0]['expected_rows'])})" if rows else "")
        parent = spec.table(t).parent
        gone = deleted_in_v1(conn, spec.v1(spec.table(t).v1_table))
        fix = ("sync --prune removes the rows of deleted V1 rows" if gone
               else "sync --full rewrites it")
        return f"{t}: row count does not match its grain{fig}; {fix} (split of {parent})"
    if o.test == "unique":
        return (f"{where}: {_n(n)} duplicated value(s){_sample(conn, o.relation, col)}; remove "
                f"the duplicates in V2, then sync --full{stored}")
    if o.test == "not_null":
        return f"{where}: {_n(n)} NULL value(s) in a key column; sync --full rewrites{stored}"
    if o.test == "relationships":
        to = str(o.kwargs.get("to", "")).replace("ref('", "").replace("')", "")
        return (f"{where}: {_n(n)} value(s) point to no {to} row{_sample(conn, o.relation)}; "
                f"sync --full, or sync --prune when their V1 rows were deleted{stored}")
    if o.test == "xano_has_foreign_key":
        return (f"{where}: the foreign key to {spec.table(t).parent or '?'} is missing (a "
                "--full-refresh of the parent drops it); a plain sync restores it")
    if o.test.startswith("xano_reconcile__"):
        rows = _stored(conn, o.relation)
        eg = (f" (e.g. id {rows[0]['id']}: {', '.join(rows[0]['mismatched_columns'] or [])})"
              if rows else "")
        return (f"{t}: {_n(n)} row(s) differ from the transform of their V1 values{eg}; "
                "sync --full rewrites them")
    if o.test == "xano_accounting_balances":
        rows = _stored(conn, o.relation)
        eg = (f" (e.g. {rows[0]['v2_table']}.{rows[0]['v2_column']}: {_n(rows[0]['v1_values'])}"
              f" V1 values, {_n(rows[0]['v2_present'])} in V2, {_n(rows[0]['rejected'])} "
              "rejected)" if rows else "")
        return (f"{t}: {_n(n)} column(s) where V1 values ≠ V2 values + rejects{eg}; "
                "sync --full recomputes")
    if o.test == "xano_reject_share_below":
        rows = _stored(conn, o.relation)
        eg = "; ".join(f"{r['v2_table']}.{r['v2_column']}: {_n(r['rejected'])} of "
                       f"{_n(r['v1_values'])} values rejected" for r in rows[:3])
        return (f"{t}: {_n(n)} column(s) reject more than {percent(REJECT_FAIL_SHARE)} of their "
                f"V1 values ({eg}); see {AUDIT_SCHEMA}.xano_rejects, fix the V1 data or the "
                "spec's type")
    return f"{where}: test {o.test} failed on {_n(n)} row(s){stored}"


def explain(conn: psycopg.Connection, spec: Spec, outcomes: list[TestOutcome],
            skipped: list[str]) -> list[Problem]:
    """One line per failing test, then which skipped models each failure held back."""
    names = {t.name for t in spec.tables}
    out = [Problem(o.model if o.model in names else "", o.name, _line(conn, spec, o))
           for o in outcomes]
    failing = {o.model for o in outcomes}
    held: dict[str, list[str]] = {}
    for m in skipped:
        owner, cur = "", spec.table(m).parent if m in names else ""
        while cur:
            if cur in failing:
                owner = cur
            cur = spec.table(cur).parent if cur in names else ""
        held.setdefault(owner, []).append(m)
    for owner, models in held.items():
        why = f"{owner}'s failing test(s)" if owner else "a failing upstream test"
        out.append(Problem(owner, "skipped", f"not built because of {why}: "
                                             f"{', '.join(sorted(models))}"))
    return out
