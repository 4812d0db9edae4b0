"""Distributed crawls on scrapy-redis: one switch, ``-s FLICKR_REDIS_URL=redis://host:port/db``.

Every worker started with the same URL and the same spider arguments joins the
same crawl (``FLICKR_REDIS_CRAWL``, by default the spider name plus a hash of its
arguments; arguments starting with ``_``, such as Scrapyd's ``_job``, do not count)
and shares, under the key prefix ``flickrspider:<crawl>:``:

* the request queue and the request fingerprints (scrapy-redis ``Scheduler`` and
  ``RFPDupeFilter``), with requests leased instead of popped
  (``flickrspider.workqueue``) so that a killed worker loses nothing;
* the seen-photo set and per-keyword counts (``flickrspider.seen``);
* the per-key API budget (``flickrspider.budget.RedisBudget``, keyed by a hash of
  the key, shared by every crawl that uses that key).

Every worker runs ``start()``; the shared fingerprints let the first one through
and drop the others' copies, and the upload-time end of the crawl ("now" unless
``max_upload_date`` is given) is fixed once per crawl, so every worker asks the
same questions. The worker that parses a search answer also stores its photos:
a lease covers the answer and all its photos, and ends only when they are
through the pipelines (``flickrspider.leases``). A worker that closes gives its
leases back; a worker whose heartbeat stops for ``FLICKR_REDIS_DEAD_AFTER``
seconds is presumed dead and its leases are requeued by the others.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import socket
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flickrspider.config import ConfigError, SettingsLike
from flickrspider.leases import LeaseTracker
from flickrspider.seen import RedisSeenIds, Verdict
from flickrspider.workqueue import WorkQueue

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from flickrspider.args import SearchArgs

logger = logging.getLogger(__name__)

KEY_PREFIX = "flickrspider"
_CRAWL_RE = re.compile(r"^[A-Za-z0-9._-]{1,80}$")
# scrapy-redis settings that a distributed crawl applies (see settings_block()).
SCHEDULER_PATH = "flickrspider.redisscheduler.RedisScheduler"
QUEUE_PATH = "flickrspider.redisscheduler.LeasedQueue"
MIDDLEWARE_PATH = "flickrspider.redisscheduler.LeaseMiddleware"


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(
        netloc=f"{parts.username or ''}:***@{parts.hostname}:{parts.port}"
    ).geturl()


@dataclass(frozen=True)
class RedisConfig:
    url: str
    crawl: str | None
    heartbeat: float
    dead_after: float
    leases: int
    keep: int

    @classmethod
    def from_settings(cls, settings: SettingsLike) -> RedisConfig:
        crawl = settings.get("FLICKR_REDIS_CRAWL") or None
        if crawl is not None and not _CRAWL_RE.match(str(crawl)):
            raise _bad("FLICKR_REDIS_CRAWL", crawl, "must be 1-80 letters, digits, '.', '_' or '-'")
        heartbeat = _float(settings, "FLICKR_REDIS_HEARTBEAT")
        dead_after = _float(settings, "FLICKR_REDIS_DEAD_AFTER")
        if dead_after < 2 * heartbeat:
            raise _bad(
                "FLICKR_REDIS_DEAD_AFTER",
                dead_after,
                f"must be at least twice FLICKR_REDIS_HEARTBEAT ({heartbeat})",
            )
        leases = settings.getint("FLICKR_REDIS_LEASES", 2)
        if leases < 1:
            raise _bad("FLICKR_REDIS_LEASES", leases, "must be at least 1")
        keep = settings.getint("FLICKR_REDIS_KEEP", 0)
        if keep < 0:
            raise _bad("FLICKR_REDIS_KEEP", keep, "must be 0 or more seconds")
        return cls(
            str(settings.get("FLICKR_REDIS_URL")),
            str(crawl) if crawl else None,
            heartbeat,
            dead_after,
            leases,
            keep,
        )


def _bad(name: str, value: object, why: str) -> ConfigError:
    return ConfigError(f"{name} ({value!r}) {why}")


def _float(settings: SettingsLike, name: str) -> float:
    raw = settings.get(name)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise _bad(name, raw, "must be a number of seconds") from None
    if value <= 0:
        raise _bad(name, raw, "must be more than 0 seconds")
    return value


def crawl_id(spider_name: str, kwargs: Mapping[str, Any]) -> str:
    """The default crawl name: the spider name and a hash of its arguments."""
    public = sorted((str(k), str(v)) for k, v in kwargs.items() if not str(k).startswith("_"))
    digest = hashlib.sha256(json.dumps([spider_name, public]).encode()).hexdigest()[:12]
    return f"{spider_name}-{digest}"


class DistributedCrawl:
    """This worker's handle on the shared crawl: Redis, keys, its queue view and leases."""

    def __init__(self, server: Any, prefix: str, config: RedisConfig) -> None:
        self.server = server
        self.prefix = prefix
        self.config = config
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.work = WorkQueue(server, prefix, self.worker)
        self.tracker = LeaseTracker(self.work.ack)
        self.seen = RedisSeenIds(server, prefix)
        self.extra_keys = (f"{prefix}:seen", f"{prefix}:found", f"{prefix}:now")

    def live_workers(self) -> list[str]:
        """Workers other than this one whose heartbeat is fresh."""
        now = _server_time(self.server)
        fresh = self.server.zrangebyscore(self.work.workers, now - self.config.dead_after, "+inf")
        names = [w.decode() if isinstance(w, bytes) else str(w) for w in fresh]
        return [w for w in names if w != self.worker]


