"""One image from downloaded bytes to the file's bytes, in process and in a worker."""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from PIL import Image

from flickrspider.emulator.images import FrameSpec, render
from flickrspider.imagerules import ImageRejected, ImageRules
from flickrspider.imagework import Prepared, prepare, store, store_in_worker
from flickrspider.jpegmeta import _segments, read_exif, read_metadata
from flickrspider.ledger import STORED, Ledger
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


STORE_META = {**META, "keyword": "glacier"}


def test_store_claims_writes_and_marks_in_order(tmp_path) -> None:
    ledger = Ledger(tmp_path, 2)
    try:
        names = []
        for n, body in enumerate(_bodies()):
            meta = {**STORE_META, "id": str(100 + n)}
            stored = store(ledger, body, RULES, meta, f"{100 + n}_s.jpg")
            names.append(stored.path)
            data = (tmp_path / stored.path).read_bytes()
            assert hashlib.md5(data).hexdigest() == stored.checksum
            back = read_metadata(data)
            assert (back["width"], back["height"]) == (stored.width, stored.height)
            assert ledger.state(meta["id"]) == STORED
        assert names == [
            "glacier/00000/100_s.jpg",
            "glacier/00000/101_s.jpg",
            "glacier/00001/102_s.jpg",
        ]
    finally:
        ledger.close()


def test_store_rejects_without_taking_a_slot(tmp_path) -> None:
    ledger = Ledger(tmp_path, 10)
    try:
        tiny = render(4, 300, 200, None, 300, 200)
        with pytest.raises(ImageRejected, match="too_small"):
            store(ledger, tiny, RULES, STORE_META, "x.jpg")
        assert ledger.state(STORE_META["id"]) is None
        stored = store(ledger, _bodies()[0], RULES, STORE_META, "y.jpg")
        assert stored.path == "glacier/00000/y.jpg"  # slot 0 still free
    finally:
        ledger.close()


def test_a_slot_claimed_earlier_for_another_keyword_is_kept_and_written_in(tmp_path) -> None:
    ledger = Ledger(tmp_path, 10)
    try:
        ledger.claim(STORE_META["id"], "ice", "old.jpg")  # an interrupted earlier run
        stored = store(ledger, _bodies()[0], RULES, STORE_META, "new.jpg")
        assert (stored.keyword, stored.path) == ("ice", "ice/00000/new.jpg")
        data = (tmp_path / stored.path).read_bytes()
        assert read_metadata(data)["keyword"] == "ice"
        assert hashlib.md5(data).hexdigest() == stored.checksum
    finally:
        ledger.close()


def test_store_in_worker_uses_its_own_ledger_connection(tmp_path) -> None:
    main = Ledger(tmp_path, 2)
    pool = WorkerPool(2, preload=("flickrspider.imagework",))
    try:
        dataset = (str(tmp_path), 2)
        with ThreadPoolExecutor(4) as threads:
            done = list(
                threads.map(
                    lambda n: pool.call(
                        store_in_worker,
                        dataset,
                        _bodies()[0],
                        RULES,
                        {**STORE_META, "id": str(n)},
                        f"{n}.jpg",
                    ),
                    range(1, 9),
                )
            )
        # two processes claimed slots 0-7 between them: each shard of 2 filled, none twice
        shards = Counter(s.path.split("/")[1] for s in done)
        assert shards == {"00000": 2, "00001": 2, "00002": 2, "00003": 2}
        assert main.count(STORED) == 8  # seen through the crawl's own connection
        assert all((tmp_path / s.path).is_file() for s in done)
    finally:
        pool.close()
        main.close()
