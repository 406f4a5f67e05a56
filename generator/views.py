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
    IDENTITY_DECISIONS_FILE,
    KEY_INVENTORY_FILE,
    TABLE_INVENTORY_FILE,
    TOLERANCE,
    percent,
)
from generator.discover import Discovery
from generator.draft import Draft
from generator.publish.audit import RowDiff
from generator.publish.identity import HELD
from generator.publish.run import PublishResult
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
    live = any(r.get("live_count") is not None for r in rows)
    t = Table(title="xano V1 -> V2" + (" (live: last mirror/publish)" if live else ""))
    cols = ["layer", "table", "count", "expected", "gap", "%", "rejects", "V1-deleted"]
    cols += ["live", "live gap", "V2-only"] if live else []
    for col in cols + ["last sync"]:
        t.add_column(col, justify="right" if col not in ("layer", "table") else "left")
    problems = [r for r in rows if r["layer"] == "problem"]
    for r in (r for r in rows if r["layer"] in ("v1", "v2")):
        ok = r.get("within_tolerance", True) and r.get("live_within_tolerance", True)
        colour = "" if r["layer"] == "v1" else ("green" if ok else "red")
        cells = [r["layer"], r["table"] + ("" if r.get("main", True) else "  (split)"),
                 n(r["count"]), n(r.get("expected")), n(r.get("gap")),
                 "-" if r.get("pct") is None else f"{r['pct']:.1f}",
                 n(r.get("rejects")), n(r.get("deleted_in_v1"))]
        if live:
            cells += [n(r.get("live_count")), n(r.get("live_gap")), n(r.get("live_only"))]
        t.add_row(*cells, str(r.get("last_sync") or "-")[:19], style=colour)
    Console(width=160 if live else 130).print(t)
    ident = [r for r in rows if r["layer"] == "v2" and r.get("live_matched") is not None]
    if ident:
        t = Table(title="live V2 identity (which live row is the same record; "
                        f"{ident[0]['live_source']})")
        heads = ["table", "live table", "matched", "by id", "by key", "to insert", "fresh id",
                 "held", "to update", "duplicates", "orphans", "blocked", "conflicts",
                 "refs unresolved"]
        for col in heads:
            t.add_column(col, justify="left" if col in ("table", "live table") else "right")
        for r in ident:
            t.add_row(r["table"], r.get("live_relation") or "-", *(n(r.get(f"live_{k}")) for k in (
                "matched", "by_id", "by_key", "to_insert", "fresh", "held", "to_update",
                "duplicates", "orphans", "blocked", "conflicts", "unresolved")))
        Console(width=180).print(t)
    for r in (r for r in rows if r["layer"] == "evidence"):
        share = r["agreeing"] / r["matched"] if r["matched"] else 0
        print(f"contradicted by the live V2 (spec evidence): {r['table']}.{r['column']} <- "
              f"{r['v1_path']} ({r['transform']}): {share:.0%} of {r['matched']:,} rows agree"
              + (f"; proposed {r['proposed_v1_path']} ({r['proposed_transform']})"
                 if r["proposed_v1_path"] else ""))
    if problems:
        print(f"last sync (run {problems[0]['run_id']}) stopped:")
        for p in problems:
            print(f"  {p['line']}")


def tolerance_message(bad: list[dict]) -> str:
    """One line naming the main tables outside the tolerance."""
    def one(r: dict) -> str:
        parts = []
        if not r["within_tolerance"]:
            parts.append(f"{n(r['count'])} of {n(r['expected'])}")
        if not r.get("live_within_tolerance", True):
            parts.append(f"live {n(r['live_count'])} of {n(r['expected'])}")
        return f"{r['table']} ({', '.join(parts)})"

    return (f"{len(bad)} main table(s) outside the {percent(TOLERANCE)} tolerance: "
            + ", ".join(one(r) for r in bad))


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


def evidence_lines(rows) -> list[str]:
    """Per V2 table the verdict counts, then one line per contradicted column and proposal
    (names, shares and key paths only: never a value)."""
    from generator.evidence import VERDICTS, summary

    out = []
    for table, counts in summary(rows).items():
        parts = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])
        out.append(f"{table:<26} {parts}" + (f"; {counts['proposed']} proposal(s)"
                                             if counts["proposed"] else ""))
    for e in rows:
        if e.verdict == "contradicted":
            share = e.agreeing / e.matched if e.matched else 0
            out.append(f"contradicted {e.v2_table}.{e.v2_column} <- {e.v1_path} ({e.transform}): "
                       f"{e.agreeing:,} of {e.matched:,} matched rows agree ({share:.1%})")
        if e.proposed_v1_path:
            out.append(f"proposed {e.v2_table}.{e.v2_column} <- {e.proposed_v1_path} "
                       f"({e.proposed_transform}): agrees on {e.proposed_agreement:.1%} of "
                       f"{e.matched:,} rows")
    out.append(f"wrote seeds/xano_mapping_evidence.csv ({len(rows)} column(s))")
    return out


