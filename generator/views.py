"""What the commands print: rich tables and plain lines, built from library results.

Pure text for the CLI and the demo; nothing here reads a database or a file.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from generator.census import CensusRow, role_of, size_text, summarize
from generator.config import (
    CENSUS_FILE,
    KEY_INVENTORY_FILE,
    TABLE_INVENTORY_FILE,
    TOLERANCE,
    percent,
)
from generator.discover import Discovery
from generator.draft import Draft
from generator.sync.audit import TableState

Echo = Callable[[str], None]
"""Where plain lines go (click.echo in the CLI)."""


def n(v) -> str:
    """A count with thousands separators, '-' for None.

    >>> n(1234567), n(None)
    ('1,234,567', '-')
    """
    return "-" if v is None else f"{v:,}"


def print_run(run_id: int, states: list[TableState]) -> None:
    """The per-table summary of a sync run."""
    table = Table(title=f"sync run {run_id}", show_lines=False)
    for col in ("V2 table", "V1 expects", "before", "after", "inserted", "updated", "tests",
                "status"):
        table.add_column(col, justify="left" if col in ("V2 table", "status") else "right")
    for s in states:
        tests = f"{s.tests['pass']}/{s.tests['warn']}/{s.tests['fail']}"
        table.add_row(s.name, n(s.v1), n(s.before), n(s.after), n(s.inserted), n(s.updated),
                      tests, s.status)
    Console(width=120).print(table)


RUN_FOOTER = ("tests: pass/warn/fail. V2-only rows are kept; V1 orphans are reported as "
              "warnings.")


def print_status(rows: list[dict]) -> None:
    """Every V1 and V2 table with counts, gap, rejects, deletions and last sync."""
    t = Table(title="xano V1 -> V2")
    for col in ("layer", "table", "count", "expected", "gap", "%", "rejects", "V1-deleted",
                "last sync"):
        t.add_column(col, justify="right" if col not in ("layer", "table") else "left")
    problems = [r for r in rows if r["layer"] == "problem"]
    for r in (r for r in rows if r["layer"] != "problem"):
        colour = "" if r["layer"] == "v1" else ("green" if r["within_tolerance"] else "red")
        t.add_row(r["layer"], r["table"] + ("" if r.get("main", True) else "  (split)"),
                  n(r["count"]), n(r.get("expected")), n(r.get("gap")),
                  "-" if r.get("pct") is None else f"{r['pct']:.1f}",
                  n(r.get("rejects")), n(r.get("deleted_in_v1")),
                  str(r.get("last_sync") or "-")[:19],
                  style=colour)
    Console(width=130).print(t)
    if problems:
        print(f"last sync (run {problems[0]['run_id']}) stopped:")
        for p in problems:
            print(f"  {p['line']}")


def tolerance_message(bad: list[dict]) -> str:
    """One line naming the main tables outside the tolerance."""
    return (f"{len(bad)} main table(s) outside the {percent(TOLERANCE)} tolerance: "
            + ", ".join(f"{r['table']} ({n(r['count'])} of {n(r['expected'])})" for r in bad))


def discovery_lines(result: Discovery) -> list[str]:
    """Per scanned table its figures and what changed (first 20 of each kind)."""
    out = []
    for tp, ch in result.changes:
        line = (f"{tp.v1_table:<17} {tp.rows:>10,} rows  {ch.keys:>3} keys  "
                f"{len(ch.new)} new, {len(ch.gone)} gone, {len(ch.retyped)} retyped")
        if tp.xdo_null or tp.xdo_not_object:
            line += f"  (xdo null: {tp.xdo_null}, not an object: {tp.xdo_not_object})"
        out.append(line)
        out += _listed("+", ch.new)
        out += _listed("-", ch.gone)
        out += _listed("~", [f"{k}: {a} -> {b}" for k, a, b in ch.retyped])
    out.append(f"wrote {KEY_INVENTORY_FILE} ({len(result.inventory.keys)} key paths) and "
               f"{TABLE_INVENTORY_FILE}")
    return out


def _listed(sign: str, paths: list[str], most: int = 20) -> list[str]:
    """Up to ``most`` paths, top-level keys first, then a count of the rest.

    >>> _listed("+", ["a.b", "z", "a"], most=2)
    ['  + a', '  + z', '  + ... 1 more']
    """
    ordered = sorted(paths, key=lambda p: (p.count(".") + p.count("[]"), p))
    out = [f"  {sign} {p}" for p in ordered[:most]]
    if len(ordered) > most:
        out.append(f"  {sign} ... {len(ordered) - most} more")
    return out


def fixture_lines(written: dict[str, int], baseline: list[str]) -> list[str]:
    """Rows written per V1 table, then the baseline summary."""
    return [f"xano_v1 {name:<18} {rows:>10,} rows" for name, rows in written.items()] + baseline


def census_lines(rows: list[CensusRow], where: str, changed: bool) -> list[str]:
    """Per workspace the table counts and sizes, then the largest tables and the scope."""
    s = summarize(rows)
    out = [f"{s.tables} Xano table(s) on {where}: ~{s.rows:,} rows, {size_text(s.bytes)}"]
    for ws, w in s.workspaces.items():
        out.append(f"  workspace {ws:<4} {w['jsonb']:>4} JSONB + {w['columns']:>3} column "
                   f"table(s)  ~{w['rows']:>13,} rows  {size_text(w['bytes']):>10}  "
                   f"{w['registered']} registered, {w['feeding']} feeding V2")
    for r in sorted(rows, key=lambda r: -r.est_rows)[:10]:
        out.append(f"  {r.schema}.{r.relation:<16} ~{r.est_rows:>12,} rows  "
                   f"{size_text(r.bytes):>10}  {r.layout:<7}  {role_of(r)}")
    out.append(f"in scope: {s.in_scope} of {s.tables} table(s), ~{s.in_scope_rows:,} of "
               f"~{s.rows:,} rows")
    out.append(f"{'wrote' if changed else 'unchanged:'} {CENSUS_FILE}")
    return out


def draft_lines(result: Draft, written: list[str]) -> list[str]:
    """What ``spec draft`` added, one line per row, then its notes."""
    out = [f"+ table {t['v2_table']} (V1 {t['v1_table']}, grain {t['grain']}"
           + (f", splits from {t['parent']})" if t["parent"] else ", main table)")
           for t in result.tables]
    out += [f"+ {c['v2_table']}.{c['column']} <- {c['v1_path']}  {c['transform']} -> "
            f"{c['v2_type']}" + ("  (sensitive)" if c["sensitive"] == "true" else "")
            for c in result.columns]
    out += [f"note: {n}" for n in result.notes]
    out.append(f"appended {len(result.tables)} table row(s) and {len(result.columns)} column "
               f"row(s) to {', '.join(written)}; review the diff, then `python -m generator`"
               if written else "nothing to draft: every key is claimed or ignored")
    return out
