"""A small stand-in for the app that reads and writes the live V2 all day (tests, benchmarks).

It writes one live table at a steady rate from its own connection (autocommit, like an API
call): updates of one random existing row and inserts of new rows whose id comes from the
table's sequence, alternating. Each write's latency is measured on the app's side, per phase
(``mark``), and the app remembers what it wrote last in every row it touched.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql


@dataclass
class Phase:
    """Latencies (ms) of the writes of one phase."""

    name: str
    latencies: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        """p50, p99 and max in milliseconds, and the number of writes."""
        xs = sorted(self.latencies)
        if not xs:
            return {"writes": 0, "p50": 0.0, "p99": 0.0, "max": 0.0}
        return {"writes": len(xs), "p50": round(statistics.median(xs), 2),
                "p99": round(xs[min(len(xs) - 1, int(len(xs) * 0.99))], 2),
                "max": round(xs[-1], 2)}


class AppTraffic(threading.Thread):
    """Writes ``table`` at ``rate`` writes per second until :meth:`stop`.

    ``column`` is a text column the app sets to a value of its own; ``hot`` ids are updated
    half of the time (rows a publish is about to write), any existing id otherwise.
    """

    def __init__(self, params: dict, table: tuple[str, str], column: str, rate: float = 100.0,
                 hot: list[int] | None = None, seed: int = 1):
        super().__init__(daemon=True)
        self.params, self.table, self.column, self.rate = params, table, column, rate
        self.hot = list(hot or [])
        self.rng = random.Random(seed)
        self.phases = [Phase("start")]
        self.last: dict[int, str] = {}
        """Row id -> the value the app wrote last into ``column``."""
        self.inserted: list[int] = []
        self.errors: list[str] = []
        self._halt = threading.Event()
        self._n = 0

    def mark(self, name: str) -> None:
        """Start a new phase (its latencies are kept apart)."""
        self.phases.append(Phase(name))

    def phase(self, name: str) -> Phase:
        return next(p for p in self.phases if p.name == name)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=30)

    def run(self) -> None:
        rel = sql.Identifier(*self.table)
        col = sql.Identifier(self.column)
        with psycopg.connect(**self.params, autocommit=True,
                             application_name="app traffic") as conn:
            ids = [r[0] for r in conn.execute(sql.SQL("select id from {}").format(rel))]
            update = sql.SQL("update {} set {} = %s where id = %s").format(rel, col)
            insert = sql.SQL("insert into {} ({}) values (%s) returning id").format(rel, col)
            step = 1.0 / self.rate
            tick = time.perf_counter()
            while not self._halt.is_set():
                self._n += 1
                value = f"app write {self._n}"
                t0 = time.perf_counter()
                try:
                    if self._n % 2:
                        pool = self.hot if self.hot and self.rng.random() < 0.5 else ids
                        rid = self.rng.choice(pool)
                        if conn.execute(update, (value, rid)).rowcount:
                            self.last[rid] = value
                    else:
                        rid = conn.execute(insert, (value,)).fetchone()[0]
                        ids.append(rid)
                        self.inserted.append(rid)
                        self.last[rid] = value
                except psycopg.Error as exc:
                    self.errors.append(str(exc).splitlines()[0])
                self.phases[-1].latencies.append((time.perf_counter() - t0) * 1000)
                tick += step
                pause = tick - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                else:
                    tick = time.perf_counter()
