"""flickr.photos.search semantics in-process: arguments, sorts, errors, the 4,000 cap, totals.

Results are checked against a brute-force oracle built from the ground-truth records
(title, description and tags as strings), not from the emulator's indexes.
"""

from __future__ import annotations

import calendar
import math
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flickrspider.emulator import Corpus, EmulatorConfig
from flickrspider.emulator.words import normalize_tag, tokens

BURST_AT = calendar.timegm((2015, 6, 1, 12, 0, 0))
ORACLE_CONFIG = {"seed": 5, "keywords": {"paris": 2500, "tokyo": 1200, "são paulo": 600}}
CAP_CONFIG = {
    "seed": 9,
    "keywords": {"paris": 9000, "tokyo": 500},
    "bursts": [{"keyword": "paris", "count": 4500, "at": "2015-06-01 12:00:00", "seconds": 1}],
}


def _ts(mysql: str) -> int:
    return calendar.timegm(time.strptime(mysql, "%Y-%m-%d %H:%M:%S"))


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus(ORACLE_CONFIG)


@pytest.fixture(scope="module")
def records(corpus: Corpus) -> list[dict[str, Any]]:
    return [corpus.record(str(i)) for i in corpus.table.ids]


@pytest.fixture(scope="module")
def big() -> Corpus:
    return Corpus(CAP_CONFIG)


def oracle(records: list[dict[str, Any]], p: dict[str, str]) -> list[str]:
    """Brute force over the records, reading the arguments as Flickr documents them."""
    words = [w for w in p.get("text", "").split() if not w.startswith("-")]
    negative = [w[1:] for w in p.get("text", "").split() if w.startswith("-")]
    tags = [normalize_tag(t) for t in p.get("tags", "").split(",") if t.strip()]
    out = []
    for r in records:
        text = set(tokens(f"{r['title']} {r['description']} {r['tags']}"))
        if not all(t in text for w in words for t in tokens(w)):
            continue
        if any(t in text for w in negative for t in tokens(w)):
            continue
        if tags:
            have = set(r["tags"].split())
            hits = [t in have for t in tags]
            if not (all(hits) if p.get("tag_mode") == "all" else any(hits)):
                continue
        if "min_upload_date" in p and r["dateupload"] < int(p["min_upload_date"]):
            continue
        if "max_upload_date" in p and r["dateupload"] > int(p["max_upload_date"]):
            continue
        if "min_taken_date" in p and _ts(r["datetaken"]) < _ts(p["min_taken_date"]):
            continue
        if "has_geo" in p and r["geotagged"] != (p["has_geo"] == "1"):
            continue
        if "accuracy" in p and r["accuracy"] < int(p["accuracy"]):
            continue
        if "license" in p and str(r["license"]) not in p["license"].split(","):
            continue
        if "media" in p and p["media"] == "photos" and r["media"] != "photo":
            continue
        if "bbox" in p:
            w, s, e, n = (float(v) for v in p["bbox"].split(","))
            if not (r["geotagged"] and w <= r["longitude"] <= e and s <= r["latitude"] <= n):
                continue
        out.append(r["id"])
    return out


# -- search semantics ---------------------------------------------------------------------


def test_text_negatives_tags_and_modes(corpus: Corpus, records: list[dict[str, Any]]) -> None:
    for p in (
        {"text": "paris"},
        {"text": "São Paulo"},
        {"text": "PARIS -wedding -birthday"},
        {"text": "tokyo sunset"},
        {"tags": "paris,tokyo"},
        {"tags": "paris,tokyo", "tag_mode": "all"},
        {"tags": "SãoPaulo,-paris"},
    ):
        expected = (
            oracle(records, p)
            if p.get("tags") != "SãoPaulo,-paris"
            else [
                r["id"]
                for r in records
                if "sãopaulo" in r["tags"].split() and "paris" not in r["tags"].split()
            ]
        )
        assert corpus.truth(p) == expected, p
        assert expected, p


