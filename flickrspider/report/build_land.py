"""Rebuild ``land_110m.json`` (the report's coastline) from Natural Earth via ``world-atlas``.

Run once by a developer, never by the report itself::

    cd "$(mktemp -d)" && npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python -m flickrspider.report.build_land package/land-110m.json

The source is Natural Earth's 1:110m land polygons (public domain), as TopoJSON
in the npm package ``world-atlas`` 2.0.2 (ISC, Mike Bostock). The output is a
GeoJSON Feature (RFC 7946): one MultiPolygon in degrees rounded to 0.01, with
rings cut at the antimeridian and Antarctica closed through the south pole, so
that a plain equirectangular projection draws it without wrap-around artefacts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

Point = tuple[float, float]
OUT = Path(__file__).with_name("land_110m.json")
SOURCE = (
    "Natural Earth 1:110m land (naturalearthdata.com), public domain; "
    "via npm world-atlas 2.0.2 land-110m.json (ISC)"
)


def decode_polygons(topology: dict[str, Any]) -> list[list[list[Point]]]:
    """Every polygon (outer ring, holes) of the ``land`` object, in degrees.

    TopoJSON arcs are delta-encoded and quantized; a negative index is a reversed arc.
    """
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs: list[list[Point]] = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    polygons = []
    for geometry in topology["objects"]["land"]["geometries"]:
        shapes = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        for shape in shapes:
            rings = []
            for ring_arcs in shape:
                ring: list[Point] = []
                for index in ring_arcs:
                    points = arcs[~index][::-1] if index < 0 else arcs[index]
                    ring.extend(points if not ring else points[1:])
                rings.append(ring)
            polygons.append(rings)
    return polygons


def unwrap(ring: list[Point]) -> list[Point]:
    """Make longitudes continuous; a ring around a pole gets closed through it."""
    out = [ring[0]]
    for raw_lon, lat in ring[1:]:
        previous = out[-1][0]
        # the longitude nearest the previous one, among raw_lon + k * 360
        lon = raw_lon - 360 * round((raw_lon - previous) / 360)
        out.append((lon, lat))
    drift = out[-1][0] - out[0][0]
    if abs(drift) > 180:  # went once around the globe: Antarctica
        pole = -90.0 if min(lat for _, lat in out) < 0 else 90.0
        out += [(out[-1][0], pole), (out[0][0], pole), out[0]]
    return out


def clip(ring: list[Point], bound: float, keep_below: bool) -> list[Point]:
    """Sutherland-Hodgman against one vertical line ``lon = bound``."""

    def inside(p: Point) -> bool:
        return p[0] <= bound if keep_below else p[0] >= bound

    out: list[Point] = []
    for i, current in enumerate(ring):
        previous = ring[i - 1]
        if inside(current) != inside(previous):
            t = (bound - previous[0]) / (current[0] - previous[0])
            out.append((bound, previous[1] + t * (current[1] - previous[1])))
        if inside(current):
            out.append(current)
    return out


def cut(polygon: list[list[Point]]) -> list[list[list[Point]]]:
    """The parts of a polygon that fall in [-180, 180], each shifted into place."""
    rings = [unwrap(ring) for ring in polygon]
    parts = []
    for shift in (-360.0, 0.0, 360.0):
        part = []
        for ring in rings:
            moved = [(lon + shift, lat) for lon, lat in ring]
            moved = clip(clip(moved, 180.0, keep_below=True), -180.0, keep_below=False)
            rounded = [(round(lon, 2), round(lat, 2)) for lon, lat in moved]
            deduped = [p for i, p in enumerate(rounded) if i == 0 or p != rounded[i - 1]]
            if len(deduped) >= 3:
                part.append([*deduped, deduped[0]] if deduped[0] != deduped[-1] else deduped)
        if part and len(part[0]) >= 4:  # the outer ring survived the cut
            parts.append(part)
    return parts


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    topology = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    polygons = [part for polygon in decode_polygons(topology) for part in cut(polygon)]
    feature = {
        "type": "Feature",
        "properties": {"name": "land", "source": SOURCE},
        "geometry": {"type": "MultiPolygon", "coordinates": polygons},
    }
    OUT.write_text(json.dumps(feature, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(polygons)} polygons, {OUT.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
