"""The sync: brings the local V2 up to V1, one audited run at a time.

Modules, in the order a run uses them: ``audit`` (run records, row hashes, the lock shared
with the mirror), ``preflight`` (stale models, missing tables, unknown keys), ``changes`` (which
V1 rows changed or were deleted), ``runner`` (dbt in-process and its monitor) and ``run`` (the
orchestration, :func:`generator.sync.run.run_sync`). Counts for people live in
:mod:`generator.status`.
"""
