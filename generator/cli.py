"""Command line: ``python -m generator [--check] [--allow-unmapped] [COMMAND]``.

Only this module knows about click. Each command turns its arguments into a library call and
the library's result into output (through :mod:`generator.views`); every project error becomes
one line and exit 1, bad usage exit 2, never a traceback.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import click
import psycopg

from generator import db as dbmod
from generator import views
from generator.config import DEMO_SCALE, PUBLISH_BATCH_ROWS, TOLERANCE, percent
from generator.errors import GeneratorError, StatusError


class _Group(click.Group):
    """Turns project errors into one-line ClickExceptions (exit 1), never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GeneratorError as exc:
            raise click.ClickException(str(exc)) from None
        except psycopg.Error as exc:
            raise click.ClickException(f"database error: {dbmod.first_line(exc)}") from None
        except KeyboardInterrupt:
            raise click.ClickException("interrupted") from None


def _err(msg: str) -> None:
    click.echo(msg, err=True)


def _target(ctx: click.Context, start: bool = True) -> dbmod.Target:
    return dbmod.resolve(ctx.obj["dsn"], start=start)


def _v1_tables(names: list[str]) -> list:
    """Registered V1 tables by name (all when ``names`` is empty); unknown -> UsageError."""
    from generator.registry import load_registry

    registry = load_registry(dbmod.project_root())
    try:
        return registry.select(names)
    except KeyError as exc:
        raise click.UsageError(str(exc.args[0])) from None


@click.group(cls=_Group, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--dsn", envvar="XANO_DSN", default=None,
              help="libpq URL of the server (default: libpq env vars, else the embedded server).")
@click.option("--check", is_flag=True, help="Exit 1 if committed generated files are stale.")
@click.option("--allow-unmapped", is_flag=True,
              help="Preserve unclaimed keys in a jsonb column instead of failing.")
@click.pass_context
def cli(ctx: click.Context, dsn: str | None, check: bool, allow_unmapped: bool) -> None:
    """Xano V1 -> V2 sync: generate dbt models, sync, test, and show the result.

    Without a command: regenerate models/, seeds docs and the guide from seeds/ (the
    inventory and the mapping spec).
    """
    ctx.ensure_object(dict)
    ctx.obj["dsn"] = dsn
    if ctx.invoked_subcommand is not None:
        return
    from generator.emit import generate_project

    result = generate_project(dbmod.project_root(), allow_unmapped=allow_unmapped, check=check,
                              warn=_err)
    if not check:
        click.echo(f"generated {result.total} files ({len(result.changed)} changed) "
                   f"for {result.tables} V2 tables")
        return
    for path in result.stale:
        _err(f"stale: {path}")
    if result.stale:
        raise click.ClickException(f"{len(result.stale)} generated file(s) differ from the "
                                   "spec; run `python -m generator` and commit")
    click.echo(f"up to date: {result.total} generated files")


# -- db ----------------------------------------------------------------------------------------
@cli.group(cls=_Group)
def db() -> None:
    """Manage the database server (embedded by default)."""


def _version(target: dbmod.Target) -> str:
    with dbmod.connect(target) as conn:
        return conn.execute("show server_version").fetchone()[0]


@db.command("start")
@click.pass_context
def db_start(ctx: click.Context) -> None:
    """Start (or reuse) the embedded server; with --dsn/PGHOST just check the server."""
    target = _target(ctx)
    click.echo(f"running: PostgreSQL {_version(target)} at {target.display()}")


@db.command("stop")
def db_stop() -> None:
    """Stop the embedded server."""
    click.echo("stopped" if dbmod.default_server().stop() else "not running")


@db.command("status")
@click.pass_context
def db_status(ctx: click.Context) -> None:
    """Say which server is used and whether it answers (exit 1 when it does not)."""
    try:
        target = _target(ctx, start=False)
    except GeneratorError as exc:
        click.echo(f"embedded server: stopped (data dir {dbmod.default_server().data_dir})")
        raise click.ClickException(str(exc)) from None
    kind = "embedded" if target.embedded else "external"
    click.echo(f"{kind} server: running, PostgreSQL {_version(target)} at {target.display()}")


@db.command("url")
@click.pass_context
def db_url(ctx: click.Context) -> None:
    """Print a libpq URI: psql "$(python -m generator db url)"."""
    click.echo(_target(ctx).uri())


