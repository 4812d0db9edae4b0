"""JSON Lines feed files that a killed crawl can append to again.

A feed line is written in one ``write`` call on an unbuffered file, so a killed
process leaves whole lines behind; a full disk or a power cut may still leave a
partial last line. ``repair_tail`` makes the file end on a whole record again
before a run appends to it, and ``read_ids`` lists the photo ids it already holds.
Pure and stdlib-only.
"""

from __future__ import annotations

import json
import os
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

_CHUNK = 1 << 16


def repair_tail(path: str | Path) -> int:
    """Make ``path`` end with a newline after its last whole record.

    A last line without its newline is kept (and ended) if it is a complete JSON
    object, else cut off. Returns the number of bytes cut (0 if none).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0
    if size == 0:
        return 0
    with path.open("r+b") as fh:
        start = _last_line_start(fh, size)
        fh.seek(start)
        tail = fh.read()
        if not tail or tail.endswith(b"\n"):
            return 0
        if _is_record(tail):
            fh.seek(size)
            fh.write(b"\n")
            cut = 0
        else:
            fh.truncate(start)
            cut = size - start
        fh.flush()
        os.fsync(fh.fileno())
    return cut


def _last_line_start(fh: BinaryIO, size: int) -> int:
    """Offset just after the last newline before the end of the file (0 if none)."""
    end = size
    while end > 0:
        begin = max(0, end - _CHUNK)
        fh.seek(begin)
        chunk = fh.read(end - begin)
        # ignore a newline that is the file's very last byte: that line is whole
        where = chunk.rfind(b"\n", 0, len(chunk) - 1 if end == size else len(chunk))
        if where >= 0:
            return begin + where + 1
        end = begin
    return 0


def _is_record(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def record_id(line: bytes) -> int | None:
    """The photo id of one feed line, or None if it has none."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    value = record.get("id") if isinstance(record, dict) else None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


class IdSet:
    """A read-only set of photo ids in 8 bytes each: a sorted array, searched by bisection."""

    def __init__(self, ids: Iterable[int]) -> None:
        self._ids = array("q", sorted(set(ids)))

    def __contains__(self, photo_id: object) -> bool:
        if not isinstance(photo_id, int):
            return False
        at = bisect_left(self._ids, photo_id)
        return at < len(self._ids) and self._ids[at] == photo_id

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids)


def read_ids(path: str | Path) -> IdSet:
    """The photo ids recorded in a JSON Lines feed (unreadable lines are skipped)."""
    ids = array("q")
    try:
        with Path(path).open("rb") as fh:
            for line in fh:
                pid = record_id(line)
                if pid is not None and pid < 2**63:
                    ids.append(pid)
    except FileNotFoundError:
        pass
    return IdSet(ids)
