"""Scrapy glue of a distributed crawl (see ``flickrspider.distributed``).

    RedisScheduler   scrapy-redis's ``Scheduler`` whose queue leases requests;
                     heartbeats, requeues dead workers' leases, tells when the
                     whole crawl (not just this worker) is finished
    LeasedQueue      scrapy-redis's queue interface over ``flickrspider.workqueue``
    LeaseMiddleware  spider middleware: what each leased answer yields is counted
                     until it is queued or through the pipelines (``flickrspider.leases``)

scrapy-redis's own ``Scheduler.close`` clears the shared queue and fingerprints
when *one* worker closes unless ``SCHEDULER_PERSIST`` is set; here closing never
clears anything: the worker gives its unfinished leases back, and the crawl's
keys are set to expire only once the crawl as a whole is finished.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import redis
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import load_object
from scrapy_redis.queue import Base
from scrapy_redis.scheduler import Scheduler

from flickrspider.distributed import DistributedCrawl, crawl_for
from flickrspider.redisclient import REDIS_TIME

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

LEASE_META = "flickr_lease"  # {"token": ..., "delivery": ...} of a request from the shared queue
POLL = 0.25  # seconds between looks at an empty shared queue


def _crawl(crawler: Crawler) -> DistributedCrawl:
    crawl = crawl_for(crawler)
    if crawl is None:
        raise NotConfigured("a distributed crawl needs FLICKR_REDIS_URL")
    return crawl


class LeasedQueue(Base):
    """scrapy-redis queue whose ``pop`` leases (``flickrspider.workqueue.WorkQueue``)."""

    def __init__(self, server: Any, spider: Spider, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        self.work = _crawl(spider.crawler).work

    def __len__(self) -> int:
        return self.work.status()[0]

    def push(self, request: Request, fingerprint: str = "", handoff: str = "") -> bool:
        if b"api_key=" in request.body or "api_key=" in request.url:  # added only at download time
            raise ValueError("refusing to share a request that carries the API key")
        lease = request.meta.get(LEASE_META) or {}
        token = lease["token"] if handoff else secrets.token_hex(8)
        request.meta[LEASE_META] = {"token": token}
        data = self._encode_request(request)
        return self.work.push(
            token, data, request.priority, fingerprint=fingerprint, handoff=handoff
        )

    def pop(self, timeout: int = 0) -> Request | None:
        lease = self.work.pop()
        if lease is None:
            return None
        request: Request = self._decode_request(lease.data)
        request.meta[LEASE_META] = {"token": lease.token, "delivery": lease.delivery}
        return request

    def clear(self) -> None:
        logger.warning("Not clearing the shared queue %s: other workers use it", self.key)


class RedisScheduler(Scheduler):
    crawler: Crawler
    crawl: DistributedCrawl
    df: Any  # scrapy-redis RFPDupeFilter

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._local: deque[Request] = deque()  # leased by the idle poll, for this engine
        self._handing: Request | None = None
        self._idle = False
        self._empty_until = 0.0
        self._next_beat = 0.0
        self._loop = create_looping_call(self._tick)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        scheduler = super().from_crawler(crawler)
        scheduler.crawler, scheduler.crawl = crawler, _crawl(crawler)
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    def open(self, spider: Spider) -> None:
        # scrapy-redis's open() without its Spider.log() call (deprecated in Scrapy 2.19)
        # and without SCHEDULER_FLUSH_ON_START: other workers may be using the queue.
        self.spider = spider
        key = self.queue_key % {"spider": spider.name}
        self.queue = load_object(self.queue_cls)(self.server, spider, key, self.serializer)
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        self.crawl.work.heartbeat()
        if self.crawl.work.is_finished():
            ttl = self.server.ttl(self.crawl.work.finished)
            logger.warning(
                "Distributed crawl %s finished earlier (kept %s more): nothing to do; to crawl"
                " these arguments again now, name a new crawl with -s FLICKR_REDIS_CRAWL=...",
                self.crawl.prefix,
                f"{ttl} s" if ttl and ttl > 0 else "for good",
            )
        waiting, leased = self.crawl.work.status()
        logger.info(
            "Worker %s joined distributed crawl %s (%d other workers alive, %d requests waiting,"
            " %d leased)",
            self.crawl.worker,
            self.crawl.prefix,
            len(self.crawl.live_workers()),
            waiting,
            leased,
        )
        self._loop.start(POLL, now=False)

    def close(self, reason: str) -> None:
        if self._loop.running:
            self._loop.stop()
        released = self.crawl.work.release()
        if released:
            logger.info("Gave %d unfinished requests back to the shared queue", released)
        assert self.stats is not None
        self.stats.set_value("flickr/redis/released", released)
        self.stats.set_value("flickr/redis/calls", REDIS_TIME["calls"])
        self.stats.set_value("flickr/redis/seconds", round(REDIS_TIME["seconds"], 3))

    def flush(self) -> None:
        logger.warning(
            "Ignoring a flush of the shared queue %s: other workers use it", self.crawl.prefix
        )

    def has_pending_requests(self) -> bool:
        return bool(self._local)

    def enqueue_request(self, request: Request) -> bool:
        if request is self._handing:  # leased by the idle poll: for this worker's engine
            self._handing = None
            self._local.append(request)
            return True
        tracker = self.crawl.tracker
        fingerprint = self.df.request_fingerprint(request)
        delivery = (request.meta.get(LEASE_META) or {}).get("delivery")
        handoff = delivery if tracker.holds(delivery, fingerprint) else ""
        filtered = request.dont_filter or handoff
        try:
            added = self.queue.push(
                request, fingerprint="" if filtered else fingerprint, handoff=handoff
            )
        finally:
            if handoff:
                tracker.handed_off(handoff)
            tracker.done(request)  # a request a leased answer yielded is safe in Redis now
        if added:
            self._empty_until = 0.0
            self.stats.inc_value("scheduler/enqueued/redis")
        else:
            self.df.log(request, self.spider)
        return added

    def next_request(self) -> Request | None:
        if self._local:
            return self._local.popleft()
        if (
            len(self.crawl.tracker) >= self.crawl.config.leases
            or time.monotonic() < self._empty_until
        ):
            return None
        request = self.queue.pop()
        if request is None:
            self._empty_until = time.monotonic() + POLL
            return None
        lease = request.meta[LEASE_META]
        self.crawl.tracker.leased(
            lease["token"], lease["delivery"], self.df.request_fingerprint(request)
        )
        self._idle = False
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def spider_idle(self) -> None:
        """This worker has nothing left; close only when the whole crawl is finished."""
        work = self.crawl.work
        work.forget()  # idle: whatever this worker leased is finished
        self.crawl.tracker.clear()
        self._recover()
        if work.try_finish(self.crawl.config.keep, self.crawl.extra_keys):
            logger.info("Distributed crawl %s is finished", self.crawl.prefix)
            return
        self._idle = True
        raise DontCloseSpider

    def _tick(self) -> None:
        try:
            now = time.monotonic()
            if now >= self._next_beat:
                self._next_beat = now + self.crawl.config.heartbeat
                if self.crawl.work.heartbeat():
                    logger.warning("This worker was presumed dead; others took over its requests")
                self._recover()
            if self._idle:
                self._poll()
        except redis.RedisError as exc:
            logger.error("Redis error in the distributed crawl: %s", exc)

    def _poll(self) -> None:
        engine = self.crawler.engine
        if engine is None or engine.spider is None:
            return
        if self.crawl.work.is_finished():
            self._idle = False
            deferred_from_coro(engine.close_spider_async(reason="finished"))
            return
        self._empty_until = 0.0
        request = self.next_request()
        if request is not None:
            self._handing = request
            engine.crawl(request)

    def _recover(self) -> None:
        moved = self.crawl.work.recover(self.crawl.config.dead_after)
        if moved:
            logger.warning("Requeued %d requests leased by workers that stopped responding", moved)
            self.stats.inc_value("flickr/redis/recovered", moved)


class LeaseMiddleware:
    """Counts what a leased search answer yields, so its lease ends only when all of it is done."""

    def __init__(self, crawler: Crawler) -> None:
        self.tracker = _crawl(crawler).tracker
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(self.item_done, signal=signal)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def item_done(self, item: Any) -> None:
        self.tracker.done(item)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        delivery = self._begin(response)
        if delivery is None:
            yield from result
            return
        try:
            for obj in result:
                self.tracker.produced(delivery, obj)
                yield obj
        finally:
            self.tracker.callback_returned(delivery)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        delivery = self._begin(response)
        try:
            async for obj in result:
                if delivery is not None:
                    self.tracker.produced(delivery, obj)
                yield obj
        finally:
            if delivery is not None:
                self.tracker.callback_returned(delivery)

    def _begin(self, response: Response) -> str | None:
        lease = response.meta.get(LEASE_META) or {}
        delivery = lease.get("delivery")
        return delivery if delivery and self.tracker.started(delivery) else None
