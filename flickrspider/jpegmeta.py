"""Our metadata in JPEG files: a JSON comment (COM) and EXIF attribution and GPS.

``splice(jpeg, metadata)`` rewrites only the header: it drops any COM and Exif
APP1 segment of the source and inserts ours right after SOI (and APP0 JFIF, if
present); every other byte, including quantisation tables and scan data, is
copied unchanged, so a passed-through photo decodes to the same pixels.

The COM payload is compact UTF-8 JSON. A segment holds at most 65,533 bytes, so
over-long metadata is shrunk deterministically: title and description are cut
to 4,000 characters, then tags dropped from the end, then title, description
and any other long text cut further; a cut text ends in "…".

EXIF strings are written as UTF-8 in ASCII-typed tags (what most tools read).
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, fields
from fractions import Fraction
from pathlib import Path
from typing import Any

from PIL import Image

SOI, EOI, SOS, COM, APP0, APP1 = 0xD8, 0xD9, 0xDA, 0xFE, 0xE0, 0xE1
MAX_PAYLOAD = 65533  # a segment's 16-bit length counts itself
EXIF_HEADER = b"Exif\x00\x00"
ELLIPSIS = "…"
SHRINK_FIRST = ("tags", "title", "description")
TEXT_CAP = 4000  # characters of title and description kept when shrinking
EXIF_TEXT_BYTES = 2000  # each EXIF text field, so the segment always fits

TAG_DESCRIPTION, TAG_ARTIST, TAG_COPYRIGHT = 0x010E, 0x013B, 0x8298
IFD_EXIF, IFD_GPS, TAG_DATETIME_ORIGINAL = 0x8769, 0x8825, 0x9003


class NotJpeg(ValueError):
    """The data is not a well-formed JPEG header."""


class NoMetadata(LookupError):
    """The JPEG carries no flickrspider JSON comment."""


@dataclass(frozen=True)
class ExifFields:
    """What goes into the EXIF segment; empty fields are left out."""

    latitude: float | None = None
    longitude: float | None = None
    artist: str | None = None
    copyright: str | None = None
    description: str | None = None
    datetime_original: str | None = None  # "YYYY:MM:DD HH:MM:SS"

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) in (None, "") for f in fields(self))

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> ExifFields:
        """GPS for geotagged photos, Artist = owner, Copyright = license and owner."""
        lat, lon = _number(meta.get("latitude")), _number(meta.get("longitude"))
        geotagged = lat is not None and lon is not None and (lat, lon) != (0.0, 0.0)
        if _number(meta.get("accuracy")) == 0:
            geotagged = False
        name = str(meta.get("ownername") or "").strip()
        owner = str(meta.get("owner") or "").strip()
        artist = f"{name} ({owner})" if name and owner else (name or owner or None)
        licence = str(meta.get("license_name") or "").strip()
        rights = ", ".join(
            x for x in (licence, f"photo by {name or owner}" if name or owner else "") if x
        )
        taken = str(meta.get("datetaken") or "").strip()
        return cls(
            latitude=lat if geotagged else None,
            longitude=lon if geotagged else None,
            artist=artist,
            copyright=rights or None,
            description=str(meta.get("title") or "").strip() or None,
            datetime_original=_exif_time(taken),
        )


def _number(value: Any) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def _exif_time(taken: str) -> str | None:
    """Flickr's "YYYY-MM-DD HH:MM:SS" as EXIF's "YYYY:MM:DD HH:MM:SS"."""
    if len(taken) >= 19 and taken[4] == "-" and taken[7] == "-":
        return taken[:10].replace("-", ":") + taken[10:19]
    return None


def _segments(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """The header's (marker, whole segment bytes) up to SOS, and where SOS starts."""
    if not data.startswith(b"\xff\xd8"):
        raise NotJpeg("does not start with a JPEG SOI marker")
    pos, out = 2, list[tuple[int, bytes]]()
    while True:
        while (
            pos < len(data) and data[pos] == 0xFF and pos + 1 < len(data) and data[pos + 1] == 0xFF
        ):
            pos += 1  # fill bytes
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise NotJpeg(f"no JPEG marker at byte {pos}")
        marker = data[pos + 1]
        if marker == SOS:
            return out, pos
        if marker in (SOI, EOI) or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            raise NotJpeg(f"unexpected marker 0xFF{marker:02X} at byte {pos}")
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > len(data):
            raise NotJpeg(f"segment 0xFF{marker:02X} at byte {pos} runs past the data")
        out.append((marker, data[pos : pos + 2 + length]))
        pos += 2 + length


def _segment(marker: int, payload: bytes) -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"segment payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def _is_exif(marker: int, segment: bytes) -> bool:
    return marker == APP1 and segment[4:10] == EXIF_HEADER


