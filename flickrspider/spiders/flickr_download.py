"""The ``flickr_download`` spider: stage 2 from a stage-1 JSON Lines file.

    scrapy crawl flickr_download -a input=photos.jsonl [-a shard=3/15]

``shard=K/N`` takes the photos whose id falls in shard K of N, so N processes
or machines can split one file with no overlap and no gap. Lines that are not
valid photo records are counted and skipped with a warning, never fatal.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import scrapy

from flickrspider.args import DownloadArgs
from flickrspider.crawlsetup import configure_crawl, fail_early
from flickrspider.items import PhotoItem
from flickrspider.licenses import license_name

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

_FIELDS = frozenset(PhotoItem.__dataclass_fields__) - {"image_urls", "images", "path"}


def item_from_record(record: Any) -> PhotoItem:
    """A PhotoItem from one stage-1 record; ValueError if it is not one."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    fields = {k: v for k, v in record.items() if k in _FIELDS}
    for key in ("id", "secret", "server", "owner", "keyword"):
        if not isinstance(fields.get(key), str) or not fields[key]:
            raise ValueError(f"missing or bad {key!r}")
    if not str(fields["id"]).isdigit():
        raise ValueError("bad 'id'")
    urls = fields.get("urls")
    if not isinstance(urls, dict) or not all(isinstance(u, str) for u in urls.values()):
        raise ValueError("missing or bad 'urls'")
    fields.setdefault("license_name", license_name(fields.get("license")))
    return PhotoItem(**fields)


class FlickrDownloadSpider(scrapy.Spider):
    name = "flickr_download"

    def __init__(self, **kwargs: str) -> None:
        super().__init__()
        self.args = DownloadArgs.from_kwargs(kwargs)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        with fail_early():
            spider = super().from_crawler(crawler, *args, **kwargs)
            configure_crawl(crawler, download=True, api=False)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        stats = self.crawler.stats
        with open(self.args.input, encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    item = item_from_record(json.loads(line))
                except ValueError as exc:  # JSONDecodeError is a ValueError
                    stats.inc_value("flickr/input/bad_lines")
                    logger.warning("%s line %d skipped: %s", self.args.input, number, exc)
                    continue
                if self.args.in_shard(item.id):
                    await self._room_for_items()
                    yield item
        # Scrapy looks for the end of a crawl when a download finishes, or every 5 s.
        # The last items finish in the pipelines, after their downloads: returning only
        # then makes the engine look at once, not up to 5 s later.
        await self._items_finished()

    async def _items_finished(self) -> None:
        engine = self.crawler.engine
        while engine is not None and engine.scraper.slot.itemproc_size:  # type: ignore[union-attr]
            await asyncio.sleep(0.05)

    async def _room_for_items(self) -> None:
        """Backpressure: Scrapy sends start() items to the pipelines without waiting,
        so hold the file back while the downloader is full or items pile up."""
        engine = self.crawler.engine
        limit = 4 * self.crawler.settings.getint("CONCURRENT_REQUESTS", 16)
        while engine is not None and (
            engine.needs_backout() or engine.scraper.slot.itemproc_size > limit  # type: ignore[union-attr]
        ):
            await asyncio.sleep(0.05)
