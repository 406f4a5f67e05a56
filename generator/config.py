"""The project's fixed names and numbers: schemas, files, tolerances, the lock key.

One home for every constant that more than one module (or a generated file) needs. The dbt
vars in ``dbt_project.yml`` and the help texts are rendered from these values.
"""

from __future__ import annotations

import hashlib

# -- schemas of the local mirror ------------------------------------------------------------------
V1_SCHEMA = "xano_v1"
"""Local mirror of the V1 workspace (``mvpw<ws>_<id>`` tables: ``id``, ``xdo jsonb``)."""
V2_SCHEMA = "xano_v2"
"""The normalized V2 tables (dbt models)."""
AUDIT_SCHEMA = "xano_audit"
"""Rejects, accounting, sync and mirror runs, stored test failures."""
STAGE_SCHEMA = "xano_stage"
"""The typed stage: every mapped V1 value typed once, with its flag (unlogged tables that the
V2 models, the rejects, the accounting and the reconciliation read; rebuilt from V1 at will)."""
STAGE_PREFIX = "xano_typed__"
"""Name prefix of the stage models (``xano_typed__<V1 table>``, ``xano_typed__elements__<V2>``)."""
SPEC_SCHEMA = "xano_spec"
"""Seeds: the inventory and the mapping spec, loaded by ``dbt seed``."""
FN_SCHEMA = "xano_fn"
"""Safe-cast SQL functions shared by models, rejects and tests (macros/xano_functions.sql)."""
LIVE_SCHEMA = "xano_live"
"""Local copy of the live V2 tables (``mirror --v2-workspace``), each exactly as it is live."""
SOURCE_SCHEMA = "public"
"""Schema of the Xano tables on a live Xano database."""

# -- seed files (relative to the project root) ----------------------------------------------------
V1_TABLES_FILE = "seeds/xano_v1_tables.csv"
"""Registry of V1 tables: name, workspace, Xano table id."""
KEY_INVENTORY_FILE = "seeds/xano_v1_key_inventory.csv"
"""Discovered key paths of every V1 table (one profile per path)."""
TABLE_INVENTORY_FILE = "seeds/xano_v1_table_inventory.csv"
"""Row-level figures of every scanned V1 table."""
V2_TABLES_FILE = "seeds/xano_v2_tables.csv"
"""Mapping spec: one row per V2 table."""
V2_COLUMNS_FILE = "seeds/xano_v2_columns.csv"
"""Mapping spec: one row per V2 column."""
IGNORED_FILE = "seeds/xano_ignored_keys.csv"
"""V1 keys deliberately not migrated, with a reason."""
SENSITIVE_FILE = "seeds/xano_sensitive_keys.csv"
"""The masking rule: glob patterns of sensitive key names."""
ALTERNATIVES_FILE = "seeds/xano_mapping_alternatives.csv"
"""Where the owner's other documents disagree with the spec (rendered in the guide)."""
CENSUS_FILE = "seeds/xano_census.csv"
"""Every Xano table on the server (``python -m generator census``): the migration's scale."""
GUIDE_FILE = "V2_SYNC_PIPELINE_GUIDE.md"
"""The pipeline guide (hand-written prose with generated blocks)."""
DBT_PROJECT_FILE = "dbt_project.yml"
"""dbt project file (its ``vars`` block is generated from this module)."""

# -- integrity thresholds --------------------------------------------------------------------------
TOLERANCE = 0.05
"""Main tables: |V2 rows - V1 rows| / V1 rows must stay within this share."""
REJECT_FAIL_SHARE = 0.05
"""Rejects above this share of a key's V1 values fail the build (below: a warning)."""

# -- mapping evidence (``spec evidence``) --------------------------------------------------------
EVIDENCE_CONFIRMED = 0.99
"""A mapped column is confirmed when at least this share of matched rows agree."""
EVIDENCE_CONTRADICTED = 0.90
"""... and contradicted below this share (with at least EVIDENCE_MIN_ROWS matched rows)."""
EVIDENCE_MIN_ROWS = 20
"""Fewer matched rows than this: no evidence."""
EVIDENCE_PROPOSE = 0.95
"""A V1 key and transform are proposed for a live column when they agree on this share."""
EVIDENCE_SAMPLE = 5_000
"""Matched rows a proposal search reads per V2 table (a deterministic subset: lowest ids)."""
EVIDENCE_FILE = "seeds/xano_mapping_evidence.csv"
"""What ``spec evidence`` found per V2 column (read by the guide, dbt docs, dashboard)."""

