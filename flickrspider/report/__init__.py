"""``python -m flickrspider report IMAGES_STORE [-o report.html]``: a dataset as one HTML page.

The page is self-contained (inline CSS, JS, SVG, data-URI thumbnails; nothing is
fetched): per-keyword numbers, a world map of the geotagged photos, upload-year,
license and size charts, a contact sheet per keyword, and the attribution that
CC licenses require. It is built from the dataset alone: the JPEG comments (or a
JSON Lines feed with ``--feed``) and ``.flickrspider/summary.json`` when present.

Modules: ``jpegcom`` reads JPEG headers, ``collect`` reads the dataset, ``stats``
aggregates, ``svg`` draws, ``thumbs`` makes thumbnails, ``attribution`` credits,
``render`` writes the page. The coastline ``land_110m.json`` is Natural Earth
1:110m land (public domain, via the npm package world-atlas), rebuilt by
``build_land``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from flickrspider.report import render, stats, thumbs
from flickrspider.report.collect import ReportError, load

__all__ = ["build", "main"]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m flickrspider report",
        description="Write a self-contained HTML report of a flickrspider dataset.",
    )
    p.add_argument("store", metavar="IMAGES_STORE", type=Path, help="the dataset root")
    p.add_argument("-o", "--output", type=Path, default=Path("report.html"),
                   help="the HTML file to write (default: report.html)")  # fmt: skip
    p.add_argument("--feed", type=Path, metavar="PHOTOS.jsonl",
                   help="read metadata from this JSON Lines feed instead of the JPEG files"
                   " (its 'path' fields are relative to IMAGES_STORE)")  # fmt: skip
    p.add_argument("--thumbnails", type=_positive, default=24, metavar="N",
                   help="sample thumbnails per keyword (default: 24)")  # fmt: skip
    p.add_argument("--max-thumbnails", type=_positive, default=240, metavar="N",
                   help="thumbnails in all, shared between keywords (default: 240)")  # fmt: skip
    p.add_argument("--max-points", type=_positive, default=20_000, metavar="N",
                   help="locations drawn on the map at most (default: 20000)")  # fmt: skip
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    return p


def build(
    store: Path,
    feed: Path | None = None,
    *,
    per_keyword: int = 24,
    max_thumbnails: int = 240,
    max_points: int = 20_000,
) -> str:
    """The report of the dataset under ``store`` as an HTML string."""
    dataset = load(store, feed)
    numbers = stats.compute(
        dataset, max_points=max_points, per_keyword=per_keyword, max_thumbnails=max_thumbnails
    )
    wanted = [p.path for photos in numbers.samples.values() for p in photos if p.path]
    images = thumbs.thumbnails(store, wanted) if wanted and store.is_dir() else {}
    return render.page(dataset, numbers, images)


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error already printed by argparse
        return exit_.code if isinstance(exit_.code, int) else 2
    started = time.perf_counter()
    try:
        page = build(
            args.store,
            args.feed,
            per_keyword=args.thumbnails,
            max_thumbnails=args.max_thumbnails,
            max_points=args.max_points,
        )
        args.output.write_text(page, encoding="utf-8")
    except ReportError as error:
        print(f"flickrspider report: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        where = error.filename or args.output
        print(f"flickrspider report: cannot write {where}: {error.strerror}", file=sys.stderr)
        return 1
    if not args.quiet:
        size = args.output.stat().st_size
        print(f"wrote {args.output} ({size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")
    return 0
