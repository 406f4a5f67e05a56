"""Emit the dbt project section: render every generated file, write or check them.

``render_project`` is pure (spec + inventory + coverage -> path -> text); ``generate_project``
reads the inputs, applies the coverage gate, and writes (or with ``check`` compares) the files.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from generator.census import read_census
from generator.config import (
    ALTERNATIVES_FILE,
    ARRAY_ID_FACTOR,
    DBT_PROJECT_FILE,
    GENERATED_MARK,
    GUIDE_FILE,
    REJECT_FAIL_SHARE,
    TOLERANCE,
    UNMAPPED_COLUMN,
    V1_SOURCE,
    V2_COLUMNS_FILE,
)
from generator.coverage import Coverage, coverage, unclaimed_lines
from generator.emit import audit, guide, models
from generator.errors import CoverageError
from generator.evidence import read as read_evidence
from generator.inventory import Inventory, read_inventory
from generator.spec import Spec, load_spec
from generator.sql import stage

GENERATED_DIRS = ("models", "tests/dbt")
"""Folders whose generated files are owned by the generator (obsolete ones are removed)."""
_YAML_BLOCK = re.compile(r"(  # BEGIN GENERATED: (?P<name>[a-z_]+)[^\n]*\n)(?P<body>.*?)"
                         r"(  # END GENERATED: (?P=name)\n)", re.DOTALL)


@dataclass
class Result:
    """What a generation run did."""

    total: int = 0
    tables: int = 0
    changed: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)


def project_vars_block() -> str:
    """The ``vars`` of dbt_project.yml that come from generator/config.py."""
    return (f"  xano_count_tolerance: {TOLERANCE}      # main tables: |V2 - V1| / V1 must stay "
            "within this\n"
            f"  xano_reject_fail_share: {REJECT_FAIL_SHARE}    # rejects above this share of a "
            "key's values fail the build\n"
            f"  xano_v1_source: {V1_SOURCE}      # the dbt source of V1 (config.V1_SOURCE)\n"
            f"  xano_array_id_factor: {ARRAY_ID_FACTOR}    # array ids: parent id * factor + "
            "position; positions >= factor are rejected\n")


def fill_yaml_blocks(text: str, blocks: dict[str, str]) -> str:
    """Replace the body of every known ``# BEGIN GENERATED: name`` block of a YAML file."""
    def sub(m: re.Match) -> str:
        name = m.group("name")
        return m.group(1) + blocks[name] + m.group(4) if name in blocks else m.group(0)

    return _YAML_BLOCK.sub(sub, text)


def render_project(spec: Spec, inventory: Inventory, cov: Coverage,
                   evidence: dict | None = None) -> dict[str, str]:
    """Every generated file of the dbt project section (relative path -> text)."""
    unmapped = cov.unmapped_keys()
    files: dict[str, str] = {
        "models/sources/_v1__sources.yml": models.sources_yaml(spec, inventory),
        "models/audit/xano_rejects.sql": audit.rejects_union_sql(spec),
        "models/audit/_audit__models.yml": audit.audit_yaml(spec),
        "seeds/_seeds.yml": models.seeds_yaml(),
        "models/docs/_domains.md": guide.domain_docs(spec),
    }
    for domain in dict.fromkeys(t.domain for t in spec.tables):
        files[f"models/v2/{domain}/_{domain}__models.yml"] = models.domain_yaml(
            spec, domain, unmapped, evidence or {})
    files["models/stage/_stage__models.yml"] = models.stage_yaml(spec)
    for v1 in spec.v1_tables():
        files[f"models/stage/{stage.row_stage_name(v1)}.sql"] = models.stage_sql(
            v1, spec.for_v1(v1), spec.v1(v1), unmapped.get(v1, []))
    for t in spec.tables:
        if t.grain == "array":
            files[f"models/stage/{stage.element_stage_name(t)}.sql"] = \
                models.element_stage_sql(t)
    for t in spec.tables:
        un = unmapped.get(t.v1_table, []) if t.is_main else []
        files[f"models/v2/{t.domain}/{t.name}.sql"] = models.model_sql(t, spec.v1(t.v1_table), un)
        files[f"tests/dbt/generated/xano_reconcile__{t.name}.sql"] = audit.reconcile_sql(t)
    for v1 in spec.v1_tables():
        files[f"models/audit/xano_accounting__{v1}.sql"] = audit.accounting_sql(spec, v1)
        files[f"models/audit/xano_rejects__{v1}.sql"] = audit.rejects_sql(spec, v1)
    for t in audit.transform_check_tables():
        files[f"models/audit/{t.name}.sql"] = audit.transform_check_sql(t)
    files[f"models/audit/{audit.SAMPLES}.sql"] = audit.samples_sql()
    return files


def _refreshed(root: Path, name: str, fill: Callable[[str], str]) -> dict[str, str]:
    """A hand-written file with its generated blocks refreshed (absent file: nothing)."""
    path = root / name
    return {name: fill(path.read_text(encoding="utf-8"))} if path.exists() else {}


