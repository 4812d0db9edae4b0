"""Helpers for unit tests of the Scrapy glue."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler

from flickrspider import settings as project_settings


def project_crawler(spidercls: Any = None, **overrides: Any) -> Crawler:
    """A crawler with the project's settings plus ``overrides``, stats opened."""
    values = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    values["SPIDER_MODULES"] = []  # unit tests load no spiders
    crawler = get_crawler(spidercls, settings_dict={**values, **overrides})
    crawler.stats.open_spider()
    return crawler
