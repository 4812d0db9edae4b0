"""Rotating proxies (scrapy-rotating-proxies), enabled by ``ROTATING_PROXY_LIST``.

scrapy-rotating-proxies 0.6.2 predates Scrapy 2.13: its middlewares take a
``spider`` argument in every method (deprecated in Scrapy 2.19), log with
``logger.warn``, and give every proxy on one host a single download slot. The
subclasses here keep its logic and fix those, and add what Flickr needs:

* ``FlickrBanPolicy``: a proxy is banned by 429 (rate limited), 403 and 407
  (refused), an empty 200, or any network failure (refused, reset, timeout);
  404/410 (the photo is gone), 3xx and other 4xx are answers, not bans; 5xx
  says nothing about the proxy (Flickr itself is in trouble; retried as usual).
* ``RotatingProxies``: a banned image request is retried at once through
  another proxy; a banned API call is left to ``FlickrApiMiddleware``, which
  takes the API key off before it retries with backoff (the rotating
  middleware's own retry would copy the request with the key still in it).
  Each proxy (host and port) gets its own download slot.
* ``BanDetection``: marks ``_ban`` in request meta using the policy.

Both middlewares are disabled (``NotConfigured``) unless ``ROTATING_PROXY_LIST``
or ``ROTATING_PROXY_LIST_PATH`` is set.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rotating_proxies.middlewares import BanDetectionMiddleware, RotatingProxyMiddleware
from rotating_proxies.policy import BanDetectionPolicy
from scrapy.exceptions import CloseSpider, IgnoreRequest, NotConfigured

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

BAN_STATUSES = frozenset({403, 407, 429})


def proxies_configured(crawler: Crawler) -> bool:
    settings = crawler.settings
    return bool(settings.getlist("ROTATING_PROXY_LIST") or settings.get("ROTATING_PROXY_LIST_PATH"))


class FlickrBanPolicy(BanDetectionPolicy):
    """True: the proxy is banned; False: it works; None: the answer says nothing about it."""

    def response_is_ban(self, request: Request, response: Response) -> bool | None:
        if response.status in BAN_STATUSES:
            return True
        if response.status >= 500:
            return None
        return response.status == 200 and not response.body  # an empty 200 is a block page

    def exception_is_ban(self, request: Request, exception: BaseException) -> bool | None:
        if isinstance(exception, IgnoreRequest):
            return None  # never reached the proxy
        return True


class RotatingProxies(RotatingProxyMiddleware):
    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not proxies_configured(crawler):
            raise NotConfigured
        middleware: Self = super().from_crawler(crawler)
        middleware.crawler = crawler
        logger.info("Rotating %d proxies", len(middleware.proxies.proxies))
        return middleware

    def process_request(self, request: Request) -> None:
        if "proxy" in request.meta and not request.meta.get("_rotating_proxy"):
            return  # a proxy chosen by someone else
        proxy = self.proxies.get_random()
        if not proxy:
            if self.stop_if_no_proxies:
                raise CloseSpider("no_proxies")
            logger.warning("No proxies available; marking all proxies as unchecked")
            self.proxies.reset()
            proxy = self.proxies.get_random()
            if proxy is None:
                raise CloseSpider("no_proxies_after_reset")
        request.meta["proxy"] = proxy
        request.meta["download_slot"] = self.get_proxy_slot(proxy)
        request.meta["_rotating_proxy"] = True

    def process_response(self, request: Request, response: Response) -> Request | Response:
        return self._handle_result(request, self.crawler.spider) or response

    def process_exception(self, request: Request, exception: BaseException) -> Request | None:
        return self._handle_result(request, self.crawler.spider)

    def get_proxy_slot(self, proxy: str) -> str:
        """One download slot per proxy (host and port), not per proxy host."""
        return urlsplit(proxy).netloc or proxy

    def _retry(self, request: Request, spider: Any) -> Request | None:
        if request.meta.get("flickr_api"):
            self.stats.inc_value("flickr/proxies/api_banned")
            return None  # FlickrApiMiddleware strips the key and retries with backoff
        return super()._retry(request, spider)


class BanDetection(BanDetectionMiddleware):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not proxies_configured(crawler):
            raise NotConfigured
        return cls(crawler.stats, cls._load_policy(crawler))

    def process_response(self, request: Request, response: Response) -> Response:
        ban = self.policy.response_is_ban(request, response)
        request.meta["_ban"] = ban
        if ban:
            self.stats.inc_value(f"bans/status/{response.status}")
            if not response.body:
                self.stats.inc_value("bans/empty")
        return response

    def process_exception(self, request: Request, exception: BaseException) -> None:
        ban = self.policy.exception_is_ban(request, exception)
        if ban:
            self.stats.inc_value(
                f"bans/error/{type(exception).__module__}.{type(exception).__name__}"
            )
        request.meta["_ban"] = ban
