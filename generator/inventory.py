"""The V1 key inventory: typed profiles of every key path, and their CSV form (pure functions).

A key path is encoded for humans and for the spec: ``avatar`` (top-level), ``avatar.path``
(key of an object value), ``history[].event`` (key of objects inside an array). Characters
``\\ . [ ]`` inside a key are escaped with a backslash, so every path decodes unambiguously.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import json
from dataclasses import dataclass, field, fields

INVENTORY_FILE = "seeds/xano_v1_key_inventory.csv"
TABLES_FILE = "seeds/xano_v1_table_inventory.csv"

STRING_CLASSES = ("integer", "decimal", "boolean", "date", "timestamp", "uuid", "email")
NUMBER_CLASSES = ("integer", "fractional", "epoch_ms", "epoch_s")
FIT_THRESHOLD = 0.9
"""A target type is inferred when at least this share of the values fit it."""
EXAMPLE_MAX = 80


def _escape(key: str) -> str:
    return (key.replace("\\", "\\\\").replace(".", "\\.").replace("[", "\\[")
            .replace("]", "\\]"))


def encode_path(key: str, sub_key: str | None = None, kind: str = "top") -> str:
    """Human path for a key.

    >>> encode_path("history", "event", "array"), encode_path("a.b")
    ('history[].event', 'a\\\\.b')
    """
    if kind == "top" or sub_key is None:
        return _escape(key)
    sep = "[]." if kind == "array" else "."
    return _escape(key) + sep + _escape(sub_key)


def decode_path(path: str) -> tuple[str, str | None, str]:
    """Inverse of :func:`encode_path`: ``(key, sub_key, kind)``.

    >>> decode_path("history[].event")
    ('history', 'event', 'array')
    """
    parts: list[str] = []
    seps: list[str] = []
    buf: list[str] = []
    i = 0
    while i < len(path):
        ch = path[i]
        if ch == "\\" and i + 1 < len(path):
            buf.append(path[i + 1])
            i += 2
            continue
        sep = "array" if path.startswith("[].", i) else "object" if ch == "." else None
        if sep:
            parts.append("".join(buf))
            seps.append(sep)
            buf = []
            i += 3 if sep == "array" else 1
            continue
        buf.append(ch)
        i += 1
    parts.append("".join(buf))
    if len(parts) == 1:
        return parts[0], None, "top"
    if len(parts) != 2:
        raise ValueError(f"key path {path!r} is deeper than two levels")
    return parts[0], parts[1], seps[0]


def is_sensitive(path: str, patterns: list[str]) -> bool:
    """True when any segment of the path matches a sensitive pattern (case-insensitive).

    >>> is_sensitive("google_sub", ["*_sub"]), is_sensitive("email", ["password"])
    (True, False)
    """
    key, sub, _ = decode_path(path)
    segments = [s.lower() for s in (key, sub) if s]
    return any(fnmatch.fnmatchcase(seg, pat.lower()) for seg in segments for pat in patterns)


def mask(value: str) -> str:
    """What a sensitive value looks like in any output."""
    return f"***masked ({len(value)} chars)***"


@dataclass
class KeyProfile:
    """Profile of one key path in one V1 table (a row of the inventory CSV)."""

    v1_table: str
    key_path: str
    kind: str
    rows_total: int = 0
    rows_with_key: int = 0
    occurrences: int = 0
    null_count: int = 0
    empty_string_count: int = 0
    n_string: int = 0
    n_number: int = 0
    n_boolean: int = 0
    n_object: int = 0
    n_array: int = 0
    str_integer: int = 0
    str_decimal: int = 0
    str_boolean: int = 0
    str_date: int = 0
    str_timestamp: int = 0
    str_uuid: int = 0
    str_email: int = 0
    num_integer: int = 0
    num_fractional: int = 0
    num_epoch_ms: int = 0
    num_epoch_s: int = 0
    num_zero_one: int = 0
    num_big_integer: int = 0
    min_length: int | None = None
    max_length: int | None = None
    min_array_length: int | None = None
    max_array_length: int | None = None
    inferred_type: str = ""
    drift_share: float = 0.0
    sensitive: bool = False
    example: str = ""
    example_id: int | None = field(default=None, repr=False)

    @property
    def values(self) -> int:
        """Non-null, non-empty values."""
        return self.occurrences - self.null_count - self.empty_string_count


CSV_FIELDS = [f.name for f in fields(KeyProfile) if f.name != "example_id"]


@dataclass
class TableProfile:
    """Row-level figures of one V1 table."""

    v1_table: str
    relation: str
    xano_table_id: int
    rows: int = 0
    xdo_null: int = 0
    xdo_not_object: int = 0
    keys: int = 0


TABLE_FIELDS = [f.name for f in fields(TableProfile)]


def merge_group(p: KeyProfile, jt: str, cls: str, g: dict) -> None:
    """Fold one grouped row of the scan query into a profile.

    ``min_len``/``max_len`` of a group are string lengths for strings, element counts for arrays.
    """
    n = g["occurrences"]
    p.occurrences += n
    p.rows_with_key += g["rows_with_key"]
    if jt == "null":
        p.null_count += n
    elif jt == "string":
        p.n_string += n
        if cls == "empty":
            p.empty_string_count += n
        elif cls in STRING_CLASSES:
            setattr(p, f"str_{cls}", getattr(p, f"str_{cls}") + n)
    elif jt == "number":
        p.n_number += n
        setattr(p, f"num_{cls}", getattr(p, f"num_{cls}") + n)
    elif jt in ("boolean", "object", "array"):
        setattr(p, f"n_{jt}", getattr(p, f"n_{jt}") + n)
    if jt == "string":
        p.min_length = _min(p.min_length, g["min_len"])
        p.max_length = _max(p.max_length, g["max_len"])
    elif jt == "array":
        p.min_array_length = _min(p.min_array_length, g["min_len"])
        p.max_array_length = _max(p.max_array_length, g["max_len"])
    if jt != "null" and cls != "empty":
        p.example_id = _min(p.example_id, g["example_id"])


def _min(a, b):
    return b if a is None else a if b is None else min(a, b)


def _max(a, b):
    return b if a is None else a if b is None else max(a, b)


def fits(p: KeyProfile) -> dict[str, int]:
    """How many non-null, non-empty values fit each candidate V2 type."""
    ints = p.num_integer + p.num_zero_one + p.num_epoch_ms + p.num_epoch_s
    numbers = ints + p.num_fractional + p.num_big_integer
    scalars = p.n_string - p.empty_string_count + p.n_number + p.n_boolean
    return {
        "boolean": p.n_boolean + p.str_boolean + p.num_zero_one,
        "timestamptz": p.num_epoch_ms + p.num_epoch_s + p.str_timestamp,
        "bigint": ints + p.str_integer,
        "numeric": numbers + p.str_integer + p.str_decimal,
        "date": p.str_date,
        "uuid": p.str_uuid,
        "text": scalars,
        "jsonb": p.values,
    }


def infer_type(p: KeyProfile) -> tuple[str, float]:
    """Infer the V2 type and the share of values that would not fit it ("drift").

    Candidates are tried from most to least specific; boolean and timestamptz are only taken
    when the JSON values are mostly of that nature (a 0/1 integer alone is not a boolean).

    >>> infer_type(KeyProfile("t", "k", "top", occurrences=10, n_number=9, num_integer=9,
    ...                        n_string=1, str_integer=0))
    ('bigint', 0.1)
    """
    total = p.values
    if total <= 0:
        return "unknown", 0.0
    if p.n_object + p.n_array == total:
        return "jsonb", 0.0
    f = fits(p)
    order = []
    if p.n_boolean * 2 >= total:
        order.append("boolean")
    if (p.num_epoch_ms + p.num_epoch_s) * 2 >= total:
        order.append("timestamptz")
    order += ["bigint", "numeric", "date", "uuid", "text", "jsonb"]
    for cand in order:
        if f[cand] >= FIT_THRESHOLD * total:
            return cand, round(1 - f[cand] / total, 4)
    return "jsonb", 0.0


def finalize(p: KeyProfile, example: object | None, sensitive_patterns: list[str]) -> None:
    """Set inferred type, drift, sensitivity and the (masked, shortened) example."""
    p.inferred_type, p.drift_share = infer_type(p)
    p.sensitive = is_sensitive(p.key_path, sensitive_patterns)
    if example is None:
        p.example = ""
        return
    text = example if isinstance(example, str) else json.dumps(example, ensure_ascii=False,
                                                                 sort_keys=True)
    if p.sensitive:
        p.example = mask(text)
    else:
        text = "".join(ch if ch.isprintable() else " " for ch in text)
        p.example = text if len(text) <= EXAMPLE_MAX else text[: EXAMPLE_MAX - 1] + "…"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def render_csv(rows: list, columns: list[str]) -> str:
    """Deterministic CSV text (LF line ends, minimal quoting) of dataclass rows.

    A row with a carriage return in a cell (a V1 key may hold one) is written fully quoted:
    with LF line ends the csv module would leave that CR bare and split the row on reading.

    >>> render_csv([TableProfile("t", "a\\rb", 1)], ["v1_table", "relation"])
    'v1_table,relation\\n"t","a\\rb"\\n'
    """
    buf = io.StringIO()
    minimal = csv.writer(buf, lineterminator="\n")
    quoted = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)
    minimal.writerow(columns)
    for r in rows:
        cells = [_cell(getattr(r, c)) for c in columns]
        (quoted if any("\r" in c for c in cells) else minimal).writerow(cells)
    return buf.getvalue()


def sort_profiles(profiles: list[KeyProfile]) -> list[KeyProfile]:
    """Stable order: table, then path (byte order)."""
    return sorted(profiles, key=lambda p: (p.v1_table, p.key_path.encode()))


def parse_inventory(text: str) -> list[dict[str, str]]:
    """Read inventory CSV text into dict rows (strings)."""
    return list(csv.DictReader(io.StringIO(text)))
