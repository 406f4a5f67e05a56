"""Profile math of the key inventory: fold scan groups into a profile, infer the V2 type.

Pure functions on :class:`generator.inventory.KeyProfile`; the scanner feeds them, and
``spec draft`` reads the same inference.
"""

from __future__ import annotations

import json

from generator.inventory import KeyProfile
from generator.keypath import is_sensitive, mask

STRING_CLASSES = ("integer", "decimal", "boolean", "date", "timestamp", "uuid", "email")
NUMBER_CLASSES = ("integer", "fractional", "epoch_ms", "epoch_s")
FIT_THRESHOLD = 0.9
"""A target type is inferred when at least this share of the values fit it."""
EXAMPLE_MAX = 80
"""Longest example kept in the inventory (characters)."""


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


CANDIDATES = (("boolean", "boolean"), ("timestamptz", "epoch_ms"), ("bigint", "bigint"),
              ("numeric", "numeric"), ("date", "date"), ("text", "text"), ("jsonb", "jsonb"))
"""(type of :func:`fits`, transform) from the most to the least specific."""


def candidates(p: KeyProfile) -> list[str]:
    """The transforms that can read a key's values, most specific first, each keeping the
    values it would reject under the share that fails a sync (REJECT_FAIL_SHARE).

    ``spec draft`` takes the first; ``spec evidence`` tries them all against the live V2. A
    boolean or a timestamp is only a candidate when the values are mostly of that nature (a
    0/1 integer alone is not a boolean).

    >>> candidates(KeyProfile("t", "k", "top", occurrences=100, n_number=90, num_integer=90,
    ...                       n_string=10, str_integer=0))
    ['text', 'jsonb']
    >>> candidates(KeyProfile("t", "k", "top", occurrences=100, n_number=99, num_integer=99,
    ...                       n_string=1))
    ['bigint', 'numeric', 'text', 'jsonb']
    """
    from generator.config import REJECT_FAIL_SHARE

    total = p.values
    if total <= 0:
        return []
    f = fits(p)
    out = []
    for kind, transform in CANDIDATES:
        if kind == "boolean" and p.n_boolean * 2 < total:
            continue
        if kind == "timestamptz" and (p.num_epoch_ms + p.num_epoch_s) * 2 < total:
            continue
        if (total - f[kind]) / total < REJECT_FAIL_SHARE:
            out.append(transform)
    return out


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
