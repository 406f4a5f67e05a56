"""Key paths of V1 records and the sensitivity rule over them (pure functions).

A key path is encoded for humans and for the spec: ``avatar`` (top-level), ``avatar.path``
(key of an object value), ``history[].event`` (key of objects inside an array). Characters
``\\ . [ ]`` inside a key are escaped with a backslash, so every path decodes unambiguously.
"""

from __future__ import annotations

import fnmatch


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
