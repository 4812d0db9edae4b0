"""What image processing is asked to do, and what it answers: plain data, no decoder.

The crawl's process builds :class:`ImageRules` and catches :class:`ImageRejected`
but never decodes an image (worker processes do, with :mod:`flickrspider.imaging`),
so it imports this module rather than numpy, the frame detector and the codecs.
"""

from __future__ import annotations

from dataclasses import dataclass

REASONS = ("empty", "not_image", "truncated", "decompression_bomb", "unsupported_mode", "too_small")


class ImageRejected(Exception):
    """An image that cannot be stored; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, detail: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}")
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail

    def __reduce__(self) -> tuple[type[ImageRejected], tuple[str, str]]:
        return (ImageRejected, (self.reason, self.detail))  # crosses to and from worker processes


@dataclass(frozen=True)
class ImageRules:
    """What to store: size limits, frame removal, JPEG quality, bomb limit."""

    max_side: int = 1024  # the longer side is shrunk to this (never enlarged)
    min_side: int = 500  # images whose stored shorter side is below this are dropped
    remove_frames: bool = True
    jpeg_quality: int = 90
    max_pixels: int = 80_000_000  # declared sizes above this are decompression bombs

    def __post_init__(self) -> None:
        if self.max_side < 1 or self.min_side < 0:
            raise ValueError(
                f"max_side ({self.max_side}) must be >= 1 and min_side ({self.min_side}) >= 0"
            )
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality ({self.jpeg_quality}) must be in 1..100")
        if self.max_pixels < 1:
            raise ValueError(f"max_pixels ({self.max_pixels}) must be >= 1")


@dataclass(frozen=True)
class Processed:
    """A JPEG ready for metadata, and what was done to get it."""

    data: bytes
    width: int
    height: int
    frame: list[int] | None  # [left, top, right, bottom] removed, in source pixels
    passthrough: bool  # data is the source bytes, untouched
    source_format: str
    source_width: int
    source_height: int
