"""Error hierarchy: every user-facing failure is one of these, turned into one line by the CLI."""

from __future__ import annotations


class GeneratorError(Exception):
    """Base class: a problem the user can fix; the CLI prints it as one line, exit 1."""


class DatabaseError(GeneratorError):
    """The server cannot be reached, started, or refused a statement."""


class FixtureError(GeneratorError):
    """Bad arguments to the synthetic workspace builder."""


class InventoryError(GeneratorError):
    """Discovery failed or the inventory file is unreadable."""


class SpecError(GeneratorError):
    """The mapping spec is invalid; ``problems`` holds one line per problem (file:row: message)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class CoverageError(GeneratorError):
    """Inventory keys are neither mapped nor ignored."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__(
            f"{len(lines)} unclaimed V1 key(s); map or ignore them in seeds/, "
            "or pass --allow-unmapped:\n" + "\n".join(lines)
        )


class SyncError(GeneratorError):
    """A sync could not run or failed."""


class BuildFailed(SyncError):
    """``dbt`` could not build or test what a sync asked for; ``reason`` says what failed."""

    def __init__(self, reason: str, report: object = None):
        self.reason = reason
        self.report = report
        """generator.sync.runner.BuildReport of the failed build (None when dbt did not run)."""
        super().__init__(reason)


class StatusError(GeneratorError):
    """A main V2 table is outside the count tolerance (``status`` exits 1)."""


class MirrorError(GeneratorError):
    """The mirror failed (per-table problems listed)."""


class PublishError(GeneratorError):
    """A publish refused to run or failed; ``committed`` is True only when the live V2 was
    written (the failure came after the commit, e.g. the read-back check)."""

    def __init__(self, message: str, committed: bool = False):
        self.committed = committed
        super().__init__(message)
