"""Command line: ``python -m generator [--check] [--allow-unmapped] [COMMAND]``.

Without a command it regenerates the dbt models from the inventory and the mapping spec.
Only this module knows about click; every user mistake becomes one line and a non-zero exit.
"""

from __future__ import annotations

import contextlib
import shlex
import sys

import click
import psycopg

from generator import db as dbmod
from generator.errors import GeneratorError


class _Group(click.Group):
    """Turns project errors into one-line ClickExceptions (exit 1), never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GeneratorError as exc:
            raise click.ClickException(str(exc)) from None
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise click.ClickException(f"database error: {first}") from None
        except KeyboardInterrupt:
            raise click.ClickException("interrupted") from None


def _err(msg: str) -> None:
    click.echo(msg, err=True)


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
    if ctx.invoked_subcommand is None:
        from generator.emit import generate_project

        root = dbmod.project_root()
        result = generate_project(root, allow_unmapped=allow_unmapped, check=check,
                                  warn=_err)
        if check:
            if result.stale:
                for path in result.stale:
                    _err(f"stale: {path}")
                raise click.ClickException(
                    f"{len(result.stale)} generated file(s) differ from the spec; "
                    "run `python -m generator` and commit")
            click.echo(f"up to date: {result.total} generated files")
        else:
            click.echo(f"generated {result.total} files ({len(result.changed)} changed) "
                       f"for {result.tables} V2 tables")


# -- db ----------------------------------------------------------------------------------------
@cli.group(cls=_Group)
def db() -> None:
    """Manage the database server (embedded by default)."""


@db.command("start")
@click.pass_context
def db_start(ctx: click.Context) -> None:
    """Start (or reuse) the embedded server; with --dsn/PGHOST just check the server."""
    target = dbmod.resolve(ctx.obj["dsn"])
    with dbmod.connect(target) as conn:
        version = conn.execute("show server_version").fetchone()[0]
    click.echo(f"running: PostgreSQL {version} at {target.display()}")


@db.command("stop")
def db_stop() -> None:
    """Stop the embedded server."""
    server = dbmod.default_server()
    click.echo("stopped" if server.stop() else "not running")


@db.command("status")
@click.pass_context
def db_status(ctx: click.Context) -> None:
    """Say which server is used and whether it answers (exit 1 when it does not)."""
    try:
        target = dbmod.resolve(ctx.obj["dsn"], start=False)
    except GeneratorError as exc:
        server = dbmod.default_server()
        click.echo(f"embedded server: stopped (data dir {server.data_dir})")
        raise click.ClickException(str(exc)) from None
    with dbmod.connect(target) as conn:
        version = conn.execute("show server_version").fetchone()[0]
    kind = "embedded" if target.embedded else "external"
    click.echo(f"{kind} server: running, PostgreSQL {version} at {target.display()}")


@db.command("url")
@click.pass_context
def db_url(ctx: click.Context) -> None:
    """Print a libpq URI: psql "$(python -m generator db url)"."""
    click.echo(dbmod.resolve(ctx.obj["dsn"]).uri())


@db.command("env")
@click.pass_context
def db_env(ctx: click.Context) -> None:
    """Print export lines: eval "$(python -m generator db env)" then plain dbt works."""
    target = dbmod.resolve(ctx.obj["dsn"])
    for key, value in target.dbt_env(dbmod.project_root()).items():
        if key == "PGPASSWORD":
            continue  # secrets are never printed; use ~/.pgpass or PGPASSFILE
        click.echo(f"export {key}={shlex.quote(value)}")


# -- fixtures ----------------------------------------------------------------------------------
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

    counts = fx.scaled_counts(scale)  # validates before touching the server
    target = dbmod.resolve(ctx.obj["dsn"])
    with dbmod.connect(target) as conn, table_progress() as progress:
        written = fx.build_workspace(conn, scale=scale, seed=seed, progress=progress)
        if hostile:
            from generator.fixtures.hostile import add_hostile

            written.update(add_hostile(conn, counts))
    for name, n in written.items():
        click.echo(f"xano_v1 {name:<18} {n:>10,} rows")
    if v2_baseline:
        from generator.baseline import lay_baseline

        summary = lay_baseline(target, dbmod.project_root(), scale=scale)
        for line in summary:
            click.echo(line)


# -- discover ----------------------------------------------------------------------------------
@cli.command()
@click.option("--table", "tables", multiple=True, metavar="NAME",
              help="Scan only this V1 table (repeatable); default: every registered table.")
@click.option("--jobs", type=click.IntRange(1, 16), default=2, show_default=True,
              help="Connections that scan parts of a table at the same time (server cores).")
@click.pass_context
def discover(ctx: click.Context, tables: tuple[str, ...], jobs: int) -> None:
    """Profile every key of the V1 tables and write seeds/xano_v1_*_inventory.csv."""
    from generator import discover as disc
    from generator import inventory as inv
    from generator.progress import table_progress
    from generator.registry import V1_TABLES, v1_table

    try:
        chosen = [v1_table(t) for t in tables] if tables else list(V1_TABLES)
    except KeyError as exc:
        raise click.UsageError(str(exc.args[0])) from None
    root = dbmod.project_root()
    patterns = disc.load_sensitive_patterns(root)
    old_keys, old_tables = disc.read_committed(root)
    scanned = {t.name for t in chosen}
    keys = [k for k in _profiles_from_rows(old_keys) if k.v1_table not in scanned]
    table_rows = _tables_from_rows([r for r in old_tables if r["v1_table"] not in scanned])
    missing: list[str] = []
    changes = []
    target = dbmod.resolve(ctx.obj["dsn"])
    with contextlib.ExitStack() as stack:
        conn = stack.enter_context(dbmod.connect(target))
        helpers = [stack.enter_context(dbmod.connect(target)) for _ in range(jobs - 1)]
        progress = stack.enter_context(table_progress())
        for t in chosen:
            if not disc.table_exists(conn, t):
                missing.append(f"{t.name} ({t.relation})")
                keys += [k for k in _profiles_from_rows(old_keys) if k.v1_table == t.name]
                table_rows += _tables_from_rows([r for r in old_tables
                                                 if r["v1_table"] == t.name])
                continue
            bar = progress(t.name, 1, 0)
            state = {"done": 0}

            def advance(done: int, total: int, bar=bar, state=state) -> None:
                bar(done / total - state["done"])
                state["done"] = done / total

            result = disc.scan_table(conn, t, patterns, on_progress=advance,
                                     helpers=helpers)
            keys += result.keys
            table_rows.append(result.table)
            changes.append((result.table, disc.compare(old_keys, result.keys, t.name)))
    disc.write_inventory(root, keys, table_rows)
    for tp, ch in changes:
        line = (f"{tp.v1_table:<17} {tp.rows:>10,} rows  {ch.keys:>3} keys  "
                f"{len(ch.new)} new, {len(ch.gone)} gone, {len(ch.retyped)} retyped")
        if tp.xdo_null or tp.xdo_not_object:
            line += f"  (xdo null: {tp.xdo_null}, not an object: {tp.xdo_not_object})"
        click.echo(line)
        for k in ch.new[:20]:
            click.echo(f"  + {k}")
        for k in ch.gone[:20]:
            click.echo(f"  - {k}")
        for k, a, b in ch.retyped[:20]:
            click.echo(f"  ~ {k}: {a} -> {b}")
    click.echo(f"wrote {inv.INVENTORY_FILE} ({len(keys)} key paths) and {inv.TABLES_FILE}")
    if missing:
        raise click.ClickException("V1 table(s) missing on the server, kept their previous "
                                   "inventory: " + ", ".join(missing))


# -- sync / status / demo ------------------------------------------------------------------------
@cli.command()
@click.option("--select", "select", default=None, metavar="DOMAIN|TABLE",
              help="Sync one domain (user, agent, ...) or one V2 table (table+ adds its splits).")
@click.option("--full", is_flag=True,
              help="Re-check every V1 row, not only those changed since the last sync "
                   "(repairs V2 rows edited outside the sync).")
@click.option("--prune", is_flag=True, help="Also delete V2 rows whose V1 row was deleted.")
@click.pass_context
def sync(ctx: click.Context, select: str | None, full: bool, prune: bool) -> None:
    """Bring V2 up to V1: preflight, dbt build (models + tests), audit, summary."""
    from generator import sync as syncmod
    from generator.progress import sync_view

    target = dbmod.resolve(ctx.obj["dsn"])
    root = dbmod.project_root()
    with sync_view() as on_event:
        run_id, states = syncmod.run_sync(target, root, select=select, full=full, prune=prune,
                                          on_event=on_event)
    _print_run(run_id, states)


def _print_run(run_id: int, states: list) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"sync run {run_id}", show_lines=False)
    for col in ("V2 table", "V1 expects", "before", "after", "inserted", "updated", "tests",
                "status"):
        table.add_column(col, justify="left" if col in ("V2 table", "status") else "right")
    for s in states:
        ins = (s.after or 0) - (s.before or 0)
        upd = (s.rows_affected - max(ins, 0)) if s.rows_affected is not None else None
        tests = f"{s.tests['pass']}/{s.tests['warn']}/{s.tests['fail']}"
        table.add_row(s.name, _n(s.v1), _n(s.before), _n(s.after), _n(ins), _n(upd), tests,
                      s.status)
    Console(width=120).print(table)
    click.echo("tests: pass/warn/fail. V2-only rows are kept; V1 orphans are reported as "
               "warnings.")


def _n(v) -> str:
    return "-" if v is None else f"{v:,}"


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Counts of every V1 and V2 table, gaps and last sync; exit 1 if a main table is off >5%."""
    import json

    from generator import sync as syncmod

    rows = syncmod.status_rows(dbmod.resolve(ctx.obj["dsn"]), dbmod.project_root())
    bad = [r for r in rows if r["layer"] == "v2" and r["main"] and not r["within_tolerance"]]
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
    else:
        from rich.console import Console
        from rich.table import Table

        t = Table(title="xano V1 -> V2")
        for col in ("layer", "table", "count", "expected", "gap", "%", "rejects", "V1-deleted",
                    "last sync"):
            t.add_column(col, justify="right" if col not in ("layer", "table") else "left")
        for r in rows:
            colour = "" if r["layer"] == "v1" else ("green" if r["within_tolerance"] else "red")
            t.add_row(r["layer"], r["table"] + ("" if r.get("main", True) else "  (split)"),
                      _n(r["count"]), _n(r.get("expected")), _n(r.get("gap")),
                      "-" if r.get("pct") is None else f"{r['pct']:.1f}",
                      _n(r.get("rejects")), _n(r.get("deleted_in_v1")),
                      str(r.get("last_sync") or "-")[:19],
                      style=colour)
        Console(width=130).print(t)
    if bad:
        raise click.ClickException(
            f"{len(bad)} main table(s) outside the 5% tolerance: "
            + ", ".join(f"{r['table']} ({_n(r['count'])} of {_n(r['expected'])})" for r in bad))


