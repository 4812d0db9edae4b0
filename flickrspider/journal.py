"""Crash-safe resume with ``-s JOBDIR=...``: the job journal, wired into Scrapy.

Scrapy writes a job's request queue to disk only when it stops gracefully, and
even then loses the requests in flight; after SIGKILL its ``requests.seen`` may
name requests that no queue holds any more, so a restart would end early, and
image downloads never go through the scheduler at all. Here the job journal
(``flickrspider.job``, in ``JOBDIR/flickrspider.sqlite``) is the queue of record,
and Scrapy's own queues stay in memory (``JournalScheduler``):

``TaskJournalMiddleware`` (spider middleware)
    ``process_start`` issues the job's unfinished tasks again, then passes on the
    start requests the job does not know yet. ``process_spider_output`` records
    each child task before its request leaves, and marks the response's own task
    done once the callback's output is exhausted and every item it yielded has
    come out of the item pipelines (``item_scraped``, ``item_dropped``,
    ``item_error``): an image is stored and its feed line written before the
    search page that found it counts as done.
``job_for(crawler)``
    the job (journal, feed ids, failure handling), shared with ``DedupPipeline``
    and the feed storage (``flickrspider.jobfeed``); None without JOBDIR and with
    ``FLICKR_REDIS_URL`` (Redis keeps that queue).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import weakref
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.core.scheduler import Scheduler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.job import job_dir

from flickrspider.items import STORED_KEYS
from flickrspider.job import JobJournal, task_key
from flickrspider.jpegmeta import NoMetadata, NotJpeg, read_metadata
from flickrspider.store import resolve

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from flickrspider.feedfile import IdSet
    from flickrspider.items import PhotoItem
    from flickrspider.ledger import Ledger

logger = logging.getLogger(__name__)

_JOBS: weakref.WeakKeyDictionary[Crawler, Job | None] = weakref.WeakKeyDictionary()
_STOPPING: weakref.WeakKeyDictionary[Crawler, asyncio.Future[None] | None] = (
    weakref.WeakKeyDictionary()
)


class RetryOnResume(DropItem):
    """An item dropped for a reason of ours, not the photo's (a full disk): the search
    task that found it stays unfinished, so running the job again tries it again."""


class Job:
    """The crawl's job journal, the ids its feed files already hold, and what happens
    when the job cannot be written any more (a full or read-only JOBDIR): one clear
    error, the crawl stops, and no task counts as done from then on."""

    def __init__(self, journal: JobJournal, crawler: Crawler) -> None:
        self.journal = journal
        self.feeds: list[IdSet] = []
        self.broken = False
        self._crawler = weakref.ref(crawler)

    @property
    def resumed(self) -> bool:
        return self.journal.resumed

    def exported(self, photo_id: int) -> bool:
        """True if every JSON Lines feed of the job already holds the photo."""
        return bool(self.feeds) and all(photo_id in ids for ids in self.feeds)

    def add(self, key: bytes, task: dict[str, Any], priority: int) -> bool | None:
        """Record a task: True if new, False if known, None if it could not be recorded."""
        try:
            return self.journal.add(key, task, priority)
        except sqlite3.Error as exc:
            self.fail("the job journal", exc)
            return None

    def finish(self, key: bytes) -> None:
        if self.broken:
            return
        try:
            self.journal.finish(key)
        except sqlite3.Error as exc:
            self.fail("the job journal", exc)

    def take(self, photo_id: int) -> bool:
        try:
            self.journal.take(photo_id)
        except sqlite3.Error as exc:
            self.fail("the job journal", exc)
            return False
        return True

    def took(self, photo_id: int) -> bool:
        return self.journal.took(photo_id)

    def fail(self, what: str, exc: BaseException) -> None:
        self.broken = True
        crawler = self._crawler()
        if crawler is not None:
            stop_crawl(crawler, f"cannot write {what}: {exc}", "jobdir_unwritable")


def stop_crawl(crawler: Crawler, message: str, reason: str) -> None:
    """Log ``message`` once and close the spider with ``reason``."""
    if crawler in _STOPPING:
        return
    logger.error("Stopping: %s", message)
    _STOPPING[crawler] = None
    if crawler.engine is not None and crawler.engine.running:
        _STOPPING[crawler] = asyncio.ensure_future(crawler.engine.close_spider_async(reason=reason))


def job_for(crawler: Crawler) -> Job | None:
    """The crawl's job (opened once), or None when it is not resumable through us."""
    if crawler not in _JOBS:
        directory = job_dir(crawler.settings)
        if not directory or crawler.settings.get("FLICKR_REDIS_URL"):
            _JOBS[crawler] = None
        else:
            _JOBS[crawler] = Job(JobJournal(directory), crawler)
    return _JOBS[crawler]


def restore_stored(item: PhotoItem, ledger: Ledger) -> bool:
    """Complete ``item`` from the file an earlier run of this job stored for it, so its
    feed record can be written after all; False if the file cannot tell."""
    path = ledger.path_of(item.id)
    if path is None:
        return False
    try:
        meta = read_metadata(resolve(ledger.root, path))
    except (OSError, ValueError, NoMetadata, NotJpeg):
        return False
    if str(meta.get("id")) != item.id or not isinstance(meta.get("keyword"), str):
        return False
    item.keyword = meta["keyword"]
    for key in STORED_KEYS:
        setattr(item, key, meta.get(key))
    item.path = path
    item.images = [{"url": item.source_url, "path": path, "checksum": None, "status": "uptodate"}]
    return True


