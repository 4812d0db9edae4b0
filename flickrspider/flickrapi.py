"""``flickr.photos.search``: request parameters, answer parsing, photo record validation.

Pure and stdlib-only. Reference: https://www.flickr.com/services/api/flickr.photos.search.html
(arguments, error codes, extras) and the JSON response format
(https://www.flickr.com/services/api/response.json.html).

Errors in an answer become exceptions the spider can act on::

    FlickrError(Exception)          .code (int | None), .message, .reason (stats slug)
    ├── InvalidKey                  code 100 "Invalid API Key": stop the crawl at once
    ├── Retryable                   back off and try again:
    │                                 code 105 "Service currently unavailable",
    │                                 code 106 "Write operation failed" (temporary),
    │                                 code 10 "search databases temporarily unavailable",
    │                                 code 201 (SPEC §6: back off on it too),
    │                                 HTTP 408/429/5xx, an HTML page, an empty body,
    │                                 truncated or malformed JSON, a wrong answer shape
    └── Permanent                   any other Flickr error code (bad arguments ...)

    BadRecord(ValueError)           one photo record is unusable; .reason is a short slug

``parse_search`` raises only ``FlickrError`` subclasses and ``parse_photo`` only
``BadRecord``, whatever the input; bad photos of a good page are collected in
``SearchPage.rejected`` instead of failing the page.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flickrspider.items import META_KEYS

METHOD = "flickr.photos.search"
GEO_PER_PAGE = 250  # "geo (or bounding box) queries will only return 250 results per page"
MAX_PER_PAGE = 500  # per_page: "The maximum allowed value is 500."
INVALID_KEY = 100
RETRYABLE_CODES = frozenset({10, 105, 106, 201})
# Flickr's size suffixes; "b" (Large 1024's URL suffix) is asked for as url_l.
_EXTRA_SIZE = {"b": "l"}
_TEXT_CAPS = {"title": 1000, "ownername": 200, "tags": 5000}
_SAFE = re.compile(r"[0-9A-Za-z]{1,64}")
_ID = re.compile(r"[0-9]{1,20}")
_NSID = re.compile(r"[0-9]{1,20}@N[0-9]{2}")
_TAKEN = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_FORMAT = re.compile(r"[a-z0-9]{1,8}")
_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f\"'<>\\]{1,2040}", re.IGNORECASE)
_KEY_PARAM = re.compile(r"(api_key[\"']?\s*(?:[=:]|%3D)\s*[\"']?)[^&\s\"',;]+", re.IGNORECASE)
_CALLBACK = re.compile(rb"^\s*jsonFlickrApi\s*\((.*)\)\s*;?\s*$", re.DOTALL)


class FlickrError(Exception):
    """An API answer that is not a page of results."""

    def __init__(self, message: str, code: int | None = None, reason: str | None = None) -> None:
        super().__init__(f"{message} (code {code})" if code is not None else message)
        self.code = code
        self.message = message
        self.reason = reason or (f"code_{code}" if code is not None else "error")


class InvalidKey(FlickrError):
    """Code 100: the API key is invalid or expired. The crawl must stop."""


class Retryable(FlickrError):
    """A transient failure: retry with backoff."""


class Permanent(FlickrError):
    """A failure that retrying will not fix."""


class BadRecord(ValueError):
    """A photo record that cannot be used; ``reason`` is a short slug for stats."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- requests ----------------------------------------------------------------------------


def per_page_for(geo: bool, bbox: object) -> int:
    """Photos per page: 250 for geo and bbox queries (Flickr's limit), else 500."""
    return GEO_PER_PAGE if geo or bbox else MAX_PER_PAGE


def extras_for(sizes: Sequence[str]) -> str:
    """The ``extras`` that carry every field downstream needs, so no per-photo calls."""
    fields = ["license", "date_upload", "date_taken", "owner_name", "original_format"]
    fields += ["o_dims", "views", "tags", "geo"]
    for size in sizes:
        extra = f"url_{_EXTRA_SIZE.get(size, size)}"
        if extra not in fields:
            fields.append(extra)
    return ",".join(fields)


