"""``flickr.photos.search`` arguments, parsed the way Flickr reads them.

Argument names and semantics follow Flickr's method reference (mirrored in
christopheradams/flickrex lib/flickr/getMethodInfo/flickr.photos.search.json):
``text`` and ``tags`` take ``-term`` exclusions, ``tag_mode`` any (default) or
all, upload/taken dates are inclusive and take unix timestamps or MySQL
datetimes, ``per_page`` defaults to 100 with a maximum of 500, geo/bbox queries
return at most 250 per page, ``sort`` defaults to date-posted-desc. Like Flickr,
arguments that cannot be parsed are ignored (and counted, see ``Query.ignored``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flickrspider.emulator.config import parse_time
from flickrspider.emulator.words import normalize_tag, tokens

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 500
GEO_MAX_PER_PAGE = 250  # "geo (or bounding box) queries will only return 250 results per page"
MAX_ALL_TAGS = 20  # error 1: "Too many tags in ALL query"
RECENT_SECONDS = (
    12 * 3600
)  # geo queries without a limiting agent: "photos added in the last 12 hours"
SORTS = (
    "date-posted-desc",
    "date-posted-asc",
    "date-taken-asc",
    "date-taken-desc",
    "interestingness-desc",
    "interestingness-asc",
    "relevance",
)
EXTRAS = frozenset(
    """description license date_upload date_taken owner_name icon_server original_format
    last_update geo tags machine_tags o_dims views media path_alias url_sq url_t url_s url_q
    url_m url_n url_w url_z url_c url_l url_h url_k url_o""".split()  # noqa: SIM905
)
GEO_ARGS = ("bbox", "has_geo", "lat", "lon", "woe_id", "place_id")
UNSUPPORTED = ("lat", "lon", "radius", "woe_id", "place_id", "group_id", "contacts", "machine_tags")


class ApiError(Exception):
    """A Flickr ``stat=fail`` answer: ``code`` and ``message`` as Flickr sends them."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Query:
    """One search, normalised; ``key()`` identifies it independently of paging and sort."""

    text_all: tuple[str, ...] = ()
    text_not: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    tags_not: tuple[str, ...] = ()
    tag_mode: str = "any"
    user_id: str | None = None
    min_upload: int | None = None
    max_upload: int | None = None
    min_taken: int | None = None
    max_taken: int | None = None
    has_geo: bool | None = None
    accuracy: int | None = None
    licenses: frozenset[int] | None = None
    bbox: tuple[float, float, float, float] | None = None
    media: str = "all"
    recent_only: bool = False
    sort: str = "date-posted-desc"
    extras: tuple[str, ...] = ()
    per_page: int = DEFAULT_PER_PAGE
    page: int = 1
    ignored: tuple[str, ...] = field(default=(), compare=False)

    def key(self) -> str:
        """The filters only: equal for every page, page size, sort and extras of one query."""
        return repr(
            (
                self.text_all,
                self.text_not,
                self.tags,
                self.tags_not,
                self.tag_mode,
                self.user_id,
                self.min_upload,
                self.max_upload,
                self.min_taken,
                self.max_taken,
                self.has_geo,
                self.accuracy,
                sorted(self.licenses or ()),
                self.bbox,
                self.media,
                self.recent_only,
            )
        )


def _int(value: str | None) -> int | None:
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def _split_terms(words: list[str]) -> tuple[list[str], list[str]]:
    """Positive and negative (``-term``) words; quotes and punctuation are dropped."""
    positive: list[str] = []
    negative: list[str] = []
    for raw in words:
        term = raw.strip().strip("\"'")
        if term.startswith("-"):
            negative.extend(tokens(term[1:]))
        else:
            positive.extend(tokens(term))
    return positive, negative


def _bbox(value: str) -> tuple[float, float, float, float] | None:
    try:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in value.split(","))
    except ValueError:
        return None
    ok = -180 <= min_lon <= 180 and -180 <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90
    return (min_lon, min_lat, max_lon, max_lat) if ok else None


