"""Downloader middleware for Flickr API calls: budget, backoff, and the API key.

API requests (``meta["flickr_api"]``) are POSTs whose body carries the search
parameters but NOT the key: the key is added here, just before the download,
and taken off again as soon as the answer (or the error) comes back, before
Scrapy's retry, logging or JOBDIR queues can see the request again. So the key
is never in a URL, a log line, a queued request or a stat.

Each call first waits for the per-key budget (``flickrspider.budget``). HTTP 429
and 5xx answers and network errors are retried with exponential backoff
(``Retry-After`` honoured); the spider retries Flickr-level errors (codes 105,
201, HTML pages, truncated JSON) through ``retry_api_request`` the same way.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flickrspider.budget import Budget, LocalBudget, RedisBudget
from flickrspider.config import FlickrConfig

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

MAX_API_RETRIES = 10
MAX_BACKOFF = 300.0


def backoff_seconds(attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter: 1, 2, 4 ... seconds, at most MAX_BACKOFF."""
    base = min(MAX_BACKOFF, 2.0 ** (attempt - 1))
    delay = base * (0.5 + random.random() / 2)
    return max(delay, retry_after or 0.0)


def retry_api_request(
    request: Request, reason: str, stats: StatsCollector, *, retry_after: float | None = None
) -> Request | None:
    """A copy of ``request`` to try again after a backoff, or None when retries ran out."""
    attempt = int(request.meta.get("flickr_api_retries", 0)) + 1
    if attempt > MAX_API_RETRIES:
        stats.inc_value(f"flickr/api/failed/{reason}")
        logger.error("Flickr API call failed for good after %d tries (%s)", attempt - 1, reason)
        return None
    stats.inc_value(f"flickr/api/retried/{reason}")
    backoff = backoff_seconds(attempt, retry_after)
    logger.debug("Retrying a Flickr API call (%s), try %d, in %.1f s", reason, attempt, backoff)
    meta = {**request.meta, "flickr_api_retries": attempt, "flickr_backoff": backoff}
    return request.replace(meta=meta, dont_filter=True)


def budget_for(config: FlickrConfig) -> Budget:
    """The budget of this key: local, or shared in Redis when FLICKR_REDIS_URL is set."""
    if config.redis_url:
        from flickrspider.redisclient import connect

        key_id = hashlib.sha256(config.api_key.encode()).hexdigest()[:16]
        return RedisBudget(connect(config.redis_url), key_id, config.calls_per_hour)
    return LocalBudget(config.calls_per_hour)


class FlickrApiMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.config = FlickrConfig.from_settings(crawler.settings)
        assert crawler.stats is not None
        self.stats: StatsCollector = crawler.stats
        self.budget = budget_for(self.config)
        self._key_param = (
            "&" + urlencode({"api_key": self.config.api_key}) if self.config.api_key else ""
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if not request.meta.get("flickr_api"):
            return
        backoff = float(request.meta.get("flickr_backoff", 0.0))
        if backoff > 0:
            await asyncio.sleep(backoff)
        # Book the call in the per-key budget; wait for its turn if the hour is spent.
        wait = self.budget.reserve()
        if wait > 0:
            self.stats.inc_value("flickr/api/budget_wait_ms", int(wait * 1000))
            await asyncio.sleep(wait)
        self.stats.inc_value("flickr/api/calls")
        kw = request.meta.get("flickr_keyword")
        if kw is not None:
            self.stats.inc_value(f"flickr/keyword/{kw}/api_calls")
        request._set_body(request.body + self._key_param.encode())

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if not request.meta.get("flickr_api"):
            return response
        self._strip_key(request)
        if response.status == 429 or response.status >= 500:
            retry_after = _retry_after(response.headers.get(b"Retry-After"))
            retry = retry_api_request(
                request, f"http_{response.status}", self.stats, retry_after=retry_after
            )
            if retry is not None:
                return retry
        return response

    def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if not request.meta.get("flickr_api"):
            return None
        self._strip_key(request)
        reason = type(exception).__name__
        return retry_api_request(request, reason, self.stats)

    def _strip_key(self, request: Request) -> None:
        if self._key_param and request.body.endswith(self._key_param.encode()):
            request._set_body(request.body[: -len(self._key_param)])


def _retry_after(value: Any) -> float | None:
    try:
        return min(MAX_BACKOFF, float(value.decode() if isinstance(value, bytes) else value))
    except (TypeError, ValueError, AttributeError):
        return None


class ImageErrorsMiddleware:
    """Turns a network failure of an image download, once retries are spent, into a
    status-599 response naming the reason, so the images pipeline counts it by
    reason instead of logging a traceback. Sits below RetryMiddleware (550)."""

    def process_exception(self, request: Request, exception: Exception) -> Response | None:
        if not request.meta.get("flickr_image"):
            return None
        from scrapy.http import Response

        reason = _snake(type(exception).__name__)
        headers = {"X-Flickrspider-Error": reason}
        return Response(request.url, status=599, headers=headers, request=request)


def _snake(name: str) -> str:
    out = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
    return out.replace("_error", "") or "network"