def test_upload_dates_are_inclusive_and_take_mysql_datetimes(corpus: Corpus, records: list) -> None:
    t = records[1000]["dateupload"]
    exact = corpus.truth({"text": "paris", "min_upload_date": str(t), "max_upload_date": str(t)})
    assert records[1000]["id"] in exact or "paris" not in records[1000]["keywords"]
    assert (
        corpus.truth({"text": "paris", "min_upload_date": str(t + 1), "max_upload_date": str(t)})
        == []
    )
    mysql = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))
    assert (
        corpus.truth({"text": "paris", "min_upload_date": mysql, "max_upload_date": mysql}) == exact
    )
    day = corpus.truth(
        {"text": "paris", "min_upload_date": "2020-01-01", "max_upload_date": "2020-12-31 23:59:59"}
    )
    assert day == oracle(
        records, {"text": "paris", "min_upload_date": "1577836800", "max_upload_date": "1609459199"}
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.sampled_from(
        ["paris", "tokyo", "são paulo", "paris sunset", "tokyo -night", "city -paris"]
    ),
    window=st.tuples(st.integers(0, 4200), st.integers(0, 4200)),
    licenses=st.none() | st.sets(st.integers(0, 16), min_size=1, max_size=5),
    accuracy=st.none() | st.integers(1, 16),
    has_geo=st.sampled_from([None, "0", "1"]),
    media=st.sampled_from([None, "photos", "all"]),
)
def test_search_matches_brute_force(
    corpus, records, text, window, licenses, accuracy, has_geo, media
) -> None:
    lo, hi = sorted(window)
    p = {
        "text": text,
        "min_upload_date": str(records[min(lo, len(records) - 1)]["dateupload"]),
        "max_upload_date": str(records[min(hi, len(records) - 1)]["dateupload"]),
    }
    if licenses is not None:
        p["license"] = ",".join(map(str, sorted(licenses)))
    if accuracy is not None:
        p["accuracy"] = str(accuracy)
    if has_geo is not None:
        p["has_geo"] = has_geo
    if media is not None:
        p["media"] = media
    expected = oracle(records, p)
    assert corpus.truth(p) == expected
    answer = corpus.search({**p, "per_page": "500", "sort": "date-posted-asc"})["photos"]
    assert answer["total"] == len(expected)
    assert [x["id"] for x in answer["photo"]] == expected[: answer["perpage"]]


def test_bbox_and_taken_dates(corpus: Corpus, records: list[dict[str, Any]]) -> None:
    geo = next(r for r in records if r["geotagged"] and "paris" in r["keywords"])
    lat, lon = geo["latitude"], geo["longitude"]
    p = {
        "text": "paris",
        "bbox": f"{lon - 0.5},{lat - 0.5},{lon + 0.5},{lat + 0.5}",
        "min_taken_date": "2010-01-01 00:00:00",
    }
    assert corpus.truth(p) == oracle(records, p) and corpus.truth(p)


def test_sort_orders(corpus: Corpus, records: list[dict[str, Any]]) -> None:
    by_id = {r["id"]: r for r in records}
    base = {"text": "tokyo", "per_page": "500"}
    truth = corpus.truth(base)
    pages = {
        s: [p["id"] for p in corpus.search({**base, "sort": s})["photos"]["photo"]]
        for s in (
            "date-posted-asc",
            "date-posted-desc",
            "date-taken-asc",
            "date-taken-desc",
            "interestingness-desc",
            "interestingness-asc",
            "relevance",
        )
    }
    assert pages["date-posted-asc"] == truth[:500]
    assert pages["date-posted-desc"] == truth[::-1][:500]
    taken = [by_id[i]["datetaken"] for i in pages["date-taken-asc"]]
    assert taken == sorted(taken) and taken[0] == min(by_id[i]["datetaken"] for i in truth)
    assert corpus.search(base)["photos"]["photo"][0]["id"] == truth[-1]  # default: date-posted-desc
    assert len({tuple(v) for v in pages.values()}) == 7


def test_per_page_limits_and_geo_queries(corpus: Corpus) -> None:
    def perpage(**p: str) -> int:
        return corpus.search({"text": "paris", **p})["photos"]["perpage"]

    assert perpage() == 100 and perpage(per_page="500") == 500 and perpage(per_page="900") == 500
    assert (
        perpage(per_page="500", has_geo="1") == 250
        and perpage(per_page="500", bbox="-180,-90,180,90") == 250
    )
    assert perpage(per_page="0") == 100 and perpage(per_page="x") == 100


