"""Generated blocks of V2_SYNC_PIPELINE_GUIDE.md and the dbt doc blocks (from spec + inventory).

The guide is hand-written prose with marked blocks: ``<!-- BEGIN GENERATED: name -->`` ...
``<!-- END GENERATED: name -->``; only the blocks are rewritten, the prose is kept as is.
"""

from __future__ import annotations

import re

from generator.census import CensusRow, role_of, size_text, summarize
from generator.config import CLOSURE_MAX_DEPTH, GENERATED_HEADER
from generator.coverage import Coverage
from generator.inventory import Inventory
from generator.spec import Spec, Table
from generator.transforms import TRANSFORMS

BLOCK = re.compile(r"(<!-- BEGIN GENERATED: (?P<name>[a-z_]+) -->\n)(?P<body>.*?)"
                   r"(<!-- END GENERATED: (?P=name) -->)", re.DOTALL)


def _cell(text: str) -> str:
    """Markdown table cell: pipes and newlines escaped, backticks kept readable."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    text = str(text)
    fence = "``" if "`" in text else "`"
    return f"{fence}{_cell(text)}{fence}"


def scale_block(spec: Spec, inventory: Inventory) -> str:
    """Table: per V1 table its rows, key paths and the V2 tables it feeds."""
    lines = ["| V1 table (Xano id) | rows | JSONB key paths | → V2 tables | typed V2 columns |",
             "|---|---:|---:|---|---:|"]
    tot_rows = tot_keys = tot_cols = 0
    for name in spec.v1_tables():
        t = spec.v1(name)
        prof = inventory.table(name)
        rows = prof.rows if prof else 0
        n_keys = len(inventory.keys_of(name))
        v2 = spec.for_v1(name)
        n_cols = sum(len(x.columns) for x in v2)
        tot_rows, tot_keys, tot_cols = tot_rows + rows, tot_keys + n_keys, tot_cols + n_cols
        lines.append(f"| `{name}` (`{t.relation}`) | {rows:,} | {n_keys} | "
                     f"{len(v2)}: {', '.join(f'`{x.name}`' for x in v2)} | {n_cols} |")
    lines.append(f"| **total** | **{tot_rows:,}** | **{tot_keys}** | **{len(spec.tables)}** | "
                 f"**{tot_cols}** |")
    return "\n".join(lines) + "\n"


def census_block(rows: list[CensusRow]) -> str:
    """The whole instance from the census: per workspace, the largest tables, the scope."""
    if not rows:
        return ("No census yet: `python -m generator census` (the local mirror) or "
                "`python -m generator census --source-dsn URL` (the live Xano database).\n")
    s = summarize(rows)
    lines = [f"{s.tables} Xano tables in {len(s.workspaces)} workspace(s), ~{s.rows:,} rows, "
             f"{size_text(s.bytes)} (catalog estimates from `python -m generator census`). "
             f"In scope of this sync: {s.in_scope} tables, ~{s.in_scope_rows:,} rows.", "",
             "| workspace | JSONB tables | column tables | ~rows | size | registered | "
             "feeding V2 |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for ws, w in s.workspaces.items():
        lines.append(f"| {ws} | {w['jsonb']} | {w['columns']} | {w['rows']:,} | "
                     f"{size_text(w['bytes'])} | {w['registered']} | {w['feeding']} |")
    lines += ["", "Largest tables:", "", "| table | ~rows | size | layout | role |",
              "|---|---:|---:|---|---|"]
    for r in sorted(rows, key=lambda r: (-r.est_rows, r.relation))[:15]:
        lines.append(f"| `{r.relation}` | {r.est_rows:,} | {size_text(r.bytes)} | {r.layout} | "
                     f"{_cell(role_of(r))} |")
    return "\n".join(lines) + "\n"


def v2_id_text(t: Table) -> str:
    """The V2 id as the docs show it, marked when it is assumed.

    >>> v2_id_text(Table("p", "931", "p", "p", "row", "", "", "", "P", v2_id_assumed=True))
    '931, assumed until the live workspace confirms it'
    """
    if not t.v2_id:
        return "n/a"
    return f"{t.v2_id}, assumed until the live workspace confirms it" if t.v2_id_assumed \
        else t.v2_id


def live_text(t: Table) -> str:
    """Where ``publish`` writes the table, in which layout, and how a live row is known to be
    the same record.

    >>> print(live_text(Table("u", "664", "u", "user", "row", "", "", "", "Users",
    ...                       natural_key=("email",))))  # doctest: +NORMALIZE_WHITESPACE
    `public.mvpw<V2 workspace>_664`, columns layout (one typed column per V2 column); the same
    record as the live row holding its natural key (`email`), under whatever id V2 gave it;
    paired once, then remembered (`xano_audit.identity`)
    """
    where = t.live_relation if t.live_relation else f"public.mvpw<V2 workspace>_{t.v2_id}"
    layout = ("jsonb layout (`id`, `xdo`)" if t.layout == "jsonb"
              else "columns layout (one typed column per V2 column)")
    if t.is_main:
        ident = ("the same record as the live row holding its natural key ("
                 + ", ".join(f"`{k}`" for k in t.natural_key) + "), under whatever id V2 gave "
                 "it; paired once, then remembered (`xano_audit.identity`)") if t.natural_key \
            else ("the same record when the live row has the same `id` (no natural key "
                  "declared: nothing else can tell)")
    elif t.grain == "closure":
        ident = ("the same pair when the live row has the same ("
                 + ", ".join(f"`{k}`" for k in t.natural_key) + "); new rows take the live "
                 "table's own ids")
    elif t.grain == "array":
        ident = (f"matched per parent (`{t.parent_column}`) on content; new rows take the live "
                 "table's own ids")
    else:
        ident = (f"one row per parent, matched on `{t.parent_column}`; new rows take the live "
                 "table's own ids")
    return f"`{where}`, {layout}; {ident}"


def closure_text(t: Table) -> str:
    """What a closure table is derived from, in words.

    >>> closure_text(Table("h", "", "n", "network", "closure", "sponsor>agent", "", "", "H"))
    'one row per (ancestor, descendant) pair reachable through the links `sponsor` -> `agent` of the V1 `network` rows (a closure table: depth 1 is a direct link; cycles and chains deeper than 64 links are cut)'
    """
    return (f"one row per (ancestor, descendant) pair reachable through the links `{t.links[0]}`"
            f" -> `{t.links[1]}` of the V1 `{t.v1_table}` rows (a closure table: depth 1 is a "
            f"direct link; cycles and chains deeper than {CLOSURE_MAX_DEPTH} links are cut)")


def evidence_text(e) -> str:
    """A column's live evidence in words (``spec evidence``); '' when there is none.

    >>> from generator.evidence import ColumnEvidence
    >>> evidence_text(ColumnEvidence("u", "c", "k", "text", 200, 24, "contradicted", "k2", "trim", 0.99))
    'contradicted (24 of 200 live rows agree); proposed `k2` (`trim`, 99% agree)'
    """
    if e is None:
        return ""
    text = e.verdict
    if e.agreeing is not None and e.matched:
        text += f" ({e.agreeing:,} of {e.matched:,} live rows agree)"
    if e.proposed_v1_path:
        text += (f"; proposed `{e.proposed_v1_path}` (`{e.proposed_transform}`, "
                 f"{e.proposed_agreement:.0%} agree)")
    return text


def mapping_block(spec: Spec, evidence: dict | None = None) -> str:
    """Per domain and V2 table: every column with its V1 key path, transform, type and (after
    ``spec evidence``) what the live V2's data says of it."""
    evidence = evidence or {}
    out = []
    for domain in dict.fromkeys(t.domain for t in spec.tables):
        out.append(f"### Domain `{domain}`\n")
        for t in [x for x in spec.tables if x.domain == domain]:
            grain = (f"one row per element of `{t.v1_table}.{t.array_path}[]`"
                     if t.grain == "array" else closure_text(t) if t.grain == "closure"
                     else f"one row per V1 `{t.v1_table}` row")
            out.append(f"#### `{t.name}` (V2 id {v2_id_text(t)})\n")
            out.append(f"{_cell(t.description)}. Source: V1 `{t.v1_table}` "
                       f"(`{spec.v1(t.v1_table).relation}`); grain: {grain}; key: `id`; "
                       + (f"parent: `{t.parent}` via `{t.parent_column}`." if t.parent
                          else "main table of the domain." if t.is_main else
                          "derived table of the domain.")
                       + f" Live table: {live_text(t)}.\n")
            out.append("| column | V1 key path | transform | type | provenance | live evidence "
                       "| notes |")
            out.append("|---|---|---|---|---|---|---|")
            for c in t.columns:
                notes = [_cell(c.description)]
                if c.sensitive:
                    notes.append("**sensitive** (masked everywhere)")
                if c.references:
                    notes.append(f"→ `{c.references}.id`")
                if t.parent and c.name == t.parent_column:
                    notes.append(f"FK → `{t.parent}.id`")
                seen = evidence_text(evidence.get((t.name, c.name))) or "-"
                prov = c.provenance + (f" ({c.source})" if c.source else "")
                out.append(f"| `{c.name}` | {_code(c.v1_path)} | `{c.transform}` | "
                           f"`{c.v2_type}` | {_cell(prov)} | {_cell(seen)} | "
                           f"{'; '.join(notes)} |")
            extra = [e for (tn, _), e in sorted(evidence.items())
                     if tn == t.name and e.verdict == "unmapped"]
            if extra:
                out.append("")
                out.append("Live columns the spec does not fill: " + "; ".join(
                    f"`{e.v2_column}`" + (f" (proposed `{e.proposed_v1_path}`, "
                                          f"`{e.proposed_transform}`, "
                                          f"{e.proposed_agreement:.0%} agree)"
                                          if e.proposed_v1_path else "") for e in extra) + ".")
            out.append("")
    return "\n".join(out)


