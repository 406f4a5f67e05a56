"""The plan of one table: which live row is the same record as which local row, and what to do.

The live side sends, per live row, its id, what it is matched on (``k``: its id for a main
table, its parent FK otherwise), its natural key (main tables) and a portable digest of the
publish's fields (:mod:`generator.convert`). The local side computes the same for the local V2
rows. Pairs are made per grain (:attr:`generator.live.LiveTable.grain`):

- **main**: the live row the identity map pairs it with (:mod:`generator.publish.identity`:
  by natural key, remembered once paired; V2's id is kept), else an insert under the id the
  map reserved (the local id when free, else a fresh one), or ``held``;
- **split**: among the live rows whose parent FK is the local row's parent (as placed live),
  the one this tool recorded for it, else one with equal content, else the lowest id; the
  others are ``duplicate``;
- **array**: the live child recorded for the local child, else one with equal content under the
  same parent (multisets matched one for one);
- **keyed** (closure tables): as split, on the natural key instead of the parent.

==================  =========================================================================
action              meaning
==================  =========================================================================
``same``            paired, the live row holds the local content
``update``          paired, content differs (never seen by a publish, or unchanged since)
``conflict``        paired, edited in V2 since a publish wrote it or found it equal: kept
                    (``--overwrite`` takes the local value)
``insert``          local row with no live row (its parent is live)
``deleted_live``    a publish wrote or found the row, V2 deleted it since: not re-inserted
                    (``--overwrite``)
``held``            main: same id, other natural key, and the other fields do not decide:
                    not written until a person decides (the live row is never touched)
``blocked``         its parent is not placed live (held, not published): not written
``duplicate``       live: a second row of a parent, an equal child, or a second row of a
                    natural key (closure tables): kept (``--dedupe``)
``orphan``          live: its parent FK points at no live parent row: kept
``live_only``       live: a row the local V2 does not have: never touched
``prune``           live: written by this tool, its local row is gone (``--prune``)
``prune_edited``    as ``prune``, edited in V2 since (``--prune --overwrite``)
==================  =========================================================================

``op`` is what the writer does: ``insert``, ``update``, ``delete`` or ``none``. Everything
here reads the live side only; the local side gets temp tables (``pub_*``, session-local).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import psycopg
from psycopg import sql

from generator import db
from generator.convert import SESSION_SETTINGS
from generator.keypath import mask
from generator.live import LiveTable
from generator.publish import identity
from generator.publish.audit import ROWS, FieldDiff, RowDiff

CONFLICT_KINDS = {"conflict": "edited in V2", "deleted_live": "deleted in V2",
                  "prune_edited": "edited in V2, gone from V1"}
"""Actions that are conflicts, and how they are reported."""
PAIRED = ("same", "update", "conflict")
"""Actions of a local row paired with a live row (the row is placed live)."""


@dataclass(frozen=True)
class PlanOptions:
    """What the plan turns into writes."""

    overwrite: bool = False
    """Conflicts and rows deleted in V2 take the local value."""
    prune: bool = False
    """Rows this tool wrote whose local row is gone are deleted."""
    dedupe: bool = False
    """Extra live rows of a parent holding the same content as the kept one are deleted."""


def session(conn: psycopg.Connection) -> None:
    """Pin the settings the digests depend on (see :data:`SESSION_SETTINGS`)."""
    for name, value in SESSION_SETTINGS:
        conn.execute(sql.SQL("select set_config({}, {}, false)").format(
            sql.Literal(name), sql.Literal(value)))


def _t(name: str, i: int) -> sql.Identifier:
    return sql.Identifier(f"pub_{name}_{i}")


def load_live(local: psycopg.Connection, src: psycopg.Connection | None, lt: LiveTable,
              i: int) -> int:
    """Copy (id, k, nk, d) of every live row into the temp ``pub_live_<i>``; returns the
    number of live rows. ``src`` None: the live table is a relation of ``local`` (the copy
    made by ``mirror``)."""
    live = _t("live", i)
    local.execute(sql.SQL("drop table if exists {}").format(live))
    local.execute(sql.SQL("create temp table {} (id bigint, k bigint, nk text, d bigint)")
                  .format(live))
    query = sql.SQL("select l.id::bigint, {k}, {nk}, {d} from {t} l").format(
        k=lt.live_key("l"), nk=lt.live_nk("l"), d=lt.live_digest("l"), t=lt.ident)
    if src is None:
        local.execute(sql.SQL("insert into {} {}").format(live, query))
    else:
        db.pipe(src, sql.SQL("copy ({}) to stdout (format binary)").format(query), local,
                sql.SQL("copy {} (id, k, nk, d) from stdin (format binary)").format(live))
    local.execute(sql.SQL("create index on {} (id)").format(live))
    local.execute(sql.SQL("create index on {} (k)").format(live))
    if lt.table.natural_key:
        local.execute(sql.SQL("create index on {} (nk)").format(live))
    local.execute(sql.SQL("analyze {}").format(live))
    return local.execute(sql.SQL("select count(*) from {}").format(live)).fetchone()[0]


def load_live_ids(local: psycopg.Connection, src: psycopg.Connection, lt: LiveTable,
                  i: int) -> None:
    """``pub_live_<i>`` with the ids of the live rows only: a table left unplanned
    (:mod:`generator.publish.state`) whose child is planned (the child's orphans are rows
    whose parent id is not among them)."""
    live = _t("live", i)
    local.execute(sql.SQL("drop table if exists {}").format(live))
    local.execute(sql.SQL("create temp table {} (id bigint, k bigint, nk text, d bigint)")
                  .format(live))
    db.pipe(src, sql.SQL("copy (select id::bigint from {}) to stdout (format binary)").format(
        lt.ident), local, sql.SQL("copy {} (id) from stdin (format binary)").format(live))
    local.execute(sql.SQL("create index on {} (id)").format(live))
    local.execute(sql.SQL("analyze {}").format(live))


def place_restored(local: psycopg.Connection, i: int) -> None:
    """``pub_place_<i>`` of a main table left unplanned: its paired records whose live row is
    there (as :func:`place` after a plan: a record V2 deleted is not placed)."""
    local.execute(sql.SQL("drop table if exists {}").format(_t("place", i)))
    local.execute(sql.SQL("""
        create temp table {place} as select m.k, m.live_id from {m} m
        join {live} l on l.id = m.live_id where m.state = 'paired'""").format(
        place=_t("place", i), m=identity.map_of(i), live=_t("live", i)))
    local.execute(sql.SQL("create index on {} (k)").format(_t("place", i)))
    local.execute(sql.SQL("analyze {}").format(_t("place", i)))


def _load_local(local: psycopg.Connection, lt: LiveTable, i: int,
                parent: int | None) -> None:
    """``pub_v_<i>``: each local row's key, its parent's live id (``fk``; NULL when the parent
    is not placed, ``placed`` false), natural key and digest."""
    v = _t("v", i)
    local.execute(sql.SQL("drop table if exists {}").format(v))
    digest = lt.local_digest("x")
    if parent is None:
        fk = sql.SQL("null::bigint as fk, true as placed")
        join = sql.SQL("")
    else:
        digest = lt.local_digest("x", fk=sql.SQL("p.live_id"))
        fk = sql.SQL("p.live_id as fk, p.k is not null as placed")
        join = sql.SQL("left join {} p on p.k = x.{}").format(
            _t("place", parent), sql.Identifier(lt.table.parent_column))
    local.execute(sql.SQL("""
        create temp table {v} as
        select x.id as k, {fk}, {nk} as nk, {d} as d
        from {local} x {join}""").format(
        v=v, fk=fk, nk=lt.local_nk("x"), d=digest, local=lt.local, join=join))
    local.execute(sql.SQL("create index on {} (k)").format(v))
    local.execute(sql.SQL("analyze {}").format(v))


def _load_record(local: psycopg.Connection, lt: LiveTable, i: int) -> None:
    rec = _t("rec", i)
    local.execute(sql.SQL("drop table if exists {}").format(rec))
    local.execute(sql.SQL("create temp table {} as select id, k, d, written from {} "
                          "where v2_table = %s").format(rec, ROWS), (lt.table.name,))
    local.execute(sql.SQL("create index on {} (id)").format(rec))
    local.execute(sql.SQL("create index on {} (k)").format(rec))
    local.execute(sql.SQL("analyze {}").format(rec))


def _pairs(local: psycopg.Connection, lt: LiveTable, i: int) -> None:
    """``pub_pair_<i>`` (k, live_id): which live row is the same record as which local row."""
    pair, v, live, rec = _t("pair", i), _t("v", i), _t("live", i), _t("rec", i)
    local.execute(sql.SQL("drop table if exists {}").format(pair))
    names = {"pair": pair, "v": v, "live": live, "rec": rec}
    if lt.grain == "main":  # the identity map (generator.publish.identity) says who is who
        local.execute(sql.SQL("create temp table {pair} as select m.k, m.live_id from {m} m "
                              "join {live} l on l.id = m.live_id where m.state = 'paired'")
                      .format(m=identity.map_of(i), **names))
    elif lt.grain in ("split", "keyed"):  # one live row per parent, or per natural key
        on = sql.SQL("l.k = v.fk" if lt.grain == "split" else "l.nk = v.nk")
        local.execute(sql.SQL("""
            create temp table {pair} as
            select k, live_id from (
                select v.k, l.id as live_id, row_number() over (
                    partition by v.k order by (r.k is not distinct from v.k) desc,
                    (l.d = v.d) desc, l.id) as rn
                from {v} v join {live} l on {on}
                left join {rec} r on r.id = l.id
            ) c where rn = 1""").format(on=on, **names))
    else:
        local.execute(sql.SQL("""
            create temp table {pair} as
            select v.k, l.id as live_id from {v} v
            join {rec} r on r.k = v.k join {live} l on l.id = r.id and l.k = v.fk""")
                      .format(**names))
        local.execute(sql.SQL("""
            insert into {pair}
            select a.k, b.id from (
                select v.k, v.fk, v.d, row_number() over (partition by v.fk, v.d order by v.k)
                    as rn
                from {v} v where v.fk is not null
                    and not exists (select 1 from {pair} p where p.k = v.k)) a
            join (
                select l.id, l.k, l.d, row_number() over (partition by l.k, l.d order by l.id)
                    as rn
                from {live} l where not exists (select 1 from {pair} p where p.live_id = l.id)
            ) b on b.k = a.fk and b.d = a.d and b.rn = a.rn""").format(**names))
    local.execute(sql.SQL("create index on {} (k)").format(pair))
    local.execute(sql.SQL("create index on {} (live_id)").format(pair))
    local.execute(sql.SQL("analyze {}").format(pair))


PLAN_COLUMNS = ("k bigint, live_id bigint, fk bigint, action text, op text, live_d bigint, "
                "local_d bigint, nk_local text, nk_live text, written boolean")


def classify(local: psycopg.Connection, lt: LiveTable, i: int, parent: int | None,
             parent_live: int | None, opts: PlanOptions) -> None:
    """Build the plan ``pub_plan_<i>`` of one table (see the module) from the loaded live
    state ``pub_live_<i>``, the local V2, the record and the parent's placement."""
    _load_local(local, lt, i, parent)
    _load_record(local, lt, i)
    _pairs(local, lt, i)
    plan, v, live, rec, pair = (_t("plan", i), _t("v", i), _t("live", i), _t("rec", i),
                                _t("pair", i))
    names = {"plan": plan, "v": v, "live": live, "rec": rec, "pair": pair}
    local.execute(sql.SQL("drop table if exists {}").format(plan))
    local.execute(sql.SQL("create temp table {} ({})").format(plan, sql.SQL(PLAN_COLUMNS)))
    if lt.grain == "main":
        local.execute(sql.SQL("""
            insert into {plan} (k, live_id, fk, action, live_d, local_d, nk_local, nk_live,
                                written)
            select v.k, m.live_id, v.fk,
                case
                    when m.k is null or m.state = 'held' then 'held'
                    when m.state = 'insert' then 'insert'
                    when l.id is null then 'deleted_live'
                    when l.d = v.d then 'same'
                    when r.k = v.k and r.d is distinct from l.d then 'conflict'
                    else 'update'
                end,
                l.d, v.d, v.nk, coalesce(l.nk, m.nk_live), coalesce(r.written, false)
            from {v} v
            left join {m} m on m.k = v.k
            left join {live} l on l.id = m.live_id and m.state = 'paired'
            left join {rec} r on r.id = m.live_id and m.state = 'paired'""").format(
            m=identity.map_of(i), **names))
    else:
        local.execute(sql.SQL("""
            insert into {plan} (k, live_id, fk, action, live_d, local_d, nk_local, nk_live,
                                written)
            select v.k, p.live_id, v.fk,
                case
                    when not v.placed then 'blocked'
                    when p.live_id is null and gone.id is not null then 'deleted_live'
                    when p.live_id is null then 'insert'
                    when l.d = v.d then 'same'
                    when r.k = v.k and r.d is distinct from l.d then 'conflict'
                    else 'update'
                end,
                l.d, v.d, v.nk, l.nk, coalesce(r.written, false)
            from {v} v
            left join {pair} p on p.k = v.k
            left join {live} l on l.id = p.live_id
            left join {rec} r on r.id = p.live_id
            left join lateral (select g.id from {rec} g where g.k = v.k
                               and p.live_id is null
                               and not exists (select 1 from {live} x where x.id = g.id)
                               limit 1) gone on true""").format(**names))
    # live rows no local row is paired with; a second row of a record already paired (the
    # parent's split row, an equal child, the pair of a closure) is a duplicate
    orphan = sql.SQL("false") if parent_live is None else sql.SQL(
        "not exists (select 1 from {} pl where pl.id = l.k)").format(_t("live", parent_live))
    kept = _t("kept", i)
    local.execute(sql.SQL("drop table if exists {}").format(kept))
    keys = {"main": "null::bigint as fk, null::bigint as d, null::text as nk",
            "split": "pv.fk, null::bigint as d, null::text as nk",
            "array": "pv.fk, pl.d, null::text as nk",
            "keyed": "null::bigint as fk, null::bigint as d, pv.nk"}[lt.grain]
    local.execute(sql.SQL("""
        create temp table {kept} as select distinct {keys} from {pair} p
        join {v} pv on pv.k = p.k join {live} pl on pl.id = p.live_id
        where {main}""").format(kept=kept, keys=sql.SQL(keys),
                                main=sql.Literal(lt.grain != "main"), **names))
    local.execute(sql.SQL("analyze {}").format(kept))
    same = sql.SQL({"main": "false", "split": "dup.fk = l.k",
                    "array": "dup.fk = l.k and dup.d = l.d", "keyed": "dup.nk = l.nk"}[lt.grain])
    local.execute(sql.SQL("""
        insert into {plan} (k, live_id, fk, action, live_d, nk_live, written)
        select r.k, l.id, l.k,
            case
                when exists (select 1 from {kept} dup where {same}) then 'duplicate'
                when r.written and r.k is not null
                     and not exists (select 1 from {v} x where x.k = r.k)
                    then case when r.d = l.d then 'prune' else 'prune_edited' end
                when {not_main} and {orphan} then 'orphan'
                else 'live_only'
            end,
            l.d, l.nk, coalesce(r.written, false)
        from {live} l
        left join {rec} r on r.id = l.id
        where not exists (select 1 from {pair} p where p.live_id = l.id)""").format(
        not_main=sql.Literal(lt.grain in ("split", "array")), orphan=orphan, kept=kept,
        same=same, **names))
    _ops(local, lt, i, opts)
    local.execute(sql.SQL("create index on {} (action)").format(plan))
    local.execute(sql.SQL("analyze {}").format(plan))


