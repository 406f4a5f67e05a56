"""Identity across V1 and the live V2: which live record is the same entity as a local one.

V1 and the live V2 were filled by separate jobs from the same external APIs, so their ids are
not one id space: the same user can be 60 in V1 and 7 in V2, and an id V1 uses can belong to
another record in V2. The natural key (``natural_key`` in ``seeds/xano_v2_tables.csv``) is the
identity; once a local main record is paired with a live one, the pair is remembered in
``xano_audit.identity`` and stands: a later change of the natural key on either side is an
update (or a conflict), never a new pairing.

On first sight, per main table (the local natural key computed with its references already
translated, so ``network_member``'s ``agent_id`` is compared as the live agent's id):

=============  ================================================================================
``how``        the pair
=============  ================================================================================
``decided``    a person's decision (:data:`generator.config.IDENTITY_DECISIONS_FILE`): ``pair``
               with a given live id, or ``new`` (inserted under a fresh id)
``recorded``   a pair an earlier publish wrote or found equal (``published_rows``)
``id``         the natural key is live under the local id
``key``        the natural key is live under another id: V2's id is kept
``evidence``   same id, other (or no) natural key: the other fields that tell records apart
               (names, phones, timestamps: most of their values distinct) agree
               (:data:`generator.config.IDENTITY_SAME`)
``new``        not live, the local id free: inserted under it
``fresh``      not live, the local id taken by another record (or the fields say the live row
               there is another record): inserted under a fresh id of the live sequence
``held``       same id, other key, and the fields neither confirm nor deny: not written, the
               record and its split rows wait for a person's decision
=============  ================================================================================

Every reference column is then read through the maps (:func:`create_views`): a temp view per
V2 table whose reference columns hold the live id of the record they point at, NULL when that
record is not placed live (held, not published by this run, or gone from V1: reported per
column as unresolved). NULL rather than holding the row: the record itself is the same entity
and its other values are right; a NULL says "not known yet" where V1's raw id could name
another record, and the next publish fills it in once the record is placed (the row's digest
then differs).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg import sql

from generator.config import (
    AUDIT_SCHEMA,
    IDENTITY_DECISIONS_FILE,
    IDENTITY_DISTINCT,
    IDENTITY_MIN_FIELDS,
    IDENTITY_OTHER,
    IDENTITY_SAME,
    IDENTITY_SAMPLE,
    V2_SCHEMA,
)
from generator.errors import PublishError
from generator.live import LiveTable
from generator.publish.audit import ROWS, FieldDiff, RowDiff

IDENTITY = sql.Identifier(AUDIT_SCHEMA, "identity")
"""The identity map: per main V2 table, local id <-> live id, how and when paired."""
IDENTITY_DDL = sql.SQL("""
create schema if not exists {audit};
create table if not exists {identity} (
    v2_table text not null,
    k bigint not null,
    live_id bigint not null,
    how text not null,
    landed boolean not null,
    run_id bigint,
    paired_at timestamptz not null default now(),
    primary key (v2_table, k)
);
create unique index if not exists identity_live_id on {identity} (v2_table, live_id)
""").format(audit=sql.Identifier(AUDIT_SCHEMA), identity=IDENTITY)
HELD = "held: same id, other natural key"
"""The report kind of a held record."""
FRESH = ("id held by another record: inserted under a fresh id",
         "id reserved by another pair: inserted under a fresh id",
         "a person's decision: another record, inserted under a fresh id")
"""The report kinds of a record inserted under a fresh id."""
IDENTITY_KINDS = (HELD, *FRESH)
"""Kinds of the identity reports kept in ``publish_conflicts`` (apart from conflicts)."""
FIGURES = ("by_id", "by_key", "fresh", "new", "held")
"""Identity figures per main table: paired under the same id (id, evidence, or recorded /
decided with equal ids), paired under another live id, inserted under a fresh id, inserted
under the local id, held."""


@dataclass(frozen=True)
class Decision:
    """One reviewed line of the decisions file."""

    v2_table: str
    """Main V2 table."""
    k: int
    """Local id (the V1 id)."""
    decision: str
    """'pair' (with ``live_id``) or 'new' (another record: inserted under a fresh id)."""
    live_id: int | None
    """The live record it is (pair)."""
    row: int
    """Line in the file (for messages)."""


def load_decisions(root: Path, mains: set[str]) -> list[Decision]:
    """The decisions file, validated (every problem as ``file:row``, all at once); empty when
    the file is missing."""
    path = root / IDENTITY_DECISIONS_FILE
    if not path.exists():
        return []
    out, problems = [], []
    with path.open(newline="", encoding="utf-8") as fh:
        for n, r in enumerate(csv.DictReader(fh), start=2):
            where = f"{IDENTITY_DECISIONS_FILE}:{n}"
            table, dec = (r.get("v2_table") or "").strip(), (r.get("decision") or "").strip()
            try:
                k = int((r.get("local_id") or "").strip())
                live = (r.get("live_id") or "").strip()
                live_id = int(live) if live else None
            except ValueError:
                problems.append(f"{where}: local_id and live_id must be integers")
                continue
            if table not in mains:
                problems.append(f"{where}: {table!r} is not a main V2 table with a natural key")
            elif dec not in ("pair", "new"):
                problems.append(f"{where}: decision must be 'pair' or 'new', not {dec!r}")
            elif dec == "pair" and live_id is None:
                problems.append(f"{where}: decision 'pair' needs the live_id it pairs with")
            else:
                out.append(Decision(table, k, dec, live_id if dec == "pair" else None, n))
    seen: dict[tuple, int] = {}
    for d in out:
        for key in ((d.v2_table, "k", d.k), (d.v2_table, "live", d.live_id)):
            if key[2] is not None and key in seen:
                problems.append(f"{IDENTITY_DECISIONS_FILE}:{d.row}: {d.v2_table} {key[1]} "
                                f"{key[2]} is decided twice (line {seen[key]})")
            seen.setdefault(key, d.row)
    if problems:
        raise PublishError("; ".join(problems) + "; nothing was written")
    return out


def same_record(live: dict | None, local: dict | None, skip: set[str]) -> tuple[str, int, int]:
    """What the fields of two rows under one id say: ('same' | 'other' | 'unsure', equal
    fields, comparable fields), over the fields both sides hold (not NULL), ``skip`` aside.

    >>> same_record({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 2, "c": 3}, set())
    ('same', 3, 3)
    >>> same_record({"a": 1, "b": 2, "c": 3, "d": 4}, {"a": 9, "b": 8, "c": 7, "d": 4}, set())
    ('other', 1, 4)
    >>> same_record({"a": 1, "b": 2}, {"a": 1, "b": 2}, set())[0]  # too little evidence
    'unsure'
    """
    live, local = live or {}, local or {}
    both = [k for k in local if k not in skip and live.get(k) is not None
            and local.get(k) is not None]
    equal = sum(1 for k in both if live[k] == local[k])
    if len(both) < IDENTITY_MIN_FIELDS:
        return "unsure", equal, len(both)
    share = equal / len(both)
    verdict = "same" if share >= IDENTITY_SAME else "other" if share <= IDENTITY_OTHER else \
        "unsure"
    return verdict, equal, len(both)


def _t(name: str, i: int) -> sql.Identifier:
    return sql.Identifier(f"pub_{name}_{i}")


def map_of(i: int) -> sql.Identifier:
    """The session's map of main table ``i``: (k, live_id, how, state); ``state`` 'paired'
    (the live row is the record), 'insert' (to be inserted under ``live_id``), 'held', or
    'lost' (an insert the app's own row of that id kept out: nothing names it)."""
    return _t("map", i)


def ensure(conn: psycopg.Connection) -> None:
    """Create the identity map if missing."""
    conn.execute(IDENTITY_DDL)


def create_maps(local: psycopg.Connection, lts: list[LiveTable]) -> None:
    """An empty map per main table (filled by :func:`pair`), so every view can name them."""
    for i, lt in enumerate(lts):
        if lt.grain != "main":
            continue
        m = map_of(i)
        local.execute(sql.SQL("drop table if exists {} cascade").format(m))
        local.execute(sql.SQL("create temp table {} (k bigint primary key, live_id bigint, "
                              "how text not null, state text not null, nk_live text, "
                              "note text)").format(m))
        local.execute(sql.SQL("create index on {} (live_id)").format(m))


def create_views(local: psycopg.Connection, lts: list[LiveTable], written: set[str]
                 ) -> list[LiveTable]:
    """The translated view of every table (see the module); returns the tables reading them.

    A reference to a main table reads its map: the live id of a paired record, or of one to
    insert when this publish writes that table (``written``); to another table, the live row
    this tool last wrote for it (``published_rows``); to a table without a live table, NULL.
    """
    index = {lt.table.name: i for i, lt in enumerate(lts)}
    out = []
    for i, lt in enumerate(lts):
        view = f"pub_xl_{i}"
        cols, joins = [sql.SQL("x.id")], []
        for c in lt.fields:
            if c not in lt.references:
                cols.append(sql.Identifier("x", c.name))
                continue
            j = index.get(c.references)
            alias = sql.Identifier(f"r_{len(joins)}")
            if j is not None and lts[j].grain == "main":
                placed = ["paired", "insert"] if c.references in written else ["paired"]
                joins.append(sql.SQL("left join {m} {a} on {a}.k = x.{c} and {a}.state = any("
                                     "{s})").format(m=map_of(j), a=alias, c=sql.Identifier(
                                         c.name), s=sql.Literal(placed)))
                value = sql.SQL("{}.live_id").format(alias)
            elif j is not None:
                joins.append(sql.SQL("left join {rows} {a} on {a}.v2_table = {t} and {a}.k = "
                                     "x.{c} and {a}.written").format(
                    rows=ROWS, a=alias, t=sql.Literal(c.references), c=sql.Identifier(c.name)))
                value = sql.SQL("{}.id").format(alias)
            else:
                value = sql.SQL("null")
            cols.append(sql.SQL("({})::{} as {}").format(value, sql.SQL(c.v2_type),
                                                        sql.Identifier(c.name)))
        local.execute(sql.SQL("drop view if exists {}").format(sql.Identifier(view)))
        local.execute(sql.SQL("create temp view {} as select {} from {} x {}").format(
            sql.Identifier(view), sql.SQL(", ").join(cols),
            sql.Identifier(V2_SCHEMA, lt.table.name),
            sql.SQL(" ").join(joins)))
        out.append(replace(lt, translated=view))
    return out


def pairing_order(lts: list[LiveTable]) -> list[int]:
    """Main tables in the order their natural keys can be computed: a table whose key holds a
    reference comes after the table it references."""
    mains = {lt.table.name: i for i, lt in enumerate(lts) if lt.grain == "main"}
    deps = {}
    for name, i in mains.items():
        lt = lts[i]
        by = {c.name: c for c in lt.fields}
        deps[name] = {by[n].references for n in lt.table.natural_key
                      if n in by and by[n].references in mains and by[n].references != name}
    order: list[int] = []
    done: set[str] = set()
    while len(done) < len(mains):
        ready = [n for n in mains if n not in done and deps[n] <= done]
        if not ready:
            raise PublishError("natural keys reference each other in a cycle: "
                               + ", ".join(sorted(set(mains) - done)) + "; nothing was written")
        for n in sorted(ready, key=lambda n: mains[n]):
            order.append(mains[n])
            done.add(n)
    return order


Allocate = Callable[[int, int], list[int]]
"""(how many fresh ids, the lowest id they must exceed) -> ids, in order."""


def pair(local: psycopg.Connection, src: psycopg.Connection, lt: LiveTable, i: int,
         decisions: list[Decision], allocate: Allocate,
         free_live: Callable[[list[int]], list[int]] | None = None) -> list[RowDiff]:
    """Fill the map of main table ``i`` (see the module) from the standing pairs, the
    decisions, the live rows loaded in ``pub_live_<i>`` and the translated local rows;
    ``src`` reads the live table (for the evidence of same-id rows), ``allocate`` gives fresh
    ids, ``free_live`` (a real publish) returns which of the ids planned as ``new`` are still
    free on the live side after ``allocate`` moved the sequence. Returns the held records with
    both sides' fields (masked)."""
    name = lt.table.name
    m, live, lk = map_of(i), _t("live", i), _t("lk", i)
    names = {"m": m, "live": live, "lk": lk, "identity": IDENTITY, "rows": ROWS,
             "name": sql.Literal(name)}
    local.execute(sql.SQL("truncate {}").format(m))
    local.execute(sql.SQL("drop table if exists {}").format(lk))
    # a key naming a record not placed live (held, not published) cannot be compared yet
    refs = [c for c in lt.references if c.name in lt.table.natural_key]
    unplaced = sql.SQL(" or ").join(
        sql.SQL("(x.{c} is null and o.{c} is not null)").format(c=sql.Identifier(c.name))
        for c in refs) if refs else sql.SQL("false")
    local.execute(sql.SQL("create temp table {lk} as select x.id as k, case when {u} then "
                          "null else {nk} end as nk, {u} as unplaced from {v} x join {o} o "
                          "on o.id = x.id").format(
        lk=lk, nk=lt.local_nk("x"), v=lt.local, u=unplaced,
        o=sql.Identifier(V2_SCHEMA, lt.table.name)))
    local.execute(sql.SQL("create index on {} (k)").format(lk))
    local.execute(sql.SQL("create index on {} (nk)").format(lk))
    local.execute(sql.SQL("analyze {}").format(lk))
    # a person's decisions first
    mine = [d for d in decisions if d.v2_table == name]
    if mine:  # a pair whose live row V2 deleted since is a 'deleted in V2' conflict; a
        # 'new' already carried out (a pair it made stands below) is not made again
        with local.cursor() as cur:
            cur.executemany(sql.SQL(
                "insert into {m} (k, live_id, how, state) select %s, %s, 'decided', %s "
                "where exists (select 1 from {lk} where k = %s) and (%s or not exists ("
                "select 1 from {identity} e where e.v2_table = {name} and e.k = %s "
                "and e.how = 'decided'))").format(**names),
                [(d.k, d.live_id, "paired" if d.decision == "pair" else "insert", d.k,
                  d.decision == "pair", d.k) for d in mine])
    # pairs made before stand: landed ones as they are, reserved ids while still free; the
    # record of publishes made before the map existed counts as pairs made before
    names["recorded"] = sql.SQL("") if local.execute(sql.SQL(
        "select exists (select 1 from {} where v2_table = %s)").format(IDENTITY), (name,)
    ).fetchone()[0] else sql.SQL("""
            union all
            select r.k, r.id, 'recorded', true from {rows} r
            where r.v2_table = {name} and r.k is not null""").format(**names)
    local.execute(sql.SQL("""
        insert into {m} (k, live_id, how, state)
        select s.k, s.live_id, s.how,
            case when s.landed or (l.id is not null and l.nk = x.nk)
                then 'paired' else 'insert' end
        from (
            select k, live_id, how, landed from {identity} where v2_table = {name}
            {recorded}
        ) s
        join {lk} x on x.k = s.k
        left join {live} l on l.id = s.live_id
        where (s.landed or l.id is null or l.nk = x.nk)
          and not exists (select 1 from {m} d where d.k = s.k)
          and not exists (select 1 from {m} d where d.live_id = s.live_id)
        on conflict (k) do nothing""").format(**names))
    # the natural key: the i-th local row of a key with the i-th unclaimed live row of it
    local.execute(sql.SQL("""
        insert into {m} (k, live_id, how, state)
        select a.k, b.id, case when a.k = b.id then 'id' else 'key' end, 'paired'
        from (
            select x.k, x.nk, row_number() over (partition by x.nk order by
                exists (select 1 from {live} l where l.id = x.k and l.nk = x.nk) desc, x.k) rn
            from {lk} x where x.nk is not null
              and not exists (select 1 from {m} p where p.k = x.k)) a
        join (
            select l.id, l.nk, row_number() over (partition by l.nk order by
                exists (select 1 from {lk} x where x.k = l.id and x.nk = l.nk) desc, l.id) rn
            from {live} l where l.nk is not null
              and not exists (select 1 from {m} p where p.live_id = l.id)
              and not exists (select 1 from {identity} e where e.v2_table = {name}
                              and e.live_id = l.id
                              and exists (select 1 from {lk} y where y.k = e.k))) b
        on b.nk = a.nk and b.rn = a.rn""").format(**names))
    if not lt.table.natural_key:  # nothing but the id can tell: the same id is the record
        local.execute(sql.SQL("""
            insert into {m} (k, live_id, how, state)
            select x.k, x.k, 'id', 'paired' from {lk} x join {live} l on l.id = x.k
            where not exists (select 1 from {m} p where p.k = x.k)
              and not exists (select 1 from {m} p where p.live_id = x.k)""").format(**names))
    local.execute(sql.SQL("""
        insert into {m} (k, live_id, how, state, note)
        select x.k, null, 'held', 'held', 'its natural key names a record not placed live'
        from {lk} x where x.unplaced and not exists (select 1 from {m} p where p.k = x.k)
        """).format(**names))
    held = _evidence(local, src, lt, i)
    # not live: under the local id when no live row has it and no pair claims it
    local.execute(sql.SQL("""
        insert into {m} (k, live_id, how, state)
        select x.k, case when free then x.k end, case when free then 'new' else 'fresh' end,
            'insert'
        from (select x.k, not exists (select 1 from {live} l where l.id = x.k)
                     and not exists (select 1 from {m} p where p.live_id = x.k)
                     and not exists (select 1 from {identity} e where e.v2_table = {name}
                                     and e.live_id = x.k) as free
              from {lk} x where not exists (select 1 from {m} p where p.k = x.k)) x
        """).format(**names))
    _fresh(local, lt, i, allocate, free_live)
    local.execute(sql.SQL("analyze {}").format(m))
    return held


def _fresh(local: psycopg.Connection, lt: LiveTable, i: int, allocate: Allocate,
           free_live: Callable[[list[int]], list[int]] | None) -> None:
    """Give every record to insert without an id one from ``allocate``; with ``free_live``,
    a ``new`` id the app took meanwhile becomes a fresh one too."""
    m = map_of(i)
    top = local.execute(sql.SQL(
        "select greatest((select max(live_id) from {m} where state = 'insert'), "
        "(select max(id) from {live}))").format(m=m, live=_t("live", i))).fetchone()[0] or 0
    want, inserts = local.execute(sql.SQL(
        "select count(*) filter (where live_id is null), count(*) from {} "
        "where state = 'insert'").format(m)).fetchone()
    if not inserts:
        return
    ids = allocate(want, top)  # moves the live sequence past every id planned, fresh or new
    if free_live is not None:  # the sequence now lies past every new id: none can be taken
        new = [r[0] for r in local.execute(sql.SQL(
            "select live_id from {} where state = 'insert' and how = 'new'").format(m))]
        taken = sorted(set(new) - set(free_live(new))) if new else []
        if taken:
            local.execute(sql.SQL("update {} set live_id = null, how = 'fresh' where state = "
                                  "'insert' and live_id = any(%s)").format(m), (taken,))
            ids += allocate(len(taken), top)
    if not ids:
        return
    local.execute(sql.SQL("""
        update {m} p set live_id = f.id from (
            select k, row_number() over (order by k) as n from {m}
            where state = 'insert' and live_id is null) o
        join unnest(%s::bigint[]) with ordinality as f(id, n) on f.n = o.n
        where p.k = o.k""").format(m=m), (ids,))


def _evidence(local: psycopg.Connection, src: psycopg.Connection, lt: LiveTable, i: int
              ) -> list[RowDiff]:
    """Local rows whose id holds an unclaimed live row under another (or no) natural key: the
    other fields decide (:func:`same_record`): paired, fresh id, or held (returned)."""
    m, live, lk = map_of(i), _t("live", i), _t("lk", i)
    rows = local.execute(sql.SQL("""
        select x.k, l.nk, x.nk from {lk} x join {live} l on l.id = x.k
        where not exists (select 1 from {m} p where p.k = x.k)
          and not exists (select 1 from {m} p where p.live_id = x.k)
        order by x.k""").format(lk=lk, live=live, m=m)).fetchall()
    if not rows:
        return []
    skip = {*lt.table.natural_key, *(c.name for c in lt.references)}
    skip |= {c.name for c in lt.fields if c.name not in skip} - _distinctive(local, lt, skip)
    secret = {c.name for c in lt.fields if c.sensitive}
    held, decided = [], []
    for start in range(0, len(rows), 5000):
        chunk = rows[start:start + 5000]
        ids = [r[0] for r in chunk]
        theirs = dict(src.execute(sql.SQL("select l.id::bigint, ({})::text from {} l where "
                                          "l.id = any(%s)").format(lt.shown("l"), lt.ident),
                                  (ids,)).fetchall())
        mine = dict(local.execute(sql.SQL("select x.id, ({})::text from {} x where x.id = "
                                          "any(%s)").format(lt.local_shown("x"), lt.local),
                                  (ids,)).fetchall())
        for k, nk_live, nk_local in chunk:
            a, b = _load(theirs.get(k)), _load(mine.get(k))
            verdict, equal, both = same_record(a, b, skip)
            note = f"{equal} of {both} other field(s) equal"
            decided.append((k, verdict, nk_live, note))
            if verdict == "unsure":
                from generator.publish.plan import field_diffs

                fields = [f for f in field_diffs(a, b, secret) if f.field not in skip]
                key = FieldDiff(",".join(lt.table.natural_key) or "id",
                                _nk(nk_live, lt, secret), _nk(nk_local, lt, secret))
                held.append(RowDiff(k, HELD, (key, FieldDiff("(evidence)", note, note),
                                              *fields), False, k))
    with local.cursor() as cur:
        cur.executemany(sql.SQL(
            "insert into {} (k, live_id, how, state, nk_live, note) values (%s, %s, %s, %s, "
            "%s, %s)").format(m),
            [(k, k if v != "other" else None, {"same": "evidence", "other": "fresh",
                                                "unsure": "held"}[v],
              {"same": "paired", "other": "insert", "unsure": "held"}[v], nk, note)
             for k, v, nk, note in decided])
    return held


def _distinctive(local: psycopg.Connection, lt: LiveTable, skip: set[str]) -> set[str]:
    """Fields that tell records apart: at least :data:`IDENTITY_DISTINCT` of their values
    distinct (on a sample of the local rows). A flag or an enum agrees between two records by
    chance, so it is no evidence either way."""
    cols = [c for c in lt.fields if c.name not in skip]
    if not cols:
        return set()
    shares = sql.SQL(", ").join(
        sql.SQL("count(distinct {c}::text)::float / greatest(count({c}), 1)").format(
            c=sql.Identifier(c.name)) for c in cols)
    row = local.execute(sql.SQL("select {} from (select * from {} limit {}) x").format(
        shares, sql.Identifier(V2_SCHEMA, lt.table.name), sql.Literal(IDENTITY_SAMPLE))
    ).fetchone()
    return {c.name for c, share in zip(cols, row) if share >= IDENTITY_DISTINCT}


def _nk(text: str | None, lt: LiveTable, secret: set[str]) -> str:
    from generator.keypath import mask

    if text is None:
        return "null"
    shown = text.strip("{}")
    return mask(shown) if any(c in secret for c in lt.table.natural_key) else shown


def _load(text: str | None) -> dict | None:
    return None if text is None else json.loads(text, parse_float=Decimal)


def figures(local: psycopg.Connection, i: int) -> dict[str, int]:
    """:data:`FIGURES` of main table ``i``'s map."""
    row = local.execute(sql.SQL("""
        select count(*) filter (where state = 'paired' and k = live_id),
            count(*) filter (where state = 'paired' and k <> live_id),
            count(*) filter (where state = 'insert' and how <> 'new'),
            count(*) filter (where state = 'insert' and how = 'new'),
            count(*) filter (where state = 'held')
        from {}""").format(map_of(i))).fetchone()
    return dict(zip(FIGURES, row))


def fresh_rows(local: psycopg.Connection, lt: LiveTable, i: int, limit: int) -> list[RowDiff]:
    """Records inserted under a fresh id because another live record holds their id, with
    both natural keys (masked when sensitive)."""
    secret = {c.name for c in lt.fields if c.sensitive}
    label = ",".join(lt.table.natural_key) or "id"
    out = []
    for k, live_id, nk_live, nk_local, how, at_k in local.execute(sql.SQL(
            "select m.k, m.live_id, coalesce(m.nk_live, l.nk), x.nk, m.how, l.id is not null "
            "from {m} m join {lk} x on x.k = m.k left join {live} l on l.id = m.k "
            "where m.state = 'insert' and m.how <> 'new' order by m.k limit %s").format(
            m=map_of(i), lk=_t("lk", i), live=_t("live", i)), (limit,)):
        kind = FRESH[2] if how == "decided" else FRESH[0] if at_k else FRESH[1]
        out.append(RowDiff(k, kind, (FieldDiff(label, _nk(nk_live, lt, secret),
                                               _nk(nk_local, lt, secret)),), False, live_id))
    return out


def persist(local: psycopg.Connection, lt: LiveTable, i: int, run_id: int,
            inserts: bool) -> None:
    """Remember the map of main table ``i`` before the first write (held records aside): the
    pairs with live rows as landed and, when the table is written (``inserts``), the ids
    drawn for its inserts as not landed yet."""
    names = {"identity": IDENTITY, "m": map_of(i), "name": sql.Literal(lt.table.name),
             "run": sql.Literal(run_id),
             "states": sql.Literal(["paired", "insert"] if inserts else ["paired"])}
    with local.transaction():
        # a live id a departed local record held goes to the record that now has its key
        local.execute(sql.SQL("""
            delete from {identity} e using {m} p
            where e.v2_table = {name} and e.live_id = p.live_id and e.k <> p.k
              and p.state = any({states})""").format(**names))
        local.execute(sql.SQL("""
            insert into {identity} as e (v2_table, k, live_id, how, landed, run_id)
            select {name}, k, live_id, how, state = 'paired', {run} from {m}
            where state = any({states}) and live_id is not null
            on conflict (v2_table, k) do update set live_id = excluded.live_id,
                how = excluded.how, landed = excluded.landed or (e.landed and
                    e.live_id = excluded.live_id), run_id = excluded.run_id,
                paired_at = case when e.live_id = excluded.live_id then e.paired_at
                                 else now() end""").format(**names))


def landed(local: psycopg.Connection, lt: LiveTable, run_id: int, batch: bool = False) -> None:
    """After a main table's writes (``batch``: after one committed batch, reading only what it
    wrote): the records inserted are live under their ids. A record marked already is left
    alone, so marking costs what the batch wrote, not what the table wrote so far."""
    local.execute(sql.SQL("""
        update {identity} e set landed = true, run_id = {run}
        from {written} w where e.v2_table = {name} and w.op = 'insert' and e.k = w.k
          and e.live_id = w.id and not e.landed""").format(
        identity=IDENTITY, run=sql.Literal(run_id), name=sql.Literal(lt.table.name),
        written=sql.Identifier("pub_batch" if batch else "pub_written")))


def unplace_unlanded(local: psycopg.Connection, i: int) -> bool:
    """After a main table's writes: records whose insert did not land (the app holds the id)
    are no longer placed, so no later table names them; True when there were any."""
    return local.execute(sql.SQL("""
        update {m} m set state = 'lost' where m.state = 'insert'
          and not exists (select 1 from pub_written w where w.op = 'insert' and w.k = m.k
                          and w.id = m.live_id)""").format(m=map_of(i))).rowcount > 0


def unresolved(local: psycopg.Connection, lt: LiveTable, i: int) -> dict[str, int]:
    """Per reference column, local rows to be live whose value names a record that is not
    placed live (written as NULL)."""
    refs = lt.references
    if not refs:
        return {}
    counts = sql.SQL(", ").join(
        sql.SQL("count(*) filter (where o.{c} is not null and x.{c} is null)").format(
            c=sql.Identifier(c.name)) for c in refs)
    row = local.execute(sql.SQL("""
        select {counts} from {plan} p join {view} x on x.id = p.k
        join {orig} o on o.id = p.k
        where p.action not in ('held', 'blocked')""").format(
        counts=counts, plan=_t("plan", i), view=lt.local,
        orig=sql.Identifier(V2_SCHEMA, lt.table.name))).fetchone()
    return {c.name: n for c, n in zip(refs, row) if n}


def restore(local: psycopg.Connection, lt: LiveTable, i: int) -> None:
    """The map of a main table a publish leaves unplanned (:mod:`generator.publish.state`):
    its standing pairs, as :func:`pair` would find them in a converged table (every landed
    pair of a local record is 'paired'; nothing is to insert)."""
    local.execute(sql.SQL("truncate {}").format(map_of(i)))
    local.execute(sql.SQL("""
        insert into {m} (k, live_id, how, state)
        select e.k, e.live_id, e.how, 'paired' from {identity} e
        join {local} x on x.id = e.k
        where e.v2_table = %s and e.landed""").format(
        m=map_of(i), identity=IDENTITY, local=sql.Identifier(V2_SCHEMA, lt.table.name)),
        (lt.table.name,))
    local.execute(sql.SQL("analyze {}").format(map_of(i)))