@cli.command()
@click.option("--scale", type=float, default=1.0, show_default=True)
@click.pass_context
def demo(ctx: click.Context, scale: float) -> None:
    """From nothing: server, fixtures + V2 baseline, status, discover, generate, sync, status."""
    steps = [
        ("db start", ["db", "start"]),
        ("fixtures with the production-like V2 baseline",
         ["fixtures", "--scale", str(scale), "--v2-baseline"]),
        ("status before the sync (the gaps)", ["status"]),
        ("discover the V1 key inventory", ["discover"]),
        ("generate the dbt models", []),
        ("sync", ["sync"]),
        ("status after the sync", ["status"]),
    ]
    for label, args in steps:
        click.echo(f"\n== {label}: python -m generator {' '.join(args)}".rstrip())
        try:
            dsn = [f"--dsn={ctx.obj['dsn']}"] if ctx.obj["dsn"] else []
            cli.main(args=dsn + args, prog_name="python -m generator", standalone_mode=False)
        except click.ClickException as exc:
            if label.startswith("status before"):
                click.echo(f"(expected before the sync) {exc.format_message()}")
                continue
            raise
    click.echo("\nDashboard: python -m generator dashboard  (http://127.0.0.1:8765/), or "
               "python -m generator dashboard --out report.html")