def _ops(local: psycopg.Connection, lt: LiveTable, i: int, opts: PlanOptions) -> None:
    plan, pair = _t("plan", i), _t("pair", i)
    ow = "update" if opts.overwrite else "none"
    local.execute(sql.SQL("""
        update {plan} set op = case action
            when 'insert' then 'insert' when 'update' then 'update'
            when 'conflict' then {ow}
            when 'deleted_live' then {ow_insert}
            when 'prune' then {prune}
            when 'prune_edited' then {prune_edited}
            else 'none' end""").format(
        plan=plan, ow=sql.Literal(ow),
        ow_insert=sql.Literal("insert" if opts.overwrite else "none"),
        prune=sql.Literal("delete" if opts.prune else "none"),
        prune_edited=sql.Literal("delete" if opts.prune and opts.overwrite else "none")))
    if opts.dedupe:  # an extra row goes when it holds what its parent's kept row will hold
        same = sql.SQL("k.nk_local = d.nk_live" if lt.grain == "keyed" else "k.fk = d.fk")
        local.execute(sql.SQL("""
            update {plan} d set op = 'delete'
            from {plan} k join {pair} p on p.k = k.k
            where d.action = 'duplicate' and {same} and k.live_id = p.live_id
              and d.live_d = case when k.op in ('update', 'insert') or k.action = 'same'
                                  then k.local_d else k.live_d end""").format(
            plan=plan, pair=pair, same=same))


