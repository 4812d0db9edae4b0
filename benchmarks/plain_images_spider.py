"""The baseline of benchmarks/throughput.py: a plain Scrapy ImagesPipeline spider.

    scrapy runspider benchmarks/plain_images_spider.py -a urls=urls.txt -s IMAGES_STORE=out

One item per URL with ``image_urls``; Scrapy's stock ImagesPipeline does the rest.
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

    def __init__(self, urls: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls_file = urls

    async def start(self) -> AsyncIterator[dict[str, Any]]:
        with open(self.urls_file, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield {"image_urls": [line.strip()]}
