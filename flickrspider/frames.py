"""Frame ("artsy border") detection: the original ring test, and ours.

A *box* is the crop to remove, in pixels of the array given:
``(left, top, right, bottom)`` widths.

``original_ring_test`` ports ``remove_frame.m``: one score per one-pixel ring,
``std * min(mean, 1 - mean)`` of the gray ring, the deepest ring under 0.005
within ``round(max(h, w) / 8)``, plus 12 px, cropped from all four sides.

``detect_frame`` looks at each side separately, in colour:

1. Per side, the lines parallel to the edge (their middle part, away from the
   corners) are summarised by mean colour and spread along the line, lazily.
2. From the edge runs a stack of flat *layers*: each starts with a colour
   jump and then keeps its brightness (a sky drifts, which ends the run).
3. A border may end at a layer boundary or where the run ends, but only where
   the next lines change along most of their length (a straight edge, not a
   hill or an object poking into a flat sky).
4. Sides whose borders share an outer colour form the frame; at least two are
   needed. Each takes its deepest border whose colours other sides' borders
   show too (a sky strip seen on one side only is not frame).
5. A side without a sharp edge, or lacking an inner layer every other side
   shows (a frame melting into similar content), is cropped through the
   frame's colours, no deeper than the median of the other sides.
6. A margin of ``max(1, longer side / 512)`` px covers JPEG blur.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np

Box = tuple[int, int, int, int]

RING_THRESHOLD = 0.005
RING_MARGIN = 12
GRAY_WEIGHTS = np.array([0.2989, 0.5870, 0.1140], dtype=np.float32)


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """Gray in [0, 1] as in Matlab's ``rgb2gray(im2double(img))``."""
    if rgb.ndim == 2:
        return rgb.astype(np.float32) / 255.0
    return (rgb[..., :3].astype(np.float32) @ GRAY_WEIGHTS) / 255.0


def original_ring_test(gray: np.ndarray) -> Box | None:
    """The original ``remove_frame.m`` on a gray image in [0, 1]."""
    h, w = gray.shape
    deepest = 0
    for d in range(1, round(max(h, w) / 8) + 1):
        i = d - 1
        if 2 * d > min(h, w):
            break
        ring = np.concatenate(
            (
                gray[i, i : w - i],
                gray[h - d, i : w - i],
                gray[i : h - i, i],
                gray[i : h - i, w - d],
            )
        )
        mean = float(ring.mean())
        score = float(ring.std(ddof=1)) * min(mean, 1.0 - mean)
        if score < RING_THRESHOLD:
            deepest = d
    if not deepest:
        return None
    crop = deepest + RING_MARGIN
    return (crop, crop, crop, crop)


@dataclass(frozen=True)
class FrameParams:
    """Thresholds of :func:`detect_frame`, in 8-bit levels unless noted."""

    search: float = 0.22  # deepest border looked for, fraction of the side's dimension
    samples: int = 256  # pixels sampled along each line
    flat_std: float = 6.0  # a flat line's largest per-channel spread
    step: float = 6.0  # mean colour change between lines that may end a border
    drift: float = 4.0  # largest brightness change inside one layer
    edge_diff: float = 24.0  # a pixel differs from a colour by more than this
    edge_share: float = 0.6  # a sharp edge: this share of a line differs from the border
    faint_diff: float = 10.0  # ... or by more than this, for low-contrast edges
    texture_std: float = 5.0  # ... or the line is at least this textured
    frame_share: float = 0.85  # a frame line: this share of it has frame colours
    match: float = 24.0  # the same frame colour seen on different sides
    same_luma: float = 6.0  # ... whose brightness differs by at most this
    odd_lines: int = 2  # lines of a border whose colour no other side shows (blur)
    min_sides: int = 2


DEFAULT_PARAMS = FrameParams()


@dataclass
class _Side:
    """Line statistics of one side and where a border could end, deepest first."""

    lines: np.ndarray  # (depth, channels, samples) float32
    mean: np.ndarray  # (depth, channels)
    spread: np.ndarray  # (depth,) largest per-channel standard deviation
    ends: list[int]
    run: int  # flat lines of constant-colour layers from the edge
    chosen: int | None = None  # the end picked for the frame

    @cached_property
    def outer(self) -> np.ndarray:
        return np.median(self.mean[: min(3, self.ends[-1])], axis=0)


