"""``spec evidence``: the live V2's own data confirms or contradicts every mapped column.

The owner's V2 was filled by its own jobs from the same external APIs as V1, so for a record
present on both sides the live value of a V2 column should equal the transformed V1 value. Over
the rows paired by the identity rules of publish (:mod:`generator.publish.plan`: main tables by
id and natural key, split tables by parent FK, child tables by content), per spec column with a
V1 source: the share of rows where the local V2 value (the transformed V1 value) equals the
live value, compared in the live column's type as publish compares them (NULL = NULL is
equal; 1.50 = 1.5; epoch ms = the timestamp it stands for). Sensitive columns are compared by
md5 on the server: no value of theirs leaves it.

Verdicts: ``confirmed`` (>= 99 % agree), ``contradicted`` (< 90 % on >= 20 matched rows),
``weak`` (in between), ``no evidence`` (< 20 matched rows). For a contradicted column, and for
every live column the spec does not fill (``unmapped``), the V1 key path and transform that
agree best are proposed when they agree on >= 95 % of a sample of matched rows: the key paths
of the same V1 table from the inventory, each with the transforms :func:`generator.profile.
candidates` allows (the inference ``spec draft`` uses).

Cost per V2 table: one pass over the paired live copy and local V2 for the verdicts, one over a
sample of the paired V1 rows for the proposals.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, fields, replace
from pathlib import Path

import psycopg
from psycopg import sql

from generator import catalog
from generator.config import (
    EVIDENCE_CONFIRMED,
    EVIDENCE_CONTRADICTED,
    EVIDENCE_FILE,
    EVIDENCE_MIN_ROWS,
    EVIDENCE_PROPOSE,
    EVIDENCE_SAMPLE,
    FN_SCHEMA,
    V1_SCHEMA,
)
from generator.convert import conversion, jsonb_norm
from generator.inventory import Inventory, read_exact, render_csv
from generator.keypath import is_sensitive, parse_path
from generator.live import LiveTable
from generator.profile import candidates
from generator.publish import plan
from generator.spec import Spec
from generator.transforms import TRANSFORMS

VERDICTS = ("confirmed", "weak", "contradicted", "no evidence", "unmapped")
"""Verdicts of a mapped column, and ``unmapped`` for a live column the spec does not fill."""
TEXT_VARIANTS = ("text", "trim", "lower_trim")
"""Text transforms tried for a key whose values fit text."""


@dataclass(frozen=True)
class ColumnEvidence:
    """One row of seeds/xano_mapping_evidence.csv."""

    v2_table: str
    v2_column: str
    v1_path: str
    """The spec's V1 key path ('' for a live column the spec does not fill)."""
    transform: str
    matched: int
    """Rows present on both sides (for ``unmapped``: rows of the proposal sample)."""
    agreeing: int | None
    """Matched rows whose values agree (None for ``unmapped``)."""
    verdict: str
    proposed_v1_path: str = ""
    proposed_transform: str = ""
    proposed_agreement: float | None = None
    """Share of the sample where the proposal agrees (None: nothing proposed)."""


FIELDS = [f.name for f in fields(ColumnEvidence)]


def verdict(matched: int, agreeing: int) -> str:
    """The verdict of a mapped column.

    >>> verdict(100, 99), verdict(100, 95), verdict(100, 80), verdict(10, 0)
    ('confirmed', 'weak', 'contradicted', 'no evidence')
    """
    if matched < EVIDENCE_MIN_ROWS:
        return "no evidence"
    share = agreeing / matched
    if share >= EVIDENCE_CONFIRMED:
        return "confirmed"
    return "contradicted" if share < EVIDENCE_CONTRADICTED else "weak"


def _same(a: sql.Composable, b: sql.Composable, secret: bool) -> sql.Composable:
    """``a`` equals ``b`` (NULL = NULL); by md5 for a sensitive column."""
    if secret:
        a, b = (sql.SQL("md5(({})::text)").format(x) for x in (a, b))
    return sql.SQL("({} is not distinct from {})").format(a, b)


