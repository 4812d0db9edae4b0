"""Helpers for unit tests of the Scrapy glue."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler

from flickrspider import settings as project_settings
from flickrspider.args import FLICKR_LAUNCH

if TYPE_CHECKING:
    from flickrspider.emulator import EmulatorProcess


def project_crawler(spidercls: Any = None, **overrides: Any) -> Crawler:
    """A crawler with the project's settings plus ``overrides``, stats opened."""
    values = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    values["SPIDER_MODULES"] = []  # unit tests load no spiders
    crawler = get_crawler(spidercls, settings_dict={**values, **overrides})
    crawler.stats.open_spider()
    return crawler


def truth(emu: EmulatorProcess, keywords: str) -> set[str]:
    """Every photo id a crawl of ``keywords`` (comma-separated) with the default search
    arguments should find: the emulator's answer without Flickr's cap."""
    ids: set[str] = set()
    for keyword in keywords.split(","):
        ids |= set(
            emu.truth(
                text=keyword,
                has_geo=1,
                accuracy=6,
                media="photos",
                min_upload_date=FLICKR_LAUNCH,
                max_upload_date=int(time.time()),
            )
        )
    return ids