def place(local: psycopg.Connection, i: int, main: bool, inserted: str) -> None:
    """``pub_place_<i>`` (k, live_id): where each local row of table ``i`` is live, for its
    children: paired rows, and rows inserted: ``planned`` (what the plan would insert; the
    live id is known only for a main table), ``written`` (the rows of ``pub_written``) or
    ``none`` (a table this publish does not write)."""
    inserted = {
        "planned": sql.SQL("select k, case when {main} then live_id end from {plan} "
                           "where op = 'insert'").format(main=sql.Literal(main),
                                                         plan=_t("plan", i)),
        "written": sql.SQL("select k, id from pub_written where op = 'insert'"),
        "none": sql.SQL("select null::bigint, null::bigint where false")}[inserted]
    local.execute(sql.SQL("drop table if exists {}").format(_t("place", i)))
    local.execute(sql.SQL("""
        create temp table {place} as
        select k, live_id from {plan} where action in ('same', 'update', 'conflict')
        union all {inserted}""").format(place=_t("place", i), plan=_t("plan", i),
                                        inserted=inserted))
    local.execute(sql.SQL("create index on {} (k)").format(_t("place", i)))
    local.execute(sql.SQL("analyze {}").format(_t("place", i)))


def pair_copies(local: psycopg.Connection, lts: list[LiveTable]
                ) -> dict[str, tuple[int, LiveTable] | str]:
    """Plan each live table's local copy (``mirror --v2-workspace``) against the local V2,
    through the identity map (standing pairs, and first-sight pairing as a dry run would do
    it: nothing is remembered), parents first, in temp tables of this session
    (``pub_pair_<i>``: which copy row is which local row): per V2 table (its index, the copy
    as a resolved LiveTable reading the translated local rows), or the layout problems that
    keep it from being published. Tables whose local V2 is not built yet, or whose parent
    could not be planned, are left out."""
    from generator import catalog
    from generator.config import LIVE_SCHEMA, V2_SCHEMA
    from generator.db import project_root
    from generator.live import resolve
    from generator.publish.audit import ensure_audit
    from generator.publish.run import pair_all
    from generator.spec import load_spec

    ensure_audit(local)
    out: dict[str, tuple[int, LiveTable] | str] = {}
    copies: list[LiveTable] = []
    for lt in lts:
        name = lt.table.name
        if not catalog.exists(local, LIVE_SCHEMA, name):
            continue
        copy, problems = resolve(local, lt.at(LIVE_SCHEMA, name))
        if problems:
            out[name] = "; ".join(p.replace(copy.label, lt.label) for p in problems)
            continue
        if not catalog.exists(local, V2_SCHEMA, name) or (
                lt.table.parent and lt.table.parent not in {c.table.name for c in copies}):
            continue
        copies.append(copy)
    root = project_root()
    decisions = identity.load_decisions(root, {t.name for t in load_spec(root).tables
                                               if t.is_main and t.natural_key})
    copies, live_before, _ = pair_all(local, local, copies, {c.table.name for c in copies},
                                      decisions, real=False)
    index: dict[str, int] = {}
    for i, copy in enumerate(copies):
        parent = index.get(copy.table.parent) if copy.table.parent else None
        if i not in live_before:
            load_live(local, None, copy, i)
        classify(local, copy, i, parent, parent, PlanOptions())
        place(local, i, copy.grain == "main", "planned")
        out[copy.table.name] = (i, copy)
        index[copy.table.name] = i
    return out