def _tables_from_rows(rows: list[dict[str, str]]) -> list:
    from generator import inventory as inv

    return [inv.TableProfile(r["v1_table"], r["relation"], int(r["xano_table_id"]),
                             int(r["rows"]), int(r["xdo_null"]), int(r["xdo_not_object"]),
                             int(r["keys"])) for r in rows]


@cli.command()
@click.option("--source-dsn", envvar="XANO_SOURCE_DSN", required=True, metavar="URL",
              help="libpq URL of the Xano database (Direct Database Connector; the read-only "
                   "credentials suffice). Better passed as XANO_SOURCE_DSN, with the password "
                   "in ~/.pgpass or PGPASSFILE, so it never shows in `ps`.")
@click.option("--tables", default=None, metavar="NAME,...",
              help="Comma-separated V1 tables (default: every registered table).")
@click.option("--workspace", type=click.IntRange(min=1), default=1, show_default=True,
              help="Xano workspace id: source tables are public.mvpw<workspace>_<table id>.")
@click.pass_context
def mirror(ctx: click.Context, source_dsn: str, tables: str | None, workspace: int) -> None:
    """Copy V1 tables from a live Xano database into xano_v1 of the local mirror.

    Never writes to the source: it reads in one read-only, repeatable-read transaction (a
    consistent snapshot of all tables). Each table is verified (rows and checksum) and swapped
    in atomically; a failed or interrupted mirror leaves the previous copy intact.
    """
    from dataclasses import replace

    from generator import mirror as mirrormod
    from generator.progress import bytes_progress
    from generator.registry import V1_TABLES, v1_table

    try:
        chosen = ([v1_table(t.strip()) for t in tables.split(",") if t.strip()] if tables
                  else list(V1_TABLES))
    except KeyError as exc:
        raise click.UsageError(str(exc.args[0])) from None
    chosen = [replace(t, workspace=workspace) for t in chosen]
    target = dbmod.resolve(ctx.obj["dsn"])
    with bytes_progress() as progress:
        result = mirrormod.mirror(target, source_dsn, chosen, on_progress=progress)
    for r in result.tables:
        rate = r.bytes / r.seconds / 1e6 if r.seconds else 0
        click.echo(f"{r.table:<18} {r.rows:>10,} rows  {r.bytes / 1e6:8.1f} MB  "
                   f"{rate:6.1f} MB/s  checksum {r.checksum}")
    click.echo(f"mirror run {result.run_id}: {len(result.tables)} table(s) from "
               f"{mirrormod.source_label(source_dsn)} verified and swapped in")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535))
