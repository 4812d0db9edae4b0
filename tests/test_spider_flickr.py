"""End-to-end stage 1: real ``scrapy crawl flickr -a download=0`` runs against the emulator."""

from __future__ import annotations

import math

import pytest

from flickrspider.emulator import EmulatorProcess
from flickrspider.items import META_KEYS
from tests.conftest import TEST_KEY, run_crawl
from tests.helpers import truth

pytestmark = pytest.mark.e2e


def test_stage1_feed_is_complete_and_unique_across_keywords(crawl, emulator):
    emulator.reset()
    result = crawl(args={"keywords": "paris,tokyo", "download": "0"})
    assert result.returncode == 0, result.log[-3000:]
    ids = [r["id"] for r in result.feed]
    assert len(ids) == len(set(ids)), "a photo id appears twice in the feed"
    expected = truth(emulator, "paris") | truth(emulator, "tokyo")
    assert set(ids) == expected
    shared = truth(emulator, "paris") & truth(emulator, "tokyo")
    assert shared, "the corpus should share photos between keywords"
    for record in result.feed:
        assert set(META_KEYS) <= set(record) and record["keyword"] in {"paris", "tokyo"}
        assert "path" not in record and record["urls"]
        assert record["latitude"] is not None and record["accuracy"] >= 6
    # one window each: a single call per keyword
    assert emulator.stats()["api_calls"] == 2
    assert "flickrspider summary (finished, 2 API calls)" in result.log
    assert TEST_KEY not in result.log


BURSTY = {
    "seed": 5,
    "keywords": {"harbor": 30000, "mill": 60},
    "bursts": [
        {"keyword": "harbor", "count": 4500, "at": "2015-06-01 12:00:00", "seconds": 1},
        {"keyword": "harbor", "count": 6000, "at": "2019-03-01 08:00:00", "seconds": 300},
    ],
    "total_error": 0.1,
    "total_error_min": 500,
}


@pytest.fixture(scope="module")
def bursty():
    with EmulatorProcess("--keys", TEST_KEY, config=BURSTY) as emu:
        yield emu


@pytest.mark.slow
def test_recall_is_complete_past_the_cap_with_bursts_and_approximate_totals(tmp_path, bursty):
    bursty.reset()
    result = run_crawl(tmp_path, bursty, args={"keywords": "harbor,mill", "download": "0"})
    assert result.returncode == 0, result.log[-3000:]
    ids = [r["id"] for r in result.feed]
    assert len(ids) == len(set(ids))
    expected = truth(bursty, "harbor") | truth(bursty, "mill")
    assert len(expected) > 20000
    assert set(ids) == expected  # 4,500 photos in one second too: asc + desc sorts cover them
    calls = bursty.stats()["api_calls"]
    floor = math.ceil(len(truth(bursty, "harbor")) / 250) + 1
    # the one-second burst costs extra sort-order calls (7 sorts x up to 16 pages)
    assert calls <= 1.15 * floor + 7 * 16, (calls, floor)
    assert "flickr/windows/split" in result.log


def test_invalid_key_stops_the_crawl_at_once(crawl, emulator):
    result = crawl(args={"keywords": "paris", "download": "0"}, key="not-a-valid-key")
    assert "Flickr rejected the API key (code 100)" in result.log
    assert "Spider closed (flickr_invalid_api_key)" in result.log
    assert result.feed == []
    assert "not-a-valid-key" not in result.log


@pytest.mark.parametrize(
    ("args", "culprit"),
    [
        ({"keywords": "paris", "accuracy": "20"}, "accuracy='20'"),
        ({"keywords": "paris", "keyword": "x"}, "keyword"),
        ({}, "keywords"),
        ({"keywords": "paris", "license": "bogus"}, "license"),
        (
            {"keywords": "paris", "min_upload_date": "2020-01-01", "max_upload_date": "2010-01-01"},
            "upload_date",
        ),
    ],
)
def test_bad_arguments_stop_before_any_request(crawl, emulator, args, culprit):
    emulator.reset()
    result = crawl(args=args)
    assert result.returncode == 2
    errors = [line for line in result.log.splitlines() if line.startswith("flickrspider: ")]
    assert len(errors) == 1 and culprit in errors[0]
    assert "Traceback" not in result.log
    assert emulator.stats()["api_calls"] == 0


def test_resume_from_jobdir_does_not_requery_finished_windows(tmp_path, bursty):
    jobdir = tmp_path / "job"
    settings = {"JOBDIR": str(jobdir), "CLOSESPIDER_PAGECOUNT": "20"}
    bursty.reset()
    first = run_crawl(
        tmp_path,
        bursty,
        args={"keywords": "harbor", "download": "0"},
        settings=settings,
        feed_name="part1.jsonl",
    )
    assert "closespider_pagecount" in first.log
    calls_first = bursty.stats()["api_calls"]
    settings["CLOSESPIDER_PAGECOUNT"] = "0"
    second = run_crawl(
        tmp_path,
        bursty,
        args={"keywords": "harbor", "download": "0"},
        settings=settings,
        feed_name="part2.jsonl",
    )
    assert second.returncode == 0
    ids = [r["id"] for r in first.feed] + [r["id"] for r in second.feed]
    assert set(ids) == truth(bursty, "harbor")
    bursty.reset()
    (tmp_path / "clean").mkdir()
    clean = run_crawl(
        tmp_path / "clean",
        bursty,
        args={"keywords": "harbor", "download": "0"},
        feed_name="clean.jsonl",
    )
    assert clean.returncode == 0
    total_resumed = calls_first + int(second.stats_value("flickr/api/calls") or 0)
    # in-flight requests at the stop are asked again; nothing else is
    assert total_resumed <= bursty.stats()["api_calls"] + 32