@db.command("env")
@click.pass_context
def db_env(ctx: click.Context) -> None:
    """Print export lines: eval "$(python -m generator db env)" then plain dbt works."""
    for key, value in _target(ctx).dbt_env(dbmod.project_root()).items():
        if key != "PGPASSWORD":  # secrets are never printed; use ~/.pgpass or PGPASSFILE
            click.echo(f"export {key}={shlex.quote(value)}")


# -- fixtures / discover -------------------------------------------------------------------------
@cli.command()
@click.option("--scale", type=float, default=1.0, show_default=True,
              help="Multiplier on production's row counts (0.01 for tests, 20 for benchmarks).")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed.")
@click.option("--v2-baseline", is_flag=True,
              help="Also lay down the V2 state production has today (gaps, V2-only rows).")
@click.option("--hostile", is_flag=True, help="Add hostile keys and values.")
@click.pass_context
def fixtures(ctx: click.Context, scale: float, seed: int, v2_baseline: bool,
             hostile: bool) -> None:
    """Create or replace the synthetic V1 workspace in schema xano_v1."""
    from generator import fixtures as fx
    from generator.progress import table_progress

    fx.scaled_counts(scale)  # a bad --scale fails before the server is touched
    target = _target(ctx)
    with table_progress() as progress:
        written, baseline = fx.create_workspace(target, dbmod.project_root(), scale=scale,
                                                seed=seed, hostile=hostile,
                                                v2_baseline=v2_baseline, progress=progress)
    for line in views.fixture_lines(written, baseline):
        click.echo(line)


@cli.command()
@click.option("--table", "tables", multiple=True, metavar="NAME",
              help="Scan only this V1 table (repeatable); default: every registered table.")
@click.option("--jobs", type=click.IntRange(1, 16), default=2, show_default=True,
              help="Connections that scan parts of a table at the same time (server cores).")
@click.pass_context
def discover(ctx: click.Context, tables: tuple[str, ...], jobs: int) -> None:
    """Profile every key of the V1 tables and write seeds/xano_v1_*_inventory.csv."""
    from generator.discover import discover as run_discover
    from generator.progress import table_progress

    chosen = _v1_tables(list(tables))
    target = _target(ctx)
    with table_progress() as progress:
        result = run_discover(target, dbmod.project_root(), chosen, jobs=jobs, progress=progress)
    for line in views.discovery_lines(result):
        click.echo(line)
    if result.missing:
        raise click.ClickException("V1 table(s) missing on the server, kept their previous "
                                   "inventory: " + ", ".join(result.missing))


@cli.command()
@click.option("--source-dsn", envvar="XANO_SOURCE_DSN", default=None, metavar="URL",
              help="libpq URL of a live Xano database (read only); default: the local server.")
@click.option("--v2-workspace", envvar="XANO_V2_WORKSPACE", type=click.IntRange(min=1),
              default=None, help="Xano workspace id of V2: its tables are matched to the spec.")
@click.pass_context
def census(ctx: click.Context, source_dsn: str | None, v2_workspace: int | None) -> None:
    """List every Xano table on the server (catalog only) into seeds/xano_census.csv."""
    from generator import census as censusmod
    from generator.spec import load_spec

    root = dbmod.project_root()
    spec = load_spec(root)
    if source_dsn:
        from generator.mirror import connect_source, source_label

        where = source_label(source_dsn)
        conn = connect_source(source_dsn)
    else:
        target = _target(ctx)
        where = target.display()
        conn = dbmod.connect(target)
    with conn:
        rows, changed = censusmod.take_census(root, spec, conn, v2_workspace)
    for line in views.census_lines(rows, where, changed):
        click.echo(line)


@cli.group(cls=_Group)
def spec() -> None:
    """Work on the mapping spec (seeds/xano_v2_*.csv)."""


@spec.command("draft")
@click.option("--table", "v1", required=True, metavar="V1NAME",
              help="Registered V1 table whose unclaimed keys get spec rows.")
@click.option("--v2-table", default=None, metavar="NAME",
              help="V2 table to draft into (default: the V1 table's main V2 table); a new "
                   "name adds the table.")
def spec_draft(v1: str, v2_table: str | None) -> None:
    """Propose spec rows for every unclaimed key of a V1 table, from the inventory.

    Appends to seeds/xano_v2_tables.csv and seeds/xano_v2_columns.csv (existing rows are
    never rewritten) and prints what it added; review the diff. A second run adds nothing.
    """
    from generator import draft as draftmod
    from generator.inventory import read_inventory
    from generator.spec import load_spec

    root = dbmod.project_root()
    result = draftmod.draft(load_spec(root), read_inventory(root), v1, v2_table)
    written = draftmod.append(root, result)
    for line in views.draft_lines(result, written):
        click.echo(line)


