"""Command line: ``python -m generator [--check] [--allow-unmapped] [COMMAND]``.

Without a command it regenerates the dbt models from the inventory and the mapping spec.
Only this module knows about click; every user mistake becomes one line and a non-zero exit.
"""

from __future__ import annotations

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
@click.pass_context
def discover(ctx: click.Context, tables: tuple[str, ...]) -> None:
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
    table_rows = [inv.TableProfile(r["v1_table"], r["relation"], int(r["xano_table_id"]),
                                   int(r["rows"]), int(r["xdo_null"]), int(r["xdo_not_object"]),
                                   int(r["keys"]))
                  for r in old_tables if r["v1_table"] not in scanned]
    missing: list[str] = []
    changes = []
    target = dbmod.resolve(ctx.obj["dsn"])
    with dbmod.connect(target) as conn, table_progress() as progress:
        for t in chosen:
            if not disc.table_exists(conn, t):
                missing.append(f"{t.name} ({t.relation})")
                keys += [k for k in _profiles_from_rows(old_keys) if k.v1_table == t.name]
                table_rows += [inv.TableProfile(r["v1_table"], r["relation"],
                                                int(r["xano_table_id"]), int(r["rows"]),
                                                int(r["xdo_null"]), int(r["xdo_not_object"]),
                                                int(r["keys"]))
                               for r in old_tables if r["v1_table"] == t.name]
                continue
            bar = progress(t.name, 1, 0)
            state = {"done": 0}

            def advance(done: int, total: int, bar=bar, state=state) -> None:
                bar(done / total - state["done"])
                state["done"] = done / total

            result = disc.scan_table(conn, t, patterns, on_progress=advance)
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


