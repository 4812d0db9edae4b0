"""Spider arguments, parsed and validated once into typed objects (SPEC §3, STYLE 5).

``SearchArgs.from_kwargs`` turns the ``-a name=value`` strings of the ``flickr``
spider into one frozen ``SearchArgs``; ``DownloadArgs.from_kwargs`` does the same
for ``flickr_download``. A bad value raises ``ArgumentError``, whose message is one
line naming the argument and the value. Arguments starting with ``_`` (Scrapyd's
``_job``, ``_version`` ...) are accepted and ignored; any other unknown name is an
error, so a typo such as ``keyword=`` stops the run instead of being ignored.

Decisions (where the spec leaves a choice):

- ``accuracy`` given together with ``geo=0`` is an error: it would silently do nothing.
- ``max_upload_date`` given as a bare date means the *end* of that day (23:59:59 UTC),
  so ``min_upload_date=2010-05-01 max_upload_date=2010-05-01`` is that whole day.
  Datetimes without an offset are UTC. A future ``max_upload_date`` is clamped to now.
- Entries of ``keywords`` that start with ``-`` are negative terms, as in the file.
- Queries are deduplicated case-insensitively (Flickr's text search ignores case),
  with runs of whitespace collapsed; the first spelling is kept.
- ``shard=K/N`` is 1-based (``1/2`` and ``2/2``); photo id modulo N picks the shard.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from flickrspider.licenses import parse_licenses

FLICKR_LAUNCH = 1075593600  # 2004-02-01T00:00:00Z
NEGATIVE_MODES = ("filter", "query")
SEARCH_ARGS = (
    "keywords", "queries_file", "negatives", "geo", "accuracy", "license",
    "min_upload_date", "max_upload_date", "bbox", "max_photos", "download",
)  # fmt: skip
DOWNLOAD_ARGS = ("input", "shard")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


class ArgumentError(ValueError):
    """A spider argument is missing or bad; ``str()`` is one line naming it and its value."""

    def __init__(self, name: str, value: object, why: str) -> None:
        self.name, self.value, self.why = name, value, why
        if value is None:
            message = f"missing spider argument {name}: {why}"
        else:
            shown = repr(value if len(str(value)) <= 200 else f"{str(value)[:200]}...")
            message = f"bad spider argument {name}={shown}: {why}"
        super().__init__(message)


@dataclass(frozen=True, kw_only=True)
class SearchArgs:
    """The ``flickr`` spider's arguments, typed and checked."""

    queries: tuple[str, ...]
    max_upload_date: int  # unix seconds, inclusive
    negatives: tuple[str, ...] = ()
    negatives_mode: str = "filter"
    geo: bool = True
    accuracy: int = 6
    licenses: frozenset[int] | None = None  # None: every license
    min_upload_date: int = FLICKR_LAUNCH  # unix seconds, inclusive
    bbox: tuple[float, float, float, float] | None = None
    max_photos: int | None = None
    download: bool = True

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, object], *, now: int | None = None) -> SearchArgs:
        """Parse the spider's keyword arguments; raise ``ArgumentError`` on the first bad one."""
        args = _known(kwargs, SEARCH_ARGS)
        now = int(time.time()) if now is None else now
        queries, negatives = _queries(args)
        mode = args.get("negatives", "filter").strip().lower()
        if mode not in NEGATIVE_MODES:
            raise ArgumentError("negatives", args["negatives"], "must be filter or query")
        geo = _bool(args, "geo", True)
        if not geo and "accuracy" in args:
            raise ArgumentError("accuracy", args["accuracy"], "only applies with geo=1")
        lo, hi = _date_range(args, now)
        licenses = None
        if "license" in args:
            try:
                licenses = parse_licenses(args["license"])
            except ValueError as exc:
                raise ArgumentError("license", args["license"], str(exc)) from None
        accuracy = _int(args, "accuracy", 1, 16)
        return cls(
            queries=queries,
            negatives=negatives,
            negatives_mode=mode,
            geo=geo,
            accuracy=6 if accuracy is None else accuracy,
            licenses=licenses,
            min_upload_date=lo,
            max_upload_date=hi,
            bbox=_bbox(args["bbox"]) if "bbox" in args else None,
            max_photos=_int(args, "max_photos", 1, None),
            download=_bool(args, "download", True),
        )