def analyze_copies(local: psycopg.Connection, lts: list[LiveTable]) -> dict[str, dict | str]:
    """Identity figures of each live table's local copy against the local V2 (see
    :func:`pair_copies`): per V2 table its :func:`figures` (plus ``live_only``), or the layout
    problems that keep it from being published."""
    out: dict[str, dict | str] = {}
    for name, found in pair_copies(local, lts).items():
        if isinstance(found, str):
            out[name] = found
            continue
        i, copy = found
        c = counts(local, i)
        extra = {}
        if copy.grain == "main":
            extra = identity.figures(local, i)
            extra["collisions"] = extra["fresh"]
        extra["unresolved"] = sum(identity.unresolved(local, copy, i).values())
        out[name] = figures(c) | extra | {"live_only": sum(c.get(a, 0) for a in LIVE_SIDE)}
    return out


LIVE_SIDE = ("live_only", "orphan", "duplicate", "prune", "prune_edited")
"""Actions of live rows no local row is paired with (the V2-only rows, in the wide sense)."""


def counts(local: psycopg.Connection, i: int) -> dict[str, int]:
    """Rows per action (``<action>``), per op (``op:<op>``) and per both (``<action>><op>``)
    of the plan of table ``i``."""
    out: dict[str, int] = {}
    for action, op, n in local.execute(sql.SQL(
            "select action, op, count(*) from {} group by 1, 2").format(_t("plan", i))):
        out[action] = out.get(action, 0) + n
        out[f"op:{op}"] = out.get(f"op:{op}", 0) + n
        out[f"{action}>{op}"] = n
    return out


