"""One image from downloaded bytes to a stored file: what a worker process runs.

``prepare(body, rules, metadata)`` processes the image (:func:`imaging.process`),
fills in what processing learnt (stored size, frame removed), splices the
metadata in (:func:`jpegmeta.splice`) and hashes the result.

``store(ledger, ...)`` then claims the photo's shard slot in the dataset
ledger (only now: an image rejected above never takes one), writes the file
atomically and marks it stored. ``store_in_worker`` does the same with a ledger
connection of the worker process's own (SQLite serialises the writers), so
neither the image nor the file's bytes travel back to the crawl's process.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from flickrspider.imagerules import ImageRules, Processed
from flickrspider.jpegmeta import exif_fields_for, splice
from flickrspider.ledger import Ledger
from flickrspider.store import write_atomic


@dataclass(frozen=True)
class Prepared:
    """The file to write, and what was done to the image to get it."""

    data: bytes  # the JPEG with our metadata
    checksum: str  # md5 of data, as ImagesPipeline reports it
    width: int
    height: int
    frame: list[int] | None  # [left, top, right, bottom] removed, in source pixels
    passthrough: bool  # the source's image data, byte for byte


def with_metadata(jpeg: bytes, metadata: dict[str, Any]) -> tuple[bytes, str]:
    """``jpeg`` with ``metadata`` spliced in, and its checksum."""
    data = splice(jpeg, metadata, exif=exif_fields_for(metadata))
    return data, hashlib.md5(data).hexdigest()  # noqa: S324 - a checksum, not security


def _filled(metadata: dict[str, Any], processed: Processed | Prepared) -> dict[str, Any]:
    return {
        **metadata,
        "width": processed.width,
        "height": processed.height,
        "frame": processed.frame,
    }


def prepare(body: bytes, rules: ImageRules, metadata: dict[str, Any]) -> Prepared:
    """Process ``body`` and splice in ``metadata`` (its width, height and frame are
    filled in here); raises :class:`imagerules.ImageRejected`."""
    # Here, not at the top: the crawl's process imports this module, but only worker
    # processes decode (numpy, the frame detector and the codecs load with imaging).
    from flickrspider.imaging import process

    processed = process(body, rules)
    data, checksum = with_metadata(processed.data, _filled(metadata, processed))
    return Prepared(
        data,
        checksum,
        processed.width,
        processed.height,
        processed.frame,
        processed.passthrough,
    )


@dataclass(frozen=True)
class Stored:
    """A photo written to the dataset: where, and what was done to its image."""

    path: str  # under IMAGES_STORE
    keyword: str  # whose directory holds it (an interrupted run may have chosen another)
    checksum: str
    width: int
    height: int
    frame: list[int] | None
    passthrough: bool


def store(
    ledger: Ledger,
    body: bytes,
    rules: ImageRules,
    metadata: dict[str, Any],
    name: str,
) -> Stored:
    """Prepare the image, claim its slot, write it and mark it stored.

    Raises :class:`imagerules.ImageRejected`, or for a full or read-only disk
    :class:`store.StoreError` or ``sqlite3.OperationalError``.
    """
    prepared = prepare(body, rules, metadata)
    claim = ledger.claim(metadata["id"], metadata["keyword"], name)
    data, checksum = prepared.data, prepared.checksum
    if claim.keyword != metadata["keyword"]:  # the file says where it is stored
        data, checksum = with_metadata(
            data, {**_filled(metadata, prepared), "keyword": claim.keyword}
        )
    write_atomic(ledger.root, claim.path, data)
    ledger.mark_stored(metadata["id"])
    return Stored(
        claim.path,
        claim.keyword,
        checksum,
        prepared.width,
        prepared.height,
        prepared.frame,
        prepared.passthrough,
    )


_LEDGERS: dict[tuple[str, int], Ledger] = {}  # a worker process's own connections


def store_in_worker(
    dataset: tuple[str, int],
    body: bytes,
    rules: ImageRules,
    metadata: dict[str, Any],
    name: str,
) -> Stored:
    """:func:`store` into ``dataset`` (IMAGES_STORE, FLICKR_SHARD_SIZE) through this
    process's own connection to its ledger."""
    if dataset not in _LEDGERS:
        _LEDGERS[dataset] = Ledger(*dataset)
    return store(_LEDGERS[dataset], body, rules, metadata, name)
