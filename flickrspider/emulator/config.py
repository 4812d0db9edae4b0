"""Emulator configuration: the corpus shape (fixed at start) and runtime settings.

``EmulatorConfig`` describes the synthetic corpus and is frozen: the same config
gives the same corpus, byte for byte. ``RuntimeSettings`` holds fault rates and
quirks; it can change while the server runs (``POST /_emulator/config``).
Both read from one JSON object (see the package docstring for every key);
unknown keys and bad values raise ``ValueError`` naming the key.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

FLICKR_LAUNCH = 1075593600  # 2004-02-01 00:00:00 UTC
DEFAULT_END = 1735689600  # 2025-01-01 00:00:00 UTC: fixed, so the corpus never depends on "now"
DEFAULT_KEYWORDS = ("paris", "tokyo", "new york")
DEFAULT_PHOTOS = 1000

_DATETIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$")
_NUMBER_RE = re.compile(r"^-?\d+(?:\.\d+)?$")


def parse_time(value: object) -> int | None:
    """A unix timestamp or a MySQL datetime (``YYYY-MM-DD[ HH:MM[:SS]]``, UTC) -> unix seconds.

    Returns None when the value is neither (Flickr ignores arguments it cannot parse).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if math.isfinite(value) else None
    text = str(value).strip()
    if _NUMBER_RE.match(text):
        return int(float(text))
    match = _DATETIME_RE.match(text)
    if not match:
        return None
    y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
    try:
        return (
            calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))
            if 1 <= mo <= 12 and 1 <= d <= 31
            else None
        )
    except (OverflowError, ValueError):
        return None


def _time(name: str, value: object) -> int:
    parsed = parse_time(value)
    if parsed is None:
        raise ValueError(
            f"emulator config {name} ({value!r}) must be a unix timestamp or YYYY-MM-DD[ HH:MM:SS]"
        )
    return parsed


@dataclass(frozen=True)
class Burst:
    """``count`` photos of ``keyword`` uploaded within ``seconds`` seconds from ``at``."""

    keyword: str
    count: int
    at: int
    seconds: int = 1

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Burst:
        unknown = set(data) - {"keyword", "count", "at", "seconds"}
        if unknown or "keyword" not in data or "count" not in data or "at" not in data:
            raise ValueError(
                f"emulator config bursts entry ({dict(data)!r}) needs keyword, count, at[, seconds]"
            )
        burst = cls(
            str(data["keyword"]),
            int(data["count"]),
            _time("bursts.at", data["at"]),
            int(data.get("seconds", 1)),
        )
        if burst.count < 1 or burst.seconds < 1:
            raise ValueError(
                f"emulator config bursts entry ({dict(data)!r}) needs count >= 1, seconds >= 1"
            )
        return burst


@dataclass
class RuntimeSettings:
    """Fault rates (probability per request, 0..1), permanent faults and quirks."""

    api_500: float = 0.0  # HTTP 500 with an HTML body
    api_503: float = 0.0  # HTTP 503 with an HTML body
    api_429: float = 0.0  # HTTP 429 Too Many Requests (on top of the rate limit)
    api_105: float = 0.0  # stat=fail code 105 "Service currently unavailable"
    api_201: float = 0.0  # stat=fail code 201 (temporary; see answer.py)
    api_html_200: float = 0.0  # an HTML error page with HTTP 200
    api_html_502: float = 0.0  # an HTML error page with HTTP 502
    api_truncated: float = 0.0  # HTTP 200, the JSON cut in the middle
    api_slow: float = 0.0  # the answer comes after slow_seconds
    img_503: float = 0.0  # image host HTTP 503
    img_truncated: float = 0.0  # HTTP 200, the image cut in the middle
    img_html: float = 0.0  # HTTP 200, an HTML page instead of the image
    img_slow: float = 0.0  # the image comes after slow_seconds
    img_missing: float = 0.0  # share of photos whose images always answer 404
    img_offhost: float = 0.0  # share of photos whose url_l/url_o point to http://127.0.0.2:<port>/
    slow_seconds: float = 30.0
    fault_max_attempts: int = 3  # attempts of one URL that may fail; later attempts never do
    total_error: float = 0.0  # relative error of the reported total (deterministic per query)
    total_error_min: int = 1000  # only totals at least this large are approximate
    rate_limit_calls: int = 0  # API calls per key per window; 0 = no limit
    rate_limit_window: float = 3600.0
    mixed_types: float = 0.0  # share of numeric fields sent as strings or vice versa
    api_latency: float = 0.0  # seconds added to every API answer

    def update(self, data: Mapping[str, Any]) -> None:
        """Merge ``data`` into these settings, validating every key and value first."""
        types = {f.name: f.type for f in fields(self)}
        staged: dict[str, Any] = {}
        for name, value in data.items():
            if name not in types:
                raise ValueError(
                    f"unknown emulator setting {name!r}; known: {', '.join(sorted(types))}"
                )
            try:
                number = float(value) if types[name] == "float" else int(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"emulator setting {name} ({value!r}) must be a number") from exc
            if isinstance(value, bool) or not math.isfinite(number) or number < 0:
                raise ValueError(f"emulator setting {name} ({value!r}) must be a number >= 0")
            if is_rate(name) and number > 1:
                raise ValueError(
                    f"emulator setting {name} ({value!r}) is a rate: must be in [0, 1]"
                )
            staged[name] = number
        for name, number in staged.items():
            setattr(self, name, number)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def api_fault_rates(self) -> dict[str, float]:
        return {
            k: v for k, v in self.as_dict().items() if k.startswith("api_") and is_rate(k) and v > 0
        }

    def img_fault_rates(self) -> dict[str, float]:
        transient = ("img_503", "img_truncated", "img_html", "img_slow")
        return {k: getattr(self, k) for k in transient if getattr(self, k) > 0}


