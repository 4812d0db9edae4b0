"""Deterministic, photo-like pictures for the emulator's image host.

``render(seed, ...)`` draws the same picture for the same seed and output size:
a sky/ground gradient base, sharp-edged shapes (hills, buildings, sun, trees),
and texture noise whose strength varies by region. Some scenes are deliberately
hard for frame detectors: a near-flat sky band ending at a straight horizon, a
night sky that is almost black, an over-exposed near-white sky, dark vignettes.

An optional :class:`FrameSpec` (an "artsy border") is drawn as flat bands, from
the outside in, and scaled with the picture. Everything is generated directly at
the output size with numpy and Pillow's C drawing, so a 1024x768 JPEG takes a
few milliseconds.
"""

from __future__ import annotations

import colorsys
import io
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageDraw

RGB = tuple[int, int, int]

SCENES = ("landscape", "seascape", "urban", "night", "bright", "closeup")


@dataclass(frozen=True)
class FrameSpec:
    """A border drawn around a photo, in pixels of the ORIGINAL.

    ``layers`` are ``(width, rgb)`` bands from the outside in. Every layer but
    the outermost has its given width on every side; the outermost fills the
    rest of each side (its width is informative: its width on the narrowest side).
    """

    left: int
    top: int
    right: int
    bottom: int
    layers: tuple[tuple[int, RGB], ...]

    def as_list(self) -> list[int]:
        """The border widths as ``[left, top, right, bottom]``."""
        return [self.left, self.top, self.right, self.bottom]


def _frame_colour(rng: random.Random) -> RGB:
    """A frame colour: white, black, gray or a mid-intensity colour."""
    kind = rng.random()
    if kind < 0.3:
        v = rng.randint(232, 255)
        return (v, v, v)
    if kind < 0.6:
        v = rng.randint(0, 24)
        return (v, v, v)
    if kind < 0.75:
        v = rng.randint(80, 190)
        return (v, v, v)
    r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.35, 0.9), rng.uniform(0.3, 0.8))
    return (round(r * 255), round(g * 255), round(b * 255))


def _close(a: RGB, b: RGB) -> bool:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) < 90


def _opposite(c: RGB) -> RGB:
    """A colour far from ``c``: its inverse, or black/white for mid grays."""
    inverse = (255 - c[0], 255 - c[1], 255 - c[2])
    if not _close(inverse, c):
        return inverse
    return (8, 8, 8) if sum(c) > 382 else (245, 245, 245)


def random_frame(rng: random.Random, width: int, height: int) -> FrameSpec:
    """A random border for a ``width`` x ``height`` original.

    Mostly symmetric; some with unequal sides or a deeper bottom (mat style);
    one, two or three layers (e.g. a thin white line inside thick black).
    """
    big = max(width, height)
    base = max(2, round(rng.uniform(0.006, 0.07) * big))
    style = rng.random()
    if style < 0.5:
        sides = [base] * 4
    elif style < 0.8:
        sides = [max(2, round(base * rng.uniform(0.6, 1.6))) for _ in range(4)]
    else:
        sides = [base, base, base, max(2, round(base * rng.uniform(1.3, 2.5)))]
    limits = [round(0.15 * width), round(0.15 * height)] * 2  # frames stay under 15% a side
    sides = [max(1, min(s, lim)) for s, lim in zip(sides, limits, strict=True)]
    n_layers = 1 if rng.random() < 0.55 else (2 if rng.random() < 0.78 else 3)
    inner: list[tuple[int, RGB]] = []
    room = min(sides)
    for _ in range(n_layers - 1):
        w = max(1, round(rng.uniform(0.1, 0.35) * room))
        if sum(x for x, _ in inner) + w >= room:
            break
        colour = _frame_colour(rng)
        if inner and _close(colour, inner[-1][1]):  # adjacent layers must differ visibly
            colour = _opposite(colour)
        inner.append((w, colour))
    outer_colour = _frame_colour(rng)
    if inner and _close(outer_colour, inner[-1][1]):
        outer_colour = _opposite(inner[-1][1])
    outer_w = room - sum(w for w, _ in inner)
    layers = ((outer_w, outer_colour), *reversed(inner))
    left, top, right, bottom = sides
    return FrameSpec(left, top, right, bottom, tuple(layers))


