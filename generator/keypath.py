"""Key paths of V1 records and the sensitivity rule over them (pure functions).

A key path is encoded for humans and for the spec: ``avatar`` (top-level), ``avatar.meta.width``
(keys of object values, any depth), ``history[].event`` (key of objects inside an array),
``tags[]`` (the elements of an array). Characters ``\\ . [ ]`` inside a key are escaped with a
backslash, so every path decodes unambiguously.
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


Step = tuple[str, bool]
"""One step of a key path: the key, and whether an array (``[]``) follows it."""


def parse_path(path: str) -> tuple[Step, ...]:
    """The steps of an encoded key path, any depth.

    ``[]`` after a key means "each element of this array"; ``tags[]`` (nothing after the
    marker) is the elements themselves. Raises ValueError for a path that is not encoded.

    >>> parse_path(r"a[].b\\.c.d")
    (('a', True), ('b.c', False), ('d', False))
    >>> parse_path("tags[]")
    (('tags', True),)
    """
    steps: list[Step] = []
    buf: list[str] = []
    i, n = 0, len(path)
    while True:
        while i < n and path[i] not in ".[]":
            if path[i] == "\\":
                if i + 1 >= n:
                    raise ValueError(f"key path {path!r} ends with a lone backslash")
                i += 1
            buf.append(path[i])
            i += 1
        array = path.startswith("[]", i)
        if array:
            i += 2
        elif i < n and path[i] in "[]":
            raise ValueError(f"key path {path!r}: unescaped {path[i]!r} at {i} (write \\{path[i]})")
        steps.append(("".join(buf), array))
        buf = []
        if i == n:
            return tuple(steps)
        if path[i] != ".":
            raise ValueError(f"key path {path!r}: expected '.' after '[]' at {i}")
        i += 1


def format_path(steps: tuple[Step, ...] | list[Step]) -> str:
    """Inverse of :func:`parse_path`.

    >>> print(format_path([("a", True), ("b.c", False)]))
    a[].b\\.c
    """
    return ".".join(_escape(k) + ("[]" if arr else "") for k, arr in steps)


def decode_path(path: str) -> tuple[str, str | None, str]:
    """A path of at most two levels as ``(key, sub_key, kind)`` (kind: top, object, array).

    >>> decode_path("history[].event")
    ('history', 'event', 'array')
    """
    steps = parse_path(path)
    if len(steps) == 1 and not steps[0][1]:
        return steps[0][0], None, "top"
    if len(steps) == 2 and not steps[1][1]:
        return steps[0][0], steps[1][0], "array" if steps[0][1] else "object"
    raise ValueError(f"key path {path!r} is not a key or a key of a key")


def top_key(path: str) -> str:
    """The top-level key a path starts with.

    >>> top_key("avatar.meta.width")
    'avatar'
    """
    return parse_path(path)[0][0]


def path_kind(path: str) -> str:
    """'top' (a top-level key), 'array' (through an array) or 'object' (inside objects).

    >>> path_kind("a"), path_kind("a.b.c"), path_kind("a.b[].c")
    ('top', 'object', 'array')
    """
    steps = parse_path(path)
    if len(steps) == 1:
        return "top"
    return "array" if any(arr for _, arr in steps[:-1]) else "object"


def ancestors(path: str) -> list[str]:
    """Encoded paths that contain this one, nearest first (an array step also as ``key[]``).

    >>> ancestors("a[].b.c")
    ['a[].b', 'a[]', 'a']
    """
    steps = parse_path(path)
    out: list[str] = []
    for i in range(len(steps) - 1, 0, -1):
        head = list(steps[:i])
        out.append(format_path(head))
        if head[-1][1]:
            out.append(format_path(head[:-1] + [(head[-1][0], False)]))
    return out


def is_sensitive(path: str, patterns: list[str]) -> bool:
    """True when any segment of the path matches a sensitive pattern (case-insensitive).

    >>> is_sensitive("google_sub", ["*_sub"]), is_sensitive("email", ["password"])
    (True, False)
    """
    segments = [k.lower() for k, _ in parse_path(path) if k]
    return any(fnmatch.fnmatchcase(seg, pat.lower()) for seg in segments for pat in patterns)


def mask(value: str) -> str:
    """What a sensitive value looks like in any output."""
    return f"***masked ({len(value)} chars)***"