def build_files(root: Path, allow_unmapped: bool = False,
                warn: Callable[[str], None] = lambda _: None) -> tuple[dict[str, str], int]:
    """All generated files (relative path -> text) from the spec and the inventory."""
    spec = load_spec(root)
    inventory = read_inventory(root)
    cov = coverage(spec, inventory)
    if cov.unclaimed and not allow_unmapped:
        raise CoverageError(unclaimed_lines(cov.unclaimed))
    for c in cov.missing:
        warn(f"warning: {V2_COLUMNS_FILE}:{c.row}: {c.table}.{c.name} reads V1 key "
             f"{c.v1_path!r}, which the inventory does not have (renamed in V1?)")
    for v1, keys in cov.unmapped_keys().items():
        warn(f"warning: {len(keys)} unclaimed key(s) of V1 {v1} preserved in "
             f"{spec.main_table(v1).name}.{UNMAPPED_COLUMN}")
    seen = read_evidence(root)
    files = render_project(spec, inventory, cov, seen)
    files.update(_refreshed(root, GUIDE_FILE, lambda text: guide.fill(text, {
        "scale": guide.scale_block(spec, inventory),
        "census": guide.census_block(read_census(root)),
        "mapping": guide.mapping_block(spec, seen),
        "contradictions": guide.contradictions_block(spec, _alternatives(root)),
        "ignored": guide.ignored_block(spec, cov),
        "transforms": guide.transforms_block()})))
    files.update(_refreshed(root, DBT_PROJECT_FILE, lambda text: fill_yaml_blocks(
        text, {"vars": project_vars_block()})))
    return files, len(spec.tables)


def _alternatives(root: Path) -> list[dict[str, str]]:
    """Rows of seeds/xano_mapping_alternatives.csv (the documents' other versions)."""
    from generator.spec import read_rows

    if not (root / ALTERNATIVES_FILE).exists():
        return []
    return [r for _, r in read_rows(root, ALTERNATIVES_FILE)]


def generated_on_disk(root: Path) -> set[str]:
    """Files under models/ and tests/dbt/ that carry the generated mark."""
    out = set()
    for base in GENERATED_DIRS:
        for path in (root / base).rglob("*"):
            if path.is_file() and path.suffix in (".sql", ".yml", ".md"):
                try:
                    head = path.read_text(encoding="utf-8")[:400]
                except (OSError, UnicodeDecodeError):
                    continue
                if GENERATED_MARK in head:
                    out.add(str(path.relative_to(root)))
    return out


def generate_project(root: Path, allow_unmapped: bool = False, check: bool = False,
                     warn: Callable[[str], None] = lambda _: None) -> Result:
    """Write (or with ``check`` compare) every generated file."""
    files, n_tables = build_files(root, allow_unmapped, warn)
    result = Result(total=len(files), tables=n_tables)
    obsolete = generated_on_disk(root) - set(files)
    for rel, text in sorted(files.items()):
        path = root / rel
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            (result.stale if check else result.changed).append(rel)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    for rel in sorted(obsolete):
        if check:
            result.stale.append(rel)
        else:
            (root / rel).unlink()
            result.changed.append(rel)
    return result


CHECK_STAMP = "target/.xano_generated_ok"
"""Where the last successful check leaves the digest of what it compared (git-ignored)."""


def _check_digest(root: Path, allow_unmapped: bool) -> str:
    """Digest of everything a check reads: the generator's code, seeds/, the generated folders
    and the two files with generated blocks."""
    code = Path(__file__).resolve().parent.parent
    paths = [(code, p) for p in sorted(code.rglob("*.py"))]
    for base in ("seeds", *GENERATED_DIRS):
        paths += [(root, p) for p in sorted((root / base).rglob("*")) if p.is_file()]
    paths += [(root, root / GUIDE_FILE), (root, root / DBT_PROJECT_FILE)]
    h = hashlib.sha256(b"allow_unmapped" if allow_unmapped else b"")
    for base, path in paths:
        if path.is_file():  # names relative to their base: the same project from any cwd
            h.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def check_cached(root: Path, allow_unmapped: bool = False) -> Result:
    """``generate_project(check=True)``, skipped when nothing it reads changed since the last
    check that found every file up to date (a sync checks on every run)."""
    stamp = root / CHECK_STAMP
    digest = _check_digest(root, allow_unmapped)
    try:
        last = json.loads(stamp.read_text(encoding="utf-8"))
        if last.get("digest") == digest:
            return Result(total=last["total"], tables=last["tables"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    result = generate_project(root, allow_unmapped=allow_unmapped, check=True)
    if not result.stale:
        try:
            stamp.parent.mkdir(parents=True, exist_ok=True)
            tmp = stamp.with_name(f"{stamp.name}.{os.getpid()}")
            tmp.write_text(json.dumps({"digest": digest, "total": result.total,
                                       "tables": result.tables}), encoding="utf-8")
            tmp.replace(stamp)
        except OSError:  # a read-only checkout checks every time
            pass
    return result
