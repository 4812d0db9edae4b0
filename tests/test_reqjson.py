"""Requests shared through Redis as JSON, not pickle."""

from __future__ import annotations

import pytest
import scrapy
from scrapy.utils.request import request_from_dict

from flickrspider import reqjson


class Spider(scrapy.Spider):
    name = "s"

    def parse_search(self, response, task):
        pass

    def search_failed(self, failure):
        pass


def test_a_search_request_round_trips():
    spider = Spider()
    request = scrapy.Request(
        "http://127.0.0.1:1/services/rest/",
        method="POST",
        body=b"text=caf\xc3\xa9&page=2",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        callback=spider.parse_search,
        errback=spider.search_failed,
        cb_kwargs={"task": {"kw": "café", "start": 1, "rate": None, "first": False, "r": 1.5}},
        meta={"flickr_api": True, "flickr_lease": {"token": "ab"}, "pair": (1, "x")},
        priority=1,
    )
    data = reqjson.dumps(request.to_dict(spider=spider))
    assert b"pickle" not in data and data.startswith(b"{")
    again = request_from_dict(reqjson.loads(data), spider=spider)
    assert again.to_dict(spider=spider) == request.to_dict(spider=spider)
    assert again.callback == spider.parse_search and again.body == request.body


def test_tags_survive_look_alike_keys():
    value = {"$b": "not bytes", 1: b"\x00\xff", "list": [(), {"$t": 1}]}
    assert reqjson.loads(reqjson.dumps(value)) == value


def test_unshareable_values_fail_loudly():
    with pytest.raises(TypeError, match="cannot share a set"):
        reqjson.dumps({"meta": {"ids": {1, 2}}})
