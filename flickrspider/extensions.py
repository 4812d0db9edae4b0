"""Observable runs: per-keyword progress with an ETA, an end-of-run summary, and
a log filter that keeps the API key out of every log line.

The summary is logged and written to ``IMAGES_STORE/.flickrspider/summary.json``
(the report reads it). Everything comes from the namespaced stats that the
spider, middlewares and pipelines keep (``flickr/keyword/<kw>/...``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from twisted.internet import task

from flickrspider.config import FlickrConfig
from flickrspider.paths import STATE_DIR

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

MIN_REDACTED_KEY = 6  # shorter test keys would mangle ordinary words; real keys have 32 characters
KEYWORD_COUNTERS = ("total", "found", "duplicates", "stored", "too_small", "windows", "api_calls")


class RedactKeyFilter(logging.Filter):
    """Replaces the API key wherever it would appear in a log record."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, "REDACTED"), None
        if record.exc_info and self.secret in logging.Formatter().formatException(record.exc_info):
            record.exc_info, record.exc_text = None, None
            record.msg = f"{record.msg} (traceback withheld: it contained the API key)"
        return True


def keyword_summary(stats: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per keyword: the counters of KEYWORD_COUNTERS and failures by reason."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in stats.items():
        if not key.startswith("flickr/keyword/"):
            continue
        kw, _, counter = key[len("flickr/keyword/") :].rpartition("/")
        if kw.endswith("/failed"):
            entry = out.setdefault(kw[: -len("/failed")], {})
            entry.setdefault("failed", {})[counter] = value
        elif counter in KEYWORD_COUNTERS:
            out.setdefault(kw, {})[counter] = value
    for entry in out.values():
        for counter in KEYWORD_COUNTERS:
            entry.setdefault(counter, 0)
        entry.setdefault("failed", {})
    return out


class FlickrProgress:
    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.config = FlickrConfig.from_settings(crawler.settings)
        self.started = time.monotonic()
        self._calls_then = (self.started, 0)
        self._loop: task.LoopingCall | None = None
        self._filter: RedactKeyFilter | None = None
        self._root_level: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        ext = cls(crawler, crawler.settings.getfloat("FLICKR_PROGRESS_INTERVAL", 30.0))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self) -> None:
        if len(self.config.api_key) >= MIN_REDACTED_KEY:
            self._filter = RedactKeyFilter(self.config.api_key)
            for handler in logging.getLogger().handlers:
                handler.addFilter(self._filter)
        # Scrapy leaves the root logger at NOTSET and filters in its handler, so every
        # debug message of every response still becomes a LogRecord first. Records no
        # root handler takes are now not made at all.
        root = logging.getLogger()
        floor = min((h.level for h in root.handlers), default=logging.NOTSET)
        if floor > root.level:
            self._root_level = root.level
            root.setLevel(floor)
        if self.interval > 0:
            self._loop = task.LoopingCall(self.log_progress)
            self._loop.start(self.interval, now=False)

    def log_progress(self) -> None:
        stats = self.crawler.stats.get_stats()
        now, calls = time.monotonic(), int(stats.get("flickr/api/calls", 0))
        then, calls_then = self._calls_then
        rate = (calls - calls_then) / max(now - then, 1e-6)
        self._calls_then = (now, calls)
        for kw, entry in sorted(keyword_summary(stats).items()):
            left = max(0, entry["total"] - entry["found"] - entry["duplicates"])
            per_page = getattr(self.crawler.spider, "per_page", 250)
            eta = _duration(left / per_page / rate) if rate > 0 and left else "-"
            logger.info(
                "%s: %d/%d photos found (%.0f%%), %d stored, %d windows, %d API calls, ETA %s",
                kw,
                entry["found"],
                entry["total"],
                100.0 * entry["found"] / max(1, entry["total"]),
                entry["stored"],
                entry["windows"],
                entry["api_calls"],
                eta,
            )

    def spider_closed(self, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        stats = self.crawler.stats.get_stats()
        summary = {
            "reason": reason,
            "keywords": keyword_summary(stats),
            "api_calls": int(stats.get("flickr/api/calls", 0)),
            "failed": {
                k.rsplit("/", 1)[1]: v
                for k, v in stats.items()
                if k.startswith("flickr/images/failed/")
            },
            "unreachable": int(stats.get("flickr/photos/unreachable", 0)),
            "seconds": round(time.monotonic() - self.started, 1),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        self._log_summary(summary)
        if getattr(getattr(self.crawler.spider, "args", None), "download", True):
            self._write_summary(summary)
        if self._filter is not None:
            for handler in logging.getLogger().handlers:
                handler.removeFilter(self._filter)
        if self._root_level is not None:
            logging.getLogger().setLevel(self._root_level)

    def _log_summary(self, summary: dict[str, Any]) -> None:
        lines = [f"flickrspider summary ({summary['reason']}, {summary['api_calls']} API calls):"]
        for kw, e in sorted(summary["keywords"].items()):
            failed = ", ".join(f"{r}={n}" for r, n in sorted(e["failed"].items())) or "none"
            lines.append(
                f"  {kw}: found {e['found']} of {e['total']}, stored {e['stored']}, duplicates "
                f"{e['duplicates']}, too small {e['too_small']}, failed: {failed}"
            )
        if summary["unreachable"]:
            lines.append(f"  unreachable (over 4,000 in one second): {summary['unreachable']}")
        logger.info("\n".join(lines))

    def _write_summary(self, summary: dict[str, Any]) -> None:
        path = Path(self.config.images_store, STATE_DIR, "summary.json")
        tmp = path.with_name("summary.json.part")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            logger.error("Could not write the run summary to %s: %s", path, exc.strerror)
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)  # nothing partial stays behind (a full disk)


def _duration(seconds: float) -> str:
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{sec:02d}s"
