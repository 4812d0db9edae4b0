from __future__ import annotations

import asyncio

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from flickrspider import middlewares
from flickrspider.middlewares import FlickrApiMiddleware, ImageErrorsMiddleware, retry_api_request
from tests.helpers import project_crawler

KEY = "secret-key-123"


def make_mw(**settings):
    crawler = project_crawler(FLICKR_API_KEY=KEY, FLICKR_API_CALLS_PER_HOUR=10**6, **settings)
    return FlickrApiMiddleware.from_crawler(crawler), crawler


def api_request(**meta):
    return Request(
        "https://api.flickr.com/services/rest/",
        method="POST",
        body=b"method=flickr.photos.search&text=paris",
        meta={"flickr_api": True, **meta},
    )


def test_key_is_added_for_the_download_and_removed_after():
    mw, crawler = make_mw()
    request = api_request()
    asyncio.run(mw.process_request(request))
    assert request.body.endswith(b"&api_key=" + KEY.encode())
    assert KEY not in request.url
    response = Response(request.url, status=200, body=b"{}", request=request)
    assert mw.process_response(request, response) is response
    assert KEY.encode() not in request.body
    assert crawler.stats.get_value("flickr/api/calls") == 1


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_throttled_and_server_errors_are_retried_with_backoff_and_no_key(status):
    mw, crawler = make_mw()
    request = api_request()
    asyncio.run(mw.process_request(request))
    response = Response(request.url, status=status, headers={"Retry-After": "7"}, request=request)
    retry = mw.process_response(request, response)
    assert isinstance(retry, Request) and retry.dont_filter
    assert KEY.encode() not in retry.body
    assert retry.meta["flickr_api_retries"] == 1
    expected_min = 7 if status == 429 else 0.5
    assert retry.meta["flickr_backoff"] >= expected_min
    assert crawler.stats.get_value(f"flickr/api/retried/http_{status}") == 1


def test_network_errors_are_retried_then_given_up():
    mw, crawler = make_mw()
    request = api_request(flickr_api_retries=middlewares.MAX_API_RETRIES)
    asyncio.run(mw.process_request(request))
    assert mw.process_exception(request, TimeoutError("took too long")) is None
    assert KEY.encode() not in request.body
    assert crawler.stats.get_value("flickr/api/failed/TimeoutError") == 1


def test_backoff_grows_and_is_capped():
    delays = [middlewares.backoff_seconds(n) for n in range(1, 15)]
    assert delays[0] <= 1 and delays[5] >= 16 and max(delays) <= middlewares.MAX_BACKOFF


def test_retry_copies_keep_the_task():
    crawler = get_crawler()
    crawler.stats.open_spider()
    request = Request("http://x/", cb_kwargs={"task": {"kw": "a"}}, meta={"flickr_api": True})
    retry = retry_api_request(request, "code_105", crawler.stats)
    assert retry.cb_kwargs == {"task": {"kw": "a"}}


def test_non_api_requests_are_untouched():
    mw, _ = make_mw()
    request = Request("http://127.0.0.1/img/1.jpg")
    asyncio.run(mw.process_request(request))
    response = Response(request.url, status=503, request=request)
    assert mw.process_response(request, response) is response
    assert mw.process_exception(request, TimeoutError()) is None


def test_image_network_failures_become_countable_answers():
    mw = ImageErrorsMiddleware()
    request = Request("http://127.0.0.1/img/1.jpg", meta={"flickr_image": True})
    response = mw.process_exception(request, ConnectionRefusedError())
    assert response.status == 599
    assert response.headers[b"X-Flickrspider-Error"] == b"connection_refused"
    assert mw.process_exception(Request("http://x/"), ConnectionRefusedError()) is None