def task_of(request: Request) -> dict[str, Any] | None:
    """The search task a request carries, if any."""
    task = request.cb_kwargs.get("task")
    return task if isinstance(task, dict) else None


@dataclass
class _Output:
    """One response's callback output on its way through the engine."""

    key: bytes
    task: dict[str, Any]
    outstanding: int = 0  # items yielded whose pipelines have not finished
    exhausted: bool = False
    handed_over: bool = False  # a retry of the same task carries it on
    retry: bool = False  # an item asked to be tried again when the job resumes


class JournalScheduler(Scheduler):
    """Scrapy's scheduler with its request queues in memory even under JOBDIR: the job
    journal is the queue of record. (A disk queue survives only a graceful stop, loses
    the requests in flight even then, and would issue the journal's tasks twice.)
    ``requests.seen`` stays in JOBDIR."""

    def __init__(self, dupefilter: Any, jobdir: str | None = None, **kwargs: Any) -> None:
        super().__init__(dupefilter, None, **kwargs)


class TaskJournalMiddleware:
    """Records search tasks in the job journal and issues unfinished ones again."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        assert crawler.stats is not None
        self.stats = crawler.stats
        self.job = job_for(crawler)
        self._outputs: dict[int, _Output] = {}
        if self.job is not None:
            for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
                crawler.signals.connect(self._item_done, signal=signal)
            crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if job_for(crawler) is None:
            raise NotConfigured  # no job journal (no JOBDIR, or a distributed crawl): silent
        return cls(crawler)

    # -- start -------------------------------------------------------------------
    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        if self.job is None:
            async for obj in start:
                yield obj
            return
        for request in self._replay():
            yield request
        async for obj in start:
            task = task_of(obj) if isinstance(obj, Request) else None
            if task is not None:
                added = self.job.add(task_key(task), task, obj.priority)
                if not added:
                    if added is False:
                        self.stats.inc_value("flickr/job/known_tasks")
                    continue
                obj.dont_filter = True  # the journal, not requests.seen, knows start tasks
            yield obj

    def _replay(self) -> Iterator[Request]:
        journal = self.job.journal  # type: ignore[union-attr]
        pending, done = journal.counts()
        if journal.resumed:
            logger.info(
                "Resuming the job in %s (run %d): %d unfinished search tasks to issue again, "
                "%d done",
                self.crawler.settings["JOBDIR"],
                journal.runs,
                pending,
                done,
            )
        if not pending:
            return
        make = getattr(self.crawler.spider, "search_request", None)
        if make is None:
            return
        for entry in journal.pending():
            request = make(entry.task, priority=entry.priority)
            request.dont_filter = True  # Scrapy's requests.seen may hold it already
            self.stats.inc_value("flickr/job/replayed_tasks")
            yield request

    # -- output ------------------------------------------------------------------
    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        output = self._begin(response)
        if output is None:
            yield from result
            return
        try:
            for obj in result:
                if self._pass(obj, output):
                    yield obj
        except GeneratorExit:
            self._outputs.pop(id(response), None)
            raise
        except Exception:
            self._outputs.pop(id(response), None)  # left pending: a restart retries it
            raise
        self._end(response, output)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        output = self._begin(response)
        if output is None:
            async for obj in result:
                yield obj
            return
        try:
            async for obj in result:
                if self._pass(obj, output):
                    yield obj
        except BaseException:
            self._outputs.pop(id(response), None)
            raise
        self._end(response, output)

    def _begin(self, response: Response) -> _Output | None:
        request = response.request
        task = task_of(request) if self.job is not None and request is not None else None
        if task is None:
            return None
        output = _Output(task_key(task), task)
        self._outputs[id(response)] = output
        return output

    def _pass(self, obj: Any, output: _Output) -> bool:
        """Count an item, or record a child task; False drops a task the job already has."""
        if not isinstance(obj, Request):
            output.outstanding += 1
            return True
        task = task_of(obj)
        if task is None:
            return True
        key = task_key(task)
        if key == output.key:
            output.handed_over = True
            return True
        added = self.job.add(key, task, obj.priority)  # type: ignore[union-attr]
        if added is False:
            self.stats.inc_value("flickr/job/known_tasks")
        elif added is None:  # not recorded (the job is unwritable): the parent stays pending
            output.retry = True
        return bool(added)

    def _end(self, response: Response, output: _Output) -> None:
        output.exhausted = True
        # a window given up on after every retry: the next run of the job tries it again
        output.retry = output.retry or bool(output.task.get("retry_on_resume"))
        self._settle(id(response), output)

    def _item_done(
        self, response: Response | None = None, exception: BaseException | None = None
    ) -> None:
        output = self._outputs.get(id(response))
        if output is not None:
            output.outstanding -= 1
            output.retry = output.retry or isinstance(exception, RetryOnResume)
            self._settle(id(response), output)

    def _settle(self, ident: int, output: _Output) -> None:
        if not output.exhausted or output.outstanding > 0:
            return
        del self._outputs[ident]
        if not (output.handed_over or output.retry):
            self.job.finish(output.key)  # type: ignore[union-attr]
            self.stats.inc_value("flickr/job/tasks_done")

    def _spider_closed(self, reason: str) -> None:
        journal = self.job.journal  # type: ignore[union-attr]
        pending, done = journal.counts()
        if pending:
            logger.info(
                "Job in %s: %d of %d search tasks unfinished; run the same command again to "
                "finish them",
                self.crawler.settings["JOBDIR"],
                pending,
                pending + done,
            )
        elif reason == "finished" and not self.job.broken:  # type: ignore[union-attr]
            journal.mark_finished()