def print_mirror(result, source: str) -> None:
    """Per table what a mirror copied, then the notes on live tables that publish would refuse."""
    for r in result.tables:
        rate = r.bytes / r.seconds / 1e6 if r.seconds else 0
        print(f"{r.table:<24} {r.rows:>10,} rows  {r.bytes / 1e6:8.1f} MB  "
              f"{rate:6.1f} MB/s  checksum {r.checksum}")
    for note in result.notes:
        print(f"note: {note}")
    print(f"mirror run {result.run_id}: {len(result.tables)} table(s) from {source} verified "
          "and swapped in")


def print_publish(result: PublishResult) -> None:
    """Per table what a publish wrote (or would write), its conflicts, collisions, examples."""
    dry = result.dry_run
    title = (f"dry run: plan for {result.target} (nothing written)" if dry
             else f"publish run {result.run_id} to {result.target}")
    table = Table(title=title)
    for col in ("V2 table", "live table", "matched", "by id", "by key", "fresh id", "held",
                "insert" if dry else "inserted", "update" if dry else "updated", "unchanged",
                "conflicts", "duplicates", "orphans", "blocked", "refs unresolved",
                "prune" if dry else "pruned", "V2-only", "live rows", "checked", "s"):
        table.add_column(col, justify="left" if col in ("V2 table", "live table",
                                                       "checked") else "right")
    for t in result.tables:
        checked = "-" if t.verified is None else ("ok" if t.verified else "MISMATCH")
        if t.unchanged_since is not None:
            checked = f"as run {t.unchanged_since}"
        ident = [n(t.identity[k]) if t.identity else "-" for k in
                 ("by_id", "by_key", "fresh", "held")]
        table.add_row(t.name, t.relation, n(t.matched), *ident, n(t.inserted), n(t.updated),
                      n(t.unchanged), n(len(t.conflicts)),
                      n(t.duplicates) + (f" (-{t.deduped})" if t.deduped else ""),
                      n(t.orphans), n(t.blocked), n(sum(t.unresolved.values())),
                      n(t.pruned if not dry else t.prunable),
                      n(t.live_only), n(t.live_before if dry else t.live_after), checked,
                      f"{t.seconds:.2f}")
    Console(width=220).print(table)
    for line in publish_lines(result):
        print(line)