def search_params(
    *,
    api_key: str,
    text: str,
    geo: bool,
    accuracy: int,
    licenses: frozenset[int] | None,
    bbox: Sequence[float] | None,
    min_upload: int,
    max_upload: int,
    page: int,
    per_page: int,
    sort: str = "date-posted-asc",
    extras: str,
) -> dict[str, str]:
    """Form parameters of one ``flickr.photos.search`` call.

    Upload dates are unix seconds, both bounds inclusive ("greater than or equal",
    "less than or equal"). ``content_type`` is not sent: like the original, every
    kind of still image counts (``media=photos`` already drops videos).
    """
    params = {
        "method": METHOD,
        "api_key": api_key,
        "text": text,
        "media": "photos",
        "sort": sort,
        "min_upload_date": str(int(min_upload)),
        "max_upload_date": str(int(max_upload)),
        "extras": extras,
        "per_page": str(int(per_page)),
        "page": str(int(page)),
        "format": "json",
        "nojsoncallback": "1",
    }
    if geo:
        params["has_geo"] = "1"
        params["accuracy"] = str(int(accuracy))
    if licenses:
        params["license"] = ",".join(str(i) for i in sorted(licenses))
    if bbox:
        params["bbox"] = ",".join(f"{float(v):.6f}".rstrip("0").rstrip(".") for v in bbox)
    return params


def redact(text: str, api_key: str) -> str:
    """``text`` with the API key, and any ``api_key=...`` value, replaced by REDACTED."""
    if api_key:
        text = text.replace(api_key, "REDACTED")
    return _KEY_PARAM.sub(r"\1REDACTED", text)


# -- answers -----------------------------------------------------------------------------


def check_http(status: int, body: bytes, content_type: str | None) -> None:
    """Raise for an HTTP answer that cannot hold a page: Retryable for 408/429/5xx."""
    if status in (408, 425, 429) or 500 <= status <= 599:
        raise Retryable(f"HTTP {status}", reason=f"http_{status}")
    if not 200 <= status <= 299:
        raise Permanent(f"HTTP {status}", reason=f"http_{status}")
    if content_type and "html" in content_type.lower() and not _looks_like_json(body):
        raise Retryable("an HTML page instead of JSON", reason="html")


def _looks_like_json(body: bytes) -> bool:
    head = body.lstrip()[:16]
    return head.startswith((b"{", b"jsonFlickrApi"))


@dataclass(frozen=True)
class Photo:
    """One validated photo record: Flickr's field names, typed (see ``items.META_KEYS``)."""

    id: str
    secret: str
    server: str
    owner: str
    dateupload: int
    farm: int | None = None
    ownername: str | None = None
    title: str | None = None
    tags: str | None = None
    license: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    accuracy: int | None = None
    datetaken: str | None = None
    views: int | None = None
    originalformat: str | None = None
    originalsecret: str | None = None
    o_width: int | None = None
    o_height: int | None = None
    urls: dict[str, str] = field(default_factory=dict)  # size letter -> http(s) URL
    dims: dict[str, tuple[int, int]] = field(default_factory=dict)  # size -> (width, height)

    def as_dict(self) -> dict[str, Any]:
        """The ``META_KEYS`` fields plus ``urls``: the keyword arguments of ``PhotoItem``."""
        record = {key: getattr(self, key) for key in META_KEYS}
        record["urls"] = dict(self.urls)
        return record


@dataclass(frozen=True)
class SearchPage:
    """One page of ``flickr.photos.search`` results."""

    page: int
    pages: int
    perpage: int
    total: int
    photos: list[Photo]
    rejected: list[tuple[str, str]]  # (reason, photo id or "?")

    @property
    def received(self) -> int:
        """How many records the page held, usable or not (tells a full page from a short one)."""
        return len(self.photos) + len(self.rejected)


