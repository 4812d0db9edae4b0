"""COM JSON and EXIF splicing: round trips, byte-exactness, limits."""

from __future__ import annotations

import io
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from flickrspider.emulator.images import render
from flickrspider.jpegmeta import (
    MAX_PAYLOAD,
    ExifFields,
    NoMetadata,
    NotJpeg,
    _clip,
    _segments,
    encode_comment,
    encode_exif,
    exif_fields_for,
    read_exif,
    read_metadata,
    splice,
)

JPEG = render(7, 640, 480, None, 640, 480)
META: dict[str, Any] = {
    "id": "315157387",
    "secret": "c36ba74681",
    "server": "100",
    "owner": "23812473@N00",
    "ownername": "Zoë Ñúñez 東京",
    "title": "Glaciar Perito Moreno ❄",
    "tags": "argentina patagonia glaciar",
    "license": 4,
    "license_name": "CC BY 2.0",
    "latitude": -50.4967,
    "longitude": -73.1377,
    "accuracy": 16,
    "datetaken": "2007-02-11 14:32:05",
    "frame": None,
}


def _pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im)


def _markers(data: bytes) -> list[int]:
    return [marker for marker, _ in _segments(data)[0]]


def test_comment_round_trip_via_pillow_and_reader() -> None:
    out = splice(JPEG, META)
    with Image.open(io.BytesIO(out)) as im:
        assert json.loads(im.info["comment"]) == META
    assert read_metadata(out) == META
    raw = out[out.index(b"\xff\xfe") + 4 :]
    assert raw.startswith(b'{"id":"315157387","secret"')  # compact
    assert "Zoë Ñúñez 東京".encode() in raw  # UTF-8, not \\u escapes


def test_pixels_and_scan_data_unchanged() -> None:
    out = splice(JPEG, META)
    assert np.array_equal(_pixels(out), _pixels(JPEG))
    sos = _segments(JPEG)[1]
    assert out.endswith(JPEG[sos:])
    kept = [seg for marker, seg in _segments(JPEG)[0]]
    assert all(seg in out for seg in kept)  # quantisation and Huffman tables byte for byte


def test_old_comment_and_exif_replaced_others_kept() -> None:
    old_exif = Image.Exif()
    old_exif[0x0110] = "Camera X"
    buf = io.BytesIO()
    Image.open(io.BytesIO(JPEG)).save(
        buf, "JPEG", quality=85, comment=b"old comment", exif=old_exif.tobytes()
    )
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"
    src = buf.getvalue()
    src = src[:2] + b"\xff\xe1" + (len(xmp) + 2).to_bytes(2, "big") + xmp + src[2:]
    out = splice(src, META)
    assert b"old comment" not in out and b"Camera X" not in out
    assert xmp in out
    markers = _markers(out)
    assert markers[:3] == [0xE0, 0xE1, 0xFE]  # JFIF first, then our EXIF and COM
    assert markers.count(0xFE) == 1
    assert np.array_equal(_pixels(out), _pixels(src))


def test_exif_gps_artist_copyright_via_pillow() -> None:
    out = splice(JPEG, META)
    with Image.open(io.BytesIO(out)) as im:
        exif = im.getexif()
        gps = exif.get_ifd(0x8825)
    assert gps[1] == "S" and gps[3] == "W"
    lat = sum(float(v) / 60**i for i, v in enumerate(gps[2]))
    lon = sum(float(v) / 60**i for i, v in enumerate(gps[4]))
    assert lat == pytest.approx(50.4967, abs=1e-6) and lon == pytest.approx(73.1377, abs=1e-6)
    fields = read_exif(out)
    assert fields is not None
    assert fields.latitude == pytest.approx(-50.4967, abs=1e-6)
    assert fields.longitude == pytest.approx(-73.1377, abs=1e-6)
    assert fields.artist == "Zoë Ñúñez 東京 (23812473@N00)"
    assert fields.copyright == "CC BY 2.0, photo by Zoë Ñúñez 東京"
    assert fields.description == META["title"]
    assert fields.datetime_original == "2007:02:11 14:32:05"


def test_not_geotagged_has_no_gps() -> None:
    for extra in ({"accuracy": 0}, {"latitude": 0, "longitude": 0}, {"latitude": None}):
        out = splice(JPEG, {**META, **extra})
        with Image.open(io.BytesIO(out)) as im:
            assert not im.getexif().get_ifd(0x8825)
        fields = read_exif(out)
        assert fields is not None and fields.latitude is None and fields.artist


def test_explicit_and_empty_exif() -> None:
    out = splice(JPEG, META, exif=ExifFields(latitude=1.5, longitude=2.25, artist="A"))
    fields = read_exif(out)
    assert fields == ExifFields(latitude=1.5, longitude=2.25, artist="A")
    bare = splice(JPEG, META, exif=ExifFields())
    assert read_exif(bare) is None and 0xE1 not in _markers(bare)
    assert exif_fields_for(META) == ExifFields.from_metadata(META)


