"""Synthesis of the photo table: numpy arrays, one row per photo, in upload order.

Everything derives from ``EmulatorConfig.seed``: the same config gives the same
table. Rows are sorted by (upload second, id) and ids increase with the row, so
date-posted order is row order and any upload-time window is a row range.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from flickrspider.emulator.config import EmulatorConfig
from flickrspider.emulator.words import CITIES, FILLERS, NAME_SYLLABLES, normalize_tag, tokens

YEAR = 365.25 * 86400
N_FILLERS = 6  # filler words per photo: 0-1 title, 2-3 description, 4-5 tags
CLUSTERS = 6  # places per keyword
ASPECTS = np.array([4 / 3, 3 / 2, 16 / 9, 1.0, 5 / 4, 2.0, 3.0, 2.5])
ASPECT_P = np.array([0.35, 0.3, 0.12, 0.08, 0.05, 0.04, 0.03, 0.03])
LONG_SIDES = np.array([1280, 1600, 2048, 2400, 3000, 3264, 3648, 4000, 4288, 4608, 5184, 6000])
LONG_P = np.array([10, 14, 12, 8, 10, 8, 8, 12, 6, 5, 4, 3], dtype=float)
# License ids 0-16 (ORIGINAL.md); most Flickr photos are All Rights Reserved.
LICENSE_P = np.array([45, 6, 6, 6, 6, 6, 6, 2, 1, 4, 2, 2.5, 2.5, 1.5, 1.5, 1.5, 1.5])
# Geo accuracy 1 (world) .. 16 (street); most geotags come from GPS or a zoomed-in map.
ACCURACY_P = np.array([1, 1, 2, 1, 2, 4, 3, 3, 3, 3, 6, 4, 5, 8, 12, 42], dtype=float)
# Rough Flickr photo ids by upload year, only for realistic magnitudes.
ID_YEARS = np.array([2004, 2006, 2008, 2010, 2012, 2014, 2016, 2018, 2020, 2022, 2025])
ID_VALUES = np.array(
    [1e3, 2e8, 2.5e9, 4.5e9, 7.5e9, 1.3e10, 2.8e10, 4.4e10, 5.0e10, 5.2e10, 5.4e10]
)


@dataclass
class PhotoTable:
    """Columns of the corpus, row ``i`` is the i-th photo in upload order."""

    seed: int
    keywords: list[str]
    upload: np.ndarray  # int64 unix seconds, non-decreasing
    ids: np.ndarray  # int64, increasing
    kw: np.ndarray  # int16 keyword index
    kw2: np.ndarray  # int16 second keyword or -1
    kwpos: np.ndarray  # int8: keyword words in 0 title, 1 description, 2 tags only
    camera_title: np.ndarray  # bool: the title is a camera file name (IMG_1234), no words
    fill: np.ndarray  # (N, 6) int16 filler word ids
    taken: np.ndarray  # int64 unix seconds (local time read as UTC)
    taken_unknown: np.ndarray  # bool
    owner_index: np.ndarray  # int32 owner index
    nsids: np.ndarray  # int64 per owner index: NSID number * 10 + the digit after "@N0"
    lat: np.ndarray  # float64, 0 when not geotagged
    lon: np.ndarray
    accuracy: np.ndarray  # int8, 0 when not geotagged
    place: np.ndarray  # int32 place index, -1 when not geotagged
    license: np.ndarray  # int8 0..16
    width: np.ndarray  # int32 original
    height: np.ndarray
    fmt: np.ndarray  # int8 0 jpg, 1 png, 2 gif
    large_ok: np.ndarray  # bool: Large exists when the original is big enough
    framed: np.ndarray  # bool
    views: np.ndarray  # int32
    interesting: np.ndarray  # float32 score for interestingness sorts
    relevance: np.ndarray  # float32 score for relevance sort
    video: np.ndarray  # bool
    server: np.ndarray  # int32
    farm: np.ndarray  # int16
    hashes: np.ndarray  # uint64: secrets and the render seed derive from it

    def __len__(self) -> int:
        return len(self.ids)

    def owner(self, row: int) -> tuple[str, str]:
        """(NSID, screen name) of the photo's owner."""
        index = int(self.owner_index[row])
        return nsid(self.nsids, index), owner_name(self.seed, index)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, vectorised: a well-spread uint64 hash of each value."""
    z = x.astype(np.uint64)
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _growth_times(
    rng: np.random.Generator, n: int, start: int, end: int, growth: float
) -> np.ndarray:
    """``n`` upload seconds in [start, end) with a rate growing by e**growth per year."""
    u = rng.random(n)
    span = end - start
    g = growth / YEAR
    offset = np.log1p(u * np.expm1(g * span)) / g if g * span > 1e-9 else u * span
    return np.minimum(start + offset.astype(np.int64), end - 1)


def _upload_times(
    rng: np.random.Generator, config: EmulatorConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Upload second and keyword index of every photo: growth, random and explicit bursts."""
    times, kws = [], []
    for k, (keyword, count) in enumerate(config.keywords.items()):
        n_burst = round(count * config.burst_share)
        parts = [_growth_times(rng, count - n_burst, config.start, config.end, config.growth)]
        while n_burst > 0:  # random bursts: hundreds to thousands of photos within minutes
            size = min(n_burst, int(rng.integers(100, 5001)))
            span = int(rng.integers(60, 900))
            begin = int(_growth_times(rng, 1, config.start, config.end - span, config.growth)[0])
            parts.append(begin + rng.integers(0, span, size))
            n_burst -= size
        for burst in config.bursts:
            if burst.keyword == keyword:
                parts.append(
                    np.minimum(
                        burst.at + rng.integers(0, burst.seconds, burst.count), config.end - 1
                    )
                )
        t = np.concatenate(parts).astype(np.int64)
        times.append(t)
        kws.append(np.full(len(t), k, dtype=np.int16))
    return np.concatenate(times), np.concatenate(kws)


