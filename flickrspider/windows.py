"""The adaptive upload-time window planner (docs/ARCHITECTURE.md, "Stage 1: windows").

Pure and deterministic. Flickr returns at most 4,000 results per query, so one
keyword is searched in upload-time windows ``[start, end]`` (whole seconds, both
inclusive), every call sorted ``date-posted-asc``. The spider's loop per keyword::

    window = Window(lo, hi)                # the first probe: the whole range
    rate = prev = None
    while window:                          # page 1 of a window is its probe
        d = decide(cfg, window, total, uploads_on_page_1)
        Settled      -> fetch pages 2..d.pages; cursor = window.end + 1
        Advance      -> d.done is complete;     cursor = d.cursor
        Narrow       -> window = d.window; continue   (probe it; no planning)
        Unsplittable -> fetch every page of every sort in d.sorts; cursor = window.end + 1
        rate, prev = d.rate, seconds of the settled / done window
        window = plan_next(cfg, cursor, hi, rate, prev)

After the last page of a settled window, ``after_last_page`` says whether a full
last page means ``total`` was short: fetch the next page, or search a
continuation window ``[last_upload, window.end]`` as a sub-chain whose ``hi`` is
``window.end`` (the main chain has already moved on past it).

Cost: every probe is reused as page 1, and a probe over the cap still completes
the part of its window before its last photo (``Advance``), so no call is wasted
on a window that was planned too long. Windows are planned to hold ``target``
photos: few enough that an approximate ``total`` stays under the cap, many
enough that the last, partial page of each window is a small overhead.

Everything the spider carries between requests is plain ints and floats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

UNSPLITTABLE_SORTS: tuple[str, ...] = (
    "date-posted-asc",
    "date-posted-desc",
    "date-taken-asc",
    "date-taken-desc",
    "interestingness-desc",
    "interestingness-asc",
    "relevance",
)
# Below this many photos a window's rate is too noisy to plan with.
SPARSE_PHOTOS = 16
# A remainder shorter than this share of the next window is searched with it.
TAIL_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class Window:
    """Upload seconds ``start..end``, both inclusive."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"empty window {self.start}..{self.end}")

    @property
    def seconds(self) -> int:
        return self.end - self.start + 1


@dataclass(frozen=True)
class PlannerConfig:
    """How windows are sized.

    ``per_page``: photos per search page; ``cap``: Flickr's result limit ("at most
    the first 4,000 results for any given search query"); ``fill``: the share of
    the safe count a planned window aims at, leaving room for an approximate
    ``total`` and a rising rate; ``max_growth``: if set, the most a window may grow
    over the previous one. Unset by default: in simulation a cap of 8 halves the
    serial ``Advance`` calls on steep growth curves but costs about 2% more calls.
    """

    per_page: int
    cap: int = 4000
    fill: float = 0.85
    max_growth: float | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.per_page <= self.cap:
            raise ValueError(f"per_page ({self.per_page}) must be from 1 to cap ({self.cap})")
        if not 0 < self.fill <= 1:
            raise ValueError(f"fill ({self.fill}) must be in (0, 1]")
        if self.max_growth is not None and self.max_growth < 1:
            raise ValueError(f"max_growth ({self.max_growth}) must be at least 1")

    @property
    def max_pages(self) -> int:
        """Pages that can be fetched before results repeat."""
        return self.cap // self.per_page

    @property
    def safe(self) -> int:
        """The most results a window may have to be fetched completely."""
        return self.max_pages * self.per_page

    @property
    def target(self) -> float:
        """Photos a planned window should hold."""
        return self.fill * self.safe


@dataclass(frozen=True)
class Settled:
    """The window fits: fetch pages 2..pages; then continue at ``window.end + 1``."""

    window: Window
    pages: int
    rate: float | None  # photos per second; None after a single burst second


@dataclass(frozen=True)
class Advance:
    """Over the cap, but ``done`` (all before page 1's last second) is complete."""

    done: Window
    cursor: int  # = the last photo's second; its photos may be seen twice
    rate: float