@click.option("--out", type=click.Path(dir_okay=False, writable=True),
              help="Write one self-contained HTML file instead of serving.")
@click.pass_context
def dashboard(ctx: click.Context, host: str, port: int, out: str | None) -> None:
    """Trust dashboard: live web app (127.0.0.1:8765) or a self-contained --out report.html."""
    from generator.dashboard import app

    target = dbmod.resolve(ctx.obj["dsn"])
    root = dbmod.project_root()
    if out:
        from pathlib import Path

        Path(out).write_text(app.render_report(target, root), encoding="utf-8")
        click.echo(f"wrote {out}")
        return
    click.echo(f"dashboard on http://{host}:{port}/ (Ctrl-C to stop)")
    app.serve(target, root, host, port)


def _profiles_from_rows(rows: list[dict[str, str]]) -> list:
    from generator import inventory as inv

    out = []
    for r in rows:
        p = inv.KeyProfile(r["v1_table"], r["key_path"], r["kind"])
        for name in inv.CSV_FIELDS[3:]:
            raw = r.get(name, "")
            cur = getattr(p, name)
            if isinstance(cur, bool):
                val = raw == "true"
            elif isinstance(cur, float):
                val = float(raw or 0)
            elif isinstance(cur, str):
                val = raw
            else:
                val = int(raw) if raw != "" else None if cur is None else 0
            setattr(p, name, val)
        out.append(p)
    return out


def main() -> None:
    """Entry point for ``python -m generator``."""
    try:
        cli(prog_name="python -m generator")
    except GeneratorError as exc:  # raised outside a group invoke (should not happen)
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