@spec.command("evidence")
@click.pass_context
def spec_evidence(ctx: click.Context) -> None:
    """Check every mapped column against the live V2's own data (after `mirror
    --v2-workspace N` and a sync): the share of records present on both sides whose live
    value equals the transformed V1 value; propose V1 keys for contradicted columns and for
    live columns the spec does not fill.

    Writes seeds/xano_mapping_evidence.csv, prints a summary per V2 table, exits 1 when a
    mapped column is contradicted. Sensitive columns are compared by hash; no value is printed.
    """
    from generator import evidence
    from generator.inventory import read_inventory
    from generator.live import live_tables
    from generator.spec import load_spec

    root = dbmod.project_root()
    spec = load_spec(root)
    with dbmod.connect(_target(ctx)) as conn:
        rows = evidence.gather(conn, spec, read_inventory(root), live_tables(spec, 0))
    if not rows:
        raise click.ClickException("no live V2 copy to compare with: run `python -m generator "
                                   "mirror --v2-workspace N` and `python -m generator sync` "
                                   "first")
    evidence.write(root, rows)
    for line in views.evidence_lines(rows):
        click.echo(line)
    bad = [e for e in rows if e.verdict == "contradicted"]
    if bad:
        raise click.ClickException(
            f"{len(bad)} mapped column(s) contradicted by the live V2: "
            + ", ".join(f"{e.v2_table}.{e.v2_column}" for e in bad))


# -- sync / status / demo ------------------------------------------------------------------------
@cli.command()
@click.option("--select", "select", default=None, metavar="DOMAIN|TABLE",
              help="Sync one domain (user, agent, ...), or the V1 table behind one V2 table "
                   "with all its V2 tables (they share one change detection).")
@click.option("--full", is_flag=True,
              help="Re-check every V1 row, not only those changed since the last sync "
                   "(repairs V2 rows edited outside the sync).")
@click.option("--prune", is_flag=True,
              help="Also delete V2 rows whose V1 row was deleted (before the tests run).")
@click.option("--drop-removed-columns", is_flag=True,
              help="Drop V2 columns the spec no longer has (default: left in place); their "
                   "values are kept in xano_audit.shape_backup.")
@click.pass_context
def sync(ctx: click.Context, select: str | None, full: bool, prune: bool,
         drop_removed_columns: bool) -> None:
    """Bring V2 up to V1: preflight, V2 shape, dbt build (models + tests), audit, summary."""
    from generator.progress import sync_view
    from generator.sync.run import SyncOptions, run_sync

    target = _target(ctx)
    options = SyncOptions(select=select, full=full, prune=prune,
                          drop_removed=drop_removed_columns)
    with sync_view() as on_event:
        result = run_sync(target, dbmod.project_root(), options, on_event=on_event)
    views.print_run(result.run_id, result.states)
    for note in result.notes:
        click.echo(note)
    click.echo(views.RUN_FOOTER)