def parse_search(body: bytes, *, sizes: Sequence[str]) -> SearchPage:
    """Parse a JSON answer of ``flickr.photos.search``; raise a ``FlickrError`` if it is none."""
    data = _load(body)
    stat = data.get("stat")
    if stat == "fail":
        raise _error(data)
    if stat != "ok":
        raise Retryable("an answer with no stat ok or fail", reason="bad_answer")
    photos = data.get("photos")
    if not isinstance(photos, dict) or not isinstance(photos.get("photo", []), list):
        raise Retryable("an answer without a photos list", reason="bad_answer")
    try:
        # total is needed; the paging numbers default to 0 when an answer leaves them out.
        numbers = [_count(photos.get(k, 0)) for k in ("page", "pages", "perpage")]
        numbers.append(_count(photos.get("total")))
    except BadRecord:
        raise Retryable("bad page counts in the answer", reason="bad_answer") from None
    good: list[Photo] = []
    rejected: list[tuple[str, str]] = []
    for raw in photos.get("photo", []):
        try:
            good.append(parse_photo(raw, sizes=sizes))
        except BadRecord as exc:
            rejected.append((exc.reason, _raw_id(raw)))
    page, pages, perpage, total = numbers
    return SearchPage(page, pages, perpage, total, good, rejected)


def _load(body: bytes) -> dict[str, Any]:
    """The answer's top-level JSON object, unwrapping ``jsonFlickrApi(...)``."""
    if isinstance(body, str):
        body = body.encode("utf-8", "replace")
    if not isinstance(body, bytes | bytearray) or not body.strip():
        raise Retryable("an empty answer", reason="empty_body")
    if body.lstrip()[:1] == b"<":
        raise Retryable("an HTML or XML page instead of JSON", reason="html")
    wrapped = _CALLBACK.match(body)
    try:
        data = json.loads(wrapped[1] if wrapped else body)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError
        raise Retryable("truncated or malformed JSON", reason="bad_json") from None
    if not isinstance(data, dict):
        raise Retryable("a JSON answer that is not an object", reason="bad_json")
    return data


def _error(data: dict[str, Any]) -> FlickrError:
    """The exception for a ``stat: fail`` answer."""
    message = data.get("message")
    message = _clean(message, 300) if isinstance(message, str) else "no message"
    try:
        code = _count(data.get("code"))
    except BadRecord:
        return Retryable(f"a failure without a code: {message}", reason="bad_answer")
    if code == INVALID_KEY:
        return InvalidKey(message, code)
    if code in RETRYABLE_CODES:
        return Retryable(message, code)
    return Permanent(message, code)


def _raw_id(raw: object) -> str:
    """A rejected record's id for logs: only when it is a plain id, else "?"."""
    value = raw.get("id") if isinstance(raw, dict) else None
    value = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    return value if isinstance(value, str) and _ID.fullmatch(value) else "?"


# -- photo records -------------------------------------------------------------------------


def parse_photo(raw: object, *, sizes: Sequence[str]) -> Photo:
    """Validate one photo record of a search answer; raise ``BadRecord`` if it is unusable.

    Identity fields (id, secret, server, owner) become parts of file names, so they
    must be plain tokens; ``dateupload`` drives the window planner. Optional fields
    may be absent (None) but not malformed. Flickr sends most numbers as strings
    (``"license": "4"``, ``"dateupload": "1464658015"``) and some as numbers
    (``"farm": 8``), so both are accepted.
    """
    if not isinstance(raw, dict):
        raise BadRecord("not_an_object")
    latitude, longitude, accuracy = _geo(raw)
    o_width, o_height = _positive(raw, "o_width"), _positive(raw, "o_height")
    urls, dims = _sizes(raw, sizes)
    return Photo(
        id=_token(raw, "id", _ID),
        secret=_token(raw, "secret", _SAFE),
        server=_token(raw, "server", _SAFE),
        owner=_token(raw, "owner", _NSID),
        dateupload=_required_count(raw, "dateupload"),
        farm=_optional_count(raw, "farm"),
        ownername=_text(raw, "ownername"),
        title=_text(raw, "title"),
        tags=_text(raw, "tags"),
        license=_optional_count(raw, "license"),
        latitude=latitude,
        longitude=longitude,
        accuracy=accuracy,
        datetaken=_datetaken(raw.get("datetaken")),
        views=_optional_count(raw, "views"),
        originalformat=_optional_token(raw, "originalformat", _FORMAT),
        originalsecret=_optional_token(raw, "originalsecret", _SAFE),
        o_width=o_width,
        o_height=o_height,
        urls=urls,
        dims=dims,
    )