def gather(conn: psycopg.Connection, spec: Spec, inventory: Inventory,
           lts: list[LiveTable]) -> list[ColumnEvidence]:
    """Evidence of every V2 table whose live copy (``mirror --v2-workspace``) and local V2
    exist; runs on the local server only."""
    plan.session(conn)
    paired = plan.pair_copies(conn, lts)
    out: list[ColumnEvidence] = []
    for lt in lts:
        found = paired.get(lt.table.name)
        if not isinstance(found, tuple):
            continue
        i, copy = found
        mapped = _mapped(conn, copy, i)
        targets = [e.v2_column for e in mapped if e.verdict == "contradicted"]
        extra = _live_only_columns(conn, copy)
        found_best, sample = {}, 0
        if lt.grain in ("main", "split") and (targets or extra):
            found_best, sample = _propose(conn, spec, inventory, copy, i, targets + extra)
        for e in mapped:
            out.append(replace(e, **_proposal(found_best.get(e.v2_column)))
                       if e.v2_column in targets else e)
        out += [ColumnEvidence(lt.table.name, c, "", "", sample, None, "unmapped",
                               **_proposal(found_best.get(c))) for c in extra]
    return out


def _proposal(best: tuple[str, str, float] | None) -> dict:
    """The proposal fields of a best (key path, transform, share), when it agrees enough."""
    if not best or best[2] < EVIDENCE_PROPOSE:
        return {}
    return {"proposed_v1_path": best[0], "proposed_transform": best[1],
            "proposed_agreement": round(best[2], 4)}


def _mapped(conn: psycopg.Connection, copy: LiveTable, i: int) -> list[ColumnEvidence]:
    """Verdicts of the spec columns with a V1 source: one pass over the pairs."""
    t = copy.table
    local = copy.local_values("x")
    live = copy.live_values("l")
    cols = []
    for j, c in enumerate(copy.fields):
        if c.special:
            continue
        mine = jsonb_norm(local[j]) if copy.layout == "jsonb" else copy.convs[j].norm(local[j])
        cols.append((c, _same(mine, live[j], c.sensitive)))
    if not cols:
        return []
    aggs = sql.SQL(", ").join(sql.SQL("count(*) filter (where {})").format(e) for _, e in cols)
    row = conn.execute(sql.SQL(
        "select count(*), {aggs} from {pair} p join {local} x on x.id = p.k "
        "join {copy} l on l.id = p.live_id").format(
        aggs=aggs, pair=sql.Identifier(f"pub_pair_{i}"), local=copy.local,
        copy=copy.ident)).fetchone()
    matched = row[0]
    return [ColumnEvidence(t.name, c.name, c.v1_path, c.transform, matched, n,
                           verdict(matched, n)) for (c, _), n in zip(cols, row[1:])]


def _live_only_columns(conn: psycopg.Connection, copy: LiveTable) -> list[str]:
    """Live columns the spec does not fill (Xano's standard SQL layout)."""
    if copy.layout != "columns":
        return []
    known = {c.name for c in copy.table.columns}
    return [n for n in catalog.columns(conn, copy.schema, copy.name) if n not in known]


