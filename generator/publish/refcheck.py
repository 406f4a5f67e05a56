"""The live referential check: does every reference of a published live row name the same
entity as in V1? Judged by natural key, not by the identity map that publish itself used.

For each main table with a natural key, every record gets an *entity key* on both sides: its
natural key, a reference inside it replaced by the entity key of the record it names (so
``network_member``'s key is (the upline agent's ``agent_id_raw``, the downline agent's, tier)
on both sides, whatever ids each side uses). Then, for every live row this tool wrote or found
equal (``published_rows``) and still holding what it recorded (rows the app edited since are
the app's), each reference column is compared: the entity key of the live record the live value
names against the entity key of the local record the local (V1) value names.

===========  =====================================================================================
verdict      meaning
===========  =====================================================================================
``ok``       the same entity (or NULL on both sides)
``unset``    V1 names a record, the live value is NULL (its record is not placed live yet)
``dangling`` the live value names no live record
``wrong``    the live value names another entity than V1's
===========  =====================================================================================

Reads the live tables in one read-only snapshot; writes nothing anywhere but session temp
tables of the local server.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from generator import db
from generator.config import V2_SCHEMA
from generator.convert import xano_value
from generator.live import LiveTable
from generator.publish import identity
from generator.publish.audit import ROWS

VERDICTS = ("ok", "unset", "dangling", "wrong")
"""What a reference of a published live row can be (see the module)."""


@dataclass(frozen=True)
class RefResult:
    """One reference column of one V2 table."""

    table: str
    """V2 table."""
    column: str
    """Reference column."""
    references: str
    """V2 table it names."""
    checked: int
    """Published live rows compared."""
    counts: dict[str, int]
    """Rows per verdict (:data:`VERDICTS`)."""
    examples: tuple[tuple[int, int | None, str], ...] = ()
    """A few (live row id, live value, verdict) of the rows not ok."""

    @property
    def failed(self) -> bool:
        """True when a reference names no record or another entity."""
        return bool(self.counts.get("dangling") or self.counts.get("wrong"))


def _part(expr: sql.Composable) -> sql.Composable:
    return sql.SQL("nullif(lower(btrim(({})::text)), '')").format(expr)


def _ek(parts: list[sql.Composable]) -> sql.Composable:
    return sql.SQL("(case when num_nonnulls({p}) = 0 then null else array[{p}]::text end)"
                   ).format(p=sql.SQL(", ").join(parts))


def entity_keys(local: psycopg.Connection, src: psycopg.Connection, lts: list[LiveTable]
                ) -> dict[str, int]:
    """Temp tables ``rc_live_<i>`` (id, ek) and ``rc_local_<i>`` (k, ek) of every main table
    with a natural key, in the order keys allow; returns V2 table -> index."""
    done: dict[str, int] = {}
    for i in identity.pairing_order(lts):
        lt = lts[i]
        cols = lt.table.natural_key
        if not cols:
            continue
        by = {c.name: (c, cv) for c, cv in zip(lt.fields, lt.convs or [None] * len(lt.fields))}
        raw = sql.Identifier(f"rc_raw_{i}")
        local.execute(sql.SQL("drop table if exists {}").format(raw))
        local.execute(sql.SQL("create temp table {} (id bigint, {})").format(
            raw, sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(f"p{j}"))
                                    for j in range(len(cols)))))
        live_parts, local_parts = [], []
        for name in cols:
            c, cv = by[name]
            if lt.layout == "jsonb":
                v = sql.SQL("{} ->> {}").format(sql.Identifier("l", "xdo"), sql.Literal(name))
            else:
                v = sql.Identifier("l", name)
            live_parts.append(_part(v))
            x = sql.Identifier("x", name)
            local_parts.append(_part(
                x if c.references else
                sql.SQL("({} #>> '{{}}')").format(xano_value(x, c.v2_type))
                if lt.layout == "jsonb" else cv.to_live(x)))

        def parts(side: str, cols=cols, by=by) -> list[sql.Composable]:
            """The key's parts on one side, a reference as the entity key it names."""
            out = []
            for j, name in enumerate(cols):
                p = sql.Identifier("r", f"p{j}")
                ref = done.get(by[name][0].references)
                out.append(p if ref is None else sql.SQL(
                    "(select e.ek from {} e where e.id = nullif({}, '')::numeric::bigint)")
                    .format(sql.Identifier(f"{side}_{ref}"), p))
            return out

        db.pipe(src, sql.SQL("copy (select l.id::bigint, {} from {} l) to stdout (format "
                             "binary)").format(sql.SQL(", ").join(live_parts), lt.ident),
                local, sql.SQL("copy {} from stdin (format binary)").format(raw))
        named = sql.SQL(", ").join(sql.SQL("{} as {}").format(p, sql.Identifier(f"p{j}"))
                                   for j, p in enumerate(local_parts))
        sources = {"rc_live": raw, "rc_local": sql.SQL("(select x.id, {} from {} x)").format(
            named, sql.Identifier(V2_SCHEMA, lt.table.name))}
        for side, rows in sources.items():
            out = sql.Identifier(f"{side}_{i}")
            local.execute(sql.SQL("drop table if exists {}").format(out))
            local.execute(sql.SQL("create temp table {} as select r.id, {} as ek from {} r")
                          .format(out, _ek(parts(side)), rows))
            local.execute(sql.SQL("create index on {} (id)").format(out))
            local.execute(sql.SQL("analyze {}").format(out))
        done[lt.table.name] = i
    return done


