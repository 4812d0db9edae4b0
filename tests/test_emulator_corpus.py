"""The emulator's synthetic corpus in-process: what the photos look like, determinism, speed."""

from __future__ import annotations

import calendar
import json
import re
import time
from collections import Counter
from typing import Any

import numpy as np
import pytest

from flickrspider.emulator import Corpus
from flickrspider.emulator.words import normalize_tag

CONFIG = {"seed": 5, "keywords": {"paris": 2500, "tokyo": 1200, "são paulo": 600}}


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus(CONFIG)


@pytest.fixture(scope="module")
def records(corpus: Corpus) -> list[dict[str, Any]]:
    return [corpus.record(str(i)) for i in corpus.table.ids]


# -- the corpus ---------------------------------------------------------------------------


def test_records_look_like_flickr(records: list[dict[str, Any]]) -> None:
    for r in records[:500]:
        assert re.fullmatch(r"\d+", r["id"]) and re.fullmatch(r"[0-9a-f]{10}", r["secret"])
        assert (
            re.fullmatch(r"[0-9a-f]{10}", r["originalsecret"])
            and r["originalsecret"] != r["secret"]
        )
        assert re.fullmatch(r"\d+@N\d\d", r["owner"]) and r["ownername"]
        assert re.fullmatch(r"\d+", r["server"]) and isinstance(r["farm"], int)
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r["datetaken"])
        assert r["tags"] == r["tags"].lower() and r["title"]
        assert r["keywords"][0] in ("paris", "tokyo", "são paulo")
        assert normalize_tag(r["keywords"][0]) in r["tags"].split()
        assert 0 <= r["license"] <= 16 and r["originalformat"] in ("jpg", "png", "gif")
        assert (r["accuracy"] > 0) == r["geotagged"]
        if r["geotagged"]:
            assert 1 <= r["accuracy"] <= 16 and (r["latitude"], r["longitude"]) != (0, 0)


def test_corpus_mix(records: list[dict[str, Any]]) -> None:
    n = len(records)
    assert {r["license"] for r in records} == set(range(17))
    assert 0.6 < sum(r["geotagged"] for r in records) / n < 0.8
    assert 0.11 < sum(r["frame"] is not None for r in records) / n < 0.19
    assert sum(min(r["o_width"], r["o_height"]) < 500 for r in records) / n > 0.05
    assert sum(
        max(r["o_width"], r["o_height"]) / min(r["o_width"], r["o_height"]) >= 2.5 for r in records
    )
    assert Counter(r["originalformat"] for r in records)["png"] > 0
    assert sum(len(r["keywords"]) == 2 for r in records) / n > 0.05  # tagged with two keywords
    framed = next(r for r in records if r["frame"])
    assert all(0 < side < max(framed["o_width"], framed["o_height"]) for side in framed["frame"])


def test_ids_increase_with_upload_time_and_uploads_grow(
    corpus: Corpus, records: list[dict[str, Any]]
) -> None:
    ids = [int(r["id"]) for r in records]
    uploads = [r["dateupload"] for r in records]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) and uploads == sorted(uploads)
    config = corpus.config
    assert config.start <= uploads[0] and uploads[-1] < config.end
    years = Counter(time.gmtime(u).tm_year for u in uploads)
    assert years[2023] > 2 * years[2007]  # the upload rate grows over the years


def test_large_exists_only_for_big_originals(records: list[dict[str, Any]]) -> None:
    big = [r for r in records if max(r["o_width"], r["o_height"]) > 1024]
    for r in records:
        if max(r["o_width"], r["o_height"]) <= 1024:
            assert "b" not in r["sizes"]
        if "b" in r["sizes"]:
            assert max(r["sizes"]["b"]) == 1024
    lacking = sum("b" not in r["sizes"] for r in big) / len(big)
    assert 0.02 < lacking < 0.09  # no_large: 5%


def test_random_and_explicit_bursts() -> None:
    at = calendar.timegm((2012, 5, 1, 8, 0, 0))
    corpus = Corpus(
        {
            "seed": 8,
            "keywords": {"paris": 60_000},
            "bursts": [{"keyword": "paris", "count": 4500, "at": at, "seconds": 1}],
        }
    )
    upload = corpus.table.upload
    assert int(np.sum(upload == at)) >= 4500  # more than the cap in one second
    per_ten_minutes = np.bincount((upload - upload[0]) // 600)
    assert per_ten_minutes.max() >= 1000  # random bursts: thousands within minutes
    assert np.median(per_ten_minutes) <= 1


def test_same_seed_same_corpus_other_seed_other_corpus() -> None:
    params = {"text": "paris", "per_page": "50", "extras": "url_l,url_o,geo,tags,date_upload"}
    a, b = (
        Corpus({"seed": 3, "keywords": {"paris": 800}}),
        Corpus({"seed": 3, "keywords": {"paris": 800}}),
    )
    assert json.dumps(a.search(params)) == json.dumps(b.search(params))
    assert a.render(a.table.ids[5], "m") == b.render(b.table.ids[5], "m")
    c = Corpus({"seed": 4, "keywords": {"paris": 800}})
    assert c.search(params)["photos"]["photo"] != a.search(params)["photos"]["photo"]


# -- speed ----------------------------------------------------------------------------------


def test_million_photo_corpus_builds_in_seconds_and_searches_in_milliseconds() -> None:
    began = time.perf_counter()
    corpus = Corpus(
        {"seed": 2, "keywords": {"paris": 500_000, "tokyo": 300_000, "new york": 200_000}}
    )
    built = time.perf_counter() - began
    assert len(corpus) >= 1_000_000 and built < 20
    p = {
        "text": "paris",
        "has_geo": "1",
        "accuracy": "6",
        "per_page": "250",
        "sort": "date-posted-asc",
        "extras": "url_l,url_o,geo,tags,o_dims,original_format,date_upload,date_taken,views",
    }
    timings = []
    for start in range(1_300_000_000, 1_700_000_000, 40_000_000):
        began = time.perf_counter()
        answer = corpus.search(
            {**p, "min_upload_date": str(start), "max_upload_date": str(start + 5_000_000)}
        )
        timings.append(time.perf_counter() - began)
        assert answer["stat"] == "ok" and answer["photos"]["photo"]
    assert sorted(timings)[len(timings) // 2] < 0.1
