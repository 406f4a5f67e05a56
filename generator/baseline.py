"""The V2 state production has today, laid down over the synthetic workspace (--v2-baseline).

Built from the committed models, then shaped like production: transactions -2,596, agents -491,
participants -29,175 (scaled), 6 V2-only network rows, a few stale values, and every split table
empty except user 72's onboarding row.
"""

from __future__ import annotations

from pathlib import Path

from psycopg import sql

from generator import db as dbmod
from generator import spec as specmod
from generator.config import AUDIT_SCHEMA, V2_SCHEMA
from generator.errors import SyncError
from generator.sync.runner import dbt_invoke

GAPS = {"transaction": 2_596, "agent": 491, "participant": 29_175}
V2_ONLY_NETWORK = 6
ONBOARDING_USER = 72


def lay_baseline(target: dbmod.Target, root: Path, scale: float = 1.0) -> list[str]:
    """Replace the V2 schema's contents with the production-like baseline; returns a summary."""
    spec = specmod.load_spec(root)
    with dbmod.connect(target) as conn:
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(V2_SCHEMA)))
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(
            sql.Identifier(AUDIT_SCHEMA)))
    for args in (["seed", "--quiet", "--full-refresh"],
                 ["run", "--quiet", "--select", "path:models/v2"]):
        res = dbt_invoke(target, root, args)
        if not res.success:
            raise SyncError(f"baseline: dbt {args[0]} failed: {res.exception or 'see logs'}")
    lines = []
    with dbmod.connect(target) as conn, conn.transaction():
        def q(query, *params):
            return conn.execute(query, params)

        for t in spec.tables:
            if not t.is_main:
                keep = ""
                if t.name == "user_onboarding":
                    keep = f" where {t.parent_column} <> {ONBOARDING_USER}"
                    q(sql.SQL("delete from {}" + keep).format(sql.Identifier(V2_SCHEMA, t.name)))
                else:
                    q(sql.SQL("delete from {}").format(sql.Identifier(V2_SCHEMA, t.name)))
        for v1, gap in GAPS.items():
            main = spec.main_table(v1).name
            n = round(gap * scale)
            q(sql.SQL("delete from {t} where id in (select id from {t} order by id desc limit {n})")
              .format(t=sql.Identifier(V2_SCHEMA, main), n=sql.Literal(n)))
            lines.append(f"xano_v2 {main:<18} {n:>8,} rows behind V1 (production gap)")
        net = spec.main_table("network").name
        extra = max(1, round(V2_ONLY_NETWORK * scale))
        q(sql.SQL("insert into {t} (id, status, created_at) select coalesce(max(id), 0) + g, "
                  "'active', timestamptz '2024-01-01 00:00:00+00' from {t}, "
                  "generate_series(1, {n}) g group by g").format(
            t=sql.Identifier(V2_SCHEMA, net), n=sql.Literal(extra)))
        lines.append(f"xano_v2 {net:<18} {extra:>8,} V2-only rows (must survive every sync)")
        user = spec.main_table("user").name
        stale = q(sql.SQL("update {} set first_name = first_name || ' (old)' "
                          "where id %% 50 = 0").format(sql.Identifier(V2_SCHEMA, user))).rowcount
        lines.append(f"xano_v2 {user:<18} {stale:>8,} rows with stale values")
    return lines
