"""Rotating proxies: Flickr's ban rules, Scrapy 2.19 signatures, and a real crawl through
two local forward proxies, one of which dies mid-crawl."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading

import pytest
from rotating_proxies.middlewares import BanDetectionMiddleware, RotatingProxyMiddleware
from scrapy import Request
from scrapy.core.downloader.middleware import DownloaderMiddlewareManager
from scrapy.exceptions import IgnoreRequest, ScrapyDeprecationWarning
from scrapy.http import Response
from twisted.internet.error import ConnectionRefusedError as Refused
from twisted.internet.error import TCPTimedOutError

from flickrspider.proxies import BanDetection, FlickrBanPolicy, RotatingProxies
from tests.conftest import ROOT, TEST_KEY, run_crawl
from tests.helpers import project_crawler
from tests.helpers import truth as default_truth

PROXIES = "http://127.0.0.1:1,http://127.0.0.1:2"


def response(status: int, body: bytes = b"x") -> Response:
    return Response("http://127.0.0.1/img/1.jpg", status=status, body=body)


@pytest.mark.parametrize(
    ("status", "body", "ban"),
    [
        (200, b"x", False),
        (404, b"", False),
        (410, b"", False),
        (302, b"", False),
        (429, b"", True),
        (403, b"x", True),
        (407, b"", True),
        (200, b"", True),
        (503, b"", None),
        (500, b"x", None),
    ],
)
def test_ban_policy_responses(status, body, ban):
    assert FlickrBanPolicy().response_is_ban(Request("http://x/"), response(status, body)) is ban


def test_ban_policy_exceptions():
    policy = FlickrBanPolicy()
    assert policy.exception_is_ban(Request("http://x/"), Refused()) is True
    assert policy.exception_is_ban(Request("http://x/"), TCPTimedOutError()) is True
    assert policy.exception_is_ban(Request("http://x/"), IgnoreRequest()) is None


def test_disabled_without_a_proxy_list():
    crawler = project_crawler()
    manager = DownloaderMiddlewareManager.from_crawler(crawler)
    assert not any(isinstance(m, (RotatingProxies, BanDetection)) for m in manager.middlewares)


def test_no_deprecated_signatures_unlike_the_stock_middlewares():
    crawler = project_crawler(ROTATING_PROXY_LIST=PROXIES)
    manager = DownloaderMiddlewareManager.from_crawler(crawler)  # warnings are errors here
    kinds = {type(m) for m in manager.middlewares}
    assert {RotatingProxies, BanDetection} <= kinds
    stock = project_crawler(
        ROTATING_PROXY_LIST=PROXIES,
        DOWNLOADER_MIDDLEWARES={
            "flickrspider.proxies.RotatingProxies": None,
            "flickrspider.proxies.BanDetection": None,
            "rotating_proxies.middlewares.RotatingProxyMiddleware": 610,
            "rotating_proxies.middlewares.BanDetectionMiddleware": 620,
        },
    )
    with pytest.warns(ScrapyDeprecationWarning, match="requires a spider argument"):
        manager = DownloaderMiddlewareManager.from_crawler(stock)
    assert {RotatingProxyMiddleware, BanDetectionMiddleware} <= {
        type(m) for m in manager.middlewares
    }


def test_banned_images_switch_proxy_and_api_calls_are_left_to_the_api_middleware():
    crawler = project_crawler(ROTATING_PROXY_LIST=PROXIES)
    rotating = RotatingProxies.from_crawler(crawler)
    ban = BanDetection.from_crawler(crawler)
    image = Request("http://127.0.0.1:9/img/1.jpg", meta={"flickr_image": True})
    rotating.process_request(image)
    first = image.meta["proxy"]
    assert image.meta["download_slot"] == first.split("//", 1)[1]  # one slot per host:port
    ban.process_exception(image, Refused())
    retry = rotating.process_exception(image, Refused())
    assert isinstance(retry, Request) and retry.dont_filter
    rotating.process_request(retry)
    assert retry.meta["proxy"] != first  # the dead one is not tried again
    api = Request(
        "http://127.0.0.1:9/services/rest/",
        method="POST",
        body=b"api_key=secret",
        meta={"flickr_api": True},
    )
    rotating.process_request(api)
    ban.process_response(api, response(429))
    assert rotating.process_response(api, response(429)).status == 429  # FlickrApiMiddleware's turn
    assert crawler.stats.get_value("flickr/proxies/api_banned") == 1
    assert len(rotating.proxies.dead) == 2


class ForwardProxy:
    """``python -m tests.forward_proxy`` as a subprocess; its URL and its relay log."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.forward_proxy", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.url = self.lines.get(timeout=30).strip()
        assert self.url.startswith("http://127.0.0.1:")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def stop(self) -> list[str]:
        """Stop it (if it still runs) and return every line it printed after its URL."""
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(10)
        self.reader.join(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return [self.lines.get() for _ in range(self.lines.qsize())]


@pytest.mark.e2e
def test_every_photo_arrives_when_one_of_two_proxies_dies(tmp_path, emulator):
    healthy, dying = ForwardProxy(), ForwardProxy("--die-after", "20")
    try:
        emulator.reset()
        result = run_crawl(
            tmp_path,
            emulator,
            args={"keywords": "paris,tokyo"},
            settings={
                "ROTATING_PROXY_LIST": f"{healthy.url},{dying.url}",
                "ROTATING_PROXY_LOGSTATS_INTERVAL": "1000",
            },
        )
    finally:
        kept, died = healthy.stop(), dying.stop()
    assert result.returncode == 0, result.log[-3000:]
    # it took 20 requests and died on the 21st, mid-crawl: any of the 20 still in
    # flight were cut off (if they all came at once, none was relayed at all)
    assert dying.proc.returncode == 0 and died[-1].strip() == "dying"
    assert len([line for line in died if line.startswith("relayed ")]) <= 20
    assert len([line for line in kept if line.startswith("relayed ")]) > 20
    # every photo found is stored or was too small: none lost to the dead proxy
    truth = default_truth(emulator, "paris,tokyo")
    stored = {r["id"] for r in result.feed}
    too_small = int(result.stats_value("flickr/images/too_small") or 0)
    assert len(stored) + too_small == len(truth) and stored <= truth
    assert "flickr/images/failed" not in result.log
    assert result.stats_value("proxies/dead") is not None
    assert "Deprecat" not in result.log
    assert not any(TEST_KEY in line for line in kept + died)