@dataclass(frozen=True)
class Narrow:
    """Over the cap and page 1 says nothing about the rest: probe ``window`` next."""

    window: Window


@dataclass(frozen=True)
class Unsplittable:
    """One second over the cap: fetch every page in each sort order, report the rest."""

    window: Window
    sorts: tuple[str, ...] = UNSPLITTABLE_SORTS


@dataclass(frozen=True)
class Continue:
    """A full last page: fetch ``page`` of the same window, or search ``window``."""

    page: int | None = None
    window: Window | None = None


Decision = Settled | Advance | Narrow | Unsplittable


def decide(cfg: PlannerConfig, window: Window, total: int, uploads: Sequence[int]) -> Decision:
    """What a window's probe (its page 1, ``uploads`` ascending) means for the plan."""
    seen = sorted(u for u in uploads if window.start <= u <= window.end)
    count = max(total, len(seen))
    if count <= cfg.safe:
        # Everything is reachable: fetch the other pages (at least the probe itself).
        pages = max(1, math.ceil(count / cfg.per_page))
        rate = None if window.seconds == 1 else count / window.seconds
        return Settled(window, pages, rate)
    if window.seconds == 1:
        return Unsplittable(window)
    if not seen:
        # A page of unusable records: halve the window and look again.
        return Narrow(Window(window.start, window.start + window.seconds // 2 - 1))
    last = seen[-1]
    if last == window.start:
        # A full page in the window's first second: search that second alone.
        return Narrow(Window(window.start, window.start))
    # Ascending order: every photo uploaded before `last` is on page 1.
    done = Window(window.start, last - 1)
    return Advance(done, last, len(seen) / done.seconds)


def plan_next(
    cfg: PlannerConfig, cursor: int, hi: int, rate: float | None, prev_seconds: int | None
) -> Window | None:
    """The next window from ``cursor``, sized to hold about ``cfg.target`` photos.

    Without a usable rate (the first window, after a burst second, or after a
    window of fewer than ``SPARSE_PHOTOS`` photos) the whole rest ``[cursor, hi]``
    is probed: its page 1 is never wasted, and if the rest is over the cap the
    ``Advance`` it gets measures the local rate on a full page. (Growing a window
    step by step out of a quiet stretch costs a call per step instead.) With
    ``cfg.max_growth`` set, a window grows at most that many times over the
    previous one. None when ``cursor`` is past ``hi``.
    """
    if cursor > hi:
        return None
    prev = max(1, prev_seconds or 1)
    if rate is None or prev_seconds is None or rate * prev < SPARSE_PHOTOS:
        return Window(cursor, hi)
    length = cfg.target / rate
    if cfg.max_growth is not None:
        length = min(length, prev * cfg.max_growth)
    seconds = max(1, int(min(length, hi - cursor + 1)))
    end = cursor + seconds - 1
    if hi - end <= seconds * TAIL_SHARE:
        end = hi  # do not leave a sliver for one more call
    return Window(cursor, end)


def after_last_page(
    cfg: PlannerConfig, window: Window, page: int, n_photos: int, last_upload: int
) -> Continue | Unsplittable | None:
    """After the last page of a settled window: is there more than ``total`` said?

    ``n_photos`` is how many records the page held (``SearchPage.received``). A
    page that is not full ends the window. A full page below the page limit asks
    for the next page; at the limit the window continues from the last upload
    second, or, when that is the window's first second, with that second alone
    (and a single second at the limit is unsplittable).
    """
    if n_photos < cfg.per_page:
        return None
    if page < cfg.max_pages:
        return Continue(page=page + 1)
    last = min(max(last_upload, window.start), window.end)
    if last > window.start:
        return Continue(window=Window(last, window.end))
    if window.seconds > 1:
        return Continue(window=Window(window.start, window.start))
    return Unsplittable(window)