# -- identifiers and ids ---------------------------------------------------------------------------
MAX_IDENT = 63
"""PostgreSQL's identifier limit in bytes (longer names are truncated by the server)."""
V1_SOURCE = "xano_v1"
"""The dbt source the models read V1 through (dbt var ``xano_v1_source``; its schema is
V1_SCHEMA)."""


def cut_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, never inside a character.

    >>> cut_bytes("abé", 3), cut_bytes("abc", 5)
    ('ab', 'abc')
    """
    return text.encode()[:max(limit, 0)].decode("utf-8", "ignore")


def fit_ident(name: str, keep: str = "") -> str:
    """``name + keep`` when it fits MAX_IDENT bytes; else ``name`` cut, a 10-hex digest of the
    whole name, then ``keep``: two long names never end up the same identifier. The one home of
    the 63-byte rule for generated names.

    >>> fit_ident("user__id"), len(fit_ident("t" * 70).encode()), fit_ident("x" * 70, "__idx")[-5:]
    ('user__id', 63, '__idx')
    """
    if len((name + keep).encode()) <= MAX_IDENT:
        return name + keep
    digest = hashlib.sha1(name.encode()).hexdigest()[:10]
    return cut_bytes(name, MAX_IDENT - 11 - len(keep.encode())) + "_" + digest + keep

ARRAY_ID_FACTOR = 1_000_000
"""Array-grain ids: parent id * factor + position (positions >= factor are rejected)."""
CLOSURE_MAX_DEPTH = 64
"""Longest chain of links a closure table follows (a deeper chain is cut there)."""
UNMAPPED_COLUMN = "_v1_unmapped"
"""jsonb column of a main table holding unclaimed V1 keys (``--allow-unmapped``)."""
LOCK_KEY = 0x58414E4F
"""Advisory lock id ("XANO") held by a sync, a mirror or a publish on the local server."""
PUBLISH_LOCK_KEY = 0x58414E50
"""Advisory lock id ("XANP") a publish holds on the live database for its transaction."""

DEMO_SCALE = 0.1
"""Scale of ``make demo``: a tenth of production's counts (about 100k V1 rows, minutes on a
laptop); ``demo --scale 1`` runs the real counts."""

# -- publish -------------------------------------------------------------------------------------
PUBLISH_EXAMPLES = 3
"""Example diffs per table that ``publish --dry-run`` prints."""
PUBLISH_CONFLICTS_SHOWN = 20
"""Conflicts per table printed (all of them are recorded in the audit)."""
PUBLISH_BATCH_ROWS = 5_000
"""Rows written per live transaction: an app write to one of them waits at most one batch."""
PUBLISH_LOCK_TIMEOUT = "2s"
"""How long a batch waits for a row the app holds before it backs off and retries."""
PUBLISH_RETRIES = 3
"""Retries of a batch that met a lock held by the app; then its rows wait for the next publish."""
PUBLISH_SEQ_STEPS = 5_000_000
"""Largest gap a live id sequence is moved across by nextval steps (wider: one setval)."""
PUBLISH_WORK_MEM = "128MB"
"""work_mem of the publish's session on the local server: its joins of millions of ids stay
in memory."""

IDENTITY_DECISIONS_FILE = "seeds/xano_identity_decisions.csv"
"""A person's pairing decisions for main records publish holds (v2_table, local_id, decision
``pair`` or ``new``, live_id, note); read by publish only (not a dbt seed of the sync)."""
IDENTITY_MIN_FIELDS = 3
"""Same id, other natural key on first sight: fewer comparable fields (non-null on both
sides) than this is too little evidence, the record is held."""
IDENTITY_SAME = 0.75
"""... at least this share of the comparable fields equal: the same record (paired)."""
IDENTITY_DISTINCT = 0.5
"""... only fields with at least this share of distinct values count as evidence (a flag or
an enum agrees between two records by chance)."""
IDENTITY_SAMPLE = 10_000
"""... local rows sampled to measure that share."""
IDENTITY_OTHER = 0.25
"""... at most this share equal: another record holds the id (inserted under a fresh id);
in between, the record is held for a person to decide."""

# -- generated files -------------------------------------------------------------------------------
GENERATED_MARK = "generated by `python -m generator`"
"""Marker in the first lines of every generated file (how obsolete ones are found)."""
GENERATED_HEADER = (f"{GENERATED_MARK} from seeds/ (mapping spec + key inventory); "
                    "do not edit, regenerate (`python -m generator --check` fails when stale)")
"""First comment line of every generated file."""


def percent(share: float) -> str:
    """A share as the percent text used in messages.

    >>> percent(TOLERANCE)
    '5%'
    """
    return f"{share * 100:g}%"