def figures(c: dict[str, int]) -> dict[str, int]:
    """The identity figures (:data:`generator.live.FIGURES`) of a plan's counts."""
    return {"matched": sum(c.get(a, 0) for a in PAIRED), "to_insert": c.get("insert", 0),
            "to_update": c.get("update", 0), "duplicates": c.get("duplicate", 0),
            "orphans": c.get("orphan", 0),
            "collisions": 0,  # main tables: records under a fresh id (identity.figures)
            "blocked": c.get("blocked", 0),
            "conflicts": sum(c.get(a, 0) for a in CONFLICT_KINDS)}


def ids_of(local: psycopg.Connection, i: int, actions: list[str], limit: int | None = None
           ) -> list[tuple[int | None, int | None, str]]:
    """(k, live_id, action) of the plan's rows with one of ``actions``, in key order."""
    return local.execute(sql.SQL(
        "select k, live_id, action from {} where action = any(%s) "
        "order by coalesce(k, live_id), live_id limit %s").format(_t("plan", i)),
        (actions, limit)).fetchall()


def row_diffs(local: psycopg.Connection, src: psycopg.Connection, lt: LiveTable,
              rows: list[tuple[int | None, int | None, str]], kinds: dict[str, str],
              overwritten: bool = False) -> list[RowDiff]:
    """Field diffs of ``rows`` (k, live_id, action) between the live row and the local V2 row,
    masked; ``kinds`` names each action in the report."""
    if not rows:
        return []
    live_ids = [r[1] for r in rows if r[1] is not None]
    shown = dict(src.execute(sql.SQL("select l.id::bigint, ({})::text from {} l "
                                     "where l.id = any(%s)").format(lt.shown("l"), lt.ident),
                             (live_ids,)).fetchall()) if live_ids else {}
    keys = [r[0] for r in rows if r[0] is not None]
    mine = dict(local.execute(sql.SQL("select x.id, ({})::text from {} x where x.id = any(%s)")
                              .format(lt.local_shown("x"), lt.local), (keys,)).fetchall()
                ) if keys else {}
    secret = {c.name for c in lt.fields if c.sensitive}
    out = []
    for k, live_id, action in rows:
        fields = field_diffs(_load(shown.get(live_id)), _load(mine.get(k)), secret)
        out.append(RowDiff(k if k is not None else live_id, kinds.get(action, action),
                           tuple(fields), overwritten, live_id))
    return out