_CRAWLS: weakref.WeakKeyDictionary[Crawler, DistributedCrawl] = weakref.WeakKeyDictionary()


def crawl_for(crawler: Crawler) -> DistributedCrawl | None:
    """The crawl this worker joined, or None for a one-process crawl."""
    return _CRAWLS.get(crawler)


def join(
    crawler: Crawler, spider_name: str, args: SearchArgs, kwargs: Mapping[str, Any]
) -> SearchArgs:
    """Join the distributed crawl when FLICKR_REDIS_URL is set; otherwise change nothing.

    Returns the spider arguments with the crawl's shared upload-time end.
    """
    settings = crawler.settings
    if not settings.get("FLICKR_REDIS_URL"):
        return args
    from flickrspider.redisclient import RedisError, connect  # redis-py: only when distributed

    config = RedisConfig.from_settings(settings)
    server = connect(config.url)
    try:
        server.ping()
    except RedisError as exc:
        raise ConfigError(
            f"FLICKR_REDIS_URL ({redact(config.url)}) cannot be reached: {exc}"
        ) from None
    prefix = f"{KEY_PREFIX}:{config.crawl or crawl_id(spider_name, kwargs)}"
    crawl = DistributedCrawl(server, prefix, config)
    if "max_upload_date" not in kwargs:
        server.set(f"{prefix}:now", args.max_upload_date, nx=True)
        args = replace(args, max_upload_date=int(server.get(f"{prefix}:now") or 0))
    for name, value in settings_block(config.url, prefix).items():
        settings.set(name, value, "spider")
    settings.set_in_component_priority_dict("SPIDER_MIDDLEWARES", MIDDLEWARE_PATH, 5)  # type: ignore[arg-type]
    _CRAWLS[crawler] = crawl
    logger.info("Distributed crawl %s on %s as worker %s", prefix, redact(config.url), crawl.worker)
    return args


def settings_block(url: str, prefix: str) -> dict[str, Any]:
    """The scrapy-redis settings a distributed crawl runs with (documented in the README)."""
    return {
        "SCHEDULER": SCHEDULER_PATH,
        "SCHEDULER_QUEUE_CLASS": QUEUE_PATH,
        "SCHEDULER_QUEUE_KEY": f"{prefix}:queue",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
        "SCHEDULER_SERIALIZER": "flickrspider.reqjson",
        "SCHEDULER_PERSIST": True,  # one worker closing must never clear the shared queue
        "SCHEDULER_FLUSH_ON_START": False,
        "REDIS_URL": url,
        "REDIS_PARAMS": {"redis_cls": "flickrspider.redisclient.TimedRedis"},
    }


class SharedSeenIds:
    """DedupPipeline's view of the crawl's seen set: the owner of each item comes from its lease."""

    def __init__(self, crawl: DistributedCrawl) -> None:
        self.crawl = crawl

    def claim(
        self, photo_id: int, keyword: str, max_photos: int | None, source: object = None
    ) -> Verdict:
        owner = self.crawl.tracker.owner_of(source)
        return self.crawl.seen.claim(photo_id, keyword, max_photos, owner)


def shared_seen_for(crawler: Crawler) -> SharedSeenIds | None:
    """The distributed crawl's shared seen-photo set, or None for a one-process crawl."""
    crawl = crawl_for(crawler)
    return None if crawl is None else SharedSeenIds(crawl)


@contextmanager
def sole_writer(crawler: Crawler, wait: float = 120.0) -> Iterator[bool]:
    """Yields True if no other worker of the crawl is alive, holding a lock so that
    none starts writing meanwhile: only then may stale files of a crashed run be
    cleaned up (``Ledger.reconcile``). Always True for a one-process crawl."""
    crawl = crawl_for(crawler)
    if crawl is None:
        yield True
        return
    lock = crawl.server.lock(f"{crawl.prefix}:reconcile", timeout=wait, blocking_timeout=wait)
    if not lock.acquire():
        raise ConfigError(f"another worker held the dataset lock for more than {wait:.0f} s")
    try:
        crawl.work.heartbeat()
        yield not crawl.live_workers()
    finally:
        lock.release()


def _server_time(server: Any) -> float:
    seconds, micros = server.time()
    return float(seconds) + micros / 1e6
