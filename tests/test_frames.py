"""Frame detection: the original ring test and ours, on synthetic photos."""

from __future__ import annotations

import io
import random
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from PIL import Image

from flickrspider import frames
from flickrspider.emulator.images import FrameSpec, random_frame, render
from flickrspider.frames import (
    DEFAULT_PARAMS,
    OUTER_LINES,
    Box,
    detect_frame,
    edge_boxes,
    edge_lines,
    might_be_framed,
    original_ring_test,
    to_gray,
)
from flickrspider.imaging import LUMA_PRECHECK, _might_be_framed

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


# The pre-check: might_be_framed on the outermost lines, from crops of edge_boxes.

Colour = tuple[int, int, int]
SKY, GRASS, WHITE = (120, 170, 230), (60, 140, 40), (250, 250, 250)


def _crops(a: np.ndarray) -> list[np.ndarray]:
    """The edge_boxes crops of an array, as Image.crop(box) would cut them."""
    boxes = edge_boxes(a.shape[1], a.shape[0])
    assert boxes is not None
    return [a[upper:lower, left:right] for left, upper, right, lower in boxes]


def _candidate(a: np.ndarray) -> bool:
    return might_be_framed(edge_lines(_crops(a)))


def _full_detect(a: np.ndarray) -> Box | None:
    """detect_frame without its pre-check: what the pre-check must never hide."""
    with mock.patch.object(frames, "might_be_framed", return_value=True):
        return detect_frame(a)


def _paint_sides(a: np.ndarray, widths: list[int], colours: list[Colour]) -> np.ndarray:
    """Flat bands of ``widths`` (left, top, right, bottom) in ``colours``."""
    out = a.copy()
    left, top, right, bottom = widths
    out[:, :left] = colours[0]
    out[:top] = colours[1]
    out[:, out.shape[1] - right :] = colours[2]
    out[out.shape[0] - bottom :] = colours[3]
    return out


