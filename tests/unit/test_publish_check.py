"""The read-back digest of a binary COPY stream: independent of how the stream is chunked."""

from __future__ import annotations

import hashlib
import struct

import pytest

from generator.publish.check import StreamDigest

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)


def _row(*fields: bytes | None) -> bytes:
    out = struct.pack(">h", len(fields))
    for f in fields:
        out += struct.pack(">i", -1) if f is None else struct.pack(">i", len(f)) + f
    return out


ROWS = [_row(struct.pack(">q", i), b"\x01" + f'{{"k": {i}}}'.encode(), None if i % 3 else b"x")
        for i in range(1, 40)]
STREAM = HEADER + b"".join(ROWS) + TRAILER


def _expected() -> int:
    return sum(int.from_bytes(hashlib.md5(r[2:]).digest()[:8], "big") >> 4 for r in ROWS)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 19, 64, len(STREAM)])
def test_the_digest_does_not_depend_on_chunk_boundaries(size):
    d = StreamDigest()
    for i in range(0, len(STREAM), size):
        d.update(STREAM[i:i + size])
    assert (d.rows, d.total) == (len(ROWS), _expected())


def test_one_message_per_row_as_postgres_sends_it():
    d = StreamDigest()
    for chunk in [HEADER, *ROWS, TRAILER]:
        d.update(chunk)
    assert (d.rows, d.total) == (len(ROWS), _expected())


def test_a_changed_byte_changes_the_checksum():
    d = StreamDigest()
    d.update(STREAM.replace(b'{"k": 7}', b'{"k": 8}'))
    assert d.rows == len(ROWS) and d.total != _expected()
