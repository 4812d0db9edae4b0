"""``FlickrImagesPipeline``: ImagesPipeline, extended through its documented hooks only.

``get_media_requests`` asks for the chosen size and carries the fallbacks;
``media_downloaded`` hands the body to a worker process (``imagework.store``) that
decodes, removes frames, resizes (or passes the JPEG through untouched), splices
the metadata in, claims the shard slot and writes the file, so both cores work and
the reactor never waits on Pillow or the disk; ``file_path`` is the shard slot the
ledger gave the photo; ``item_completed`` counts and drops what failed.

Expected outcomes (too small, gone, off the allowlist, bad bodies) are returned
as a FileInfo whose ``status`` is ``failed:<reason>`` rather than raised, so they
are counted by reason instead of logged as tracebacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.exceptions import DropItem
from scrapy.http.request import NO_CALLBACK
from scrapy.pipelines.images import ImagesPipeline

from flickrspider.config import FlickrConfig
from flickrspider.imagerules import ImageRejected, ImageRules
from flickrspider.imagework import Prepared, Stored, prepare, store, store_in_worker
from flickrspider.journal import RetryOnResume, stop_crawl
from flickrspider.paths import keyword_dir
from flickrspider.pipelines import count, ledger_for
from flickrspider.store import StoreError
from flickrspider.workers import DEPTH, WorkerCrashed, WorkerPool

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.pipelines.media import FileInfo, FileInfoOrError, MediaPipeline

    from flickrspider.items import PhotoItem

logger = logging.getLogger(__name__)

# Bodies that a second try can fix (the host sent something broken this time).
RETRY_BODY = frozenset({"empty", "truncated", "not_image"})
RETRY_BODY_TIMES = 3
# Outcomes that will not change on a later run: remembered in the ledger.
PERMANENT = frozenset({"too_small", "not_found", "decompression_bomb", "unsupported_mode"})
WORKER_PRELOAD = ("flickrspider.imagework", "flickrspider.imaging", "pyvips")  # before workers fork
# Image workers yield the CPU to the crawl's process, which downloads what they work on:
# measured, both cores were busy 85% of a crawl this way, against 83% at equal priority.
WORKER_NICENESS = 5
UNAVAILABLE_PLACEHOLDER_BYTES = 5000  # Flickr's "photo unavailable" image (ORIGINAL.md)
_PLACEHOLDER_MAGIC = frozenset({b"GIF8", b"\x89PNG"})


class _Failed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FlickrImagesPipeline(ImagesPipeline):
    def __init__(self, store_uri: str, *, crawler: Crawler) -> None:
        super().__init__(store_uri, crawler=crawler)
        self.config = FlickrConfig.from_settings(crawler.settings)
        self.rules = ImageRules(
            max_side=self.config.max_side,
            min_side=self.config.min_side,
            remove_frames=self.config.remove_frames,
            jpeg_quality=self.config.jpeg_quality,
        )
        assert crawler.stats is not None
        self.stats = crawler.stats
        # Image work runs in worker processes (one per core by default), so the reactor
        # never shares the GIL with it; threads wait on them and on SQLite and file I/O,
        # which release the GIL. Without processes the threads do the image work too.
        processes = self.config.image_processes
        self.pool = (
            WorkerPool(processes, preload=WORKER_PRELOAD, niceness=WORKER_NICENESS)
            if processes
            else None
        )
        # Enough threads to keep every worker's DEPTH calls taken, and a few for the rest.
        threads = DEPTH * processes + 2 if processes else 2 * (os.cpu_count() or 2)
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="flickrspider-image")
        # Photos between download and store at once: bounds memory however fast items come.
        self.in_flight_limit = 2 * crawler.settings.getint("CONCURRENT_REQUESTS", 16)
        self._in_flight: asyncio.Semaphore | None = None
        self._closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings["IMAGES_STORE"], crawler=crawler)

    def open_spider(self) -> None:  # type: ignore[override]  # no spider argument
        super().open_spider()
        self.ledger = ledger_for(self.crawler)
        # A worker stores what it prepared itself, through its own ledger connection.
        self._prepare: Callable[..., Prepared] = prepare
        self._store: Callable[..., Stored] = partial(store, self.ledger)
        if self.pool is not None:
            self.executor.submit(self.pool.start)  # ready by the time the first body is
            self._prepare = partial(self.pool.call, prepare)
            dataset = (self.config.images_store, self.config.shard_size)
            self._store = partial(self.pool.call, store_in_worker, dataset)

    def close_spider(self) -> None:
        self.executor.shutdown(wait=True)
        if self.pool is not None:
            self.pool.close()

    # -- ImagesPipeline hooks ------------------------------------------------
    def get_media_requests(self, item: PhotoItem, info: MediaPipeline.SpiderInfo) -> list[Request]:
        if item.images:  # stored by an earlier run of this job (DedupPipeline restored it)
            return []
        first, *fallbacks = item.image_urls
        meta = {"flickr_image": True, "flickr_fallbacks": fallbacks}
        return [Request(first, callback=NO_CALLBACK, meta=meta)]

    async def media_to_download(  # type: ignore[override]  # MediaPipeline awaits any awaitable
        self, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None
    ) -> FileInfo | None:
        # DedupPipeline already skipped what the dataset holds; here we only wait for
        # room, so that a flood of items never holds more than in_flight_limit bodies.
        if self._in_flight is None:
            self._in_flight = asyncio.Semaphore(self.in_flight_limit)
        await self._in_flight.acquire()
        if self._closing:  # the dataset is unwritable: download nothing more
            return {"url": request.url, "path": "", "checksum": None, "status": "failed:unwritable"}
        return None

    def file_path(
        self,
        request: Request,
        response: Response | None = None,
        info: MediaPipeline.SpiderInfo | None = None,
        *,
        item: Any = None,
    ) -> str:
        if item is not None and item.path:
            return str(item.path)
        return f"{keyword_dir(item.keyword)}/{item.name()}"  # before a slot is claimed

    async def media_downloaded(
        self,
        response: Response,
        request: Request,
        info: MediaPipeline.SpiderInfo,
        *,
        item: Any = None,
    ) -> FileInfo:
        try:
            response, stored = await self._fetch_and_store(response, request, item)
        except _Failed as failed:
            return {
                "url": request.url,
                "path": "",
                "checksum": None,
                "status": f"failed:{failed.reason}",
            }
        item.width, item.height, item.frame = stored.width, stored.height, stored.frame
        item.keyword = stored.keyword  # an interrupted run may have claimed it for another
        item.path = stored.path
        return {
            "url": response.url,
            "path": stored.path,
            "checksum": stored.checksum,
            "status": "downloaded",
        }

    def item_completed(
        self, results: list[FileInfoOrError], item: PhotoItem, info: MediaPipeline.SpiderInfo
    ) -> PhotoItem:
        info.downloaded.clear()  # each URL is fetched once: keep memory flat
        if not results:  # restored: already in the dataset, only its feed record was missing
            return item
        if self._in_flight is not None:
            self._in_flight.release()
        ok, value = results[0]
        status = value["status"] if ok else "failed:download_error"  # type: ignore[index]
        if status == "downloaded":
            item.images = [dict(value)]  # type: ignore[arg-type]
            count(self.stats, item, "images/stored")
            return item
        reason = status.split(":", 1)[1]
        if reason == "too_small":
            count(self.stats, item, "images/too_small")
        else:
            count(self.stats, item, f"images/failed/{reason}")
        if reason in PERMANENT:  # in a thread: the ledger's lock may be held by a write
            self.executor.submit(self._reject, item.id, item.keyword)
        if reason == "unwritable":  # not the photo's fault: a resumed job tries it again
            raise RetryOnResume(f"photo {item.id} not stored: {reason}", log_level="DEBUG")
        level = "DEBUG" if reason == "too_small" else "WARNING"
        raise DropItem(f"photo {item.id} not stored: {reason}", log_level=level)

    # -- steps -------------------------------------------------------------------
    async def _fetch_and_store(
        self, response: Response, request: Request, item: PhotoItem
    ) -> tuple[Response, Stored]:
        fallbacks = list(request.meta.get("flickr_fallbacks", []))
        sizes = {url: size for size, url in item.urls.items()}
        body_tries = 0
        loop = asyncio.get_running_loop()
        while True:
            reason = _response_problem(response)
            if reason is None:
                item.source_url = response.url
                item.source_size = sizes.get(response.url)
                # Flickr's "unavailable" image is only decoded (a small bomb is still one).
                placeholder = _placeholder(response.body)
                args = (response.body, self.rules, item.metadata())
                job = (
                    partial(self._prepare, *args)
                    if placeholder
                    else partial(self._store, *args, item.name())
                )
                try:
                    stored = await loop.run_in_executor(self.executor, job)
                except ImageRejected as rejected:
                    reason = rejected.reason
                except (StoreError, sqlite3.OperationalError) as exc:
                    self._unwritable(exc)
                    raise _Failed("unwritable") from exc
                except WorkerCrashed as crashed:
                    logger.error("Photo %s: %s", item.id, crashed)
                    reason = "worker_crashed"
                except Exception:  # a bug, not the photo's fault: say so, and go on
                    logger.exception("Photo %s: processing failed", item.id)
                    reason = "processing_error"
                else:
                    if isinstance(stored, Stored):
                        return response, stored
                    reason = "not_found"  # decoded, but it is the placeholder
                if reason == "too_small" and placeholder:
                    reason = "not_found"
                if reason in RETRY_BODY and body_tries < RETRY_BODY_TIMES:
                    body_tries += 1
                    self.stats.inc_value(f"flickr/images/retried/{reason}")
                    response = await self._download(response.url)
                    continue
            if reason in {"not_found", *RETRY_BODY} and fallbacks:
                self.stats.inc_value("flickr/images/fallback")
                response = await self._download(fallbacks.pop(0))
                body_tries = 0
                continue
            raise _Failed(reason)

    def _unwritable(self, exc: OSError | sqlite3.OperationalError) -> None:
        """A full or read-only disk (the image or the ledger): stop. A ledger row left
        pending is settled against the disk by reconcile() next time."""
        if self._closing:
            return
        self._closing = True
        ledger = f"cannot write the ledger: {exc}"
        why = exc.strerror if isinstance(exc, StoreError) else ledger
        where = self.config.images_store
        stop_crawl(self.crawler, f"{why} (IMAGES_STORE={where})", "dataset_unwritable")

    async def _download(self, url: str) -> Response:
        request = Request(url, callback=NO_CALLBACK, dont_filter=True, meta={"flickr_image": True})
        self._modify_media_request(request)
        assert self.crawler.engine is not None
        return await self.crawler.engine.download_async(request)

    def _reject(self, photo_id: str, keyword: str) -> None:
        with contextlib.suppress(sqlite3.Error):  # a full disk: decided again on a later run
            self.ledger.mark_rejected(photo_id, keyword)


def _response_problem(response: Response) -> str | None:
    """Why a response cannot be an image, or None if it may be one."""
    if response.status in {404, 410} or 300 <= response.status < 400:
        return "not_found"
    if response.status == 599:  # a network failure, turned into a response by the middleware
        return (response.headers.get(b"X-Flickrspider-Error") or b"network").decode()
    if response.status != 200:
        return f"http_{response.status}"
    if not response.body:
        return "empty"
    return None


def _placeholder(body: bytes) -> bool:
    """Flickr's small "photo unavailable" GIF or PNG (judged once the body decodes, so a
    decompression bomb, which is small too, is still called one)."""
    return len(body) < UNAVAILABLE_PLACEHOLDER_BYTES and body[:4] in _PLACEHOLDER_MAGIC