def _side_lines(a: np.ndarray, side: int, depth: int, skip: int, samples: int) -> np.ndarray:
    """Lines parallel to one edge, outermost first: (depth, samples, channels).

    Sides are numbered left, top, right, bottom; ``skip`` leaves out both ends of
    each line, where the neighbouring sides' borders lie.
    """
    view = a if side in (1, 3) else a.transpose(1, 0, 2)  # top/bottom rows, else columns
    if side in (2, 3):
        view = view[::-1]
    length = view.shape[1] - 2 * skip
    stride = max(1, length // samples)
    return view[:depth, skip : view.shape[1] - skip : stride]


def _textured(lines: np.ndarray) -> np.ndarray:
    """Per line, the texture (spread) that at least three of its eight pieces reach.

    One object entering a flat band makes one or two pieces textured, not three.
    """
    n, c, k = lines.shape
    if k < 8:  # too short to cut in pieces: the whole line's spread
        return lines.std(axis=2).max(axis=1)
    pieces = lines[:, :, : k - k % 8].reshape(n, c, 8, k // 8)
    spread = pieces.std(axis=3).max(axis=1)
    return np.sort(spread, axis=1)[:, 5]


def _inner_edge(side: _Side, end: int, band_std: float, p: FrameParams) -> int | None:
    """Where a flat border ending near ``end`` really ends; None if not at a sharp edge.

    A content line differs from the border's colour along most of its length, or
    is far more textured than the border. Up to two lines before the first such
    line may be JPEG blur still mostly of the border's colour.
    """
    past = side.lines[end : end + 3]
    if not len(past):
        return None
    colour = side.mean[end - 1][None, :, None]
    diff = np.abs(past - colour).max(axis=1)
    share = (diff > p.edge_diff).mean(axis=1)
    faint = (diff > max(p.faint_diff, 4 * band_std + 4)).mean(axis=1)
    content = (
        (share >= p.edge_share)
        | (faint >= p.edge_share)
        | (_textured(past) >= max(p.texture_std, 4 * band_std + 2))
    )
    if not content.any():
        return None
    first = int(np.argmax(content))
    if (share[:first] >= 0.5).any():
        return None
    return end + first


def _constant_run(mean: np.ndarray, flat: np.ndarray, p: FrameParams) -> int:
    """How many lines from the edge are flat layers of constant colour.

    A layer starts with a colour jump; its first lines may still move (JPEG
    blur), then it must keep its brightness (a sky drifts); its chroma may bleed
    more, as JPEG keeps colour at half resolution.

    Line by line: a jump (or the edge) starts a layer whose reference is its
    second line (its first two lines settle); every later line of the layer must
    stay within ``drift`` in brightness and ``match`` in colour of it. Computed
    for all lines at once, in float64 as Python floats would be.
    """
    n = len(mean)
    if not n:
        return 0
    rows = mean.astype(np.float64)
    grey = mean @ GRAY_WEIGHTS if mean.shape[1] == 3 else mean[:, 0]
    luma = grey.astype(np.float64)
    index = np.arange(n)
    starts = np.zeros(n, dtype=bool)
    starts[0] = True
    starts[1:] = np.abs(rows[1:] - rows[:-1]).max(axis=1) > p.step
    start = np.maximum.accumulate(np.where(starts, index, 0))
    ref = np.minimum(start + 1, n - 1)
    moved = (np.abs(luma - luma[ref]) > p.drift) | (np.abs(rows - rows[ref]).max(axis=1) > p.match)
    bad = ~flat | ((index >= start + 2) & moved)
    return int(np.argmax(bad)) if bad.any() else n


def _summarise(view: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lines as (n, channels, samples) float32, their mean colours and largest spreads."""
    lines = np.ascontiguousarray(view.transpose(0, 2, 1), dtype=np.float32)
    k = lines.shape[2]
    mean = lines.sum(axis=2) / k
    var = np.einsum("ijk,ijk->ij", lines, lines) / k - mean * mean
    return lines, mean, np.sqrt(np.maximum(var, 0.0)).max(axis=1)


def _scan(view: np.ndarray, p: FrameParams) -> _Side:
    """Flat lines from the edge, and the colour changes among them that end sharply.

    Lines are summarised lazily: most sides stop being flat within a few lines.
    """
    total = len(view)
    depth = total - 5  # the last lines are only looked at past a border
    n = min(total, 16)
    while True:
        lines, mean, spread = _summarise(view[:n])
        run = min(_constant_run(mean, spread <= p.flat_std, p), depth)
        if n >= total or run + 5 < n:
            break
        n = min(total, 3 * n)
    side = _Side(lines, mean, spread, [], run)
    jumps = np.abs(np.diff(mean[: run + 1], axis=0)).max(axis=1) > p.step
    starts = [int(e) + 1 for e in np.nonzero(jumps[: run - 1])[0]]
    ends: set[int] = set()
    for end in [*starts, run] if run else []:
        edge = _inner_edge(side, end, float(np.median(spread[:end])), p)
        if edge is not None and edge < depth:
            ends.add(edge)
    side.ends = sorted(ends, reverse=True)
    return side


def _similar(colours: np.ndarray, palette: np.ndarray, p: FrameParams) -> np.ndarray:
    """Which of ``colours`` (n, C) have about the brightness and hue of a palette colour.

    Brightness must agree closely; colour less so, as JPEG smears chroma.
    """
    if not len(palette) or not len(colours):
        return np.zeros(len(colours), dtype=bool)
    d = colours[:, None, :] - palette[None]
    dy = np.abs(d @ GRAY_WEIGHTS) if d.shape[2] == 3 else np.abs(d[..., 0])
    ok = (dy <= p.same_luma) & (np.abs(d).max(axis=2) <= p.match)
    return ok.any(axis=1)


def _frame_run(lines: np.ndarray, palette: np.ndarray, p: FrameParams) -> int:
    """How many lines from the edge are (almost) all of the frame's colours."""
    if not len(palette):  # the chosen borders share no colour: nothing is frame here
        return 0
    palette = np.unique(np.round(palette / 4) * 4, axis=0)[:, :, None]
    for d, line in enumerate(lines):  # stops at the first line that is not frame
        diff = np.abs(line[None] - palette).max(axis=1).min(axis=0)
        if (diff <= p.edge_diff).mean() < p.frame_share:
            return d
    return len(lines)


def _choose(
    sides: list[_Side], group: list[int], p: FrameParams
) -> tuple[list[int | None], np.ndarray]:
    """Per side, the deepest end whose lines show colours other sides' borders show too."""
    bands = {s: sides[s].mean[: sides[s].ends[0]] for s in group}
    chosen: list[int | None] = [None] * len(sides)
    shared_all = []
    for s in group:
        others = np.concatenate([bands[t] for t in group if t != s])
        shared = _similar(bands[s], others, p)
        shared_all.append(bands[s][shared])
        for end in sides[s].ends:
            if int((~shared[:end]).sum()) <= p.odd_lines:
                chosen[s] = sides[s].chosen = end
                break
    return chosen, np.concatenate(shared_all)


def _layer_colours(mean: np.ndarray, end: int, p: FrameParams) -> np.ndarray:
    """Colours of the layers (runs of at least two similar lines) in ``mean[:end]``."""
    jumps = np.abs(np.diff(mean[:end], axis=0)).max(axis=1) > p.step
    bounds = [0, *(np.nonzero(jumps)[0] + 1).tolist(), end]
    runs = [(a, b) for a, b in itertools.pairwise(bounds) if b - a >= 2]
    return np.array([mean[a:b].mean(axis=0) for a, b in runs]).reshape(-1, mean.shape[1])


def _misses_layer(sides: list[_Side], s: int, others: list[int], p: FrameParams) -> bool:
    """Does side ``s`` lack a layer colour that every other chosen side shows?"""
    mine = sides[s].mean[: sides[s].chosen or 0]
    common = None
    for t in others:
        colours = _layer_colours(sides[t].mean, sides[t].chosen or 0, p)
        common = colours if common is None else colours[_similar(colours, common, p)]
    return bool(common is not None and len(common) and not _similar(common, mine, p).all())


OUTER_LINES = 3  # lines from each edge that decide whether a frame is possible at all


def edge_boxes(width: int, height: int, p: FrameParams = DEFAULT_PARAMS) -> list[Box] | None:
    """Per side, the pixel box (left, upper, right, lower) of the outermost lines that
    :func:`might_be_framed` needs; None if the image is too small to hold a frame."""
    depth_x, depth_y = round(p.search * width), round(p.search * height)
    if min(depth_x, depth_y) < 3:
        return None
    n = OUTER_LINES
    return [
        (0, depth_y, n, height - depth_y),
        (depth_x, 0, width - depth_x, n),
        (width - n, depth_y, width, height - depth_y),
        (depth_x, height - n, width - depth_x, height),
    ]


def edge_lines(crops: list[np.ndarray], p: FrameParams = DEFAULT_PARAMS) -> list[np.ndarray]:
    """The crops of :func:`edge_boxes` as lines from the edge inwards, sampled as
    :func:`detect_frame` samples them: (lines, samples, channels) per side."""
    lines = []
    for s, crop in enumerate(crops):
        a = crop if crop.ndim == 3 else crop[:, :, None]
        lines.append(_side_lines(a, s, OUTER_LINES, 0, p.samples))
    return lines


def might_be_framed(edges: list[np.ndarray], p: FrameParams = DEFAULT_PARAMS) -> bool:
    """False when :func:`detect_frame` cannot find a frame, judged from the outermost
    lines of each side alone (``edges``: left, top, right, bottom, outermost first).

    A frame needs at least two sides whose first line is flat and whose outer
    colours (a median of their first lines' means) lie within ``match``. Those
    medians lie inside the range the first lines' means span, so two sides whose
    ranges are further apart than ``match`` can never be grouped. Most photos end here.
    """
    if p.min_sides < 2:
        return any(float(_summarise(lines)[2][0]) <= p.flat_std for lines in edges)
    ranges = []
    for lines in edges:
        _, mean, spread = _summarise(lines)
        if spread[0] <= p.flat_std:
            ranges.append((mean.min(axis=0), mean.max(axis=0)))
    for (lo_a, hi_a), (lo_b, hi_b) in itertools.combinations(ranges, 2):
        gap = np.maximum(lo_b - hi_a, lo_a - hi_b)
        if float(gap.max()) <= p.match:
            return True
    return False


def detect_frame(rgb: np.ndarray, params: FrameParams = DEFAULT_PARAMS) -> Box | None:
    """The border to crop from an RGB (or gray) uint8 array, or None when unframed."""
    p = params
    a = rgb if rgb.ndim == 3 else rgb[:, :, None]
    h, w = a.shape[:2]
    depths = [round(p.search * w), round(p.search * h)] * 2
    if min(depths) < 3:
        return None
    edges = [_side_lines(a, s, OUTER_LINES, depths[(s + 1) % 2], p.samples) for s in range(4)]
    if not might_be_framed(edges, p):
        return None
    sides = [
        _scan(_side_lines(a, s, depths[s] + 5, depths[(s + 1) % 2], p.samples), p) for s in range(4)
    ]
    # The sides whose sharp-edged borders share an outer colour: the most of them.
    framed = [s for s in range(4) if sides[s].ends]
    outers = np.array([sides[s].outer for s in framed]).reshape(len(framed), a.shape[2])
    near = np.abs(outers[:, None] - outers[None]).max(axis=2) <= p.match
    groups = [[t for j, t in enumerate(framed) if near[i, j]] for i in range(len(framed))]
    group = max(groups, key=len, default=[])
    if len(group) < p.min_sides:
        return None
    chosen, palette = _choose(sides, group, p)
    known = [c for c in chosen if c is not None]
    if len(known) < p.min_sides:
        return None
    margin = max(1, round(max(h, w) / 512))
    box = []
    for s, edge in enumerate(chosen):
        others = [t for t in range(4) if t != s and chosen[t] is not None]
        ref = int(np.median([chosen[t] for t in others])) if others else max(known)
        width = edge
        if edge is None:  # frame colours but no sharp edge: no deeper than the others
            width = min(_frame_run(sides[s].lines, palette, p), ref, sides[s].run + 2)
        elif len(others) >= 2 and _misses_layer(sides, s, others, p):
            # An inner layer that all other sides show melts into the picture here.
            run = min(_frame_run(sides[s].lines, palette, p), ref, sides[s].run + 2)
            width = max(edge, run)
        box.append(width + margin if width else 0)
    return (box[0], box[1], box[2], box[3])