def _smooth(nrng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Smooth noise in about [-1, 1] at (h, w): a coarse random grid, upsampled."""
    gh, gw = max(2, h // cells), max(2, w // cells)
    grid = nrng.uniform(-1.0, 1.0, (gh, gw)).astype(np.float32)
    img = Image.fromarray(grid, mode="F").resize((w, h), Image.Resampling.BICUBIC)
    return np.asarray(img)


def _colour(rng: random.Random, v: tuple[float, float], s: tuple[float, float]) -> np.ndarray:
    r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(*s), rng.uniform(*v))
    return np.array([r, g, b], dtype=np.float32) * 255


def _base(rng: random.Random, nrng: np.random.Generator, scene: str, w: int, h: int) -> Image.Image:
    """The low-frequency picture at 1/8 scale, upsampled: sky, ground, colour drift."""
    lw, lh = max(4, w // 8), max(4, h // 8)
    y = np.linspace(0.0, 1.0, lh, dtype=np.float32)[:, None, None]
    x = np.linspace(0.0, 1.0, lw, dtype=np.float32)[None, :, None]
    if scene == "night":
        sky_top, sky_bot = np.array([2.0, 3, 8]), np.array([20.0, 22, 40])
    elif scene == "bright":
        sky_top, sky_bot = np.array([252.0, 252, 250]), np.array([225.0, 232, 240])
    else:
        sky_top = _colour(rng, (0.55, 0.95), (0.2, 0.6))
        sky_bot = np.clip(sky_top + rng.uniform(10, 50), 0, 255)
    ground = _colour(rng, (0.2, 0.7), (0.2, 0.8))
    horizon = rng.uniform(0.3, 0.65)
    sky = sky_top + (sky_bot - sky_top) * np.clip(y / horizon, 0, 1)
    drift = _smooth(nrng, lh, lw, 3)[:, :, None] * rng.uniform(15, 45)
    land = ground + drift + (x - 0.5) * rng.uniform(-30, 30)
    if scene == "closeup":  # no sky: colour blobs everywhere
        c2 = _colour(rng, (0.3, 0.9), (0.3, 0.9))
        mix = (_smooth(nrng, lh, lw, 4)[:, :, None] + 1) / 2
        arr = ground * mix + c2 * (1 - mix) + drift
    else:
        arr = np.where(y < horizon, sky + 0 * x, land)
    if scene in ("night", "closeup") or rng.random() < 0.2:  # dark vignette
        r2 = ((x - 0.5) ** 2 + (y - 0.5) ** 2) * rng.uniform(1.5, 3.5)
        arr = arr * np.clip(1 - r2, 0.05, 1)
    small = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    return small.resize((w, h), Image.Resampling.BILINEAR)


def _shapes(rng: random.Random, draw: ImageDraw.ImageDraw, scene: str, w: int, h: int) -> float:
    """Sharp-edged content; returns the sky line (fraction of height) for texture."""
    sky_line = rng.uniform(0.35, 0.6)
    if scene == "seascape":  # straight horizon under a flat sky
        sea = tuple(int(c) for c in _colour(rng, (0.3, 0.6), (0.4, 0.8)))
        draw.rectangle((0, round(sky_line * h), w, h), fill=sea)
        return sky_line
    if scene in ("landscape", "night", "bright"):  # hills with a jagged ridge
        pts = [(0.0, float(h))]
        yy = sky_line * h
        for i in range(41):
            yy = min(h * 0.9, max(h * 0.2, yy + rng.uniform(-0.04, 0.04) * h))
            pts.append((i * w / 40, yy))
        pts.append((float(w), float(h)))
        shade = (0.05, 0.25) if scene == "night" else (0.2, 0.6)
        draw.polygon(pts, fill=tuple(int(c) for c in _colour(rng, shade, (0.3, 0.8))))
    if scene == "urban":
        for _ in range(rng.randint(4, 12)):
            bw, bh = rng.uniform(0.05, 0.2) * w, rng.uniform(0.2, 0.7) * h
            x0 = rng.uniform(0.0, 1.0) * w - bw / 2
            fill = tuple(int(c) for c in _colour(rng, (0.2, 0.8), (0.0, 0.3)))
            draw.rectangle((x0, h - bh, x0 + bw, h), fill=fill)
    for _ in range(rng.randint(0, 6)):  # trees, rocks, people: ellipses
        cx, cy = rng.uniform(0, w), rng.uniform(sky_line * h, h)
        rx, ry = rng.uniform(0.01, 0.08) * w, rng.uniform(0.02, 0.12) * h
        fill = tuple(int(c) for c in _colour(rng, (0.1, 0.9), (0.2, 0.9)))
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=fill)
    if scene != "night" and rng.random() < 0.3:  # sun or moon
        r = rng.uniform(0.02, 0.05) * w
        cx, cy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.05, 0.25) * h
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 250, 225))
    return sky_line


def _texture(
    rng: random.Random,
    nrng: np.random.Generator,
    scene: str,
    size: tuple[int, int],
    sky_line: float,
) -> Image.Image:
    """Gray texture centred on 128: weak in the sky, strong below it."""
    w, h = size
    sky_rows = 0 if scene in ("closeup", "urban") else round(sky_line * h * 0.9)
    sky_amp, ground_amp = rng.uniform(0.3, 2.0), rng.uniform(4.0, 18.0)
    # Fine grain: random bytes through a per-region lookup table.
    fine = np.frombuffer(nrng.bytes(w * h), dtype=np.uint8).reshape(h, w)
    ramp = (np.arange(256, dtype=np.float32) - 127.5) / 127.5 * 0.6
    lut_ground = np.clip(128 + ramp * ground_amp, 0, 255).astype(np.uint8)
    lut_sky = np.clip(128 + ramp * sky_amp, 0, 255).astype(np.uint8)
    grain = lut_ground[fine]
    grain[:sky_rows] = lut_sky[fine[:sky_rows]]
    # Mottling: coarse noise scaled per row at 1/6 scale, upsampled.
    gh, gw = max(2, h // 6), max(2, w // 6)
    amp = np.full((gh, 1), ground_amp * 0.8, dtype=np.float32)
    amp[: sky_rows * gh // h] = sky_amp * 0.8
    coarse = np.clip(128 + nrng.uniform(-1, 1, (gh, gw)) * amp, 0, 255).astype(np.uint8)
    mottle = Image.fromarray(coarse, "L").resize((w, h), Image.Resampling.BILINEAR)
    return ImageChops.add(Image.fromarray(grain, "L"), mottle, 1.0, -128)


def _draw_frame(img: Image.Image, frame: FrameSpec, sx: float, sy: float) -> None:
    """Flat bands from the outside in; inner layers keep their width on every side."""
    w, h = img.size
    sides = [
        round(frame.left * sx),
        round(frame.top * sy),
        round(frame.right * sx),
        round(frame.bottom * sy),
    ]
    sides = [min(max(1, s), (w if i % 2 == 0 else h) // 3) for i, s in enumerate(sides)]
    inner = [max(1, round(wd * min(sx, sy))) for wd, _ in frame.layers[1:]]
    while inner and sum(inner) >= min(sides):  # too thin at this scale: drop inner layers
        inner.pop()
    left, top, right, bottom = sides
    interior = img.crop((left, top, w - right, h - bottom))
    draw = ImageDraw.Draw(img)
    inset = [0, 0, 0, 0]
    for k, (_, rgb) in enumerate(frame.layers[: len(inner) + 1]):
        a, b, c, d = inset
        draw.rectangle((a, b, w - 1 - c, h - 1 - d), fill=rgb)
        step = [s - sum(inner) for s in sides] if k == 0 else [inner[k - 1]] * 4
        inset = [i + st for i, st in zip(inset, step, strict=True)]
    img.paste(interior, (left, top))


def render(  # noqa: PLR0917
    seed: int,
    orig_w: int,
    orig_h: int,
    frame: FrameSpec | None,
    out_w: int,
    out_h: int,
    fmt: str = "JPEG",
) -> bytes:
    """Encode the picture for ``seed`` at ``out_w`` x ``out_h`` as JPEG, PNG or GIF.

    The output is the ``orig_w`` x ``orig_h`` original scaled down; the frame's
    widths (given on the original) scale with it.
    """
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    w, h = max(1, out_w), max(1, out_h)
    scene = rng.choice(SCENES)
    img = _base(rng, nrng, scene, w, h)
    sky_line = _shapes(rng, ImageDraw.Draw(img), scene, w, h)
    tex = _texture(rng, nrng, scene, (w, h), sky_line)
    img = Image.merge("RGB", [ImageChops.add(band, tex, 1.0, -128) for band in img.split()])
    if frame is not None:
        _draw_frame(img, frame, w / orig_w, h / orig_h)
    buf = io.BytesIO()
    fmt = fmt.upper()
    if fmt in ("JPEG", "JPG"):
        img.save(buf, "JPEG", quality=90)
    elif fmt == "PNG":
        img.save(buf, "PNG", compress_level=1)
    elif fmt == "GIF":
        img.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(buf, "GIF")
    else:
        raise ValueError(f"unsupported format {fmt!r}")
    return buf.getvalue()