def contradictions_block(spec: Spec, alternatives: list[dict[str, str]]) -> str:
    """Where the owner's documents disagree with the mapping chosen (the field-mapping JSON of
    2026-02-04 wins): the other versions, with their source, and the registry's notes."""
    counts = {p: sum(1 for t in spec.tables for c in t.columns if c.provenance == p)
              for p in ("documented", "proposed")}
    lines = [f"The spec has {counts['documented']} documented and {counts['proposed']} proposed "
             "column mappings. Where another document of the owner says something else, the "
             "field-mapping JSON of 2026-02-04 wins; the other versions:", "",
             "| V2 column | other version | chosen here | kind | source |", "|---|---|---|---|---|"]
    for a in alternatives:
        lines.append(f"| `{a['v2_table']}.{a['v2_column']}` | `{a['v2_column']}` ← "
                     f"{_code(a['v1_key'])} | {_code(a['chosen']) if a['chosen'] else '-'} | "
                     f"{_cell(a['kind'])} | {_cell(a['source'])} |")
    notes = [t for t in spec.registry.tables if "disagree" in t.description]
    if notes:
        lines += ["", "V1 table ids the documents disagree on (the registry's choice first):", ""]
        lines += [f"- `{t.name}` (`{t.relation}`): {_cell(t.description)}" for t in notes]
    return "\n".join(lines) + "\n"


