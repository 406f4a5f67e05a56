"""Progress display (rich) on stderr; silent when stderr is not a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


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


@contextmanager
def sync_view() -> Iterator[Callable[[object], None]]:
    """Yield ``on_event(state)`` that prints one line per model as it starts and finishes."""
    console = Console(stderr=True)

    def on_event(state) -> None:
        if state.status == "running":
            console.print(f"  building {state.name} ...", highlight=False)
        else:
            console.print(f"  {state.name:<26} {state.status:<8} "
                          f"{(state.rows_affected or 0):>10,} rows written  "
                          f"{state.duration:6.1f}s", highlight=False)

    yield on_event


@contextmanager
def bytes_progress() -> Iterator[Callable[[str, int, int], Callable[[int], None]]]:
    """Yield ``start(label, rows, 0) -> advance(bytes)``: MB moved and MB/s per table."""
    from rich.progress import DownloadColumn, TransferSpeedColumn

    console = Console(stderr=True)
    progress = Progress(TextColumn("{task.description:<24}"), DownloadColumn(),
                        TransferSpeedColumn(), TimeElapsedColumn(), console=console,
                        disable=not console.is_terminal)

    def start(label: str, rows: int = 0, done: int = 0) -> Callable[[int], None]:
        task = progress.add_task(label, total=None)
        return lambda n: progress.advance(task, n)

    with progress:
        yield start
