"""The one registry of V1 tables: logical name, Xano workspace and table id."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class V1Table:
    """A registered V1 table."""

    name: str
    """Logical name (``user``)."""
    table_id: int
    """Xano table id; the relation is ``mvpw<workspace>_<table_id>``."""
    workspace: int = 1
    """Xano workspace id."""

    @property
    def relation(self) -> str:
        """Physical table name, e.g. ``mvpw1_41``."""
        return f"mvpw{self.workspace}_{self.table_id}"


V1_TABLES: tuple[V1Table, ...] = (
    V1Table("user", 41),
    V1Table("team", 45),
    V1Table("network", 48),
    V1Table("agent", 52),
    V1Table("transaction", 57),
    V1Table("participant", 61),
    V1Table("participant_paid", 62),
)


def v1_table(name: str) -> V1Table:
    """Look a V1 table up by logical name or relation name.

    >>> v1_table("mvpw1_41").name
    'user'
    """
    for t in V1_TABLES:
        if name in (t.name, t.relation):
            return t
    known = ", ".join(t.name for t in V1_TABLES)
    raise KeyError(f"unknown V1 table {name!r} (known: {known})")
