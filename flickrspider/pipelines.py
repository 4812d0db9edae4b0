"""Item pipelines: deduplicate, choose a size, then store through ImagesPipeline.

DedupPipeline (100)        each photo id once per run, and once per dataset
SizeChoicePipeline (200)   FLICKR_SIZES order, allowlisted hosts only; drops what the
                           original's size (o_dims) shows too small, before any download
FlickrImagesPipeline (300) in flickrspider.imagespipeline
"""

from __future__ import annotations

import logging
import weakref
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import DropItem

from flickrspider.config import FlickrConfig
from flickrspider.distributed import shared_seen_for, sole_writer
from flickrspider.journal import RetryOnResume, job_for, restore_stored
from flickrspider.ledger import PENDING, Ledger
from flickrspider.seen import Verdict
from flickrspider.store import is_complete_jpeg, resolve

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from flickrspider.items import PhotoItem

logger = logging.getLogger(__name__)

_LEDGERS: weakref.WeakKeyDictionary[Crawler, Ledger] = weakref.WeakKeyDictionary()


def ledger_for(crawler: Crawler) -> Ledger:
    """The crawl's dataset ledger, opened (and reconciled after a crash) once."""
    if crawler not in _LEDGERS:
        config = FlickrConfig.from_settings(crawler.settings)
        ledger = Ledger(config.images_store, config.shard_size)
        # Other processes may be writing: workers of a distributed crawl, download shards.
        alone_here = ledger.join_writers()
        with sole_writer(crawler) as alone_in_crawl:
            alone = alone_here and alone_in_crawl
            stored, pending = ledger.reconcile(is_complete_jpeg) if alone else (0, 0)
        ledger.share_writing()
        if stored or pending:
            logger.info(
                "Ledger reconciled after an interrupted run: %d files confirmed, %d to fetch again",
                stored,
                pending,
            )
        crawler.signals.connect(ledger.close, signal=signals.spider_closed)  # after the pipelines
        _LEDGERS[crawler] = ledger
    return _LEDGERS[crawler]


def count(stats: StatsCollector, item: PhotoItem, what: str) -> None:
    """Count an event globally and for the item's keyword."""
    stats.inc_value(f"flickr/{what}")
    stats.inc_value(f"flickr/keyword/{item.keyword}/{what.split('/', 1)[1]}")


class DedupPipeline:
    """Drop photos seen earlier in this run (any keyword) or already in the dataset.

    In a resumed job (JOBDIR) a photo already in the job's feed is dropped too, and
    one this job stored whose feed record a kill cut off is restored from its file.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        assert crawler.stats is not None
        self.stats = crawler.stats
        self.seen: set[int] = set()
        self.shared = shared_seen_for(crawler)  # the seen set in Redis of a distributed crawl
        self.ledger: Ledger | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        if getattr(getattr(spider, "args", None), "download", True):
            self.ledger = ledger_for(self.crawler)
            self.settled = self.ledger.settled()  # what earlier runs stored or rejected
        self.max_photos: int | None = getattr(getattr(spider, "args", None), "max_photos", None)
        self.job = job_for(self.crawler)

    def process_item(self, item: PhotoItem) -> PhotoItem:
        pid = int(item.id)
        if self.shared is not None:
            self._claim_shared(item)
        elif pid in self.seen:
            count(self.stats, item, "photos/duplicates")
            raise DropItem(f"duplicate photo {item.id}", log_level="DEBUG")
        if self.job is not None and self.job.exported(pid):
            self.seen.add(pid)
            self.stats.inc_value("flickr/job/already_exported")
            raise DropItem(f"photo {item.id} is in the job's feed already", log_level="DEBUG")
        if self.max_photos is not None:
            found = self.stats.get_value(f"flickr/keyword/{item.keyword}/found", 0)
            if found >= self.max_photos:
                count(self.stats, item, "photos/over_max")
                raise DropItem(f"max_photos reached for {item.keyword!r}", log_level="DEBUG")
        self.seen.add(pid)
        count(self.stats, item, "photos/found")
        if self.ledger is not None and self._already_stored(item):
            if self.job is not None and self.job.took(pid) and restore_stored(item, self.ledger):
                self.stats.inc_value("flickr/job/restored")
                return item
            count(self.stats, item, "photos/already_stored")
            raise DropItem(f"photo {item.id} already in the dataset", log_level="DEBUG")
        if self.ledger is not None and self.job is not None and not self.job.take(pid):
            # recorded before the images pipeline claims a slot, or not stored at all
            raise RetryOnResume(
                f"photo {item.id}: the job journal cannot be written", log_level="DEBUG"
            )
        return item

    def _claim_shared(self, item: PhotoItem) -> None:
        assert self.shared is not None
        verdict = self.shared.claim(int(item.id), item.keyword, self.max_photos, item)
        if verdict is Verdict.DUPLICATE:
            count(self.stats, item, "photos/duplicates")
            raise DropItem(f"duplicate photo {item.id}", log_level="DEBUG")
        if verdict is Verdict.OVER_MAX:
            count(self.stats, item, "photos/over_max")
            raise DropItem(f"max_photos reached for {item.keyword!r}", log_level="DEBUG")

    def _already_stored(self, item: PhotoItem) -> bool:
        assert self.ledger is not None
        if int(item.id) not in self.settled:  # nor stored by this run: self.seen has those
            return False
        state = self.ledger.state(item.id)
        if state is None or state == PENDING:
            return False
        path = self.ledger.path_of(item.id)
        if path is None:  # rejected for good earlier (too small, gone)
            return True
        if is_complete_jpeg(resolve(self.ledger.root, path)):
            return True
        logger.warning("Stored file of photo %s is missing or damaged; fetching it again", item.id)
        self.stats.inc_value("flickr/images/refetched_damaged")
        self.ledger.release(item.id)
        return False


class SizeChoicePipeline:
    """Pick the image URL by FLICKR_SIZES; the rest become fallbacks."""

    def __init__(self, crawler: Crawler) -> None:
        self.config = FlickrConfig.from_settings(crawler.settings)
        assert crawler.stats is not None
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: PhotoItem) -> PhotoItem:
        best = self._largest_short_side(item)
        if best is not None and best + 1 < self.config.min_side:
            # Known too small before any download: no size of it, shrunk to max_side
            # and maybe cropped, can reach min_side (1 px spared for Flickr's rounding).
            count(self.stats, item, "images/too_small")
            raise DropItem(
                f"photo {item.id}: {item.o_width}x{item.o_height} original is too small",
                log_level="DEBUG",
            )
        offered = [(s, item.urls[s]) for s in self.config.sizes if item.urls.get(s)]
        allowed = [(s, u) for s, u in offered if self.config.host_allowed(u)]
        if not allowed:
            reason = "off_allowlist" if offered else "no_url"
            count(self.stats, item, f"images/failed/{reason}")
            raise DropItem(f"photo {item.id}: no usable image URL ({reason})", log_level="INFO")
        item.image_urls = [u for _, u in allowed]
        return item

    def _largest_short_side(self, item: PhotoItem) -> float | None:
        """The shorter side of the largest image the photo could be stored as, from the
        original's size (``o_dims``); None when Flickr did not say."""
        if not item.o_width or not item.o_height:
            return None
        longer, shorter = max(item.o_width, item.o_height), min(item.o_width, item.o_height)
        return shorter * min(1.0, self.config.max_side / longer)
