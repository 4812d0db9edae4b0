"""The metadata comment of a JPEG, from its header alone.

Markers are walked from SOI up to SOS; the first COM segment holding a JSON object
is flickrspider's metadata (SPEC §5). Pixels are never read, let alone decoded.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO

_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-7: markers without a length
_SOS, _EOI, _COM = 0xDA, 0xD9, 0xFE
HEAD = 16384  # bytes read at once from the start of a JPEG


def read_comment(stream: IO[bytes]) -> bytes | None:
    """The first JSON-looking COM segment of a JPEG, reading markers up to SOS only."""
    return find_comment(stream.read(HEAD), stream.read)


def find_comment(head: bytes, read_more: Callable[[int], bytes] | None = None) -> bytes | None:
    """The metadata COM segment of a JPEG whose first bytes are ``head``.

    Metadata segments come first and are small, so ``head`` almost always holds
    them; ``read_more(n)`` (the rest of the file) is called only when a segment
    reaches past it, e.g. after a large ICC profile.
    """
    data = head
    if data[:2] != b"\xff\xd8":
        return None
    pos = 2

    def need(end: int) -> bool:
        nonlocal data
        if end > len(data) and read_more is not None:
            data += read_more(end - len(data) + HEAD)
        return end <= len(data)

    while need(pos + 2):
        if data[pos] != 0xFF:
            pos += 1  # garbage between segments: resynchronise on the next 0xFF
            continue
        code = data[pos + 1]
        if code == 0xFF:  # fill byte
            pos += 1
            continue
        if code in _STANDALONE:
            pos += 2
            continue
        if code in (_SOS, _EOI) or not need(pos + 4):
            return None
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or not need(pos + 2 + length):
            return None
        if code == _COM and data[pos + 4 : pos + 2 + length].lstrip().startswith(b"{"):
            return data[pos + 4 : pos + 2 + length]
        pos += 2 + length
    return None


def read_heads(paths: list[str]) -> list[tuple[bytes, int]]:
    """The first bytes and the size of each file; (b"", 0) when unreadable.

    Pure system calls, which release the GIL: threads overlap the disk waits.
    """
    out = []
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            out.append((b"", 0))
            continue
        try:
            out.append((os.read(fd, HEAD), os.fstat(fd).st_size))
        except OSError:
            out.append((b"", 0))
        finally:
            os.close(fd)
    return out


def rest_reader(path: str, offset: int) -> Callable[[int], bytes]:
    def read_more(size: int) -> bytes:
        nonlocal offset
        try:
            with open(path, "rb") as stream:
                stream.seek(offset)
                chunk = stream.read(size)
        except OSError:
            return b""
        offset += len(chunk)
        return chunk

    return read_more