@cli.command(help="Counts of every V1 and V2 table, gaps and last sync; exit 1 if a main "
                  f"table is off by more than {percent(TOLERANCE)}.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    from generator import status as statusmod

    rows = statusmod.status_rows(_target(ctx), dbmod.project_root())
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
    else:
        views.print_status(rows)
    bad = statusmod.outside_tolerance(rows)
    if bad:
        raise StatusError(views.tolerance_message(bad))


@cli.command()
@click.option("--scale", type=float, default=DEMO_SCALE, show_default=True,
              help="Share of production's row counts of 2026-02-04 (1 = 335 users, 37,041 "
                   "agents, 55,023 transactions, 702,072 participants, ...: about 1M V1 rows).")
@click.pass_context
def demo(ctx: click.Context, scale: float) -> None:
    """From nothing: server, fixtures + V2 baseline, census, status, discover, generate, sync."""
    from generator.demo import run_demo

    run_demo(_target(ctx), dbmod.project_root(), scale, click.echo)


# -- mirror / dashboard --------------------------------------------------------------------------
@cli.command()
@click.option("--source-dsn", envvar="XANO_SOURCE_DSN", required=True, metavar="URL",
              help="libpq URL of the Xano database (Direct Database Connector; the read-only "
                   "credentials suffice). Better passed as XANO_SOURCE_DSN, with the password "
                   "in ~/.pgpass or PGPASSFILE, so it never shows in `ps`.")
@click.option("--tables", default=None, metavar="NAME,...",
              help="Comma-separated V1 tables (default: every registered table).")
@click.option("--workspace", type=click.IntRange(min=1), default=1, show_default=True,
              help="Xano workspace id: source tables are public.mvpw<workspace>_<table id>.")
@click.option("--v2-workspace", envvar="XANO_V2_WORKSPACE", type=click.IntRange(min=1),
              default=None, metavar="N",
              help="Also copy the live V2 tables of this workspace (public.mvpw<N>_<V2 id>, "
                   "or the spec's live_relation) into xano_live, exactly as they are; status "
                   "and the dashboard then show live V2 counts and identity figures. Env "
                   "XANO_V2_WORKSPACE.")
@click.option("--v2-dsn", envvar="XANO_TARGET_DSN", default=None, metavar="URL",
              help="Where the live V2 tables are read when V2 is another database than V1 "
                   "(default: XANO_TARGET_DSN, the database publish writes; else the source). "
                   "Read in a read-only transaction.")
@click.option("--v2-only", is_flag=True,
              help="Copy only the live V2 tables (V1 is mirrored already).")
@click.pass_context
def mirror(ctx: click.Context, source_dsn: str, tables: str | None, workspace: int,
           v2_workspace: int | None, v2_dsn: str | None, v2_only: bool) -> None:
    """Copy V1 tables from a live Xano database into xano_v1 of the local mirror.

    Never writes to the source: it reads in one read-only, repeatable-read transaction (a
    consistent snapshot of all tables). Each table is verified (rows and checksum) and swapped
    in atomically; a failed or interrupted mirror leaves the previous copy intact. With
    --v2-workspace the live V2 tables of the chosen V1 tables are copied too.
    """
    from dataclasses import replace

    from generator import mirror as mirrormod
    from generator.live import live_tables
    from generator.progress import bytes_progress
    from generator.spec import load_spec

    names = [t.strip() for t in (tables or "").split(",") if t.strip()]
    chosen = [replace(t, workspace=workspace) for t in _v1_tables(names)]
    if v2_only and v2_workspace is None:
        raise click.UsageError("--v2-only needs --v2-workspace (or XANO_V2_WORKSPACE)")
    live = None
    if v2_workspace is not None:
        spec = load_spec(dbmod.project_root())
        v1_names = {t.name for t in chosen}
        live = live_tables(spec, v2_workspace,
                           [t for t in spec.tables if t.v1_table in v1_names])
    mirrormod.source_label(source_dsn)  # a bad DSN fails before the server starts
    if v2_dsn:
        mirrormod.source_label(v2_dsn, "--v2-dsn")
    target = _target(ctx)
    with bytes_progress() as progress:
        result = mirrormod.mirror(target, source_dsn, [] if v2_only else chosen,
                                  on_progress=progress, live=live, v2_workspace=v2_workspace,
                                  v2_dsn=v2_dsn)
    views.print_mirror(result, mirrormod.source_label(source_dsn))


@cli.command()
@click.option("--target-dsn", envvar="XANO_TARGET_DSN", required=True, metavar="URL",
              help="libpq URL of the live Xano database with credentials that may write the V2 "
                   "tables. Better passed as XANO_TARGET_DSN, with the password in ~/.pgpass "
                   "or PGPASSFILE, so it never shows in `ps`.")
@click.option("--v2-workspace", envvar="XANO_V2_WORKSPACE", type=click.IntRange(min=1),
              required=True, metavar="N",
              help="V2 workspace id: live tables are public.mvpw<N>_<V2 id> unless the spec "
                   "names another relation. Env XANO_V2_WORKSPACE.")
@click.option("--select", "select", default=None, metavar="DOMAIN|TABLE,...",
              help="Publish only these domains / V2 tables (comma-separated).")
@click.option("--dry-run", is_flag=True,
              help="Print the plan per table with example diffs (secrets masked); write nothing.")
@click.option("--overwrite", is_flag=True,
              help="Write V1's value over rows edited or deleted in V2 since the last publish "
                   "(otherwise they are kept and reported as conflicts).")
@click.option("--prune", is_flag=True,
              help="Delete live rows this tool published whose V1 row is gone (never rows "
                   "only the live V2 has).")
@click.option("--dedupe", is_flag=True,
              help="Delete extra live rows of a parent (several split rows for one parent) "
                   "that hold the same content as the row kept; recorded in the audit.")
@click.option("--force", is_flag=True,
              help="Publish although the last sync failed or an error-level test failed.")
@click.option("--atomic", is_flag=True,
              help="One live transaction for the whole publish (all or nothing); app writes to "
                   "the rows it touches wait until it ends. Default: one per batch.")
@click.option("--full", is_flag=True,
              help="Plan every table. By default a table is left unplanned when its local "
                   "rows, its live rows, its record and those of every table it reads are as a "
                   "publish with the same options left them, all written (its figures stand).")
@click.option("--batch-rows", type=click.IntRange(1, 1_000_000), default=PUBLISH_BATCH_ROWS,
              show_default=True,
              help="Rows written per live transaction: an app write to one of them waits at "
                   "most one batch.")
@click.pass_context
def publish(ctx: click.Context, target_dsn: str, v2_workspace: int, select: str | None,
            dry_run: bool, overwrite: bool, prune: bool, dedupe: bool, force: bool,
            atomic: bool, batch_rows: int, full: bool) -> None:
    """Write the local V2 into the live V2 tables: only rows that differ, matched by identity.

    A main record is the live record holding its natural key, under whatever id V2 gave it,
    paired once and remembered (xano_audit.identity); a record V2 lacks is inserted under its
    V1 id, or a fresh id when another live record holds that one; an undecided same-id record
    is held for seeds/xano_identity_decisions.csv. Every reference is written as the live id of
    the record it names. A split row matches on its parent FK and keeps the live table's own
    id; child rows match per parent on content. Rows only the live
    V2 has, duplicates and orphans are kept and counted; a row edited in V2 since the last
    publish is a conflict, kept. Writes go in short batches, each row only if the app did not
    change it meanwhile; what each write stored comes back and is checked. The run is recorded
    in xano_audit.publish_runs.
    """
    from generator.publish.run import PublishOptions, check_options
    from generator.publish.run import publish as run_publish

    options = PublishOptions(target_dsn, v2_workspace, select=select, dry_run=dry_run,
                             overwrite=overwrite, prune=prune, dedupe=dedupe, force=force,
                             atomic=atomic, batch_rows=batch_rows, full=full)
    check_options(dbmod.project_root(), options)  # bad input fails before a server starts
    result = run_publish(_target(ctx), dbmod.project_root(), options)
    views.print_publish(result)


@cli.command("check-refs")
@click.option("--target-dsn", envvar="XANO_TARGET_DSN", required=True, metavar="URL",
              help="libpq URL of the live Xano database (read only here). Env XANO_TARGET_DSN.")
@click.option("--v2-workspace", envvar="XANO_V2_WORKSPACE", type=click.IntRange(min=1),
              required=True, metavar="N", help="V2 workspace id. Env XANO_V2_WORKSPACE.")
@click.option("--select", "select", default=None, metavar="DOMAIN|TABLE,...",
              help="Check only these domains / V2 tables (comma-separated).")
@click.pass_context
def check_refs(ctx: click.Context, target_dsn: str, v2_workspace: int,
               select: str | None) -> None:
    """Prove every reference of a published live row names the same entity as in V1.

    Judged by natural key (a reference inside a key by the key of the record it names), not
    by the identity map publish used; rows the app edited since are the app's and left out.
    Exit 1 when a reference names no live record or another entity.
    """
    from generator.publish import refcheck
    from generator.publish.run import PublishOptions, check_options

    check_options(dbmod.project_root(), PublishOptions(target_dsn, v2_workspace, select=select))
    results = refcheck.run(_target(ctx), dbmod.project_root(), target_dsn, v2_workspace, select)
    views.print_refcheck(results)
    if any(r.failed for r in results):
        raise click.exceptions.Exit(1)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535))
@click.option("--out", type=click.Path(dir_okay=False, writable=True),
              help="Write one self-contained HTML file instead of serving.")
@click.pass_context
def dashboard(ctx: click.Context, host: str, port: int, out: str | None) -> None:
    """Trust dashboard: live web app (127.0.0.1:8765) or a self-contained --out report.html."""
    from generator.dashboard import app

    target = _target(ctx)
    root = dbmod.project_root()
    if out:
        Path(out).write_text(app.render_report(target, root), encoding="utf-8")
        click.echo(f"wrote {out}")
        return
    click.echo(f"dashboard on http://{host}:{port}/ (Ctrl-C to stop)")
    app.serve(target, root, host, port)


def main() -> None:
    """Entry point for ``python -m generator``."""
    try:
        cli(prog_name="python -m generator")
    except GeneratorError as exc:  # raised outside a group invoke (should not happen)
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