def _owners(kw: np.ndarray, n_kw: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Owner index of each photo (a pool per keyword, a few prolific owners in each) and NSIDs.

    NSIDs are ``<number>@N0<digit>``, stored as ``number * 10 + digit``.
    """
    owner = np.zeros(len(kw), dtype=np.int32)
    first = 0
    for k in range(n_kw):
        rows = np.flatnonzero(kw == k)
        pool = max(3, len(rows) // 25)
        owner[rows] = first + (pool * rng.random(len(rows)) ** 2).astype(np.int32)
        first += pool
    nsids = rng.integers(10_000_000, 200_000_000, first, dtype=np.int64) * 10 + rng.integers(
        0, 9, first
    )
    return owner, nsids


def owner_name(seed: int, index: int) -> str:
    """A made-up screen name, derived from the owner's index."""
    prng = random.Random(seed * 1_000_003 + index)
    name = "".join(prng.choice(NAME_SYLLABLES) for _ in range(prng.randint(2, 4)))
    return name.capitalize() if prng.random() < 0.5 else name


def nsid(nsids: np.ndarray, index: int) -> str:
    number = int(nsids[index])
    return f"{number // 10}@N{number % 10:02d}"


def _geo(
    rng: np.random.Generator, kw: np.ndarray, keywords: list[str], share: float
) -> tuple[np.ndarray, ...]:
    """Latitude, longitude, accuracy and place of each photo: clusters around a keyword's centre."""
    n, n_kw = len(kw), len(keywords)
    centres = np.column_stack([rng.uniform(-45, 62, n_kw), rng.uniform(-175, 175, n_kw)])
    for k, keyword in enumerate(keywords):  # well-known places where they are, for nicer maps
        centres[k] = CITIES.get(normalize_tag(keyword), centres[k])
    offsets = rng.normal(0, 0.15, (n_kw, CLUSTERS, 2))
    weights = rng.dirichlet(np.ones(CLUSTERS), n_kw)
    cluster = (rng.random(n)[:, None] > np.cumsum(weights[kw], axis=1)).sum(axis=1)
    cluster = np.minimum(cluster, CLUSTERS - 1)
    spread = rng.uniform(0.005, 0.03, n)[:, None]
    pos = centres[kw] + offsets[kw, cluster] + rng.normal(0, 1, (n, 2)) * spread
    stray = rng.random(n) < 0.03  # mis-geotagged photos far away
    pos[stray] = np.column_stack(
        [rng.uniform(-60, 70, stray.sum()), rng.uniform(-180, 180, stray.sum())]
    )
    tagged = rng.random(n) < share
    lat = np.where(tagged, np.round(np.clip(pos[:, 0], -89.9, 89.9), 6), 0.0)
    lon = np.where(tagged, np.round((pos[:, 1] + 180) % 360 - 180, 6), 0.0)
    acc = rng.choice(np.arange(1, 17), n, p=ACCURACY_P / ACCURACY_P.sum()).astype(np.int8)
    place = np.where(tagged & ~stray, kw.astype(np.int32) * CLUSTERS + cluster, -1).astype(np.int32)
    return lat, lon, np.where(tagged, acc, 0).astype(np.int8), place


def _dimensions(
    rng: np.random.Generator, n: int, small_share: float
) -> tuple[np.ndarray, np.ndarray]:
    """Original sizes: camera sizes, mid sizes, some too small to keep, odd aspect ratios."""
    long_side = rng.choice(LONG_SIDES, n, p=LONG_P / LONG_P.sum())
    jitter = rng.random(n) < 0.3
    long_side = np.where(jitter, (long_side * rng.uniform(0.8, 1.0, n)).astype(np.int64), long_side)
    mid = rng.random(n) < 0.12  # 640..1024: no Large size
    long_side = np.where(mid, rng.integers(640, 1025, n), long_side)
    aspect = rng.choice(ASPECTS, n, p=ASPECT_P)
    short_side = np.maximum(1, np.round(long_side / aspect)).astype(np.int64)
    small = rng.random(n) < small_share  # shorter side under 500 px
    long_side = np.where(small, rng.integers(240, 801, n), long_side)
    short_side = np.where(
        small, np.minimum(499, np.round(long_side / np.maximum(aspect, 1.25))), short_side
    )
    portrait = rng.random(n) < 0.25
    width = np.where(portrait, short_side, long_side).astype(np.int32)
    height = np.where(portrait, long_side, short_side).astype(np.int32)
    return width, height


def _fillers(rng: np.random.Generator, n: int, vocab_size: int) -> np.ndarray:
    """Filler word ids with a Zipf-like frequency (a few words are very common)."""
    p = 1.0 / np.arange(1, vocab_size + 1) ** 0.9
    order = rng.permutation(vocab_size)  # which words are common depends on the seed
    return order[rng.choice(vocab_size, (n, N_FILLERS), p=p / p.sum())].astype(np.int16)


def filler_vocabulary(keywords: list[str]) -> list[str]:
    """Fillers minus every keyword word, so fillers never match a keyword search."""
    banned = {t for k in keywords for t in tokens(k)} | {"".join(tokens(k)) for k in keywords}
    return [w for w in FILLERS if w not in banned]


def build_table(config: EmulatorConfig) -> PhotoTable:
    """The whole corpus as columns, deterministic in ``config``."""
    rng = np.random.default_rng(config.seed)
    keywords = list(config.keywords)
    times, kw = _upload_times(rng, config)
    order = np.lexsort((rng.random(len(times)), times))  # ties in one second: random keyword mix
    upload, kw = times[order], kw[order]
    n, n_kw = len(upload), len(keywords)
    years = 1970 + upload / YEAR
    ids = np.floor(np.interp(years, ID_YEARS, ID_VALUES)).astype(np.int64) + np.arange(
        n, dtype=np.int64
    )
    kw2 = np.full(n, -1, dtype=np.int16)
    if n_kw > 1:
        shared = rng.random(n) < config.shared
        kw2[shared] = ((kw[shared] + rng.integers(1, n_kw, shared.sum())) % n_kw).astype(np.int16)
    single = np.array([len(tokens(k)) == 1 for k in keywords])
    kwpos = rng.choice(np.array([0, 1, 2], dtype=np.int8), n, p=[0.7, 0.2, 0.1])
    kwpos[(kwpos == 2) & ~single[kw]] = 0
    camera_title = (kwpos != 0) & (rng.random(n) < 0.3)
    lag = np.where(rng.random(n) < 0.85, rng.exponential(2 * 86400, n), rng.uniform(0, 8 * YEAR, n))
    taken_unknown = rng.random(n) < 0.01
    taken = np.where(taken_unknown, upload, upload - lag.astype(np.int64))
    owner, nsids = _owners(kw, n_kw, rng)
    lat, lon, accuracy, place = _geo(rng, kw, keywords, config.geo)
    width, height = _dimensions(rng, n, config.small)
    u = rng.random(n)
    fmt = np.where(u < config.png, 1, np.where(u < config.png + config.gif, 2, 0)).astype(np.int8)
    views = np.minimum(rng.lognormal(3.0, 1.6, n), 5e7).astype(np.int32)
    modern = years >= 2018  # live.staticflickr.com era: server 65535, farm 66
    return PhotoTable(
        seed=config.seed,
        keywords=keywords,
        upload=upload,
        ids=ids,
        kw=kw,
        kw2=kw2,
        kwpos=kwpos,
        camera_title=camera_title,
        fill=_fillers(rng, n, len(filler_vocabulary(keywords))),
        taken=taken,
        taken_unknown=taken_unknown,
        owner_index=owner,
        nsids=nsids,
        lat=lat,
        lon=lon,
        accuracy=accuracy,
        place=place,
        license=rng.choice(17, n, p=LICENSE_P / LICENSE_P.sum()).astype(np.int8),
        width=width,
        height=height,
        fmt=fmt,
        large_ok=rng.random(n) >= config.no_large,
        framed=rng.random(n) < config.frames,
        views=views,
        interesting=(np.log1p(views) + rng.normal(0, 1.0, n)).astype(np.float32),
        relevance=rng.random(n).astype(np.float32),
        video=rng.random(n) < config.videos,
        server=np.where(modern, 65535, rng.integers(1, 9999, n)).astype(np.int32),
        farm=np.where(modern, 66, rng.integers(1, 10, n)).astype(np.int16),
        hashes=mix64(ids.astype(np.uint64) ^ mix64(np.array([config.seed], dtype=np.uint64))[0]),
    )