def is_rate(name: str) -> bool:
    """Fault and quirk rates are probabilities; other settings are amounts."""
    return (name.startswith(("api_", "img_")) and name != "api_latency") or name == "mixed_types"


RUNTIME_KEYS = frozenset(f.name for f in fields(RuntimeSettings))


@dataclass(frozen=True)
class EmulatorConfig:
    """The corpus: keywords with photo counts, time span, shares of special photos."""

    seed: int = 0
    keywords: Mapping[str, int] = field(
        default_factory=lambda: dict.fromkeys(DEFAULT_KEYWORDS, DEFAULT_PHOTOS)
    )
    start: int = FLICKR_LAUNCH
    end: int = DEFAULT_END
    growth: float = 0.2  # the upload rate grows by e**growth per year
    burst_share: float = 0.05  # share of each keyword's photos uploaded in random bursts
    bursts: tuple[Burst, ...] = ()
    shared: float = 0.1  # share of photos also tagged with a second keyword
    geo: float = 0.7  # share of geotagged photos
    frames: float = 0.15  # share of photos with an artsy frame
    small: float = 0.08  # share of originals whose shorter side is under 500 px
    no_large: float = 0.05  # share of photos over 1024 px that still lack the Large size
    png: float = 0.05  # share of PNG originals
    gif: float = 0.01  # share of GIF originals
    videos: float = 0.01  # share of videos (media=videos)
    cap: int = 4000  # results reachable per query
    keys: tuple[str, ...] = ()  # accepted API keys; empty: any non-empty key
    cache_dir: str | None = None  # rendered images are also kept here
    image_cache: int = 256  # megabytes of rendered images kept in memory (LRU)
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmulatorConfig:
        """Read a config object: corpus keys, ``faults`` (an object) and runtime keys."""
        data = dict(data)
        runtime = RuntimeSettings()
        runtime.update(data.pop("faults", None) or {})
        runtime.update({k: data.pop(k) for k in list(data) if k in RUNTIME_KEYS})
        known = {f.name for f in fields(cls)} - {"runtime"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(
                f"unknown emulator config key(s) {sorted(unknown)}; known: {sorted(known)}"
            )
        values: dict[str, Any] = {"runtime": runtime}
        for name, value in data.items():
            values[name] = _convert(name, value)
        config = cls(**values)
        config.validate()
        return config

    def with_overrides(self, **overrides: Any) -> EmulatorConfig:
        """A copy with some corpus keys replaced (CLI flags); None values are ignored."""
        changed = {k: _convert(k, v) for k, v in overrides.items() if v is not None}
        config = replace(self, **changed)
        config.validate()
        return config

    def validate(self) -> None:
        if not self.keywords:
            raise ValueError("emulator config keywords must name at least one keyword")
        for keyword, count in self.keywords.items():
            if not keyword.strip() or count < 0:
                raise ValueError(
                    f"emulator config keywords ({keyword!r}: {count!r}) "
                    "needs a name and a count >= 0"
                )
        if not FLICKR_LAUNCH <= self.start < self.end:
            raise ValueError(
                f"emulator config start/end ({self.start}, {self.end}) "
                "must satisfy 2004-02-01 <= start < end"
            )
        for name in (
            "burst_share",
            "shared",
            "geo",
            "frames",
            "small",
            "no_large",
            "png",
            "gif",
            "videos",
        ):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(
                    f"emulator config {name} ({getattr(self, name)!r}) must be in [0, 1]"
                )
        if self.cap < 1 or self.image_cache < 0 or self.growth < 0:
            raise ValueError("emulator config cap must be >= 1, image_cache and growth >= 0")
        for burst in self.bursts:
            if burst.keyword not in self.keywords:
                raise ValueError(
                    f"emulator config bursts keyword ({burst.keyword!r}) is not in keywords"
                )
            if not self.start <= burst.at < self.end:
                raise ValueError(f"emulator config bursts at ({burst.at}) must lie in [start, end)")

    def as_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "runtime"}
        data["keywords"] = dict(self.keywords)
        data["bursts"] = [asdict(b) for b in self.bursts]
        data["keys"] = list(self.keys)
        data["faults"] = self.runtime.as_dict()
        return data


def _convert(name: str, value: Any) -> Any:  # noqa: PLR0911
    """A JSON value -> the field's Python type, or ValueError naming the key."""
    try:
        if name == "keywords":
            if isinstance(value, str | list | tuple):
                items = value.split(",") if isinstance(value, str) else value
                return {str(k).strip(): DEFAULT_PHOTOS for k in items if str(k).strip()}
            return {str(k).strip(): int(v) for k, v in dict(value).items()}
        if name in ("start", "end"):
            return _time(name, value)
        if name == "bursts":
            return tuple(b if isinstance(b, Burst) else Burst.from_dict(b) for b in value)
        if name == "keys":
            items = value.split(",") if isinstance(value, str) else value
            return tuple(str(k).strip() for k in items if str(k).strip())
        if name == "cache_dir":
            return None if value is None else str(value)
        if name in ("seed", "cap", "image_cache"):
            return int(value)
        return float(value)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"emulator config {name} ({value!r}) is not valid: {exc}") from exc
