"""Aggregate a ``Dataset`` into what the page shows: tables, histograms, map points, samples.

Samples are deterministic: photos (and map points) are ranked by a hash of their id,
so the same dataset always gives the same page, whatever order it was read in.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flickrspider.report.collect import Dataset, KeywordRun, Photo
from flickrspider.report.licenses import license_name, license_url

SIZE_BIN = 100  # px, bins of the shorter-side histogram


@dataclass(slots=True)
class KeywordRow:
    """One line of the per-keyword table."""

    keyword: str
    photos: int = 0
    geotagged: int = 0
    owners: int = 0
    run: KeywordRun | None = None  # the last run's numbers, from summary.json


@dataclass(frozen=True, slots=True)
class LicenseRow:
    license: int | None
    name: str
    url: str
    count: int


@dataclass(slots=True)
class Stats:
    """Everything the page draws, computed once."""

    keywords: list[KeywordRow]
    photos: int
    geotagged: int
    owners: int
    disk_bytes: int
    years: dict[int, int]
    licenses: list[LicenseRow]
    short_sides: dict[int, int]  # bin start (px) -> photos
    common_sizes: list[tuple[str, int]]  # "1024 x 768" -> photos, most common first
    top_owners: list[tuple[str, str, int]]  # owner id, name, photos; most photos first
    points: dict[str, list[tuple[int, int]]]  # keyword -> (lon, lat) in hundredths of a degree
    distinct_points: int
    samples: dict[str, list[Photo]] = field(default_factory=dict)


def rank(text: str) -> bytes:
    """A stable pseudo-random sort key."""
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=8).digest()


def keyword_rows(dataset: Dataset) -> list[KeywordRow]:
    """Per-keyword counts; keywords of the summary with no photo on disk are listed too."""
    rows: dict[str, KeywordRow] = {}
    owners: dict[str, set[str]] = defaultdict(set)
    for photo in dataset.photos:
        row = rows.setdefault(photo.keyword, KeywordRow(photo.keyword))
        row.photos += 1
        row.geotagged += photo.geotagged
        owners[photo.keyword].add(photo.owner)
    for keyword, run in (dataset.summary.keywords if dataset.summary else {}).items():
        rows.setdefault(keyword, KeywordRow(keyword)).run = run
    for keyword, row in rows.items():
        row.owners = len(owners[keyword])
    return sorted(rows.values(), key=lambda row: (row.keyword.casefold(), row.keyword))


def _timestamp(year: int) -> int:
    return int(datetime(year, 1, 1, tzinfo=UTC).timestamp())


def upload_years(photos: list[Photo]) -> dict[int, int]:
    """Photos per upload year (UTC), every year between the first and the last included."""
    # Flickr opened in 2004: a timestamp outside 2000 .. next year is bogus, not a bar.
    first, last = _timestamp(2000), _timestamp(datetime.now(UTC).year + 2)
    counts = Counter(
        datetime.fromtimestamp(photo.dateupload, UTC).year
        for photo in photos
        if photo.dateupload is not None and first <= photo.dateupload < last
    )
    if not counts:
        return {}
    return {year: counts.get(year, 0) for year in range(min(counts), max(counts) + 1)}


def license_rows(photos: list[Photo]) -> list[LicenseRow]:
    counts = Counter(
        (photo.license, license_name(photo.license, photo.license_name)) for photo in photos
    )
    return [
        LicenseRow(license_id, name, license_url(license_id), count)
        for (license_id, name), count in sorted(counts.items(), key=lambda item: -item[1])
    ]


def sizes(photos: list[Photo]) -> tuple[dict[int, int], list[tuple[str, int]]]:
    """Histogram of the stored images' shorter side, and the most common dimensions."""
    dims = Counter(
        (photo.width, photo.height)
        for photo in photos
        if photo.width and photo.height and photo.width > 0 and photo.height > 0
    )
    bins: Counter[int] = Counter()
    for (width, height), count in dims.items():
        bins[min(width, height) // SIZE_BIN * SIZE_BIN] += count
    histogram = (
        {start: bins.get(start, 0) for start in range(min(bins), max(bins) + 1, SIZE_BIN)}
        if bins
        else {}
    )
    common = [(f"{w}\u00d7{h}", count) for (w, h), count in dims.most_common(5)]
    return histogram, common


def top_owners(photos: list[Photo], count: int = 10) -> list[tuple[str, str, int]]:
    """The owners with the most photos (a dataset dominated by a few is biased)."""
    names = {photo.owner: photo.ownername for photo in photos}
    ranked = Counter(photo.owner for photo in photos).most_common()
    ranked.sort(key=lambda item: (-item[1], item[0]))
    return [(owner, names[owner] or owner, n) for owner, n in ranked[:count]]


def map_points(photos: list[Photo], limit: int) -> tuple[dict[str, list[tuple[int, int]]], int]:
    """Distinct locations (0.01° grid) per keyword, sampled down to ``limit`` in all."""
    distinct: set[tuple[str, int, int]] = set()
    for photo in photos:
        if photo.latitude is not None and photo.longitude is not None:
            distinct.add((photo.keyword, round(photo.longitude * 100), round(photo.latitude * 100)))
    chosen = sorted(distinct)
    if len(chosen) > limit:
        chosen = sorted(sorted(chosen, key=lambda p: rank(repr(p)))[:limit])
    points: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for keyword, lon, lat in chosen:
        points[keyword].append((lon, lat))
    return dict(points), len(distinct)


def sample(
    photos: list[Photo], keywords: list[KeywordRow], per_keyword: int, total: int
) -> dict[str, list[Photo]]:
    """Up to ``per_keyword`` photos with an image file per keyword, at most ``total`` in all."""
    by_keyword: dict[str, list[Photo]] = defaultdict(list)
    for photo in photos:
        if photo.path:
            by_keyword[photo.keyword].append(photo)
    shown = [row.keyword for row in keywords if by_keyword.get(row.keyword)]
    quota = min(per_keyword, max(1, total // len(shown))) if shown else 0
    samples = {}
    for keyword in shown[: max(total, 0)]:
        picked = sorted(by_keyword[keyword], key=lambda photo: rank(photo.id))[:quota]
        samples[keyword] = sorted(picked, key=lambda photo: (photo.dateupload or 0, photo.id))
    return samples


def compute(dataset: Dataset, *, max_points: int, per_keyword: int, max_thumbnails: int) -> Stats:
    photos = dataset.photos
    keywords = keyword_rows(dataset)
    short_sides, common_sizes = sizes(photos)
    points, distinct = map_points(photos, max_points)
    return Stats(
        keywords=keywords,
        photos=len(photos),
        geotagged=sum(photo.geotagged for photo in photos),
        owners=len({photo.owner for photo in photos}),
        disk_bytes=sum(photo.file_size or 0 for photo in photos),
        years=upload_years(photos),
        licenses=license_rows(photos),
        short_sides=short_sides,
        common_sizes=common_sizes,
        top_owners=top_owners(photos),
        points=points,
        distinct_points=distinct,
        samples=sample(photos, keywords, per_keyword, max_thumbnails),
    )