def ignored_block(spec: Spec, cov: Coverage) -> str:
    """Ignored keys with their reasons, and keys kept inside a jsonb column."""
    lines = ["| V1 table | key path | reason |", "|---|---|---|"]
    for i in spec.ignored:
        lines.append(f"| `{i.v1_table}` | {_code(i.key_path)} | {_cell(i.reason)} |")
    inside = sorted((k, v[0]) for k, v in cov.claimed.items() if v and v[0].startswith("(inside"))
    lines += ["", "Keys kept inside a `jsonb` column (claimed by their parent key):", ""]
    lines += [f"- `{t}`.{_code(p)} {where}" for (t, p), where in inside]
    return "\n".join(lines) + "\n"


def transforms_block() -> str:
    """The transform vocabulary."""
    lines = ["| transform | V2 type | behaviour |", "|---|---|---|"]
    for t in TRANSFORMS.values():
        lines.append(f"| `{t.name}` | `{t.v2_type}` | {_cell(t.doc)} |")
    return "\n".join(lines) + "\n"


def fill(text: str, blocks: dict[str, str]) -> str:
    """Replace the body of every known generated block in ``text``."""
    def sub(m: re.Match) -> str:
        name = m.group("name")
        if name not in blocks:
            return m.group(0)
        return m.group(1) + blocks[name] + m.group(4)

    return BLOCK.sub(sub, text)


def domain_docs(spec: Spec) -> str:
    """dbt doc blocks: the 1 -> N split of each domain."""
    parts = [f"{{# {GENERATED_HEADER} #}}\n"]
    for domain in dict.fromkeys(t.domain for t in spec.tables):
        tables = [t for t in spec.tables if t.domain == domain]
        parts.append(f"{{% docs xano_domain_{domain} %}}")
        for v1 in dict.fromkeys(t.v1_table for t in tables):
            ts = [t for t in tables if t.v1_table == v1]
            parts.append(f"V1 `{v1}` (Xano table {spec.v1(v1).table_id}, one JSONB `xdo` per "
                         f"row) splits into {len(ts)} V2 table(s):\n")
            for t in ts:
                kind = ("main table, one row per V1 row" if t.is_main else
                        f"one row per element of `{t.array_path}[]`" if t.grain == "array" else
                        closure_text(t) if t.grain == "closure" else
                        "one row per V1 row (1:1 split)")
                parts.append(f"- `{t.name}` (V2 id {v2_id_text(t)}): {kind}, "
                             f"{len(t.columns)} typed columns")
            parts.append("")
        parts.append("{% enddocs %}\n")
    return "\n".join(parts)