@dataclass(frozen=True)
class DownloadArgs:
    """The ``flickr_download`` spider's arguments: a stage-1 file and an optional shard."""

    input: str
    shard: tuple[int, int] | None = None  # (K, N), 1 <= K <= N; None: every photo

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, object]) -> DownloadArgs:
        """Parse the spider's keyword arguments; raise ``ArgumentError`` on the first bad one."""
        args = _known(kwargs, DOWNLOAD_ARGS)
        path = args.get("input", "").strip()
        if not path:
            raise ArgumentError("input", None, "give input=<stage-1 JSON Lines file>")
        if not Path(path).is_file():
            raise ArgumentError("input", path, "no such file")
        shard = _shard(args["shard"]) if "shard" in args else None
        return cls(input=path, shard=shard)

    def in_shard(self, photo_id: str) -> bool:
        """True if the photo belongs to this run's shard (always, without ``shard``)."""
        if self.shard is None:
            return True
        k, n = self.shard
        key = int(photo_id) if photo_id.isascii() and photo_id.isdigit() else _crc(photo_id)
        return key % n == k - 1


# -- queries and negative terms ---------------------------------------------------------


def parse_queries_file(text: str) -> tuple[list[str], list[str]]:
    """Queries and negative terms from a ``place_rec_queries.txt``-style text.

    CRLF or LF; ``#`` lines are comments; lines of 2 characters or fewer (after
    stripping) are skipped; ``-term`` lines are negative terms. Order is kept,
    duplicates are dropped.
    """
    queries: list[str] = []
    negatives: list[str] = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if len(line) <= 2 or line.startswith("#"):
            continue
        if line.startswith("-"):
            negatives.append(line[1:].strip())
        else:
            queries.append(line)
    return _unique(queries), _unique(negatives)


def query_text(query: str, args: SearchArgs) -> str:
    """The ``text`` sent to Flickr: the query, plus ``-term`` for each negative in "query" mode.

    Flickr's text search excludes a term prefixed with ``-`` (flickr.photos.search,
    argument ``text``); multi-word terms are quoted so the whole phrase is excluded.
    """
    if args.negatives_mode != "query" or not args.negatives:
        return query
    terms = (f'-"{n}"' if " " in n else f"-{n}" for n in args.negatives)
    return " ".join([query, *terms])


def is_negative(photo_tags: str, photo_title: str, negatives: Iterable[str]) -> bool:
    """True if a negative term is a whole word (or phrase) of the tags or the title.

    Case-insensitive. Flickr's tags are normalised without spaces, so a phrase
    such as ``new york`` also matches the tag ``newyork``.
    """
    terms = tuple(negatives)
    if not terms:
        return False
    pattern = _negatives_re(terms)
    return bool(pattern.search(photo_title or "") or pattern.search(photo_tags or ""))


@functools.lru_cache(maxsize=64)
def _negatives_re(terms: tuple[str, ...]) -> re.Pattern[str]:
    forms = {form for t in terms if t.strip() for form in (t.strip(), "".join(t.split()))}
    words = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE) if words else re.compile("(?!)")