def _propose(conn: psycopg.Connection, spec: Spec, inventory: Inventory, copy: LiveTable,
             i: int, columns: list[str]) -> tuple[dict[str, tuple[str, str, float]], int]:
    """The best agreeing (V1 key path, transform, share) per live column, on a sample of the
    pairs (one pass over the sample's V1 and live rows); and the sample's size."""
    t = copy.table
    types = catalog.columns(conn, copy.schema, copy.name)
    patterns = list(spec.sensitive_patterns)
    keys = [p for p in inventory.keys if p.v1_table == t.v1_table and "[]" not in p.key_path
            and p.values > 0]
    cands: list[tuple[str, str, str, sql.Composable]] = []
    for col in columns:
        live_type = types.get(col)
        if live_type is None:
            continue
        target = sql.Identifier("l", col)
        for prof in keys:
            value = sql.SQL("({} #> {})").format(
                sql.Identifier("v", "xdo"), sql.Literal([k for k, _ in parse_path(prof.key_path)]))
            for name in _transforms(prof):
                cv = conversion(TRANSFORMS[name].v2_type, live_type)
                if cv is None:
                    continue
                mine = cv.norm(cv.to_live(sql.SQL("{}({})").format(
                    sql.Identifier(FN_SCHEMA, TRANSFORMS[name].function), value)))
                secret = is_sensitive(col, patterns) or prof.sensitive
                cands.append((col, prof.key_path, name, _same(mine, cv.norm(target), secret)))
    if not cands:
        return {}, 0
    agree = sql.SQL(", ").join(sql.SQL("count(*) filter (where {})").format(e)
                               for *_, e in cands)
    row = conn.execute(sql.SQL(
        "select count(*), array[{agree}] from (select * from {pair} order by k limit {lim}) p "
        "join {copy} l on l.id = p.live_id join {v1} v on v.id = p.k").format(
        agree=agree, pair=sql.Identifier(f"pub_pair_{i}"), lim=sql.Literal(EVIDENCE_SAMPLE),
        copy=copy.ident, v1=sql.Identifier(V1_SCHEMA, spec.v1(t.v1_table).relation))
    ).fetchone()
    n, hits = row[0], row[1]
    best: dict[str, tuple[str, str, float]] = {}
    for (col, path, name, _), h in zip(cands, hits):
        if n and (col not in best or h / n > best[col][2]):
            best[col] = (path, name, h / n)
    return best, n


def _transforms(prof) -> list[str]:
    """Transforms tried for a key path: its candidates, text in its variants."""
    out = []
    for name in candidates(prof):
        out += list(TEXT_VARIANTS) if name == "text" else [name]
    if prof.n_object and "image_url" not in out:
        out.append("image_url")
    return out


# -- the evidence file ----------------------------------------------------------------------------
def render(rows: list[ColumnEvidence]) -> str:
    """Deterministic CSV text of the evidence (sorted by table, column)."""
    return render_csv(sorted(rows, key=lambda e: (e.v2_table, e.v2_column)), FIELDS)


def write(root: Path, rows: list[ColumnEvidence]) -> None:
    """Write seeds/xano_mapping_evidence.csv."""
    path = root / EVIDENCE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(rows), encoding="utf-8", newline="")


def read(root: Path) -> dict[tuple[str, str], ColumnEvidence]:
    """(V2 table, column) -> its evidence (empty before ``spec evidence`` ran)."""
    path = root / EVIDENCE_FILE
    if not path.exists():
        return {}
    out = {}
    for r in csv.DictReader(io.StringIO(read_exact(path), newline="")):
        def num(x, kind=int):
            return kind(x) if x not in ("", None) else None
        e = ColumnEvidence(r["v2_table"], r["v2_column"], r["v1_path"], r["transform"],
                           num(r["matched"]) or 0, num(r["agreeing"]), r["verdict"],
                           r["proposed_v1_path"], r["proposed_transform"],
                           num(r["proposed_agreement"], float))
        out[(e.v2_table, e.v2_column)] = e
    return out


def summary(rows: list[ColumnEvidence]) -> dict[str, dict[str, int]]:
    """Per V2 table: how many columns got each verdict (and how many proposals)."""
    out: dict[str, dict[str, int]] = {}
    for e in rows:
        s = out.setdefault(e.v2_table, {v: 0 for v in (*VERDICTS, "proposed")})
        s[e.verdict] += 1
        s["proposed"] += bool(e.proposed_v1_path)
    return out

