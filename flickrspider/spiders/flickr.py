"""The ``flickr`` spider: search Flickr in adaptive upload-time windows.

    scrapy crawl flickr -a keywords=paris,london [-a download=0 -O photos.jsonl]

Per keyword, the first call probes the whole date range (its ``total`` is the
keyword's progress target); ``flickrspider.windows`` decides from each probe
whether the window is settled (fetch its other pages at once, probe the next)
or must advance. Everything a later request needs travels in its ``cb_kwargs``
(STYLE 6), so JOBDIR resume and scrapy-redis work unchanged. Items go on to the
pipelines (dedup, size choice, images) unless ``download=0``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import scrapy
from scrapy.exceptions import CloseSpider

from flickrspider import distributed, flickrapi, windows
from flickrspider.args import SearchArgs, is_negative, query_text
from flickrspider.config import FlickrConfig
from flickrspider.crawlsetup import configure_crawl, fail_early
from flickrspider.items import PhotoItem
from flickrspider.licenses import license_name
from flickrspider.middlewares import retry_api_request

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)


class FlickrSpider(scrapy.Spider):
    name = "flickr"
    config: FlickrConfig
    per_page: int
    planner: windows.PlannerConfig

    def __init__(self, **kwargs: str) -> None:
        super().__init__()
        self.args = SearchArgs.from_kwargs(kwargs)
        self._unsplittable: dict[tuple[str, int], dict[str, Any]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        with fail_early():
            spider = super().from_crawler(crawler, *args, **kwargs)
            spider.config = configure_crawl(crawler, download=spider.args.download)
            # with FLICKR_REDIS_URL: join the shared crawl of these arguments
            spider.args = distributed.join(crawler, cls.name, spider.args, kwargs)
        spider.per_page = flickrapi.per_page_for(spider.args.geo, spider.args.bbox)
        spider.planner = windows.PlannerConfig(per_page=spider.per_page)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        lo, hi = self.args.min_upload_date, self.args.max_upload_date
        for keyword in self.args.queries:
            task = {
                "kw": keyword,
                "start": lo,
                "end": hi,
                "page": 1,
                "kind": "probe",
                "sort": "date-posted-asc",
                "hi": hi,  # where this chain of windows ends
                "rate": None,
                "first": True,
            }
            yield self.search_request(task)

    # -- requests ------------------------------------------------------------------
    def search_request(self, task: dict[str, Any], *, priority: int = 0) -> scrapy.Request:
        params = flickrapi.search_params(
            api_key="",
            text=query_text(task["kw"], self.args),
            geo=self.args.geo,
            accuracy=self.args.accuracy,
            licenses=self.args.licenses,
            bbox=self.args.bbox,
            min_upload=task["start"],
            max_upload=task["end"],
            page=task["page"],
            per_page=self.per_page,
            sort=task["sort"],
            extras=flickrapi.extras_for(self.config.sizes),
        )
        params.pop("api_key", None)  # added by FlickrApiMiddleware at download time only
        return scrapy.Request(
            self.config.api_url,
            method="POST",
            body=urlencode(params),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            callback=self.parse_search,
            errback=self.search_failed,
            cb_kwargs={"task": task},
            meta={"flickr_api": True, "dont_retry": True, "flickr_keyword": task["kw"]},
            priority=priority,
        )

    # -- callbacks -----------------------------------------------------------------
    def parse_search(self, response: Response, task: dict[str, Any]) -> Iterator[Any]:
        try:
            page = flickrapi.parse_search(response.body, sizes=self.config.sizes)
        except flickrapi.InvalidKey as exc:
            logger.error("Flickr rejected the API key (code %s): check FLICKR_API_KEY", exc.code)
            raise CloseSpider("flickr_invalid_api_key") from None
        except flickrapi.Retryable as exc:
            assert response.request is not None and self.crawler.stats is not None
            retry = retry_api_request(response.request, _reason(exc), self.crawler.stats)
            if retry is not None:
                yield retry
            else:
                self._window_lost(task, _reason(exc))
                task["retry_on_resume"] = True  # the job journal keeps it for the next run
            return
        except flickrapi.FlickrError as exc:
            logger.error("Flickr error %s (%s) for %s", exc.code, exc.message, _describe(task))
            self._window_lost(task, _reason(exc))
            return
        yield from self._items(page, task)
        if task.get("first"):
            self.crawler.stats.set_value(f"flickr/keyword/{task['kw']}/total", page.total)
        if task["kind"] == "probe":
            yield from self._after_probe(page, task)
        elif task["kind"] == "page":
            yield from self._after_page(page, task)
        else:
            yield from self._after_sort_page(page, task)

    def search_failed(self, failure: Failure) -> None:
        task = failure.request.cb_kwargs.get("task", {})  # type: ignore[attr-defined]
        self._window_lost(task, _reason(failure.value) if failure.value else "unknown")

    # -- window logic ----------------------------------------------------------------
    def _after_probe(self, page: flickrapi.SearchPage, task: dict[str, Any]) -> Iterator[Any]:
        window = windows.Window(task["start"], task["end"])
        uploads = sorted(p.dateupload for p in page.photos if p.dateupload is not None)
        decision = windows.decide(self.planner, window, page.total, uploads)
        stats, kw = self.crawler.stats, task["kw"]
        if isinstance(decision, windows.Settled):
            stats.inc_value("flickr/windows/settled")
            stats.inc_value(f"flickr/keyword/{kw}/windows")
            for number in range(2, decision.pages + 1):
                yield self.search_request(
                    {
                        **task,
                        "kind": "page",
                        "page": number,
                        "pages": decision.pages,
                        "first": False,
                    }
                )
            if decision.pages == 1:
                yield from self._after_page(page, {**task, "pages": 1})
            yield from self._next_window(task, window.end + 1, decision.rate, window)
        elif isinstance(decision, windows.Advance):
            stats.inc_value("flickr/windows/split")
            stats.inc_value(f"flickr/keyword/{kw}/windows")
            yield from self._next_window(task, decision.cursor, decision.rate, decision.done)
        elif isinstance(decision, windows.Narrow):
            stats.inc_value("flickr/windows/split")
            narrow = decision.window
            yield self.search_request(
                {**task, "start": narrow.start, "end": narrow.end, "first": False}, priority=1
            )
        else:
            yield from self._unsplittable_start(page, task, decision, probe=page)

    def _next_window(
        self, task: dict[str, Any], cursor: int, rate: float | None, previous: windows.Window
    ) -> Iterator[Any]:
        found = self.crawler.stats.get_value(f"flickr/keyword/{task['kw']}/found", 0)
        if self.args.max_photos is not None and found >= self.args.max_photos:
            return
        nxt = windows.plan_next(self.planner, cursor, task["hi"], rate, previous.seconds)
        if nxt is not None:
            yield self.search_request(
                {
                    **task,
                    "kind": "probe",
                    "page": 1,
                    "start": nxt.start,
                    "end": nxt.end,
                    "rate": rate,
                    "first": False,
                },
                priority=1,
            )

    def _after_page(self, page: flickrapi.SearchPage, task: dict[str, Any]) -> Iterator[Any]:
        if task["page"] < task.get("pages", 1) or not page.photos:
            return
        window = windows.Window(task["start"], task["end"])
        last = max(p.dateupload for p in page.photos if p.dateupload is not None)
        more = windows.after_last_page(self.planner, window, task["page"], page.received, last)
        if more is None:
            return
        self.crawler.stats.inc_value("flickr/windows/continued")
        if isinstance(more, windows.Unsplittable):
            yield from self._unsplittable_start(page, task, more, probe=None)
        elif more.window is not None:
            # A chain of its own that ends where the settled window ended.
            rest = more.window
            yield self.search_request(
                {
                    **task,
                    "kind": "probe",
                    "page": 1,
                    "start": rest.start,
                    "end": rest.end,
                    "hi": rest.end,
                    "rate": None,
                    "first": False,
                },
                priority=1,
            )
        else:
            yield self.search_request(
                {**task, "page": more.page, "pages": more.page, "first": False}
            )

    def _unsplittable_start(
        self,
        page: flickrapi.SearchPage,
        task: dict[str, Any],
        decision: windows.Unsplittable,
        probe: flickrapi.SearchPage | None,
    ) -> Iterator[Any]:
        kw, second = task["kw"], decision.window.start
        logger.warning(
            "%d photos of %r were uploaded in one second (%d): fetching every sort order",
            page.total,
            kw,
            second,
        )
        self._unsplittable[(kw, second)] = {"total": page.total, "ids": set()}
        base = {**task, "kind": "sort", "start": second, "end": decision.window.end, "first": False}
        for sort in decision.sorts:
            if probe is not None and sort == task["sort"]:
                yield from self._after_sort_page(probe, {**base, "sort": sort, "page": 1})
            else:
                yield self.search_request({**base, "sort": sort, "page": 1})
        yield from self._next_window(task, decision.window.end + 1, None, decision.window)

    def _after_sort_page(self, page: flickrapi.SearchPage, task: dict[str, Any]) -> Iterator[Any]:
        record = self._unsplittable.get((task["kw"], task["start"]))
        if record is not None:
            record["ids"].update(p.id for p in page.photos)
        if page.received >= self.per_page and task["page"] < self.planner.max_pages:
            yield self.search_request({**task, "page": task["page"] + 1})

    # -- items and accounting ------------------------------------------------------
    def _items(self, page: flickrapi.SearchPage, task: dict[str, Any]) -> Iterator[PhotoItem]:
        stats = self.crawler.stats
        for reason, _ in page.rejected:
            stats.inc_value(f"flickr/photos/rejected/{reason}")
        for photo in page.photos:
            if self.args.negatives_mode == "filter" and is_negative(
                photo.tags or "", photo.title or "", self.args.negatives
            ):
                stats.inc_value("flickr/photos/negative")
                continue
            record = photo.as_dict()
            yield PhotoItem(**record, keyword=task["kw"], license_name=license_name(photo.license))

    def _window_lost(self, task: dict[str, Any], reason: str) -> None:
        self.crawler.stats.inc_value(f"flickr/windows/failed/{reason}")
        logger.error(
            "Gave up on %s (%s): its photos are missing from this run", _describe(task), reason
        )

    def closed(self, reason: str) -> None:
        for (kw, second), record in self._unsplittable.items():
            lost = max(0, record["total"] - len(record["ids"]))
            self.crawler.stats.inc_value("flickr/photos/unreachable", lost)
            if lost:
                logger.warning(
                    "%d photos of %r uploaded in second %d stayed unreachable", lost, kw, second
                )


def _reason(exc: BaseException) -> str:
    """A stats slug: the Flickr error's own reason, else the exception's class name."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason:
        return reason
    code = getattr(exc, "code", None)
    return f"code_{code}" if isinstance(code, int) else type(exc).__name__


def _describe(task: dict[str, Any]) -> str:
    return (
        f"{task.get('kw')!r} window {task.get('start')}..{task.get('end')} page {task.get('page')}"
    )