def check(local: psycopg.Connection, src: psycopg.Connection, lts: list[LiveTable],
          tables: set[str], most: int = 5) -> list[RefResult]:
    """The check (see the module) of the reference columns (the parent FK included) of
    ``tables``; ``lts`` resolved against the live catalog, parents first."""
    keys = entity_keys(local, src, lts)
    out = []
    for i, lt in enumerate(lts):
        if lt.table.name not in tables:
            continue
        refs = [c for c in lt.fields if c.references in keys]
        if not refs:
            continue
        live = sql.Identifier(f"rc_rows_{i}")
        local.execute(sql.SQL("drop table if exists {}").format(live))
        local.execute(sql.SQL("create temp table {} (id bigint, d bigint, {})").format(
            live, sql.SQL(", ").join(sql.SQL("{} bigint").format(sql.Identifier(c.name))
                                     for c in refs)))
        vals = []
        for c in refs:
            if lt.layout == "jsonb":
                vals.append(sql.SQL("nullif({} ->> {}, '')::numeric::bigint").format(
                    sql.Identifier("l", "xdo"), sql.Literal(c.name)))
            else:
                vals.append(sql.SQL("{}::bigint").format(sql.Identifier("l", c.name)))
        db.pipe(src, sql.SQL("copy (select l.id::bigint, {}, {} from {} l) to stdout (format "
                             "binary)").format(lt.live_digest("l"), sql.SQL(", ").join(vals),
                                               lt.ident),
                local, sql.SQL("copy {} from stdin (format binary)").format(live))
        local.execute(sql.SQL("create index on {} (id)").format(live))
        for c in refs:
            j = keys[c.references]
            verdict = sql.SQL("""case
                when o.{c} is null and l.{c} is null then 'ok'
                when l.{c} is not null and le.id is null then 'dangling'
                when l.{c} is null then case when me.ek is null then 'ok' else 'unset' end
                when me.ek is not distinct from le.ek then 'ok'
                else 'wrong' end""").format(c=sql.Identifier(c.name))
            rows = local.execute(sql.SQL("""
                with v as (
                    select l.id, l.{c} as value, {verdict} as verdict
                    from {live} l
                    join {rows} r on r.v2_table = {name} and r.id = l.id and r.d = l.d
                    join {orig} o on o.id = r.k
                    left join {le} le on le.id = l.{c}
                    left join {me} me on me.id = o.{c})
                select verdict, count(*), (array_agg(array[id, value] order by id)
                    filter (where verdict <> 'ok'))[1:{most}] from v group by 1""").format(
                c=sql.Identifier(c.name), verdict=verdict, live=live, rows=ROWS,
                name=sql.Literal(lt.table.name), orig=sql.Identifier(V2_SCHEMA, lt.table.name),
                le=sql.Identifier(f"rc_live_{j}"), me=sql.Identifier(f"rc_local_{j}"),
                most=sql.Literal(most))).fetchall()
            counts = {v: n for v, n, _ in rows}
            examples = tuple((e[0], e[1], v) for v, _, ex in rows for e in (ex or []))
            out.append(RefResult(lt.table.name, c.name, c.references, sum(counts.values()),
                                 counts, examples[:most]))
    return out


def run(local: db.Target, root, target_dsn: str, workspace: int, select: str | None
        ) -> list[RefResult]:
    """The check of the selected V2 tables (default: all) against the live V2: one read-only
    snapshot of the live side. Raises PublishError (one line, no password)."""
    from generator.catalog import exists
    from generator.config import AUDIT_SCHEMA
    from generator.errors import PublishError
    from generator.live import resolve
    from generator.publish.plan import session
    from generator.publish.run import PublishOptions, check_options, connect_target

    lts, chosen = check_options(root, PublishOptions(target_dsn, workspace, select=select))
    with db.connect(local) as conn:
        if not exists(conn, AUDIT_SCHEMA, "published_rows"):
            raise PublishError("nothing is published yet: run `python -m generator publish` "
                               "first")
        missing = [lt.table.name for lt in lts if not exists(conn, V2_SCHEMA, lt.table.name)]
        if missing:
            raise PublishError(f"local V2 table(s) missing: {', '.join(missing)}; run "
                               "`python -m generator sync` first")
        session(conn)
        with connect_target(target_dsn, read_only=True) as tgt:
            session(tgt)
            resolved, problems = [], []
            for lt in lts:
                lt, found = resolve(tgt, lt)
                problems += found
                resolved.append(lt)
            if problems:
                raise PublishError("; ".join(problems))
            return check(conn, tgt, resolved, chosen)
