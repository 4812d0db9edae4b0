"""Frame detection: the original ring test and ours, on synthetic photos."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image

from flickrspider.emulator.images import FrameSpec, random_frame, render
from flickrspider.frames import Box, detect_frame, original_ring_test, to_gray

W, H = 800, 600


def _decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def _jpeg(rgb: np.ndarray, quality: int = 90) -> np.ndarray:
    """A JPEG round trip, so tests see real compression artefacts."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return _decode(buf.getvalue())


def _textured(seed: int, h: int = H, w: int = W) -> np.ndarray:
    """Busy picture content: smooth colour blobs plus grain."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (h // 40 + 2, w // 40 + 2, 3), dtype=np.uint8)
    base = np.asarray(
        Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC), dtype=np.int16
    )
    grain = rng.integers(-12, 13, (h, w, 1), dtype=np.int16)
    return np.clip(base + grain, 0, 255).astype(np.uint8)


def _framed(
    content: np.ndarray, box: Box, layers: list[tuple[int, tuple[int, int, int]]]
) -> np.ndarray:
    """Paint flat bands over ``content``; ``layers`` are (width, rgb) outside in, the
    outermost filling each side's remaining width."""
    out = content.copy()
    h, w = out.shape[:2]
    inner = sum(width for width, _ in layers[1:])
    inset = [0, 0, 0, 0]
    for k, (width, rgb) in enumerate(layers):
        depth = [side - inner for side in box] if k == 0 else [width] * 4
        left, top, right, bottom = inset
        ring = np.zeros((h, w), dtype=bool)
        ring[top : h - bottom, left : w - right] = True
        inset = [a + b for a, b in zip(inset, depth, strict=True)]
        left, top, right, bottom = inset
        ring[top : h - bottom, left : w - right] = False
        out[ring] = rgb
    return out


def _covers(got: Box | None, truth: Box, slack: int = 4) -> bool:
    """The whole border is removed, and at most ``slack`` px more per side."""
    return got is not None and all(t <= g <= t + slack for g, t in zip(got, truth, strict=True))


@pytest.mark.parametrize(
    ("box", "layers"),
    [
        ((30, 30, 30, 30), [(30, (255, 255, 255))]),  # white, symmetric
        ((24, 24, 24, 24), [(24, (5, 5, 5))]),  # black
        ((40, 40, 40, 40), [(32, (10, 10, 10)), (8, (250, 250, 250))]),  # thin white in black
        ((36, 36, 36, 36), [(20, (140, 60, 60)), (6, (230, 220, 180)), (10, (40, 40, 90))]),
        ((20, 35, 50, 28), [(20, (128, 128, 128))]),  # mid gray, unequal sides
        ((25, 25, 25, 70), [(25, (70, 110, 160))]),  # coloured mat, deep bottom
        ((12, 12, 12, 12), [(12, (0, 120, 0))]),  # thin, saturated
    ],
)
def test_detects_frames(box: Box, layers: list[tuple[int, tuple[int, int, int]]]) -> None:
    rgb = _jpeg(_framed(_textured(1), box, layers))
    assert _covers(detect_frame(rgb), box)


def test_detects_a_letterbox() -> None:
    rgb = _jpeg(_framed(_textured(2), (0, 60, 0, 60), [(60, (0, 0, 0))]))
    got = detect_frame(rgb)
    assert got is not None
    assert got[0] == got[2] == 0
    assert 60 <= got[1] <= 63 and 60 <= got[3] <= 63


def test_frame_against_similar_sky_is_still_removed() -> None:
    """A white frame whose top meets a near-white sky: cropped like the other sides."""
    content = _textured(3)
    content[:200] = np.linspace(250, 225, 200, dtype=np.uint8)[:, None, None]
    rgb = _jpeg(_framed(content, (30, 30, 30, 30), [(30, (248, 248, 248))]))
    got = detect_frame(rgb)
    assert got is not None and min(got) >= 30 and max(got) <= 40