def _queries(args: dict[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if "keywords" not in args and "queries_file" not in args:
        raise ArgumentError("keywords", None, "give keywords=a,b or queries_file=<path>")
    queries: list[str] = []
    negatives: list[str] = []
    if "keywords" in args:
        for part in args["keywords"].split(","):
            word = " ".join(part.split())
            target = negatives if word.startswith("-") else queries
            target.append(word.lstrip("-").strip())
    if "queries_file" in args:
        file_queries, file_negatives = _read_queries_file(args["queries_file"])
        queries += file_queries
        negatives += file_negatives
    if not any(queries):
        name = "keywords" if "keywords" in args else "queries_file"
        raise ArgumentError(name, args[name], "names no query (only negative terms or nothing)")
    return tuple(_unique(queries)), tuple(_unique(negatives))


def _read_queries_file(path: str) -> tuple[list[str], list[str]]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ArgumentError("queries_file", path, f"cannot be read ({why})") from None
    return parse_queries_file(text)


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for item in items:
        key = item.casefold()
        if item and key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


# -- scalar values ------------------------------------------------------------------------


def _known(kwargs: Mapping[str, object], names: tuple[str, ...]) -> dict[str, str]:
    """The arguments as strings, without ``_private`` ones; unknown names are errors."""
    args = {}
    for name, value in kwargs.items():
        if name.startswith("_"):
            continue
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" (did you mean {close[0]}?)" if close else f"; known: {', '.join(names)}"
            raise ArgumentError(name, value, "unknown argument" + hint)
        args[name] = value if isinstance(value, str) else str(value)
    return args


def _bool(args: dict[str, str], name: str, default: bool) -> bool:
    if name not in args:
        return default
    value = args[name].strip().lower()
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ArgumentError(name, args[name], "must be 1 or 0 (true/false)")


def _int(args: dict[str, str], name: str, low: int, high: int | None) -> int | None:
    """The integer value of an argument, or None when it is not given."""
    if name not in args:
        return None
    raw = args[name].strip()
    bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
    too_big = high is not None and raw.isdigit() and int(raw) > high
    if not (raw.isascii() and raw.isdigit()) or int(raw) < low or too_big:
        raise ArgumentError(name, args[name], f"must be an integer {bound}")
    return int(raw)


def _date_range(args: dict[str, str], now: int) -> tuple[int, int]:
    lo = _timestamp(args, "min_upload_date", FLICKR_LAUNCH, end_of_day=False)
    hi = min(_timestamp(args, "max_upload_date", now, end_of_day=True), now)
    if lo > now:
        raise ArgumentError("min_upload_date", args["min_upload_date"], "is in the future")
    if lo >= hi:
        value = args.get("max_upload_date", args.get("min_upload_date"))
        raise ArgumentError("max_upload_date", value, "must be later than min_upload_date")
    return lo, hi


def _timestamp(args: dict[str, str], name: str, default: int, *, end_of_day: bool) -> int:
    """Unix seconds from a unix timestamp, an ISO date or an ISO datetime (naive = UTC)."""
    if name not in args:
        return default
    raw = args[name].strip()
    if raw.isascii() and raw.isdigit():
        return int(raw)
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            stamp = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
            return stamp + 86399 if end_of_day else stamp
        moment = datetime.fromisoformat(raw)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        stamp = math.floor(moment.timestamp())
    except (ValueError, OverflowError):
        pass
    else:
        if stamp >= 0:
            return stamp
    why = "must be a date (2010-05-01), a datetime (2010-05-01T12:00:00) or unix seconds"
    raise ArgumentError(name, args[name], why)


def _bbox(raw: str) -> tuple[float, float, float, float]:
    why = "must be min_lon,min_lat,max_lon,max_lat with -180<=lon<=180, -90<=lat<=90, min<max"
    parts = raw.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ArgumentError("bbox", raw, why) from None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ArgumentError("bbox", raw, why)
    min_lon, min_lat, max_lon, max_lat = values
    lons_ok = -180 <= min_lon < max_lon <= 180
    lats_ok = -90 <= min_lat < max_lat <= 90
    if not (lons_ok and lats_ok):
        raise ArgumentError("bbox", raw, why)
    return min_lon, min_lat, max_lon, max_lat


def _shard(raw: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{1,9})\s*/\s*(\d{1,9})\s*", raw)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise ArgumentError("shard", raw, "must be K/N with 1 <= K <= N (e.g. 3/15)")
    return int(match[1]), int(match[2])


def _crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8", "replace"))