def test_documented_errors(corpus: Corpus) -> None:
    assert corpus.search({})["code"] == 3
    assert corpus.search({"license": "4"})["code"] == 3
    assert (
        corpus.search({"tags": ",".join(f"t{i}" for i in range(21)), "tag_mode": "all"})["code"]
        == 1
    )
    recent = corpus.search({"has_geo": "1", "per_page": "500"})["photos"]  # geo, no limiting agent
    assert recent["photo"] and all(
        int(p["id"]) >= int(recent["photo"][-1]["id"]) for p in recent["photo"]
    )
    assert recent["total"] < len(corpus) / 100  # only the last 12 hours


# -- the 4,000 cap, repeated pages, approximate totals --------------------------------------


def test_pages_past_the_cap_repeat_the_last_reachable_page(big: Corpus) -> None:
    base = {"text": "paris", "per_page": "250", "sort": "date-posted-asc"}
    truth = big.truth(base)
    assert len(truth) > 9000
    pages = [
        [p["id"] for p in big.search({**base, "page": str(n)})["photos"]["photo"]]
        for n in range(1, 19)
    ]
    assert [i for page in pages[:16] for i in page] == truth[:4000]
    assert pages[16] == pages[17] == pages[15]
    answer = big.search({**base, "page": "40"})["photos"]
    assert (
        answer["page"] == 40
        and answer["total"] == len(truth)
        and answer["pages"] == math.ceil(len(truth) / 250)
    )
    assert [p["id"] for p in answer["photo"]] == pages[15]
    desc = [p["id"] for p in big.search({**base, "sort": "date-posted-desc"})["photos"]["photo"]]
    assert desc == truth[::-1][:250]


def test_one_second_over_the_cap_needs_every_sort_order(big: Corpus) -> None:
    second = {
        "text": "paris",
        "min_upload_date": str(BURST_AT),
        "max_upload_date": str(BURST_AT),
        "per_page": "500",
    }
    truth = set(big.truth(second))
    assert len(truth) >= 4500
    seen: set[str] = set()
    for sort in ("date-posted-asc", "date-posted-desc"):
        for page in range(1, 9):
            seen |= {
                p["id"]
                for p in big.search({**second, "sort": sort, "page": str(page)})["photos"]["photo"]
            }
    assert seen == truth


def test_approximate_totals_are_deterministic_per_query() -> None:
    config = EmulatorConfig.from_dict(
        {**CAP_CONFIG, "faults": {"total_error": 0.2, "total_error_min": 1000}}
    )
    corpus = Corpus(config)
    p = {"text": "paris", "per_page": "250"}
    true_total = len(corpus.truth(p))
    totals = {
        corpus.search({**p, "page": str(n), "sort": s})["photos"]["total"]
        for n in (1, 2, 9)
        for s in ("date-posted-asc", "relevance")
    }
    assert len(totals) == 1 and abs(totals.pop() - true_total) <= 0.2 * true_total
    off = [
        corpus.search({**p, "min_upload_date": str(t)})["photos"]["total"]
        for t in range(1200000000, 1600000000, 40000000)
    ]
    exact = [
        len(corpus.truth({**p, "min_upload_date": str(t)}))
        for t in range(1200000000, 1600000000, 40000000)
    ]
    assert any(a != b for a, b in zip(off, exact, strict=True))
    small = {"text": "tokyo", "has_geo": "0"}
    assert corpus.search(small)["photos"]["total"] == len(
        corpus.truth(small)
    )  # under total_error_min


def test_mixed_types_quirk_flips_numbers_and_strings() -> None:
    corpus = Corpus({"seed": 1, "keywords": {"paris": 300}, "faults": {"mixed_types": 1.0}})
    answer = corpus.search({"text": "paris", "extras": "geo,url_l,views,license", "has_geo": "1"})[
        "photos"
    ]
    assert isinstance(answer["total"], str) and isinstance(answer["pages"], str)
    photo = answer["photo"][0]
    assert isinstance(photo["views"], int) and isinstance(photo["latitude"], float)
    assert isinstance(photo["id"], str) and isinstance(photo["secret"], str)
