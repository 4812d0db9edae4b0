"""Tests for the emulator's photo renderer."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image

from flickrspider.emulator.images import FrameSpec, random_frame, render


def _decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.int16)


def test_render_is_deterministic_and_sized() -> None:
    a = render(7, 2048, 1536, None, 1024, 768)
    assert a == render(7, 2048, 1536, None, 1024, 768)
    assert a[:2] == b"\xff\xd8"
    with Image.open(io.BytesIO(a)) as im:
        assert im.size == (1024, 768)
        assert im.format == "JPEG"
    assert a != render(8, 2048, 1536, None, 1024, 768)


@pytest.mark.parametrize(("fmt", "name"), [("PNG", "PNG"), ("GIF", "GIF"), ("jpeg", "JPEG")])
def test_render_formats(fmt: str, name: str) -> None:
    with Image.open(io.BytesIO(render(3, 640, 480, None, 320, 240, fmt))) as im:
        assert im.format == name
        assert im.size == (320, 240)


def test_render_rejects_unknown_format() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        render(1, 100, 100, None, 100, 100, "TIFF")


def test_tiny_sizes_do_not_crash() -> None:
    for w, h in [(1, 1), (3, 75), (75, 75)]:
        frame = FrameSpec(1, 1, 1, 1, ((1, (0, 0, 0)),))
        assert render(5, w, h, frame, w, h)


def test_frame_is_drawn_flat_and_scaled() -> None:
    frame = FrameSpec(40, 20, 60, 100, ((30, (0, 0, 0)), (10, (250, 250, 250))))
    px = _decode(render(11, 2048, 1536, frame, 1024, 768, "PNG"))
    # Scaled by 1/2: left 20 (15 black + 5 white), top 10, right 30, bottom 50.
    assert (px[100:600, 0:14] < 10).all()
    assert (px[100:600, 16:19] > 240).all()
    assert (px[0:5, 100:900] < 10).all()
    assert (px[5:10, 100:900] > 240).all()
    assert not (px[10:12, 100:900] > 240).all()
    assert (px[768 - 45 :, 100:900] < 10).all()
    assert (px[768 - 4 :, 100:900] < 10).all()
    assert (px[100:600, 1024 - 25 :] < 10).all()
    # Inner white line is 5 px on every side, ending exactly at the scaled width.
    assert (px[100:600, 1024 - 30 : 1024 - 25] > 240).all()
    assert (px[768 - 50 : 768 - 45, 100:900] > 240).all()


def test_random_frame_distribution() -> None:
    rng = random.Random(1)
    frames = [random_frame(rng, 2048, 1536) for _ in range(400)]
    assert all(min(f.as_list()) >= 2 for f in frames)
    assert all(max(f.as_list()) <= 0.07 * 2048 * 2.5 + 1 for f in frames)
    assert any(len(set(f.as_list())) > 1 for f in frames)
    assert any(len(set(f.as_list())) == 1 for f in frames)
    assert any(len(f.layers) > 1 for f in frames)
    colours = {f.layers[0][1] for f in frames}
    assert any(len(set(c)) > 1 for c in colours)  # coloured, not only gray
    for f in frames:
        assert sum(w for w, _ in f.layers[1:]) < min(f.as_list())


def test_render_speed_budget() -> None:
    import time

    t = time.perf_counter()
    for seed in range(5):
        render(seed, 1024, 768, None, 1024, 768)
    assert (time.perf_counter() - t) / 5 < 0.2
