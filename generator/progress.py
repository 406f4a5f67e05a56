"""Progress display (rich) on stderr; silent when stderr is not a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn)


@contextmanager
def table_progress() -> Iterator[Callable[[str, int, int], Callable[[int], None]]]:
    """Yield ``start(label, total, done) -> advance(n)`` for per-table progress bars."""
    console = Console(stderr=True)
    progress = Progress(TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, disable=not console.is_terminal,
                        transient=False)

    def start(label: str, total: int, done: int = 0) -> Callable[[int], None]:
        task = progress.add_task(label, total=total, completed=done)
        return lambda n: progress.advance(task, n)

    with progress:
        yield start