def _dumps(meta: dict[str, Any]) -> bytes:
    return json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _cut(value: Any, keep: int) -> Any:
    """``value`` shortened to ``keep`` items (tags) or characters (text)."""
    if isinstance(value, list):
        return value[:keep]
    text = str(value)
    if keep >= len(text):
        return text
    return text[:keep] + ELLIPSIS if keep else ""


def _fit(meta: dict[str, Any], key: str) -> dict[str, Any]:
    """Shorten ``meta[key]`` to the longest prefix that fits (binary search)."""
    value = meta[key]
    words = key == "tags" and isinstance(value, str)
    items: Any = value.split(" ") if words else value
    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        trial = _cut(items, mid)
        if len(_dumps({**meta, key: " ".join(trial) if words else trial})) <= MAX_PAYLOAD:
            lo = mid
        else:
            hi = mid - 1
    best = _cut(items, lo)
    return {**meta, key: " ".join(best) if words else best}


def encode_comment(metadata: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON of at most 65,533 bytes, shrinking long fields to fit."""
    meta = dict(metadata)
    if len(_dumps(meta)) <= MAX_PAYLOAD:
        return _dumps(meta)
    for key in ("title", "description"):  # first, no text longer than a page
        if isinstance(meta.get(key), str) and len(meta[key]) > TEXT_CAP:
            meta[key] = _cut(meta[key], TEXT_CAP)
    if len(_dumps(meta)) <= MAX_PAYLOAD:
        return _dumps(meta)
    others = sorted(
        (k for k, v in meta.items() if k not in SHRINK_FIRST and isinstance(v, str | list)),
        key=lambda k: (-len(_dumps({k: meta[k]})), k),
    )
    for key in [k for k in SHRINK_FIRST if isinstance(meta.get(k), str | list)] + others:
        meta = _fit(meta, key)
        if len(_dumps(meta)) <= MAX_PAYLOAD:
            return _dumps(meta)
    raise ValueError("metadata does not fit a JPEG comment even with its text fields emptied")


def _dms(value: float) -> bytes:
    """Degrees, minutes, seconds (to 1/10000) as three EXIF RATIONALs, in lowest terms."""
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = Fraction(round((value - degrees - minutes / 60) * 3600 * 10000), 10000)
    return struct.pack(">6I", degrees, 1, minutes, 1, seconds.numerator, seconds.denominator)


def _clip(text: str, limit: int) -> bytes:
    """UTF-8 of ``text``, cut on a character boundary to at most ``limit`` bytes."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return raw
    return raw[: limit - 3].decode("utf-8", "ignore").encode("utf-8") + ELLIPSIS.encode()


_BYTE, _ASCII, _LONG, _RATIONAL = 1, 2, 4, 5
_Entry = tuple[int, int, int, bytes]  # tag, type, count, value bytes


def _ascii(tag: int, raw: bytes) -> _Entry:
    return (tag, _ASCII, len(raw) + 1, raw + b"\x00")


def _ifd(entries: list[_Entry], start: int) -> bytes:
    """A big-endian TIFF IFD at offset ``start``, its values after it, each padded
    to an even length (as Pillow lays them out)."""
    entries = sorted(entries)
    area = start + 2 + 12 * len(entries) + 4
    head, data = [struct.pack(">H", len(entries))], bytearray()
    for tag, kind, count, value in entries:
        if len(value) <= 4:
            head.append(struct.pack(">HHI", tag, kind, count) + value.ljust(4, b"\x00"))
        else:
            head.append(struct.pack(">HHII", tag, kind, count, area + len(data)))
            data += value + b"\x00" * (len(value) % 2)
    head.append(b"\x00\x00\x00\x00")  # no next IFD
    return b"".join(head) + bytes(data)


def encode_exif(exif: ExifFields) -> bytes:
    """The APP1 payload ("Exif\\0\\0" + TIFF) for ``exif``.

    Written directly (a few entries: Pillow's general TIFF writer took a third of
    a passed-through photo's time besides decoding); the bytes are those Pillow's
    ``Image.Exif().tobytes()`` gives for the same tags, which a test checks.
    """
    top = [
        _ascii(tag, _clip(text, EXIF_TEXT_BYTES))
        for tag, text in (
            (TAG_DESCRIPTION, exif.description),
            (TAG_ARTIST, exif.artist),
            (TAG_COPYRIGHT, exif.copyright),
        )
        if text
    ]
    subs: list[tuple[int, list[_Entry]]] = []
    if exif.datetime_original:
        taken = exif.datetime_original.encode("ascii", "replace")
        subs.append((IFD_EXIF, [_ascii(TAG_DATETIME_ORIGINAL, taken)]))
    if exif.latitude is not None and exif.longitude is not None:
        gps = [
            (0, _BYTE, 4, b"\x02\x03\x00\x00"),  # GPSVersionID 2.3
            _ascii(1, b"N" if exif.latitude >= 0 else b"S"),
            (2, _RATIONAL, 3, _dms(exif.latitude)),
            _ascii(3, b"E" if exif.longitude >= 0 else b"W"),
            (4, _RATIONAL, 3, _dms(exif.longitude)),
        ]
        subs.append((IFD_GPS, gps))
    pointers = [(tag, _LONG, 1, b"\x00" * 4) for tag, _ in subs]
    blocks = [_ifd(top + pointers, 8)]  # sized first: pointers are 4 bytes whatever they say
    offset = 8 + len(blocks[0])
    pointers = []
    for tag, entries in subs:
        pointers.append((tag, _LONG, 1, struct.pack(">I", offset)))
        blocks.append(_ifd(entries, offset))
        offset += len(blocks[-1])
    blocks[0] = _ifd(top + pointers, 8)
    return EXIF_HEADER + b"MM\x00*" + struct.pack(">I", 8) + b"".join(blocks)


def splice(jpeg: bytes, metadata: dict[str, Any], *, exif: ExifFields | None = None) -> bytes:
    """``jpeg`` with our COM (and EXIF: from ``metadata`` unless given) in its header.

    An empty :class:`ExifFields` writes no EXIF. Raises :class:`NotJpeg` for data
    that is not a JPEG.
    """
    segments, sos = _segments(jpeg)
    fields_ = ExifFields.from_metadata(metadata) if exif is None else exif
    head = [b"\xff\xd8"]
    keep = [seg for marker, seg in segments if marker != COM and not _is_exif(marker, seg)]
    jfif = next(
        (i for i, seg in enumerate(keep) if seg[1] == APP0 and seg[4:9] == b"JFIF\x00"), None
    )
    if jfif is not None:
        head.append(keep.pop(jfif))  # JFIF comes first
    if not fields_.is_empty():
        head.append(_segment(APP1, encode_exif(fields_)))
    head.append(_segment(COM, encode_comment(metadata)))
    return b"".join([*head, *keep, jpeg[sos:]])


def _read(data_or_path: bytes | str | os.PathLike[str]) -> bytes:
    if isinstance(data_or_path, bytes | bytearray | memoryview):
        return bytes(data_or_path)
    return Path(data_or_path).read_bytes()


def read_comment(data_or_path: bytes | str | os.PathLike[str]) -> bytes | None:
    """The payload of the first COM segment in the header, or None."""
    segments, _ = _segments(_read(data_or_path))
    return next((seg[4:] for marker, seg in segments if marker == COM), None)


def read_metadata(data_or_path: bytes | str | os.PathLike[str]) -> dict[str, Any]:
    """Our metadata from the JSON comment; NoMetadata if there is none."""
    payload = read_comment(data_or_path)
    if payload is None:
        raise NoMetadata("the JPEG has no comment")
    try:
        meta = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NoMetadata(f"the JPEG comment is not flickrspider JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise NoMetadata("the JPEG comment is not a JSON object")
    return meta


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        raw = value
    else:
        try:
            raw = str(value).encode("latin-1")  # Pillow reads ASCII tags as Latin-1
        except UnicodeEncodeError:
            return str(value).rstrip("\x00")
    return raw.decode("utf-8", "replace").rstrip("\x00")


def _decimal(dms: Any, ref: Any) -> float | None:
    try:
        d, m, s = (float(x) for x in dms)
    except (TypeError, ValueError):
        return None
    value = d + m / 60 + s / 3600
    return -value if str(ref).upper() in ("S", "W") else value


def read_exif(data_or_path: bytes | str | os.PathLike[str]) -> ExifFields | None:
    """Our EXIF fields from the header's Exif segment, or None without one."""
    segments, _ = _segments(_read(data_or_path))
    payload = next((seg[4:] for marker, seg in segments if _is_exif(marker, seg)), None)
    if payload is None:
        return None
    ex = Image.Exif()
    ex.load(payload)
    gps = ex.get_ifd(IFD_GPS)
    return ExifFields(
        latitude=_decimal(gps.get(2), gps.get(1)) if gps else None,
        longitude=_decimal(gps.get(4), gps.get(3)) if gps else None,
        artist=_text(ex.get(TAG_ARTIST)),
        copyright=_text(ex.get(TAG_COPYRIGHT)),
        description=_text(ex.get(TAG_DESCRIPTION)),
        datetime_original=_text(ex.get_ifd(IFD_EXIF).get(TAG_DATETIME_ORIGINAL)),
    )


def exif_fields_for(metadata: dict[str, Any]) -> ExifFields:
    """The EXIF fields our metadata implies (see :meth:`ExifFields.from_metadata`)."""
    return ExifFields.from_metadata(metadata)
