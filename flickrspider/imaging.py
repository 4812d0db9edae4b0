"""Decode, check, de-frame, shrink and encode one downloaded image.

``process(body, rules)`` returns a :class:`Processed` JPEG (without our
metadata: the caller splices it in with :mod:`flickrspider.jpegmeta`) or raises
:class:`ImageRejected` with one of :data:`REASONS`.

Steps:

1. Sniff the format from the magic bytes and read the header through the
   format's own Pillow plugin; reject decompression bombs from the declared
   size before any pixel is decoded (Pillow's own bomb warning never fires:
   ``Image.open`` is not used, and the limit never exceeds Pillow's).
2. A JPEG that could be kept as it is (RGB, upright, small enough) is decoded
   at reduced scale (``draft``), luma only, to prove the data complete and to
   pre-check its edges for a frame; only a candidate is decoded in colour to look
   for one. Without a frame its bytes are passed through unchanged.
3. Otherwise decode at the smallest scale that still gives ``max_side`` (JPEG
   ``draft``), apply EXIF orientation, convert to RGB (alpha over white), find
   and crop the frame, shrink with a reducing LANCZOS resize, and encode.
   The resize runs in libvips (pyvips): the same 3-lobe Lanczos kernel as
   Pillow's, within a level or two of its pixels, at a third of its CPU.

Truncated data is an error (Pillow's ``LOAD_TRUNCATED_IMAGES`` stays False).
Pillow releases the GIL while decoding, so ``process`` suits a thread pool.
"""

from __future__ import annotations

import io
import math
from dataclasses import replace
from functools import cache
from types import ModuleType

import numpy as np
from PIL import GifImagePlugin, Image, ImageFile, ImageOps, JpegImagePlugin, PngImagePlugin

from flickrspider.frames import (
    DEFAULT_PARAMS,
    Box,
    detect_frame,
    edge_boxes,
    edge_lines,
    might_be_framed,
)
from flickrspider.imagerules import ImageRejected, ImageRules, Processed

DETECT_SIDE = 512  # frames are looked for at about this size before any full decode
# The pre-check on luma alone (a JPEG's Y, decoded without its colour): a line flat
# in colour is flat in luma and colours within ``match`` have lumas within it, so
# it passes wherever the colour one does; the slack covers rounding and clipping
# in the decoder's colour conversion.
LUMA_PRECHECK = replace(
    DEFAULT_PARAMS, flat_std=DEFAULT_PARAMS.flat_std + 1, match=DEFAULT_PARAMS.match + 2
)
CONVERTIBLE = frozenset(
    {"RGB", "RGBA", "RGBX", "RGBa", "L", "LA", "La", "P", "PA", "1", "CMYK", "YCbCr"}
)
_PLUGINS: dict[str, type[ImageFile.ImageFile]] = {
    "JPEG": JpegImagePlugin.JpegImageFile,
    "PNG": PngImagePlugin.PngImageFile,
    "GIF": GifImagePlugin.GifImageFile,
}


