"""The publish: writes the verified local V2 into the live V2 tables, one transaction.

Modules, in the order a run uses them: ``audit`` (the gate on the last sync, run records,
what was published), ``plan`` (the live state read back, each row classified: insert, update,
unchanged, conflict, prune; field diffs, masked) and ``run`` (the target transaction, the
writes, the sequences, the read-back check; :func:`generator.publish.run.publish`). The live
tables themselves and Xano's conventions live in :mod:`generator.live`.
"""
