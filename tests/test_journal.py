"""The job journal's Scrapy glue (``flickrspider.journal``), with hand-made responses."""

from __future__ import annotations

import asyncio

from scrapy import Request, Spider, signals
from scrapy.http import TextResponse

from flickrspider.job import JobJournal, task_key
from flickrspider.jobfeed import JobFeedStorage
from flickrspider.journal import RetryOnResume, TaskJournalMiddleware, job_for
from tests.helpers import project_crawler

URL = "http://127.0.0.1:1/services/rest/"


def task(page: int, kw: str = "paris") -> dict:
    return {
        "kw": kw,
        "kind": "page",
        "sort": "date-posted-asc",
        "start": 0,
        "end": 9,
        "page": page,
        "hi": 9,
        "first": False,
    }


class FakeSpider(Spider):
    name = "fake"

    def search_request(self, task: dict, *, priority: int = 0) -> Request:
        return Request(URL, cb_kwargs={"task": task}, priority=priority, dont_filter=False)


def middleware(tmp_path):
    crawler = project_crawler(FakeSpider, JOBDIR=str(tmp_path / "job"))
    crawler.spider = FakeSpider()
    return crawler, TaskJournalMiddleware(crawler)


def response_for(t: dict) -> TextResponse:
    return TextResponse(URL, body=b"{}", request=FakeSpider().search_request(t))


async def collect(agen):
    return [x async for x in agen]


async def agen(items):
    for item in items:
        yield item


def item_done(crawler, item, response) -> None:
    crawler.signals.send_catch_log(signals.item_scraped, item=item, response=response, spider=None)


def test_no_jobdir_no_journal():
    crawler = project_crawler(FakeSpider)
    assert job_for(crawler) is None
    assert TaskJournalMiddleware(crawler).job is None


def test_start_records_new_tasks_and_replays_pending_ones(tmp_path):
    _crawler, mw = middleware(tmp_path)
    first = [FakeSpider().search_request(task(1)), FakeSpider().search_request(task(2))]
    out = asyncio.run(collect(mw.process_start(agen(first))))
    assert out == first and mw.job.journal.counts() == (2, 0)
    mw.job.journal.finish(task_key(task(1)))
    mw.job.journal.close()
    # the next run: task 2 is issued again, dont_filter; both start tasks are known
    crawler2, mw2 = middleware(tmp_path)
    again = [FakeSpider().search_request(task(1)), FakeSpider().search_request(task(2))]
    out = asyncio.run(collect(mw2.process_start(agen(again))))
    assert [r.cb_kwargs["task"]["page"] for r in out] == [2]
    assert out[0].dont_filter
    assert crawler2.stats.get_value("flickr/job/known_tasks") == 2


def test_a_task_is_done_once_its_output_is_exhausted_and_its_items_are_through(tmp_path):
    crawler, mw = middleware(tmp_path)
    journal: JobJournal = mw.job.journal
    parent = task(1)
    journal.add(task_key(parent), parent)
    response = response_for(parent)
    items = [{"id": "1"}, {"id": "2"}]
    child = FakeSpider().search_request(task(2))
    out = list(mw.process_spider_output(response, [items[0], child, items[1]]))
    assert out == [items[0], child, items[1]]
    assert journal.knows(task_key(task(2)))
    assert journal.counts() == (2, 0)  # items still in the pipelines
    item_done(crawler, items[0], response)
    assert journal.counts() == (2, 0)
    item_done(crawler, items[1], response)
    assert journal.counts() == (1, 1)
    # the same child found again (a replayed parent) is not issued twice
    again = list(mw.process_spider_output(response_for(parent), [child]))
    assert again == []


def test_a_retry_of_the_same_task_carries_it_on(tmp_path):
    _crawler, mw = middleware(tmp_path)
    parent = task(1)
    mw.job.journal.add(task_key(parent), parent)
    retry = FakeSpider().search_request(parent).replace(dont_filter=True)
    assert list(mw.process_spider_output(response_for(parent), [retry])) == [retry]
    assert mw.job.journal.counts() == (1, 0)


def test_async_output_is_handled_the_same(tmp_path):
    _crawler, mw = middleware(tmp_path)
    parent = task(1)
    mw.job.journal.add(task_key(parent), parent)
    out = asyncio.run(collect(mw.process_spider_output_async(response_for(parent), agen([]))))
    assert out == [] and mw.job.journal.counts() == (0, 1)


def test_feed_storage_overwrites_a_new_job_and_appends_to_a_resumed_one(tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(b'{"id": "1"}\n{"id": "2"')
    options = {"format": "jsonlines", "overwrite": True}
    crawler = project_crawler(FakeSpider, JOBDIR=str(tmp_path / "job"))
    storage = JobFeedStorage.from_crawler(crawler, str(feed), feed_options=options)
    assert storage.write_mode == "wb"  # a new job: -O means overwrite
    job_for(crawler).journal.close()

    crawler2 = project_crawler(FakeSpider, JOBDIR=str(tmp_path / "job"))
    storage = JobFeedStorage.from_crawler(crawler2, str(feed), feed_options=options)
    assert storage.write_mode == "ab" and feed.read_bytes() == b'{"id": "1"}\n'
    assert job_for(crawler2).exported(1) and not job_for(crawler2).exported(2)
    out = storage.open(None)
    out.write(b'{"id": "1"}\n')  # already there: dropped
    out.write(b'{"id": "3"}\n')
    storage.store(out)
    assert feed.read_bytes() == b'{"id": "1"}\n{"id": "3"}\n'


def test_feed_storage_leaves_other_formats_to_scrapy(tmp_path):
    crawler = project_crawler(FakeSpider)
    storage = JobFeedStorage.from_crawler(
        crawler, str(tmp_path / "f.csv"), feed_options={"format": "csv"}
    )
    out = storage.open(None)
    out.write(b"a,b\n")
    storage.store(out)
    assert (tmp_path / "f.csv").read_bytes() == b"a,b\n"


def test_a_window_given_up_on_stays_for_the_next_run(tmp_path):
    _, mw = middleware(tmp_path)
    lost = task(1)
    mw.job.journal.add(task_key(lost), lost)
    response = response_for(lost)

    def callback():
        response.request.cb_kwargs["task"]["retry_on_resume"] = True  # as parse_search does
        yield from ()

    assert list(mw.process_spider_output(response, callback())) == []
    assert mw.job.journal.counts() == (1, 0)


def test_an_item_lost_to_a_full_disk_keeps_its_task_pending(tmp_path):
    crawler, mw = middleware(tmp_path)
    parent = task(1)
    mw.job.journal.add(task_key(parent), parent)
    response = response_for(parent)
    items = [{"id": "1"}, {"id": "2"}]
    list(mw.process_spider_output(response, items))
    item_done(crawler, items[0], response)
    crawler.signals.send_catch_log(
        signals.item_dropped, item=items[1], response=response, spider=None,
        exception=RetryOnResume("photo 2 not stored: unwritable"),
    )  # fmt: skip
    assert mw.job.journal.counts() == (1, 0)