def test_unframed_busy_picture() -> None:
    assert detect_frame(_jpeg(_textured(4))) is None


def test_flat_sky_band_is_not_a_frame() -> None:
    """A flat sky over a straight horizon: one flat side ending at a sharp edge."""
    content = _textured(5)
    content[:90] = (120, 170, 230)
    rgb = _jpeg(content)
    assert detect_frame(rgb) is None


def test_two_sided_sky_and_sea_with_gradients_is_not_a_frame() -> None:
    content = _textured(6)
    content[:80] = np.linspace(200, 170, 80, dtype=np.uint8)[:, None, None] * np.array(
        [0.6, 0.8, 1.0]
    )
    content[-70:] = np.linspace(90, 60, 70, dtype=np.uint8)[:, None, None] * np.array(
        [0.3, 0.5, 0.9]
    )
    assert detect_frame(_jpeg(content)) is None


def test_uniform_and_dark_vignette_pictures_are_not_framed() -> None:
    assert detect_frame(np.full((H, W, 3), 128, dtype=np.uint8)) is None
    y, x = np.mgrid[0:H, 0:W]
    r2 = ((x / W - 0.5) ** 2 + (y / H - 0.5) ** 2) * 3.0
    night = (np.clip(1 - r2, 0.03, 1)[..., None] * _textured(7)).astype(np.uint8)
    assert detect_frame(_jpeg(night)) is None


def test_gray_and_tiny_inputs() -> None:
    framed = _framed(_textured(8), (30, 30, 30, 30), [(30, (255, 255, 255))])
    gray = np.asarray(Image.fromarray(framed).convert("L"))
    assert _covers(detect_frame(gray), (30, 30, 30, 30))
    assert detect_frame(np.zeros((8, 8, 3), dtype=np.uint8)) is None


def test_rendered_emulator_photos() -> None:
    """The emulator's own frames: nearly all removed, no unframed photo cropped."""
    removed = false_crops = 0
    for seed in range(24):
        frame = random_frame(random.Random(seed), 1024, 768)
        truth = tuple(frame.as_list())
        got = detect_frame(_decode(render(seed, 1024, 768, frame, 1024, 768)))
        removed += _covers(got, truth, slack=6)  # type: ignore[arg-type]
        false_crops += (
            detect_frame(_decode(render(1000 + seed, 1024, 768, None, 1024, 768))) is not None
        )
    assert removed >= 21
    assert false_crops == 0


def test_rendered_frame_layers_are_found() -> None:
    frame = FrameSpec(40, 40, 40, 40, ((30, (10, 10, 10)), (10, (245, 245, 245))))
    got = detect_frame(_decode(render(42, 1024, 768, frame, 1024, 768)))
    assert _covers(got, (40, 40, 40, 40))


def test_original_ring_test_symmetric_crop_with_margin() -> None:
    rgb = _framed(_textured(9), (20, 20, 20, 20), [(20, (0, 0, 0))])
    assert original_ring_test(to_gray(rgb)) == (32, 32, 32, 32)
    assert original_ring_test(to_gray(_textured(10))) is None


def test_original_ring_test_weaknesses() -> None:
    """Documented flaws ours avoids: asymmetric frames cropped symmetrically,
    mid-intensity coloured frames scored high, dark pictures cropped deep."""
    asym = _framed(_textured(11), (10, 10, 10, 60), [(10, (0, 0, 0))])
    got = original_ring_test(to_gray(asym))
    assert got is not None and got[3] < 60 and got[0] == got[3]
    assert _covers(detect_frame(asym), (10, 10, 10, 60))
    dark = (_textured(12) // 16).astype(np.uint8)
    assert original_ring_test(to_gray(dark)) is not None
    assert detect_frame(dark) is None


def test_to_gray_matches_matlab_weights() -> None:
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], dtype=np.uint8)
    assert np.allclose(to_gray(rgb), [[0.2989, 0.5870, 0.1140]], atol=1e-4)
    assert to_gray(np.array([[255]], dtype=np.uint8))[0, 0] == pytest.approx(1.0)