def _smooth(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A gradient between two colours: a sky, a wall, a blurred background."""
    a, b = rng.integers(0, 256, (2, 3))
    t = np.linspace(0, 1, h if rng.integers(2) else w, dtype=np.float32)
    ramp = a + t[:, None] * (b - a)
    rgb = ramp[:, None, :] if len(t) == h else ramp[None, :, :]
    return np.broadcast_to(rgb, (h, w, 3)).round().astype(np.uint8)


COLOURS = st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))


@st.composite
def _near(draw: st.DrawFn, base: Colour) -> Colour:
    """A colour around ``base``: either side of the ``match`` tolerance."""
    deltas = [draw(st.integers(-40, 40)) for _ in range(3)]
    return tuple(int(np.clip(c + d, 0, 255)) for c, d in zip(base, deltas, strict=True))  # type: ignore[return-value]


@st.composite
def _pictures(draw: st.DrawFn) -> np.ndarray:
    """Random content with flat bands of random colours and widths on random sides."""
    w, h = draw(st.integers(12, 320)), draw(st.integers(12, 320))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["textured", "smooth", "flat", "noise"]))
    if kind == "textured":
        content = _textured(int(rng.integers(1 << 16)), h, w)
    elif kind == "smooth":
        content = _smooth(rng, h, w)
    elif kind == "flat":
        content = np.full((h, w, 3), draw(COLOURS), dtype=np.uint8)
    else:
        content = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    base = draw(COLOURS)
    for _layer in range(draw(st.integers(0, 2))):
        widths = [draw(st.integers(0, max(0, d // 4))) for d in (w, h, w, h)]
        colours = [draw(st.one_of(st.just(base), _near(base), COLOURS)) for _ in range(4)]
        content = _paint_sides(content, widths, colours)
        base = draw(st.one_of(st.just(base), COLOURS))
    if draw(st.booleans()):
        content = _jpeg(content, quality=draw(st.integers(40, 95)))
    if draw(st.integers(0, 9)) == 0:
        content = np.asarray(Image.fromarray(content).convert("L"))
    note(f"{kind} {w}x{h}")
    return content


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_pictures())
def test_pre_check_never_hides_a_frame(a: np.ndarray) -> None:
    full = _full_detect(a)
    assert full is None or _candidate(a)
    assert detect_frame(a) == full  # the pre-check only ever saves time


@settings(max_examples=300, deadline=None)
@given(_pictures())
def test_pre_check_on_crops_samples_what_detect_frame_samples(a: np.ndarray) -> None:
    h, w = a.shape[:2]
    p = DEFAULT_PARAMS
    lines = edge_lines(_crops(a))
    a3 = a if a.ndim == 3 else a[:, :, None]
    for s in range(4):
        skip = round(p.search * (h if s in (0, 2) else w))
        expected = frames._side_lines(a3, s, OUTER_LINES, skip, p.samples)
        assert lines[s].shape == expected.shape
        assert np.array_equal(lines[s], expected)
    # imaging's helper takes a gray image for a JPEG's luma: the looser test
    p = LUMA_PRECHECK if a.ndim == 2 else DEFAULT_PARAMS
    assert _might_be_framed(Image.fromarray(a)) == might_be_framed(edge_lines(_crops(a), p), p)


def _decoded(data: bytes, mode: str) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.draft(mode, (max(1, im.width // 2), max(1, im.height // 2)))
    im.load()
    return im


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_pictures(), st.integers(40, 95), st.booleans())
def test_luma_pre_check_passes_wherever_the_colour_one_does(
    a: np.ndarray, quality: int, scaled: bool
) -> None:
    """What imaging.process relies on to decode only luma first: a JPEG whose
    colour edges might be a frame has luma edges that might be one too."""
    buf = io.BytesIO()
    Image.fromarray(a).convert("RGB").save(buf, "JPEG", quality=quality)
    data = buf.getvalue()
    if scaled:
        colour, luma = _decoded(data, "RGB"), _decoded(data, "L")
    else:
        colour, luma = Image.open(io.BytesIO(data)), Image.open(io.BytesIO(data)).convert("L")
        colour.load()
    assert luma.mode == "L" and luma.size == colour.size
    if _might_be_framed(colour):
        assert _might_be_framed(luma)


@pytest.mark.parametrize(("w", "h"), [(11, 600), (800, 11), (8, 8)])
def test_too_small_for_edge_boxes(w: int, h: int) -> None:
    assert edge_boxes(w, h) is None
    assert not _might_be_framed(Image.new("RGB", (w, h), WHITE))
    assert detect_frame(np.full((h, w, 3), 255, dtype=np.uint8)) is None


def test_edge_boxes_are_the_outer_lines_between_the_corners() -> None:
    assert edge_boxes(800, 600) == [
        (0, 132, 3, 468),
        (176, 0, 624, 3),
        (797, 132, 800, 468),
        (176, 597, 624, 600),
    ]


def test_sky_over_grass_is_not_a_candidate() -> None:
    """Two flat sides, but of different colours: no frame can group them."""
    photo = _textured(13)
    photo[:120] = SKY
    photo[-100:] = GRASS
    photo = _jpeg(photo)
    assert not _candidate(photo)
    assert not _might_be_framed(Image.fromarray(photo))
    assert _full_detect(photo) is None and detect_frame(photo) is None


def test_framed_sky_over_grass_is_a_candidate_and_found() -> None:
    photo = _textured(13)
    photo[:120] = SKY
    photo[-100:] = GRASS
    framed = _jpeg(_framed(photo, (30, 30, 30, 30), [(30, WHITE)]))
    assert _candidate(framed) and _might_be_framed(Image.fromarray(framed))
    assert _covers(detect_frame(framed), (30, 30, 30, 30))


def test_busy_and_one_flat_side_are_not_candidates() -> None:
    assert not _candidate(_jpeg(_textured(14)))
    one_side = _textured(15)
    one_side[:90] = SKY
    assert not _candidate(_jpeg(one_side))


def test_two_flat_sides_of_one_colour_are_candidates() -> None:
    letterbox = _jpeg(_framed(_textured(16), (0, 60, 0, 60), [(60, (0, 0, 0))]))
    assert _candidate(letterbox)
    sides = _paint_sides(_textured(17), [40, 0, 40, 0], [WHITE, WHITE, WHITE, WHITE])
    assert _candidate(sides)
    assert not _candidate(_paint_sides(_textured(17), [40, 0, 40, 0], [WHITE, SKY, SKY, SKY]))


def test_thin_edge_lines_of_near_colours_do_not_crash() -> None:
    """Two sides ending in a 2 px line, grey 250 and 235: near colours, unlike brightness."""
    photo = _paint_sides(_textured(1), [0, 0, 2, 2], [WHITE, WHITE, WHITE, (235, 235, 235)])
    got = detect_frame(photo)
    assert got is None or len(got) == 4


def _constant_run_line_by_line(mean: np.ndarray, flat: np.ndarray) -> int:
    """:func:`frames._constant_run` as its docstring tells it, one line at a time."""
    p = DEFAULT_PARAMS
    rows = mean.tolist()
    luma = (mean @ frames.GRAY_WEIGHTS if mean.shape[1] == 3 else mean[:, 0]).tolist()
    ref, ref_luma, settle = rows[0] if rows else None, luma[0] if luma else None, 2
    for d, ok in enumerate(flat.tolist()):
        if not ok:
            return d
        prev = rows[d - 1] if d else rows[d]
        if max(abs(a - b) for a, b in zip(rows[d], prev, strict=True)) > p.step:
            settle = 2  # a new layer
        if settle:
            ref, ref_luma, settle = rows[d], luma[d], settle - 1
        elif (
            abs(luma[d] - ref_luma) > p.drift
            or max(abs(a - b) for a, b in zip(rows[d], ref, strict=True)) > p.match
        ):
            return d
    return len(rows)


@st.composite
def _line_means(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Mean colours of lines from an edge: layers, drifts, jumps and near-threshold
    steps (in quarter levels, so thresholds are hit exactly), some lines not flat."""
    channels = draw(st.sampled_from([1, 3]))
    n = draw(st.integers(0, 40))
    level = np.array(draw(st.lists(st.integers(0, 1020), min_size=channels, max_size=channels)))
    rows = []
    for _ in range(n):
        step = draw(st.sampled_from([0, 1, 4, 16, 23, 24, 25, 96, 100]))
        level = np.clip(
            level + np.array([draw(st.sampled_from([-step, 0, step])) for _ in level]), 0, 1020
        )
        rows.append(level / 4)
    mean = np.array(rows, dtype=np.float32).reshape(n, channels)
    flat = np.array(draw(st.lists(st.integers(0, 12), min_size=n, max_size=n)), dtype=int) > 0
    return mean, flat


@settings(max_examples=500, deadline=None)
@given(_line_means())
def test_constant_run_is_the_line_by_line_rule(case: tuple[np.ndarray, np.ndarray]) -> None:
    mean, flat = case
    assert frames._constant_run(mean, flat, DEFAULT_PARAMS) == _constant_run_line_by_line(
        mean, flat
    )
