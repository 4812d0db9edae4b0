"""Read a dataset: photo metadata from the JPEG comments (or a JSON Lines feed) and the run summary.

Only JPEG headers are read (``jpegcom``), a few threads keeping the disk busy while
the main thread parses, so a 100,000-photo dataset is read in seconds.
"""

from __future__ import annotations

import json
import math
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flickrspider.report.jpegcom import find_comment, read_heads, rest_reader

SUMMARY_PATH = Path(".flickrspider") / "summary.json"
JPEG_SUFFIXES = (".jpg", ".jpeg")
_THREADS = 4  # threads reading file headers: they overlap disk waits (cold cache, NFS)
_BATCH = 64  # files per read task


class ReportError(Exception):
    """A problem with the input that ends the report with a one-line message."""


@dataclass(slots=True)
class Photo:
    """The part of a photo's metadata the report uses."""

    id: str
    keyword: str
    owner: str = ""
    ownername: str = ""
    title: str = ""
    license: int | None = None
    license_name: str = ""
    latitude: float | None = None
    longitude: float | None = None
    dateupload: int | None = None
    width: int | None = None
    height: int | None = None
    path: str | None = None  # relative to IMAGES_STORE, "/"-separated
    file_size: int | None = None

    @property
    def geotagged(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True, slots=True)
class KeywordRun:
    """One keyword's numbers from the last run's ``summary.json``."""

    found: int = 0
    stored: int = 0
    duplicates: int = 0
    too_small: int = 0
    failed: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Summary:
    """``IMAGES_STORE/.flickrspider/summary.json``, as the crawl's summary extension writes it."""

    keywords: dict[str, KeywordRun]
    api_calls: int | None = None
    finished: str = ""


@dataclass(slots=True)
class Dataset:
    """Everything the report shows, read from disk."""

    store: Path
    source: str  # "files" or "feed"
    photos: list[Photo] = field(default_factory=list)
    summary: Summary | None = None
    unreadable: int = 0  # files or feed lines without usable metadata
    repeated: int = 0  # photo ids met more than once (kept once)


def _number(value: Any, kind: type[int] | type[float]) -> Any:
    """``value`` as an int or a finite float, or None (Flickr sends some numbers as strings)."""
    if type(value) is int:  # the common cases first: this runs for every field of every photo
        return value if kind is int else float(value)
    if type(value) is float and math.isfinite(value):
        return int(value) if kind is int else value
    if value is None or isinstance(value, bool):
        return None
    try:
        number = kind(float(value)) if kind is int else float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def photo_from_record(record: dict[str, Any], keyword: str, path: str | None) -> Photo | None:
    """A ``Photo`` from a metadata record (JPEG comment or feed line), or None without an id."""
    photo_id = _text(record.get("id")).strip()
    if not photo_id:
        return None
    lat, lon = _number(record.get("latitude"), float), _number(record.get("longitude"), float)
    # Flickr answers 0, 0 for photos without a location.
    if (
        lat is None
        or lon is None
        or not (-90 <= lat <= 90 and -180 <= lon <= 180)
        or (lat == 0 and lon == 0)
    ):
        lat = lon = None
    return Photo(
        id=photo_id,
        keyword=_text(record.get("keyword")) or keyword,
        owner=_text(record.get("owner")),
        ownername=_text(record.get("ownername")),
        title=_text(record.get("title")),
        license=_number(record.get("license"), int),
        license_name=_text(record.get("license_name")),
        latitude=lat,
        longitude=lon,
        dateupload=_number(record.get("dateupload"), int),
        width=_number(record.get("width"), int),
        height=_number(record.get("height"), int),
        path=path,
    )


def _sorted_dirs(directory: Path) -> list[os.DirEntry[str]]:
    with os.scandir(directory) as entries:
        found = [e for e in entries if not e.name.startswith(".") and e.is_dir()]
    return sorted(found, key=lambda e: e.name)


def _jpeg_files(store: Path) -> Iterator[tuple[str, str, str]]:
    """(keyword directory, relative path, absolute path) of every JPEG, in order."""
    for keyword_dir in _sorted_dirs(store):
        for shard in _sorted_dirs(Path(keyword_dir.path)):
            with os.scandir(shard.path) as entries:
                names = sorted(
                    e.name
                    for e in entries
                    # A leading dot is a temporary name: the file is not complete yet.
                    if e.name.lower().endswith(JPEG_SUFFIXES) and not e.name.startswith(".")
                )
            prefix = f"{keyword_dir.name}/{shard.name}/"
            for name in names:
                yield keyword_dir.name, prefix + name, os.path.join(shard.path, name)


