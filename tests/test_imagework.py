"""One image from downloaded bytes to the file's bytes, in process and in a worker."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from PIL import Image

from flickrspider.emulator.images import FrameSpec, render
from flickrspider.imagework import Prepared, prepare
from flickrspider.imaging import ImageRejected, ImageRules
from flickrspider.jpegmeta import _segments, read_exif, read_metadata
from flickrspider.workers import WorkerPool

RULES = ImageRules()
FRAME = FrameSpec(30, 30, 30, 30, ((30, (250, 250, 250)),))
META: dict[str, Any] = {
    "id": "315157387",
    "owner": "23812473@N00",
    "ownername": "Zoë Ñúñez",
    "title": "Glaciar Perito Moreno ❄",
    "license_name": "CC BY 2.0",
    "latitude": -50.4967,
    "longitude": -73.1377,
    "accuracy": 16,
    "width": 0,  # placeholders: prepare fills these in
    "height": 0,
    "frame": "unknown",
}


def _jpeg(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def _bodies() -> list[bytes]:
    """Pass-through, framed, and too large (drafted, shrunk and re-encoded)."""
    with Image.open(io.BytesIO(render(3, 2000, 1500, None, 2000, 1500, "PNG"))) as im:
        large = _jpeg(im.convert("RGB"))
    return [
        render(1, 1024, 768, None, 1024, 768),
        render(2, 1024, 768, FRAME, 1024, 768),
        large,
    ]


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    pool = WorkerPool(2, preload=("flickrspider.imagework",))
    yield pool
    pool.close()


def test_checksum_is_md5_of_data() -> None:
    for body in _bodies():
        out = prepare(body, RULES, META)
        assert out.checksum == hashlib.md5(out.data).hexdigest()


def test_metadata_records_what_processing_found() -> None:
    out = prepare(render(2, 1024, 768, FRAME, 1024, 768), RULES, META)
    assert out.frame is not None and not out.passthrough
    assert all(30 <= f <= 34 for f in out.frame)
    meta = read_metadata(out.data)
    assert (meta["width"], meta["height"], meta["frame"]) == (out.width, out.height, out.frame)
    assert {k: v for k, v in meta.items() if k not in ("width", "height", "frame")} == {
        k: v for k, v in META.items() if k not in ("width", "height", "frame")
    }
    with Image.open(io.BytesIO(out.data)) as im:
        assert im.size == (out.width, out.height)
    exif = read_exif(out.data)
    assert exif is not None and exif.artist == "Zoë Ñúñez (23812473@N00)"
    assert META["frame"] == "unknown"  # the caller's dict is left alone


def test_unframed_records_no_frame_and_its_size() -> None:
    out = prepare(render(1, 1024, 768, None, 1024, 768), RULES, META)
    meta = read_metadata(out.data)
    assert (meta["width"], meta["height"], meta["frame"]) == (1024, 768, None)


def test_pass_through_keeps_scan_data() -> None:
    body = render(1, 1024, 768, None, 1024, 768)
    out = prepare(body, RULES, META)
    assert out.passthrough and out.frame is None
    assert out.data != body
    segments, sos = _segments(body)
    assert out.data.endswith(body[sos:])  # entropy-coded data byte for byte
    tables = [seg for marker, seg in segments if marker in (0xDB, 0xC4, 0xC0)]  # DQT DHT SOF
    assert tables and all(seg in out.data for seg in tables)
    assert np.array_equal(_pixels(out.data), _pixels(body))


def test_worker_output_is_byte_identical(pool: WorkerPool) -> None:
    bodies = _bodies()
    local = [prepare(body, RULES, META) for body in bodies]
    with ThreadPoolExecutor(3) as threads:
        remote = list(threads.map(lambda body: pool.call(prepare, body, RULES, META), bodies))
    assert all(isinstance(r, Prepared) for r in remote)
    assert remote == local
    assert [r.passthrough for r in remote] == [True, False, False]


def test_rejection_crosses_from_the_worker(pool: WorkerPool) -> None:
    with pytest.raises(ImageRejected) as info:
        pool.call(prepare, _jpeg(Image.new("RGB", (400, 300))), RULES, META)
    assert info.value.reason == "too_small" and "400x300" in info.value.detail
    with pytest.raises(ImageRejected) as info:
        pool.call(prepare, b"<html>503</html>", RULES, META)
    assert info.value.reason == "not_image"