def parse_query(params: Mapping[str, str]) -> Query:  # noqa: PLR0912, PLR0915
    """Flickr's reading of the arguments; raises ApiError for the documented failures."""
    ignored: list[str] = []
    values: dict[str, object] = {}
    text_all, text_not = _split_terms(params.get("text", "").split())
    tags_all: list[str] = []
    tags_not: list[str] = []
    for raw in params.get("tags", "").split(","):
        tag = raw.strip()
        target = tags_not if tag.startswith("-") else tags_all
        if normalize_tag(tag):
            target.append(normalize_tag(tag))
    tag_mode = params.get("tag_mode", "any").strip().lower()
    if tag_mode not in ("any", "all"):
        ignored.extend(["tag_mode"] if "tag_mode" in params else [])
        tag_mode = "any"
    if tag_mode == "all" and len(tags_all) > MAX_ALL_TAGS:
        raise ApiError(1, "Too many tags in ALL query")
    for name, attr in (
        ("min_upload_date", "min_upload"),
        ("max_upload_date", "max_upload"),
        ("min_taken_date", "min_taken"),
        ("max_taken_date", "max_taken"),
    ):
        if name in params:
            values[attr] = parse_time(params[name])
            if values[attr] is None:
                ignored.append(name)
    if "has_geo" in params:
        flag = params["has_geo"].strip().lower()
        values["has_geo"] = flag not in ("0", "false", "")
    if "accuracy" in params:
        acc = _int(params["accuracy"])
        if acc is not None and 1 <= acc <= 16:
            values["accuracy"] = acc
        else:
            ignored.append("accuracy")
    if "license" in params:
        ids = {_int(v) for v in params["license"].split(",") if v.strip()}
        valid = frozenset(i for i in ids if i is not None and 0 <= i <= 16)
        if len(valid) < len(ids):
            ignored.append("license")
        values["licenses"] = valid or None
    if "bbox" in params:
        values["bbox"] = _bbox(params["bbox"])
        if values["bbox"] is None:
            ignored.append("bbox")
    media = params.get("media", "all").strip().lower()
    if media not in ("all", "photos", "videos"):
        ignored.append("media")
        media = "all"
    sort = params.get("sort", "date-posted-desc").strip().lower() or "date-posted-desc"
    if sort not in SORTS:
        ignored.append("sort")
        sort = "date-posted-desc"
    extras = tuple(dict.fromkeys(e.strip().lower() for e in params.get("extras", "").split(",")))
    ignored.extend(name for name in UNSUPPORTED if name in params)
    geo = any(name in params for name in GEO_ARGS)
    per_page = _int(params.get("per_page"))
    if per_page is None or per_page < 1:
        ignored.extend(["per_page"] if "per_page" in params else [])
        per_page = DEFAULT_PER_PAGE
    per_page = min(per_page, GEO_MAX_PER_PAGE if geo else MAX_PER_PAGE)
    page = _int(params.get("page"))
    if page is None or page < 1:
        ignored.extend(["page"] if "page" in params else [])
        page = 1
    user_id = params.get("user_id", "").strip() or None
    # Limiting agents: without one a search is "parameterless" (error 3), or, for a
    # geo query, limited to "photos added in the last 12 hours" (bbox argument docs).
    limiting = bool(
        text_all
        or tags_all
        or user_id
        or values.get("min_upload") is not None
        or values.get("min_taken") is not None
    )
    dated = values.get("max_upload") is not None or values.get("max_taken") is not None
    if not (limiting or dated or geo):
        raise ApiError(
            3,
            "Parameterless searches have been disabled. "
            "Please use flickr.photos.getRecent instead.",
        )
    return Query(
        text_all=tuple(dict.fromkeys(text_all)),
        text_not=tuple(dict.fromkeys(text_not)),
        tags=tuple(dict.fromkeys(tags_all)),
        tags_not=tuple(dict.fromkeys(tags_not)),
        tag_mode=tag_mode,
        user_id=user_id,
        media=media,
        recent_only=geo and not limiting and not dated,
        sort=sort,
        extras=tuple(e for e in extras if e in EXTRAS),
        per_page=per_page,
        page=page,
        ignored=tuple(ignored),
        **values,  # type: ignore[arg-type]
    )