def test_huge_metadata_is_shrunk_deterministically() -> None:
    huge = {
        **META,
        "tags": " ".join(f"tag{i}" for i in range(30_000)),
        "title": "é" * 100_000,
        "description": "d" * 100_000,
    }
    out = splice(JPEG, huge)
    assert out == splice(JPEG, huge)
    payload = out[out.index(b"\xff\xfe") + 4 :]
    meta = read_metadata(out)
    assert set(meta) == set(huge)
    assert len(encode_comment(huge)) <= MAX_PAYLOAD
    assert meta["title"].endswith("…") and len(meta["title"]) <= 4001
    assert huge["tags"].startswith(meta["tags"]) and meta["tags"].endswith(tuple("0123456789"))
    assert payload.startswith(encode_comment(huge))
    assert np.array_equal(_pixels(out), _pixels(JPEG))
    fields = read_exif(out)
    assert fields is not None and fields.description is not None and len(fields.description) < 2100


def test_tag_list_is_shrunk_by_whole_tags() -> None:
    meta = encode_comment({"id": "1", "tags": [f"t{i:05d}" for i in range(20_000)]})
    tags = json.loads(meta)["tags"]
    assert len(meta) <= MAX_PAYLOAD and tags[0] == "t00000" and len(tags) < 20_000


def test_unshrinkable_metadata_raises() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        encode_comment({f"k{i}": i for i in range(20_000)})


def test_read_from_path_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    path.write_bytes(splice(JPEG, META))
    assert read_metadata(path) == META and read_metadata(str(path)) == META
    with pytest.raises(NoMetadata):
        read_metadata(JPEG)
    buf = io.BytesIO()
    Image.open(io.BytesIO(JPEG)).save(buf, "JPEG", comment=b"not json")
    with pytest.raises(NoMetadata):
        read_metadata(buf.getvalue())
    with pytest.raises(NotJpeg):
        read_metadata(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(NotJpeg):
        splice(JPEG[:40], META)
    assert read_exif(JPEG) is None


def test_progressive_jpeg() -> None:
    buf = io.BytesIO()
    Image.open(io.BytesIO(JPEG)).save(buf, "JPEG", progressive=True, quality=90)
    out = splice(buf.getvalue(), META)
    assert read_metadata(out) == META
    assert np.array_equal(_pixels(out), _pixels(buf.getvalue()))


texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=200)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=texts,
    owner=texts,
    tags=st.lists(
        st.text(st.characters(blacklist_categories=("Cs", "Zs")), min_size=1, max_size=20)
    ),
    lat=st.floats(-90, 90),
    lon=st.floats(-180, 180),
)
def test_any_text_round_trips(
    title: str, owner: str, tags: list[str], lat: float, lon: float
) -> None:
    meta = {
        **META,
        "title": title,
        "ownername": owner,
        "tags": " ".join(tags),
        "latitude": lat,
        "longitude": lon,
    }
    out = splice(JPEG, meta)
    assert read_metadata(out) == meta
    fields = read_exif(out)
    assert fields is not None
    if (lat, lon) != (0.0, 0.0):
        assert fields.latitude == pytest.approx(lat, abs=1e-6)
        assert fields.longitude == pytest.approx(lon, abs=1e-6)
    with Image.open(io.BytesIO(out)) as im:
        im.load()


def _pillow_exif(exif: ExifFields) -> bytes:
    """The same tags written by Pillow's general TIFF writer: the reference."""

    def dms(value: float) -> tuple[IFDRational, ...]:
        value = abs(value)
        degrees = int(value)
        minutes = int((value - degrees) * 60)
        seconds = Fraction(round((value - degrees - minutes / 60) * 3600 * 10000), 10000)
        return (
            IFDRational(degrees, 1),
            IFDRational(minutes, 1),
            IFDRational(seconds.numerator, seconds.denominator),
        )

    ex = Image.Exif()
    for tag, text in ((0x010E, exif.description), (0x013B, exif.artist), (0x8298, exif.copyright)):
        if text:
            ex[tag] = _clip(text, 2000)
    if exif.datetime_original:
        ex.get_ifd(0x8769)[0x9003] = exif.datetime_original
    if exif.latitude is not None and exif.longitude is not None:
        gps = ex.get_ifd(0x8825)
        gps[0] = b"\x02\x03\x00\x00"
        gps[1] = "N" if exif.latitude >= 0 else "S"
        gps[2] = dms(exif.latitude)
        gps[3] = "E" if exif.longitude >= 0 else "W"
        gps[4] = dms(exif.longitude)
    return ex.tobytes()


optional_text = st.one_of(
    st.none(), st.text(st.characters(exclude_categories=["Cs"]), max_size=2100)
)


@settings(max_examples=150, deadline=None)
@given(
    lat=st.one_of(st.none(), st.floats(-90, 90)),
    lon=st.floats(-180, 180),
    artist=optional_text,
    rights=optional_text,
    description=optional_text,
    taken=st.one_of(st.none(), st.datetimes().map(lambda d: d.strftime("%Y:%m:%d %H:%M:%S"))),
)
def test_exif_bytes_are_those_pillow_writes(
    lat: float | None,
    lon: float,
    artist: str | None,
    rights: str | None,
    description: str | None,
    taken: str | None,
) -> None:
    fields = ExifFields(
        latitude=lat,
        longitude=None if lat is None else lon,
        artist=artist,
        copyright=rights,
        description=description,
        datetime_original=taken,
    )
    assert encode_exif(fields) == _pillow_exif(fields)
