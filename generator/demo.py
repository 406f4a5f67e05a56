"""The main job from nothing: server, fixtures (V1) + the live V2 baseline (workspace 5, laid
out like the owner's), census, mirror of the live V2, status, discover, generate, sync,
publish --dry-run, publish, check-refs, status.

The demo's "live Xano instance" is the demo database itself: V1 in the local mirror's
``xano_v1``, the live V2 workspace in ``public.mvpw5_<V2 id>``, read by ``mirror`` and written by
``publish`` through their DSN options, as a real instance would be.

Every step calls the library, exactly what its command calls; the step headers name the
command so a reader can repeat each one by hand.
"""

from __future__ import annotations

from pathlib import Path

from generator import db, fixtures, status, views
from generator.baseline import DEFAULT_WORKSPACE
from generator.census import take_census
from generator.discover import discover
from generator.emit import generate_project
from generator.errors import PublishError, StatusError
from generator.live import live_tables
from generator.mirror import mirror
from generator.progress import bytes_progress, sync_view, table_progress
from generator.publish import refcheck
from generator.publish.run import PublishOptions, publish
from generator.registry import load_registry
from generator.spec import load_spec
from generator.sync.run import run_sync


def run_demo(target: db.Target, root: Path, scale: float, echo: views.Echo) -> None:
    """Run every step; raises the first step's error (a GeneratorError) if one fails."""
    fixtures.scaled_counts(scale)  # bad --scale fails before anything runs

    def step(label: str, args: str) -> None:
        echo(f"\n== {label}: python -m generator {args}".rstrip())

    counts = fixtures.scaled_counts(scale)
    echo(f"demo at scale {scale:g} of production's counts of 2026-02-04: "
         + ", ".join(f"{counts[t]:,} {t}" for t in ("user", "agent", "transaction",
                                                     "participant", "network",
                                                     "participant_paid")))
    step("db start", "db start")
    with db.connect(target) as conn:
        version = conn.execute("show server_version").fetchone()[0]
    echo(f"running: PostgreSQL {version} at {target.display()}")
    step("fixtures with the production-like V2 baseline",
         f"fixtures --scale {scale} --v2-baseline")
    with table_progress() as progress:
        written, baseline = fixtures.create_workspace(target, root, scale=scale,
                                                      v2_baseline=True, progress=progress)
    for line in views.fixture_lines(written, baseline):
        echo(line)
    ws = DEFAULT_WORKSPACE
    step("census: every Xano table on the server", f"census --v2-workspace {ws}")
    spec = load_spec(root)
    with db.connect(target) as conn:
        rows, changed = take_census(root, spec, conn, ws)
    for line in views.census_lines(rows, target.display(), changed):
        echo(line)
    url = target.conninfo  # in process only: never printed
    step("mirror the live V2 (the baseline the app reads)",
         f"mirror --source-dsn <this server> --v2-workspace {ws} --v2-only")
    live = live_tables(spec, ws)
    with bytes_progress() as progress:
        result = mirror(target, url, [], on_progress=progress, live=live, v2_workspace=ws)
    echo(f"mirror run {result.run_id}: {len(result.tables)} live V2 table(s) copied into "
         "xano_live and verified")
    for note in result.notes:
        echo(f"note: {note}")
    step("status before the sync (the gaps)", "status")
    _status(target, root, echo, expect_gaps=True)
    step("discover the V1 key inventory", "discover")
    with table_progress() as progress:
        found = discover(target, root, list(load_registry(root).tables),
                         progress=progress)
    for line in views.discovery_lines(found):
        echo(line)
    step("generate the dbt models", "")
    result = generate_project(root, warn=echo)
    echo(f"generated {result.total} files ({len(result.changed)} changed) "
         f"for {result.tables} V2 tables")
    step("sync", "sync")
    with sync_view() as on_event:
        result = run_sync(target, root, on_event=on_event)
    views.print_run(result.run_id, result.states)
    for note in result.notes:
        echo(note)
    echo(views.RUN_FOOTER)
    step("evidence: the live V2's own data checks every mapped column", "spec evidence")
    from generator import evidence
    from generator.inventory import read_inventory

    with db.connect(target) as conn:
        checked = evidence.gather(conn, spec, read_inventory(root), live)
    for line in views.evidence_lines(checked):
        echo(line)
    bad = [e for e in checked if e.verdict == "contradicted"]
    if bad:  # `spec evidence` exits 1 here; the demo shows it and goes on
        echo(f"note: {len(bad)} mapped column(s) contradicted by the live V2: "
             + ", ".join(f"{e.v2_table}.{e.v2_column}" for e in bad)
             + " (`spec evidence` writes seeds/xano_mapping_evidence.csv and exits 1)")
    for dry in (True, False):
        step("publish into the live V2" + (" (dry run: the plan)" if dry else ""),
             f"publish --target-dsn <this server> --v2-workspace {ws}"
             + (" --dry-run" if dry else ""))
        views.print_publish(publish(target, root, PublishOptions(url, ws, dry_run=dry)))
    step("the live references: each names the same entity as in V1 (by natural key)",
         f"check-refs --target-dsn <this server> --v2-workspace {ws}")
    refs = refcheck.run(target, root, url, ws, None)
    views.print_refcheck(refs)
    if any(r.failed for r in refs):
        raise PublishError("check-refs: a live reference names another entity than V1's")
    step("status after the sync and the publish", "status")
    _status(target, root, echo, expect_gaps=False)
    echo("\nDashboard: python -m generator dashboard  (http://127.0.0.1:8765/), or "
         "python -m generator dashboard --out report.html")


def _status(target: db.Target, root: Path, echo: views.Echo, expect_gaps: bool) -> None:
    rows = status.status_rows(target, root)
    views.print_status(rows)
    bad = status.outside_tolerance(rows)
    if bad and expect_gaps:
        echo(f"(expected before the sync) {views.tolerance_message(bad)}")
    elif bad:
        raise StatusError(views.tolerance_message(bad))
