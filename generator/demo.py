"""The main job from nothing: server, fixtures + V2 baseline, census, status, discover, generate,
sync, status.

Every step calls the library, exactly what its command calls; the step headers name the
command so a reader can repeat each one by hand.
"""

from __future__ import annotations

from pathlib import Path

from generator import db, fixtures, status, views
from generator.census import take_census
from generator.discover import discover
from generator.emit import generate_project
from generator.errors import StatusError
from generator.progress import sync_view, table_progress
from generator.registry import load_registry
from generator.spec import load_spec
from generator.sync.run import run_sync


def run_demo(target: db.Target, root: Path, scale: float, echo: views.Echo) -> None:
    """Run every step; raises the first step's error (a GeneratorError) if one fails."""
    fixtures.scaled_counts(scale)  # bad --scale fails before anything runs

    def step(label: str, args: str) -> None:
        echo(f"\n== {label}: python -m generator {args}".rstrip())

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
    step("census: every Xano table on the server", "census")
    spec = load_spec(root)
    with db.connect(target) as conn:
        rows, changed = take_census(root, spec, conn)
    for line in views.census_lines(rows, target.display(), changed):
        echo(line)
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
    step("status after the sync", "status")
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
