from __future__ import annotations

from types import SimpleNamespace

import pytest
from scrapy.exceptions import DropItem

from flickrspider.items import PhotoItem
from flickrspider.ledger import Ledger
from flickrspider.pipelines import DedupPipeline, SizeChoicePipeline
from flickrspider.store import write_atomic
from tests.helpers import project_crawler

JPEG = b"\xff\xd8" + b"\0" * 64 + b"\xff\xd9"


def item(pid="1", keyword="paris", **urls):
    return PhotoItem(id=pid, secret="abc", server="1", owner="1@N00", keyword=keyword, urls=urls)


@pytest.fixture
def dedup(tmp_path):
    opened = []

    def _dedup(tmp_path, download=True, max_photos=None):
        crawler = project_crawler(IMAGES_STORE=str(tmp_path))
        crawler.spider = SimpleNamespace(
            args=SimpleNamespace(download=download, max_photos=max_photos)
        )
        pipe = DedupPipeline.from_crawler(crawler)
        pipe.open_spider()
        opened.append(pipe)
        return pipe, crawler.stats

    yield _dedup
    for pipe in opened:
        if pipe.ledger is not None:
            pipe.ledger.close()


def test_each_id_once_across_keywords(tmp_path, dedup):
    pipe, stats = dedup(tmp_path)
    assert pipe.process_item(item("1", "paris")).id == "1"
    with pytest.raises(DropItem):
        pipe.process_item(item("1", "tokyo"))
    assert stats.get_value("flickr/photos/duplicates") == 1
    assert stats.get_value("flickr/keyword/tokyo/duplicates") == 1
    assert stats.get_value("flickr/keyword/paris/found") == 1


def test_stored_photos_are_skipped_and_damaged_ones_fetched_again(tmp_path, dedup):
    ledger = Ledger(tmp_path, 1000)
    for pid in ("1", "2"):
        claim = ledger.claim(pid, "paris", f"{pid}_abc_1_1@N00.jpg")
        write_atomic(tmp_path, claim.path, JPEG)
        ledger.mark_stored(pid)
    (tmp_path / ledger.path_of("2")).write_bytes(JPEG[:10])  # damaged on disk
    ledger.mark_rejected("3", "paris")
    ledger.close()
    pipe, stats = dedup(tmp_path)
    for pid in ("1", "3"):
        with pytest.raises(DropItem):
            pipe.process_item(item(pid))
    assert pipe.process_item(item("2")).id == "2"
    assert stats.get_value("flickr/images/refetched_damaged") == 1
    assert stats.get_value("flickr/photos/already_stored") == 2


def test_stage1_ignores_the_dataset(tmp_path, dedup):
    pipe, _ = dedup(tmp_path, download=False)
    assert pipe.ledger is None
    assert not (tmp_path / ".flickrspider").exists()


def test_max_photos_per_keyword(tmp_path, dedup):
    pipe, _ = dedup(tmp_path, max_photos=2)
    for pid in ("1", "2"):
        pipe.process_item(item(pid))
    with pytest.raises(DropItem):
        pipe.process_item(item("3"))
    assert pipe.process_item(item("4", "tokyo")).id == "4"


def size_choice(**settings):
    crawler = project_crawler(FLICKR_IMAGE_HOSTS="live.staticflickr.com", **settings)
    return SizeChoicePipeline.from_crawler(crawler), crawler.stats


def test_large_first_then_original():
    pipe, _ = size_choice()
    got = pipe.process_item(
        item(
            l="https://live.staticflickr.com/1/1_a_b.jpg",
            o="https://live.staticflickr.com/1/1_b_o.jpg",
        )
    )
    assert got.image_urls == [
        "https://live.staticflickr.com/1/1_a_b.jpg",
        "https://live.staticflickr.com/1/1_b_o.jpg",
    ]
    got = pipe.process_item(
        item(
            o="https://live.staticflickr.com/1/1_b_o.jpg",
            c="https://live.staticflickr.com/1/1_a_c.jpg",
        )
    )
    assert got.image_urls == ["https://live.staticflickr.com/1/1_b_o.jpg"]


def test_urls_off_the_allowlist_are_refused_and_counted():
    pipe, stats = size_choice()
    with pytest.raises(DropItem):
        pipe.process_item(item(l="http://127.0.0.2:1/1_a_b.jpg"))
    with pytest.raises(DropItem):
        pipe.process_item(item())
    assert stats.get_value("flickr/images/failed/off_allowlist") == 1
    assert stats.get_value("flickr/images/failed/no_url") == 1
    assert stats.get_value("flickr/keyword/paris/failed/no_url") == 1


@pytest.mark.parametrize(
    ("o_width", "o_height", "kept"),
    [
        (3000, 1400, False),  # shrunk to 1024 x 478: under 500 whatever size is fetched
        (2100, 1000, False),  # 1024 x 487.6
        (2048, 1000, True),  # 1024 x 500: kept, it is for the image to decide
        (2052, 1000, True),  # 1024 x 499.0: within a pixel (Flickr rounds), fetched to be sure
        (2060, 1000, False),  # 1024 x 497.1
        (800, 480, False),  # an original under min_side
        (800, 500, True),
        (None, None, True),  # no o_dims: only the image can tell
    ],
)
def test_photos_known_too_small_are_dropped_before_any_download(o_width, o_height, kept):
    pipe, stats = size_choice()
    photo = item(l="https://live.staticflickr.com/1/1_a_b.jpg")
    photo.o_width, photo.o_height = o_width, o_height
    if kept:
        assert pipe.process_item(photo).image_urls == ["https://live.staticflickr.com/1/1_a_b.jpg"]
    else:
        with pytest.raises(DropItem, match="too small"):
            pipe.process_item(photo)
        assert stats.get_value("flickr/images/too_small") == 1
        assert stats.get_value("flickr/keyword/paris/too_small") == 1


def test_the_size_rules_decide_what_is_too_small():
    pipe, _ = size_choice(FLICKR_MIN_SIDE="300", FLICKR_MAX_SIDE="2048")
    photo = item(l="https://live.staticflickr.com/1/1_a_b.jpg")
    photo.o_width, photo.o_height = 4000, 1400  # 2048 x 716.8 under these rules
    assert pipe.process_item(photo).image_urls
