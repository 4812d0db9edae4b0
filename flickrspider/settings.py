"""Scrapy settings for flickrspider.

Every ``FLICKR_*`` setting of the spec is declared here with its default and a
one-line comment. Components read them once into frozen dataclasses
(``flickrspider.config``), which validate them and name the culprit on error.
"""

from __future__ import annotations

import os

from flickrspider import __version__

BOT_NAME = "flickrspider"
SPIDER_MODULES = ["flickrspider.spiders"]
NEWSPIDER_MODULE = "flickrspider.spiders"

# --- Flickr ---------------------------------------------------------------
# API key; required for real Flickr. Never logged, stored or exported.
FLICKR_API_KEY = os.environ.get("FLICKR_API_KEY", "")
# REST endpoint; point it at the emulator (python -m flickrspider.emulator) offline.
FLICKR_API_URL = "https://api.flickr.com/services/rest/"
# Hard budget of API calls per key and hour (Flickr's published limit is 3600).
FLICKR_API_CALLS_PER_HOUR = 3600
# Hosts (host or host:port) images may be fetched from; other URLs are refused.
FLICKR_IMAGE_HOSTS = ["live.staticflickr.com", "farm*.staticflickr.com", "farm*.static.flickr.com"]
# Size preference by Flickr suffix letter: Large (1024) first, then Original.
FLICKR_SIZES = ["l", "o"]
# Longer side is downsampled to this many pixels; never enlarged.
FLICKR_MAX_SIDE = 1024
# Images whose shorter side is below this (after frame removal) are discarded.
FLICKR_MIN_SIDE = 500
# Strip artsy borders (frames) before storing.
FLICKR_REMOVE_FRAMES = True
# At most this many images per numbered subdirectory of a keyword.
FLICKR_SHARD_SIZE = 1000
# JPEG quality used when an image has to be re-encoded.
FLICKR_JPEG_QUALITY = 90
# Processes that decode, de-frame, resize and encode images; None: one per core,
# 0: none (image work runs in threads of the crawl's own process).
FLICKR_IMAGE_PROCESSES = None
# redis://host:port/db to crawl distributed on scrapy-redis; unset: one process.
FLICKR_REDIS_URL = None
# Name of the distributed crawl (Redis key prefix); default: spider name + hash of its arguments.
FLICKR_REDIS_CRAWL = None
# Seconds between a distributed worker's heartbeats.
FLICKR_REDIS_HEARTBEAT = 5.0
# A worker silent this many seconds is presumed dead: its unfinished requests are requeued.
FLICKR_REDIS_DEAD_AFTER = 60.0
# Search answers (up to 250 photos each to store) a worker holds at once: one, and the next.
FLICKR_REDIS_LEASES = 2
# Seconds a finished distributed crawl stays in Redis (re-runs find it done); 0: deleted at once.
FLICKR_REDIS_KEEP = 24 * 3600

# Dataset root (the original's base_db_path).
IMAGES_STORE = "images"

# --- Scrapy ---------------------------------------------------------------
USER_AGENT = f"flickrspider/{__version__} (+dataset builder; Scrapy)"
ROBOTSTXT_OBEY = False
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 16
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

# AutoThrottle keeps the image hosts comfortable; the API has its own budget.
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 8.0

RETRY_ENABLED = True
RETRY_TIMES = 5
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]

# API calls: budget, backoff and key handling sit below RetryMiddleware (550) so
# they see answers first; image network failures become countable 599 answers.
# Rotating proxies (flickrspider.proxies) sit nearest the downloader: they see bans first.
DOWNLOADER_MIDDLEWARES = {
    "flickrspider.middlewares.ImageErrorsMiddleware": 540,
    "flickrspider.middlewares.FlickrApiMiddleware": 590,
    "flickrspider.proxies.RotatingProxies": 610,
    "flickrspider.proxies.BanDetection": 620,
}
# Proxies to rotate through (scrapy-rotating-proxies); empty: no proxy middlewares.
ROTATING_PROXY_LIST: list[str] = []
# Flickr's ban rules: 429/403/407 and network failures ban a proxy, 404 does not.
ROTATING_PROXY_BAN_POLICY = "flickrspider.proxies.FlickrBanPolicy"
# No consoles into a running crawl: Scrapy's telnet console, and the remote-control HTTP
# server that runs posted Python code (on by default in Scrapy 2.19 wherever aiohttp is
# installed, as it is here for the emulator). Either can be turned back on with -s.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
EXTENSIONS = {
    "flickrspider.extensions.FlickrProgress": 500,
    # spider.state is unused: the job journal keeps what a resumed job needs.
    "scrapy.extensions.spiderstate.SpiderState": None,
}
# Seconds between progress lines (per keyword: found/total, windows, calls, ETA).
FLICKR_PROGRESS_INTERVAL = 30.0
# Pipelines are chosen by the spider for its flow (see flickrspider.spiders.flickr).

# Resume (-s JOBDIR=...): the job journal in JOBDIR/flickrspider.sqlite is the queue
# of record (see flickrspider.journal). Scrapy's own queues stay in memory: on disk
# they survive only a graceful stop and would issue the journal's tasks twice.
SPIDER_MIDDLEWARES = {
    "flickrspider.journal.TaskJournalMiddleware": 25,
}
SCHEDULER = "flickrspider.journal.JournalScheduler"
# Local feed files: JSON Lines written line by line, kill-safe, appended to on resume.
FEED_STORAGES = {
    "": "flickrspider.jobfeed.JobFeedStorage",
    "file": "flickrspider.jobfeed.JobFeedStorage",
}
