"""One image from downloaded bytes to the file's final bytes: what a worker runs.

``prepare(body, rules, metadata)`` processes the image (:func:`imaging.process`),
fills in what processing learnt (stored size, frame removed), splices the
metadata in (:func:`jpegmeta.splice`) and hashes the result, so that only the
bytes to write come back from the worker process. Shard slots are claimed by
the caller afterwards: an image rejected here never takes one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from flickrspider.imaging import ImageRules, process
from flickrspider.jpegmeta import exif_fields_for, splice


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


def prepare(body: bytes, rules: ImageRules, metadata: dict[str, Any]) -> Prepared:
    """Process ``body`` and splice in ``metadata`` (its width, height and frame are
    filled in here); raises :class:`imaging.ImageRejected`."""
    processed = process(body, rules)
    metadata = {
        **metadata,
        "width": processed.width,
        "height": processed.height,
        "frame": processed.frame,
    }
    data, checksum = with_metadata(processed.data, metadata)
    return Prepared(
        data,
        checksum,
        processed.width,
        processed.height,
        processed.frame,
        processed.passthrough,
    )