def _sniff(body: bytes) -> str:
    if body.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if body.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if body[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    raise ImageRejected("not_image", f"not a JPEG, PNG or GIF (starts {body[:8]!r})")


def _gif_extent(body: bytes) -> tuple[int, int]:
    """Logical screen grown by the first frame's extent, as Pillow's GIF reader would."""
    w, h = int.from_bytes(body[6:8], "little"), int.from_bytes(body[8:10], "little")
    flags, pos = body[10] if len(body) > 10 else 0, 13
    if flags & 0x80:
        pos += 3 << ((flags & 7) + 1)
    while pos < len(body):
        if body[pos] == 0x2C and pos + 9 < len(body):  # image descriptor
            x0, y0 = (
                int.from_bytes(body[pos + 1 : pos + 3], "little"),
                int.from_bytes(body[pos + 3 : pos + 5], "little"),
            )
            fw, fh = (
                int.from_bytes(body[pos + 5 : pos + 7], "little"),
                int.from_bytes(body[pos + 7 : pos + 9], "little"),
            )
            return max(w, x0 + fw), max(h, y0 + fh)
        if body[pos] != 0x21:  # not an extension: trailer or junk
            break
        pos += 2
        while pos < len(body) and body[pos]:  # sub-blocks
            pos += body[pos] + 1
        pos += 1
    return w, h


def _limit(rules: ImageRules) -> int:
    pillow = Image.MAX_IMAGE_PIXELS
    return rules.max_pixels if pillow is None else min(rules.max_pixels, pillow)


def _open(body: bytes, fmt: str, rules: ImageRules) -> ImageFile.ImageFile:
    """The header, read without Pillow's bomb check; bombs rejected by declared size."""
    if fmt == "GIF" and math.prod(_gif_extent(body)) > _limit(rules):
        raise ImageRejected("decompression_bomb", f"GIF declares {_gif_extent(body)} pixels")
    try:
        im = _PLUGINS[fmt](io.BytesIO(body))
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        raise ImageRejected(_reason(exc, "not_image"), f"{fmt} header: {exc}") from exc
    w, h = im.size
    if w < 1 or h < 1:
        raise ImageRejected("not_image", f"{fmt} declares size {w}x{h}")
    if w * h > _limit(rules):
        raise ImageRejected("decompression_bomb", f"{fmt} declares {w}x{h} = {w * h} pixels")
    if im.mode not in CONVERTIBLE:
        raise ImageRejected("unsupported_mode", f"{fmt} mode {im.mode}")
    return im


def _reason(exc: BaseException, default: str) -> str:
    """The rejection reason a Pillow error stands for."""
    text = str(exc).lower()
    if isinstance(exc, EOFError) or "truncated" in text:
        return "truncated"
    if "too large" in text:  # e.g. a PNG text chunk that inflates without end
        return "decompression_bomb"
    return default


def _load(im: ImageFile.ImageFile, fmt: str) -> None:
    """Decode all the data; partial data raises (never padded)."""
    try:
        im.load()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        default = "truncated" if fmt == "JPEG" else "not_image"
        raise ImageRejected(_reason(exc, default), f"{fmt} data: {exc}") from exc


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(0x0112, 1) or 1)
    except (ValueError, TypeError, OSError, SyntaxError):
        return 1


