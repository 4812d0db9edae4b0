"""Inline SVG: the world map (equirectangular, Natural Earth coastline) and simple charts.

Every string that reaches the markup goes through ``esc``; numbers are formatted here.
Map coordinates are degrees (x = longitude, y = -latitude), so the viewBox is the
projection; points and the coastline use non-scaling strokes so they keep their size
when the page zooms the map.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Sequence
from functools import cache
from html import escape
from importlib.resources import files
from typing import Any

# Tableau 10: distinct on white and on dark backgrounds.
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip
OTHER_COLOR = "#7f7f7f"


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def hundredths(value: int) -> str:
    """``123`` -> ``"1.23"``, ``-5`` -> ``"-.05"``, ``200`` -> ``"2"``: short SVG numbers."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 100)
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole or ''}.{f'{frac:02d}'.rstrip('0')}"


def _pair(x: int, y: int) -> str:
    a, b = hundredths(x), hundredths(y)
    return f"{a}{'' if b.startswith('-') else ' '}{b}"


@cache
def land_path() -> str:
    """The coastline as SVG path data: absolute moves, relative lines, in 0.01° steps."""
    feature: dict[str, Any] = json.loads(
        files("flickrspider.report").joinpath("land_110m.json").read_text(encoding="utf-8")
    )
    parts = []
    for polygon in feature["geometry"]["coordinates"]:
        for ring in polygon:
            points = [(round(lon * 100), round(-lat * 100)) for lon, lat in ring[:-1]]
            steps = [_pair(x - px, y - py) for (px, py), (x, y) in itertools.pairwise(points)]
            parts.append(f"M{_pair(*points[0])}l{' '.join(steps)}z")
    return "".join(parts)


def keyword_colors(counts: dict[str, int]) -> dict[str, str]:
    """A color per keyword; past nine keywords, the smaller ones share a gray."""
    ordered = sorted(counts, key=lambda k: (-counts[k], k))
    if len(ordered) <= len(PALETTE):
        return {keyword: PALETTE[i] for i, keyword in enumerate(ordered)}
    return {k: PALETTE[i] if i < len(PALETTE) - 1 else OTHER_COLOR for i, k in enumerate(ordered)}


def world_map(points: dict[str, list[tuple[int, int]]], colors: dict[str, str]) -> str:
    """The map: sea, graticule every 30°, land, then one path of dots per keyword."""
    graticule = "".join(f"M-180 {lat}H180" for lat in range(-60, 90, 30)) + "".join(
        f"M{lon} -90V90" for lon in range(-150, 180, 30)
    )
    layers = []
    # Biggest keywords first, so small ones stay visible on top.
    for keyword in sorted(points, key=lambda k: (-len(points[k]), k)):
        dots = points[keyword]
        d = "".join(f"M{_pair(lon, -lat)}h0" for lon, lat in dots)
        label = f"{keyword}: {len(dots):,} location{'s' * (len(dots) != 1)}"
        layers.append(
            f'<path class="dots" stroke="{colors.get(keyword, OTHER_COLOR)}" '
            f'data-keyword="{esc(keyword)}" data-points="{len(dots)}" '
            f'vector-effect="non-scaling-stroke" d="{d}"><title>{esc(label)}</title></path>'
        )
    return (
        '<svg id="map" class="map" viewBox="-180 -90 360 180" preserveAspectRatio="xMidYMid meet"'
        ' xmlns="http://www.w3.org/2000/svg" role="img" aria-label="World map of geotagged photos">'
        '<rect class="sea" x="-180" y="-90" width="360" height="180"/>'
        f'<path class="graticule" vector-effect="non-scaling-stroke" d="{graticule}"/>'
        '<path class="land" fill-rule="evenodd" vector-effect="non-scaling-stroke"'
        f' d="{land_path()}"/>'
        f'<g class="points">{"".join(layers)}</g></svg>'
    )


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least ``top``."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(top / step) + 1)]


def _number(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 10_000:
        return f"{value / 1000:g}k"
    return f"{value:,.0f}" if value == int(value) else f"{value:g}"


def bar_chart(
    items: Sequence[tuple[str, int]], *, label: str, unit: str = "photos", width: int = 560
) -> str:
    """Vertical bars with a y axis; x labels thinned out when they would overlap."""
    if not items or not any(value for _, value in items):
        return '<p class="empty">No data.</p>'
    height, left, bottom, top, right = 220, 44, 24, 10, 8
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = nice_ticks(max(value for _, value in items))
    scale = plot_h / ticks[-1]
    slot = plot_w / len(items)
    every = max(1, math.ceil(len(items) * 34 / plot_w))  # about 34 px per label
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg"'
        f' role="img" aria-label="{esc(label)}">'
    ]
    for tick in ticks:
        y = top + plot_h - tick * scale
        out.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_number(tick)}</text>"
        )
    for i, (name, value) in enumerate(items):
        x, bar_h = left + i * slot, value * scale
        out.append(
            f'<rect class="bar" x="{x + slot * 0.1:.1f}" y="{top + plot_h - bar_h:.1f}" '
            f'width="{slot * 0.8:.1f}" height="{bar_h:.1f}"><title>{esc(name)}: '
            f"{value:,} {esc(unit)}</title></rect>"
        )
        if i % every == 0:
            out.append(
                f'<text class="axis" x="{x + slot / 2:.1f}" y="{height - 6}" '
                f'text-anchor="middle">{esc(name)}</text>'
            )
    out.append("</svg>")
    return "".join(out)


def hbar_chart(
    rows: Iterable[tuple[str, str, int]], *, label: str, total: int = 0, width: int = 560
) -> str:
    """Horizontal bars: (name, link or "", count) per row, with count and share of ``total``."""
    rows = list(rows)
    total = total or sum(count for _, _, count in rows)
    if not rows or not total:
        return '<p class="empty">No data.</p>'
    row_h, text_w, value_w = 24, 200, 110
    bar_w = width - text_w - value_w
    top_count = max(count for _, _, count in rows)
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {row_h * len(rows) + 4}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{esc(label)}">'
    ]
    for i, (name, link, count) in enumerate(rows):
        y = i * row_h + 2
        text = (
            f'<text class="label" x="{text_w - 8}" y="{y + 16}" text-anchor="end">'
            f"{esc(name)}</text>"
        )
        if link:
            text = f'<a href="{esc(link)}" target="_blank" rel="noopener">{text}</a>'
        share = 100 * count / total
        length = max(1.0, bar_w * count / top_count)
        out.append(
            f'{text}<rect class="bar" x="{text_w}" y="{y + 3}" width="{length:.1f}" '
            f'height="{row_h - 6}"><title>{esc(name)}: {count:,}</title></rect>'
            f'<text class="axis" x="{text_w + length + 6:.1f}" y="{y + 16}">'
            f"{count:,} ({share:.1f}%)</text>"
        )
    out.append("</svg>")
    return "".join(out)


def swatch(color: str) -> str:
    """A small colored disc for legends (a class-free SVG: no inline style needed)."""
    return (
        '<svg class="swatch" viewBox="0 0 10 10" aria-hidden="true">'
        f'<circle cx="5" cy="5" r="4.5" fill="{esc(color)}"/></svg>'
    )
