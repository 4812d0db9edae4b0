"""Where a photo lives in the dataset: ``<keyword>/<NNNNN>/<id>_<secret>_<server>_<owner>.jpg``.

``keyword_dir`` maps any query to one safe directory name: it can never leave
``IMAGES_STORE``, keeps non-ASCII letters, and is deterministic. A name that had
to be changed gets a short hash of the original, so two different queries never
share a directory by accident ("a/b" and "a_b" stay apart).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

STATE_DIR = ".flickrspider"  # per-dataset state (ledger, summary); never a keyword dir
MAX_NAME_BYTES = 120
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)}
_PART = re.compile(r"^[0-9A-Za-z@_\-]{1,64}$")


def keyword_dir(keyword: str) -> str:
    """A safe, deterministic directory name for a query."""
    text = unicodedata.normalize("NFC", keyword)
    name = _UNSAFE.sub("_", text).strip(" .")
    stem, dot, rest = name.partition(".")
    if stem.strip().upper() in _RESERVED:  # reserved on Windows, with any extension
        name = f"{stem}_{dot}{rest}"
    if name != text or not name:
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]  # noqa: S324 - a name, not security
        name = f"{name or 'keyword'}-{digest}"
    encoded = name.encode("utf-8")
    if len(encoded) > MAX_NAME_BYTES:
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]  # noqa: S324
        head = encoded[: MAX_NAME_BYTES - 9].decode("utf-8", "ignore").rstrip(" .")
        name = f"{head}-{digest}"
    return name


def file_name(photo_id: str, secret: str, server: str, owner: str) -> str:
    """``<id>_<secret>_<server>_<owner>.jpg``; every part must be a plain token."""
    for part in (photo_id, secret, server, owner):
        if not _PART.match(part):
            raise ValueError(f"unsafe photo field for a file name: {part!r}")
    return f"{photo_id}_{secret}_{server}_{owner}.jpg"


def shard_dir(slot: int, shard_size: int) -> str:
    """The five-digit directory of the ``slot``-th image (0-based) of a keyword."""
    if slot < 0 or shard_size < 1:
        raise ValueError(f"bad slot {slot} or shard size {shard_size}")
    return f"{slot // shard_size:05d}"


def photo_path(keyword: str, slot: int, shard_size: int, name: str) -> str:
    """The path of a stored photo, relative to ``IMAGES_STORE``, with ``/`` separators."""
    return f"{keyword_dir(keyword)}/{shard_dir(slot, shard_size)}/{name}"