def _load(text: str | None) -> dict | None:
    return None if text is None else json.loads(text, parse_float=Decimal)


def field_diffs(live: dict | None, local: dict | None, secret: set[str]) -> list[FieldDiff]:
    """The fields whose values differ, values as JSON text, sensitive ones masked.

    >>> [(d.field, d.live, d.local) for d in field_diffs({"a": 1}, {"a": 2}, set())]
    [('a', '1', '2')]
    >>> field_diffs({"pw": "x"}, {"pw": "y"}, {"pw"})[0].local
    '***masked (3 chars)***'
    >>> field_diffs({"n": Decimal("1.50")}, {"n": Decimal("1.5")}, set())
    []
    """
    out = []
    keys = list(dict.fromkeys([*(local or {}), *(live or {})]))
    for k in keys:
        a = (live or {}).get(k)
        b = (local or {}).get(k)
        if live is not None and local is not None and a == b:
            continue
        out.append(FieldDiff(k, _show(a, live is None, k in secret),
                             _show(b, local is None, k in secret)))
    return out


def _show(value, row_missing: bool, secret: bool) -> str:
    if row_missing:
        return "-"
    text = json.dumps(value, default=float, ensure_ascii=False)
    if secret and value is not None:
        return mask(text)
    return text if len(text) <= 80 else text[:79] + "…"