def publish_lines(result: PublishResult, most: int = 20) -> list[str]:
    """Collisions, conflicts (and examples of a dry run) as lines, then the summary."""
    out = []
    for t in result.tables:
        for d in t.collisions[:most]:
            sides = "; ".join(f"{f.field}: live {f.live} / local {f.local}"
                              if f.live != f.local else f"{f.field}: {f.live}" for f in d.fields)
            if d.kind == HELD:
                out.append(f"held {t.name} id {d.id} (same id, other natural key; live row "
                           f"{d.live_id} kept, the record and its split rows not written: "
                           f"decide in {IDENTITY_DECISIONS_FILE}): {sides}")
            else:
                live = (f"live id {d.live_id} (drawn from the live sequence on publish)"
                        if result.dry_run else f"live id {d.live_id}")
                out.append(f"fresh id {t.name} id {d.id} -> {live} ({d.kind}; the live row "
                           f"{d.id} is kept): {sides}")
        shown = min(most, len(t.collisions))
        if len(t.collisions) > shown or sum(t.identity.get(k, 0) for k in ("fresh", "held")) \
                > len(t.collisions):
            rest = sum(t.identity.get(k, 0) for k in ("fresh", "held")) - shown
            out.append(f"identity {t.name}: ... {rest} more held or fresh-id record(s) "
                       "(xano_audit.publish_conflicts, xano_audit.identity)")
        for col, k in sorted(t.unresolved.items()):
            out.append(f"unresolved {t.name}.{col}: {k:,} row(s) name a record not placed live "
                       "(held, not published, or gone from V1): written as NULL, filled in by "
                       "the publish that places it")
        for d in t.conflicts[:most]:
            where = f" (live id {d.live_id})" if d.live_id not in (None, d.id) else ""
            out.append(f"conflict {t.name} id {d.id}{where} ({d.kind}"
                       + (", overwritten with V1" if d.overwritten else ", kept") + "): "
                       + _fields(d))
        if len(t.conflicts) > most:
            out.append(f"conflict {t.name}: ... {len(t.conflicts) - most} more "
                       "(xano_audit.publish_conflicts)")
        for d in t.examples:
            where = f" (live id {d.live_id})" if d.live_id not in (None, d.id) else ""
            if d.kind == "insert" and t.own_ids:
                out.append(f"would insert {t.name} row (local id {d.id}; its live id comes from "
                           f"the live table's sequence): {_fields(d)}")
            else:
                out.append(f"would {d.kind} {t.name} id {d.id}{where}: {_fields(d)}")
    tabs = result.tables
    total = sum(t.written for t in tabs)
    left = [t for t in tabs if t.unchanged_since is not None]
    if left:
        out.append(f"not planned: {len(left)} table(s) whose local rows, live rows and record, "
                   "and those of every table they read, are as a publish with these options "
                   "left them, all written: "
                   + ", ".join(f"{t.name} (run {t.unchanged_since})" for t in left)
                   + "; their figures are that run's (--full plans them)")
    summary = (f"{sum(t.inserted for t in tabs):,} inserted, {sum(t.updated for t in tabs):,} "
               f"updated, {sum(t.pruned for t in tabs):,} pruned"
               + (f", {sum(t.deduped for t in tabs):,} duplicate(s) removed"
                  if any(t.deduped for t in tabs) else "")
               + f"; {sum(t.unchanged for t in tabs):,} unchanged; "
               f"{sum(len(t.conflicts) for t in tabs):,} conflict(s); "
               f"{sum(t.identity.get('by_key', 0) for t in tabs):,} record(s) paired under "
               f"V2's other id, {sum(t.collision_count for t in tabs):,} under a fresh id "
               "(their V1 id is another live record's), "
               f"{sum(t.identity.get('held', 0) for t in tabs):,} held; "
               f"{sum(t.duplicates for t in tabs):,} duplicate(s), "
               f"{sum(t.orphans for t in tabs):,} orphan(s) and "
               f"{sum(t.live_only for t in tabs):,} V2-only row(s) kept")
    if result.dry_run:
        out.append(f"dry run: would write {total:,} row(s): {summary}; nothing was written")
    else:
        checked = all(t.verified is not False for t in tabs)
        busy = sum(t.changed_live for t in tabs)
        out.append(f"publish run {result.run_id}: wrote {total:,} row(s): {summary}"
                   + (f"; {busy:,} row(s) changed by the app during the publish were left to "
                      "it (planned again next time)" if busy else "")
                   + ("; read back and verified" if checked else "; READ-BACK MISMATCH"))
    return out


def _fields(d: RowDiff, most: int = 6) -> str:
    """``field: live -> local`` pairs of one row diff (values already masked)."""
    if not d.fields:
        return "no field differs" if d.kind != "deleted in V2" else "row missing in V2"
    parts = [f"{f.field}: {f.live} -> {f.local}" for f in d.fields[:most]]
    if len(d.fields) > most:
        parts.append(f"... {len(d.fields) - most} more")
    return "; ".join(parts)


def print_refcheck(results) -> None:
    """The live referential check: per reference column, its verdicts and a few examples."""
    from generator.publish.refcheck import VERDICTS

    table = Table(title="live references (by natural key: the live record named is the same "
                        "entity as V1's)")
    for col in ("V2 table", "column", "names", "checked", *VERDICTS):
        table.add_column(col, justify="left" if col in ("V2 table", "column", "names")
                         else "right")
    for r in results:
        table.add_row(r.table, r.column, r.references, n(r.checked),
                      *(n(r.counts.get(v, 0)) for v in VERDICTS),
                      style="red" if r.failed else None)
    Console(width=150).print(table)
    for r in results:
        for live_id, value, verdict in r.examples:
            if verdict in ("dangling", "wrong"):
                print(f"{verdict} {r.table}.{r.column}: live row {live_id} names "
                      f"{r.references} {value}")
    bad = [r for r in results if r.failed]
    total = sum(r.checked for r in results)
    unset = sum(r.counts.get("unset", 0) for r in results)
    print(f"live references: {total:,} checked in {len(results)} column(s); "
          f"{sum(r.counts.get('ok', 0) for r in results):,} name the same entity as in V1, "
          f"{unset:,} NULL where V1 names a record not placed live, "
          + (f"{sum(r.counts.get('dangling', 0) + r.counts.get('wrong', 0) for r in bad):,} "
             f"wrong or dangling in {', '.join(f'{r.table}.{r.column}' for r in bad)}"
             if bad else "0 wrong or dangling"))