def _to_rgb(im: Image.Image) -> Image.Image:
    """RGB pixels: alpha composited over white, palettes and CMYK converted."""
    if im.mode == "RGB":
        return im
    if im.mode in ("P", "PA") or "A" in im.mode or im.mode in ("RGBa", "La"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return im.convert("RGB")


def _find_frame(rgb: Image.Image) -> Box | None:
    box = detect_frame(np.asarray(rgb))
    return box if box and any(box) else None


def _might_be_framed(im: Image.Image) -> bool:
    """The cheap test of :func:`might_be_framed` on a few edge lines, so that most
    images never become a full array (looser for luma: :data:`LUMA_PRECHECK`)."""
    p = LUMA_PRECHECK if im.mode == "L" else DEFAULT_PARAMS
    boxes = edge_boxes(im.width, im.height, p)
    return boxes is not None and might_be_framed(
        edge_lines([np.asarray(im.crop(box)) for box in boxes], p), p
    )


def _scaled(box: Box, fx: float, fy: float) -> list[int]:
    """A box found at reduced scale in source pixels, rounded outwards."""
    return [
        math.ceil(box[0] * fx),
        math.ceil(box[1] * fy),
        math.ceil(box[2] * fx),
        math.ceil(box[3] * fy),
    ]


def _draft_size(size: tuple[int, int], longest: float) -> tuple[int, int]:
    """The size to ask ``draft`` for so that the longer side keeps ``longest`` px.

    Pillow decodes at 1/s where ``s`` (8, 4, 2 or 1) is at most ``side // asked``
    for both sides: the longer side asks for ``longest`` (rounded up), and the
    shorter side for its share rounded down, so that its rounding never forbids a
    scale the longer side allows (1024x819 asking 512x410 would decode at full size).
    """
    w, h = size
    long_side, short_side = max(w, h), min(w, h)
    if longest >= long_side:
        return w, h
    asked_long = max(1, math.ceil(longest))
    asked_short = max(1, short_side * asked_long // long_side)
    return (asked_long, asked_short) if w >= h else (asked_short, asked_long)


def _can_pass(im: ImageFile.ImageFile, fmt: str, rules: ImageRules) -> bool:
    return (
        fmt == "JPEG"
        and im.mode == "RGB"
        and max(im.size) <= rules.max_side
        and _orientation(im) == 1
    )


def process(body: bytes, rules: ImageRules) -> Processed:
    """Turn downloaded bytes into a JPEG to store, or raise :class:`ImageRejected`."""
    if not body:
        raise ImageRejected("empty", "no bytes")
    fmt = _sniff(body)
    im = _open(body, fmt, rules)
    sw, sh = im.size
    if min(sw, sh) < rules.min_side:  # shrinking and cropping only make it smaller
        raise ImageRejected("too_small", f"{sw}x{sh} is under {rules.min_side} px")
    if _can_pass(im, fmt, rules):
        # Decode luma alone at reduced scale (the colour planes cost a third more):
        # it proves the data complete, and few photos have edges that might be a
        # frame; only those are decoded in colour to look for it.
        im.draft("L", _draft_size(im.size, DETECT_SIDE if rules.remove_frames else 1))
        _load(im, fmt)
        box = None
        if rules.remove_frames and _might_be_framed(im):
            im = _open(body, fmt, rules)
            im.draft("RGB", _draft_size(im.size, DETECT_SIDE))
            _load(im, fmt)
            box = _find_frame(im)
        if box is None:
            return Processed(body, sw, sh, None, True, fmt, sw, sh)
        # Framed: the border found at reduced scale, in source pixels, is cut as it is.
        left, top, right, bottom = _scaled(box, sw / im.width, sh / im.height)
        return _convert(body, fmt, rules, (left, top, right, bottom))
    return _convert(body, fmt, rules)


def _decode(
    body: bytes, fmt: str, rules: ImageRules, longest: float
) -> tuple[Image.Image, tuple[int, int], bytes | None]:
    """Upright RGB pixels, decoded at the smallest JPEG scale giving ``longest`` px.

    Also returns the upright source size and the source's ICC profile.
    """
    im = _open(body, fmt, rules)
    sw, sh = im.size
    if fmt == "JPEG":
        im.draft("RGB", _draft_size((sw, sh), longest))
    _load(im, fmt)
    icc = im.info.get("icc_profile")
    orientation = _orientation(im)
    pixels: Image.Image = im
    if orientation != 1:
        pixels = ImageOps.exif_transpose(im)
    upright = (sh, sw) if orientation in (5, 6, 7, 8) else (sw, sh)
    return _to_rgb(pixels), upright, icc


@cache
def _vips() -> ModuleType:
    """libvips, loaded where images are shrunk (worker processes), not by the crawl."""
    import pyvips

    # Every image is new to libvips: cached operations would only hold memory. The
    # callers (worker processes, or a thread pool) are the parallelism: one thread each.
    pyvips.cache_set_max(0)
    pyvips.concurrency_set(1)
    return pyvips


def _shrink(rgb: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``rgb`` downsampled to ``size``: a box reduction while 3x or more remains,
    then Lanczos-3, as Pillow's ``resize(size, LANCZOS, reducing_gap=3.0)`` does."""
    w, h = rgb.size
    source = _vips().Image.new_from_memory(rgb.tobytes(), w, h, 3, "uchar")
    out = source.resize(size[0] / w, vscale=size[1] / h, kernel="lanczos3", gap=3.0)
    return Image.frombytes("RGB", (out.width, out.height), out.write_to_memory())


def _convert(body: bytes, fmt: str, rules: ImageRules, found: Box | None = None) -> Processed:
    """Decode at the scale needed, orient, de-frame, shrink and encode.

    ``found`` is a frame already found (in source pixels) of an image decoded whole.
    """
    rgb, (ow, oh), icc = _decode(body, fmt, rules, rules.max_side)
    if found is not None and rgb.size == (ow, oh):
        box: Box | None = found
    else:
        box = _find_frame(rgb) if rules.remove_frames else None
    if box and rgb.width < ow:
        # Cropping at reduced scale would leave under max_side: decode finer.
        kept = max(rgb.width - box[0] - box[2], rgb.height - box[1] - box[3])
        if 0 < kept < rules.max_side:
            rgb, _, icc = _decode(body, fmt, rules, rules.max_side * max(rgb.size) / kept)
            box = _find_frame(rgb)
    frame = _scaled(box, ow / rgb.width, oh / rgb.height) if box else None
    if box:
        if box[0] + box[2] >= rgb.width or box[1] + box[3] >= rgb.height:
            raise ImageRejected("too_small", f"frame {frame} leaves nothing of {ow}x{oh}")
        rgb = rgb.crop((box[0], box[1], rgb.width - box[2], rgb.height - box[3]))
    scale = min(1.0, rules.max_side / max(rgb.size))
    size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    if size != rgb.size:
        rgb = _shrink(rgb, size)
    if min(rgb.size) < rules.min_side:
        raise ImageRejected(
            "too_small", f"{rgb.width}x{rgb.height} after frame removal and shrinking"
        )
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=rules.jpeg_quality, icc_profile=icc)
    return Processed(out.getvalue(), rgb.width, rgb.height, frame, False, fmt, ow, oh)
