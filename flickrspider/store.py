"""Files in the dataset appear only complete: written to ``<name>.part``, then renamed.

Also the check used after a crash to tell a complete stored JPEG from a damaged one.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path, PurePosixPath


class StoreError(OSError):
    """The dataset directory cannot take more files (full or read-only disk)."""


def resolve(root: str | Path, rel_path: str) -> Path:
    """``root/rel_path``, refusing any path that would leave ``root``."""
    rel = PurePosixPath(rel_path)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise ValueError(f"unsafe dataset path: {rel_path!r}")
    base = Path(root).resolve()
    path = base.joinpath(*rel.parts)
    if base not in path.parents:
        raise ValueError(f"unsafe dataset path: {rel_path!r}")
    return path


def write_atomic(root: str | Path, rel_path: str, data: bytes) -> Path:
    """Write ``data`` to ``root/rel_path`` so that the final name only ever holds all of it."""
    path = resolve(root, rel_path)
    part = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # No fsync: a killed process loses nothing the page cache holds, and after a
        # power loss reconcile() finds a short file by its missing EOI marker.
        part.write_bytes(data)
        os.replace(part, path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        if exc.errno in {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT, errno.EPERM}:
            raise StoreError(exc.errno, f"cannot write to the dataset: {exc.strerror}") from exc
        raise
    return path


def check_writable(root: str | Path, state_dir: str) -> None:
    """Raise StoreError unless files can be created under ``root/state_dir``."""
    directory = Path(root, state_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # a name of this process's own: writers starting together must not share one
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-probe-"):
            pass
    except OSError as exc:
        raise StoreError(exc.errno or errno.EIO, exc.strerror or str(exc)) from exc


def is_complete_jpeg(path: Path) -> bool:
    """A cheap integrity check: starts with SOI, ends with EOI, not empty."""
    try:
        size = path.stat().st_size
        if size < 4:
            return False
        with path.open("rb") as fh:
            head = fh.read(2)
            fh.seek(size - 2)
            tail = fh.read(2)
    except OSError:
        return False
    return head == b"\xff\xd8" and tail == b"\xff\xd9"
