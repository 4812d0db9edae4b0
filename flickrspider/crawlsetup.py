"""Start-up of a crawl: fail early on bad input, then pick the pipelines and feed fields.

Shared by the ``flickr`` and ``flickr_download`` spiders.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from flickrspider.args import ArgumentError
from flickrspider.config import ConfigError, FlickrConfig
from flickrspider.items import STAGE1_FIELDS, STORED_FIELDS
from flickrspider.paths import STATE_DIR
from flickrspider.store import StoreError, check_writable

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

PIPELINES_STAGE1 = {"flickrspider.pipelines.DedupPipeline": 100}
PIPELINES_FULL = {
    "flickrspider.pipelines.DedupPipeline": 100,
    "flickrspider.pipelines.SizeChoicePipeline": 200,
    "flickrspider.imagespipeline.FlickrImagesPipeline": 300,
}
REAL_FLICKR_HOST = "api.flickr.com"


@contextmanager
def fail_early() -> Iterator[None]:
    """A bad argument or setting ends the run before any request, with one line
    naming the culprit (no traceback) and exit status 2."""
    try:
        yield
    except (ArgumentError, ConfigError) as exc:
        logger.critical("%s", exc)
        print(f"flickrspider: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def configure_crawl(crawler: Crawler, *, download: bool, api: bool = True) -> FlickrConfig:
    """Validate the settings and set the pipelines and feed fields for the flow.

    ``api``: whether the crawl calls the API (downloading from a stage-1 file
    does not: Flickr's image hosts need no key).
    """
    config = FlickrConfig.from_settings(crawler.settings)
    if api and REAL_FLICKR_HOST in config.api_url and not config.api_key:
        raise ConfigError("FLICKR_API_KEY is not set (setting or environment variable)")
    if download:
        try:
            check_writable(config.images_store, STATE_DIR)
        except StoreError as exc:
            raise ConfigError(
                f"IMAGES_STORE ({config.images_store!r}) is not writable: {exc.strerror}"
            ) from None
    settings = crawler.settings
    if settings.getpriority("ITEM_PIPELINES") in (None, 0, 10, 20):
        settings.set("ITEM_PIPELINES", PIPELINES_FULL if download else PIPELINES_STAGE1, "spider")
    fields = STORED_FIELDS if download else STAGE1_FIELDS
    settings.set("FEED_EXPORT_FIELDS", list(fields), "spider")
    return config