def walk_store(dataset: Dataset) -> None:
    """Add every ``<keyword>/<NNNNN>/*.jpg`` of the store to ``dataset``."""
    files = list(_jpeg_files(dataset.store))
    batches = [files[i : i + _BATCH] for i in range(0, len(files), _BATCH)]
    seen: set[str] = set()
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        # A sliding window of batches in flight, so memory stays flat however large the dataset.
        pending: deque[Future[list[tuple[bytes, int]]]] = deque()
        for index, batch in enumerate(batches):
            while len(pending) < 2 * _THREADS and index + len(pending) < len(batches):
                paths = [path for _, _, path in batches[index + len(pending)]]
                pending.append(pool.submit(read_heads, paths))
            for (keyword, relative, path), (head, size) in zip(
                batch, pending.popleft().result(), strict=True
            ):
                comment = find_comment(head, rest_reader(path, len(head)))
                photo = _parse_photo(comment, keyword, relative)
                if photo is None:
                    dataset.unreadable += 1
                elif photo.id in seen:
                    dataset.repeated += 1
                else:
                    seen.add(photo.id)
                    photo.file_size = size
                    dataset.photos.append(photo)


def _parse_photo(comment: bytes | None, keyword: str, relative: str) -> Photo | None:
    try:
        record = json.loads(comment.decode("utf-8", "replace")) if comment else None
    except ValueError:
        return None
    return photo_from_record(record, keyword, relative) if isinstance(record, dict) else None


def read_feed(dataset: Dataset, feed: Path) -> None:
    """Add every record of a JSON Lines feed to ``dataset`` (the first record of an id wins)."""
    seen: set[str] = set()
    try:
        stream = feed.open(encoding="utf-8", errors="replace")
    except OSError as error:
        raise ReportError(f"cannot read feed {feed}: {error.strerror or error}") from error
    with stream:
        for line in stream:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            path = record.get("path") if isinstance(record, dict) else None
            photo = (
                photo_from_record(record, "", path if isinstance(path, str) else None)
                if isinstance(record, dict)
                else None
            )
            if photo is None:
                dataset.unreadable += 1
            elif photo.id in seen:
                dataset.repeated += 1
            else:
                seen.add(photo.id)
                dataset.photos.append(photo)


def read_summary(store: Path) -> Summary | None:
    """The last run's summary, or None when it is missing or not the documented shape."""
    try:
        data = json.loads((store / SUMMARY_PATH).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("keywords"), dict):
        return None
    keywords = {}
    for name, numbers in data["keywords"].items():
        if not isinstance(numbers, dict):
            continue
        failed = numbers.get("failed")
        keywords[str(name)] = KeywordRun(
            found=_number(numbers.get("found"), int) or 0,
            stored=_number(numbers.get("stored"), int) or 0,
            duplicates=_number(numbers.get("duplicates"), int) or 0,
            too_small=_number(numbers.get("too_small"), int) or 0,
            failed={
                str(reason): _number(count, int) or 0
                for reason, count in (failed.items() if isinstance(failed, dict) else [])
            },
        )
    return Summary(
        keywords=keywords,
        api_calls=_number(data.get("api_calls"), int),
        finished=_text(data.get("finished")),
    )


def load(store: Path, feed: Path | None = None) -> Dataset:
    """Read the dataset under ``store`` (or the records of ``feed``) and its run summary."""
    if feed is None and not store.is_dir():
        what = "is not a directory" if store.exists() else "does not exist"
        raise ReportError(f"IMAGES_STORE {store} {what}")
    dataset = Dataset(store=store, source="feed" if feed else "files")
    if feed is not None:
        read_feed(dataset, feed)
    else:
        try:
            walk_store(dataset)
        except OSError as error:
            raise ReportError(f"cannot read {error.filename}: {error.strerror}") from error
    dataset.summary = read_summary(store)
    if not dataset.photos and dataset.summary is None:
        raise ReportError(_nothing_found(store, feed, dataset.unreadable))
    return dataset


def _nothing_found(store: Path, feed: Path | None, unreadable: int) -> str:
    if feed is not None:
        return f"no photo records in {feed}" + (
            f" ({unreadable} unusable lines)" * bool(unreadable)
        )
    if unreadable:
        return f"no JPEG under {store} carries flickrspider metadata ({unreadable} files read)"
    shards = [d for d in _sorted_dirs(store) if len(d.name) == 5 and d.name.isdigit()]
    if shards:  # e.g. images/paris instead of images
        return f"{store} looks like one keyword's directory; pass the dataset root {store.parent}"
    return f"no photos under {store} (expected {store}/<keyword>/<NNNNN>/*.jpg)"
