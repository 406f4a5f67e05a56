"""The read-back check: one digest per row, computed from the binary COPY stream a publish sends
(Python, on the way) and from the live row after the commit (SQL, on the live server).

A row's digest is the md5 of its fields exactly as binary COPY encodes them (per field: a
4-byte length, -1 for NULL, then the type's send bytes), cut to 60 bits; a table's checksum is
the row count and the sum of its rows' digests. Two servers of any version give the same bytes
for the same values (binary send formats are stable), so the sum over the rows written equals
the sum over the same rows read back exactly when every row came back as it was sent. No
order is needed and nothing is computed twice on the local side.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence

from psycopg import sql

SEND = {"bigint": "int8send", "numeric": "numeric_send", "boolean": "boolsend",
        "timestamptz": "timestamptz_send", "date": "date_send", "text": "textsend",
        "jsonb": "jsonb_send"}
"""V2 type -> the function giving the bytes binary COPY sends for a value of it."""
_HEADER = 19  # signature (11) + flags (4) + header extension length (4)
_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")


class StreamDigest:
    """Fed the chunks of a binary COPY stream (``update``); counts and sums the row digests.

    >>> d = StreamDigest()
    >>> header = b"PGCOPY\\n\\xff\\r\\n\\x00" + bytes(8)
    >>> d.update(header + b"\\x00\\x01" + b"\\x00\\x00\\x00\\x01x" + b"\\xff\\xff")
    >>> d.rows, d.total == int(hashlib.md5(b"\\x00\\x00\\x00\\x01x").hexdigest()[:15], 16)
    (1, True)
    """

    def __init__(self) -> None:
        self.buf = bytearray()
        self.header = False
        self.rows = 0
        """Rows seen."""
        self.total = 0
        """Sum of the rows' 60-bit digests."""

    def update(self, chunk: bytes) -> None:
        """Consume one chunk; rows split across chunks wait for the rest."""
        if self.header and not self.buf and self._one_row(chunk):
            return
        buf = self.buf
        buf += chunk
        pos, end = 0, len(buf)
        if not self.header:
            if end < _HEADER or end < _HEADER + _INT32.unpack_from(buf, 15)[0]:
                return
            pos, self.header = _HEADER + _INT32.unpack_from(buf, 15)[0], True
        md5 = hashlib.md5
        while pos + 2 <= end:
            fields = _INT16.unpack_from(buf, pos)[0]
            if fields < 0:  # trailer
                pos += 2
                break
            p = pos + 2
            for _ in range(fields):
                if p + 4 > end:
                    break
                size = _INT32.unpack_from(buf, p)[0]
                p += 4 + max(size, 0)
            else:
                if p <= end:  # the first 60 bits of the md5 (SQL: its first 15 hex digits)
                    self.total += int.from_bytes(md5(buf[pos + 2:p]).digest()[:8], "big") >> 4
                    self.rows += 1
                    pos = p
                    continue
            break
        del buf[:pos]


    def _one_row(self, chunk: bytes) -> bool:
        """Fast path: PostgreSQL sends one COPY message per row, so a chunk is usually
        exactly one row; True when it was (and was counted)."""
        end = len(chunk)
        if end < 2:
            return False
        fields = _INT16.unpack_from(chunk, 0)[0]
        p = 2
        for _ in range(fields):
            if p + 4 > end:
                return False
            p += 4 + max(_INT32.unpack_from(chunk, p)[0], 0)
        if fields < 0 or p != end:
            return False
        self.total += int.from_bytes(hashlib.md5(memoryview(chunk)[2:]).digest()[:8], "big") >> 4
        self.rows += 1
        return True


def _field(value: sql.Composable, v2_type: str) -> sql.Composable:
    send = sql.SQL(SEND[v2_type])
    if v2_type == "text":  # a varchar column sends the same bytes
        value = sql.SQL("({})::text").format(value)
    return sql.SQL("coalesce(int4send(octet_length({f}({v}))) || {f}({v}), "
                   "'\\xffffffff'::bytea)").format(f=send, v=value)


def row_digest(fields: Sequence[tuple[sql.Composable, str]]) -> sql.Composable:
    """SQL: the 60-bit digest of a row whose fields are (value, V2 type), as :class:`StreamDigest`
    computes it from the COPY stream of the same row."""
    parts = sql.SQL(" || ").join(_field(v, t) for v, t in fields)
    return sql.SQL("('x' || substr(md5({}), 1, 15))::bit(60)::bigint").format(parts)