def _token(raw: dict[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    value = raw.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise BadRecord(f"bad_{key}")
    return value


def _optional_token(raw: dict[str, Any], key: str, pattern: re.Pattern[str]) -> str | None:
    return None if raw.get(key) in (None, "") else _token(raw, key, pattern)


def _count(value: object) -> int:
    """A non-negative integer from an int or a string of digits."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**15:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 15:
        return int(value)
    raise BadRecord("bad_number")


def _required_count(raw: dict[str, Any], key: str) -> int:
    try:
        return _count(raw.get(key))
    except BadRecord:
        raise BadRecord(f"bad_{key}") from None


def _optional_count(raw: dict[str, Any], key: str) -> int | None:
    return None if raw.get(key) in (None, "") else _required_count(raw, key)


def _positive(raw: dict[str, Any], key: str) -> int | None:
    """A positive dimension; absent or 0 (Flickr's "unknown") is None."""
    value = _optional_count(raw, key)
    return value or None


def _text(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, dict) and isinstance(value.get("_content"), str):
        value = value["_content"]  # Flickr's JSON wraps some text as {"_content": ...}
    if not isinstance(value, str):
        raise BadRecord(f"bad_{key}")
    return _clean(value, _TEXT_CAPS[key])


def _clean(text: str, cap: int) -> str:
    """Valid UTF-8 (lone surrogates replaced), no NUL, at most ``cap`` characters."""
    text = text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    return text[:cap]


def _datetaken(value: object) -> str | None:
    """``YYYY-MM-DD HH:MM:SS``, or None when absent or Flickr's zero date."""
    if value in (None, "") or (isinstance(value, str) and value.startswith("0000-00-00")):
        return None
    if not isinstance(value, str) or not _TAKEN.fullmatch(value):
        raise BadRecord("bad_datetaken")
    return value


def _geo(raw: dict[str, Any]) -> tuple[float | None, float | None, int | None]:
    """Latitude, longitude and accuracy; all None for an untagged photo (0, 0, accuracy 0)."""
    accuracy = _optional_count(raw, "accuracy")
    if accuracy is not None and accuracy > 16:
        raise BadRecord("bad_accuracy")
    lat, lon = _coordinate(raw.get("latitude"), 90), _coordinate(raw.get("longitude"), 180)
    if lat is None or lon is None or (lat == 0 and lon == 0 and not accuracy):
        return None, None, None
    return lat, lon, accuracy or None


def _coordinate(value: object, limit: float) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadRecord("bad_geo")
    try:
        number = float(value)
    except ValueError:
        raise BadRecord("bad_geo") from None
    if not math.isfinite(number) or abs(number) > limit:
        raise BadRecord("bad_geo")
    return number


def _sizes(
    raw: dict[str, Any], sizes: Sequence[str]
) -> tuple[dict[str, str], dict[str, tuple[int, int]]]:
    """URLs (``url_<s>``) and dimensions (``width_<s>``, ``height_<s>``) of the wanted sizes."""
    urls: dict[str, str] = {}
    dims: dict[str, tuple[int, int]] = {}
    for size in sizes:
        suffix = _EXTRA_SIZE.get(size, size)
        url = raw.get(f"url_{suffix}")
        if url in (None, ""):
            continue
        if not isinstance(url, str) or not _URL.fullmatch(url):
            raise BadRecord("bad_url")
        urls[size] = url
        width = _positive(raw, f"width_{suffix}")
        height = _positive(raw, f"height_{suffix}")
        if width and height:
            dims[size] = (width, height)
    return urls, dims
