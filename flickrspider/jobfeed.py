"""Local feed files that survive a kill and carry on when a job (JOBDIR) resumes.

``JobFeedStorage`` is Scrapy's ``FileFeedStorage`` (set for local paths in
``FEED_STORAGES``) with JSON Lines feeds written unbuffered, one ``write`` per
record, so a killed process leaves whole lines only. Appending starts with a
partial last line repaired (``flickrspider.feedfile``). A resumed job appends
even with ``-O``, and never writes an id its file already holds, so the feed
ends as an uninterrupted run's would; the ids it holds are given to the job so
``DedupPipeline`` drops what is exported already. A disk that refuses a line
stops the crawl with one error and leaves no part of the line behind. Other
feed formats are left to Scrapy.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from scrapy.extensions.feedexport import FileFeedStorage

from flickrspider.feedfile import IdSet, read_ids, record_id, repair_tail
from flickrspider.journal import job_for, stop_crawl

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

JSON_LINES = frozenset({"jsonlines", "jsonl"})


class JobFeedStorage(FileFeedStorage):
    """Local feed files; JSON Lines ones are kill-safe and resumable (see the module doc)."""

    def __init__(
        self,
        uri: str,
        *,
        feed_options: dict[str, Any] | None = None,
        crawler: Crawler | None = None,
    ) -> None:
        super().__init__(uri, feed_options=feed_options)
        self.jsonl = (feed_options or {}).get("format") in JSON_LINES
        self.known: IdSet | None = None
        self.crawler = crawler
        job = job_for(crawler) if crawler is not None else None
        if self.jsonl and job is not None and job.resumed:
            # A resumed job adds to what its earlier runs wrote, whatever -O says.
            self.write_mode = "ab"
            cut = repair_tail(self.path)
            if cut:
                logger.warning("Feed %s: cut a partial last record (%d bytes)", self.path, cut)
            self.known = read_ids(self.path)
            job.feeds.append(self.known)

    @classmethod
    def from_crawler(
        cls, crawler: Crawler, uri: str, *, feed_options: dict[str, Any] | None = None
    ) -> Self:
        return cls(uri, feed_options=feed_options, crawler=crawler)

    def open(self, spider: Spider) -> IO[bytes]:
        if not self.jsonl:
            return super().open(spider)
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.write_mode == "ab" and self.known is None:
            repair_tail(path)
        raw = path.open(self.write_mode, buffering=0)
        return _LineWriter(raw, self.known, self._failed)  # type: ignore[return-value]

    def _failed(self, exc: OSError) -> None:
        """The feed cannot take another line: stop, and let no task count as done."""
        job = job_for(self.crawler) if self.crawler is not None else None
        if job is not None:
            job.broken = True
        if self.crawler is not None:
            message = f"cannot write the feed {self.path}: {exc.strerror or exc}"
            stop_crawl(self.crawler, message, "feed_unwritable")


class _LineWriter:
    """An unbuffered file that drops records whose photo id it already holds, and
    never leaves part of a line behind when the disk refuses one."""

    def __init__(self, raw: Any, known: IdSet | None, failed: Callable[[OSError], None]) -> None:
        self.raw = raw
        self.known = known
        self.failed = failed
        self.broken = False

    def write(self, data: bytes) -> int:
        if self.broken or (self.known and record_id(data) in self.known):
            return len(data)
        start = self.raw.tell()
        try:
            view = memoryview(data)
            while view:  # a regular file takes it all at once; loop for safety
                written = self.raw.write(view)
                view = view[written:]
        except OSError as exc:
            self.broken = True
            with contextlib.suppress(OSError):
                self.raw.truncate(start)
            self.failed(exc)
        return len(data)

    def flush(self) -> None:
        self.raw.flush()
        os.fsync(self.raw.fileno())

    def close(self) -> None:
        if not self.raw.closed:
            with contextlib.suppress(OSError):
                self.flush()
            self.raw.close()

    @property
    def closed(self) -> bool:
        return bool(self.raw.closed)

    def fileno(self) -> int:
        return int(self.raw.fileno())

    def tell(self) -> int:
        return int(self.raw.tell())

    def writable(self) -> bool:
        return True
