"""The baseline of benchmarks/throughput.py: a plain Scrapy ImagesPipeline spider.

    scrapy runspider benchmarks/plain_images_spider.py -a urls=urls.txt -s IMAGES_STORE=out
    scrapy runspider benchmarks/plain_images_spider.py -a urls=urls.txt -a bare=1

One item per URL with ``image_urls``; Scrapy's stock ImagesPipeline does the rest.
With ``bare=1``, a reference instead: each URL is only downloaded (a request whose
callback drops the response), which is what Scrapy alone costs per image.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import scrapy


class PlainImagesSpider(scrapy.Spider):
    name = "plain_images"
    custom_settings = {
        "ITEM_PIPELINES": {"scrapy.pipelines.images.ImagesPipeline": 1},
        "LOG_LEVEL": "WARNING",
        "ROBOTSTXT_OBEY": False,
        "TELNETCONSOLE_ENABLED": False,
    }

    def __init__(self, urls: str, bare: str = "0", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls_file = urls
        self.bare = bare == "1"

    async def start(self) -> AsyncIterator[Any]:
        with open(self.urls_file, encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                if self.bare:
                    yield scrapy.Request(line.strip(), callback=self.drop, dont_filter=True)
                else:
                    yield {"image_urls": [line.strip()]}

    def drop(self, response: scrapy.http.Response) -> None:
        return None
