"""End-to-end stage 2: crawls with downloads against the emulator, checking the dataset on disk."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from flickrspider.items import META_KEYS, STORED_KEYS
from tests.conftest import run_crawl

pytestmark = pytest.mark.e2e


def stored_files(store: Path) -> list[Path]:
    return sorted(p for p in store.rglob("*.jpg") if ".flickrspider" not in p.parts)


@pytest.fixture(scope="module")
def one_pass(tmp_path_factory, emulator):
    tmp = tmp_path_factory.mktemp("one_pass")
    emulator.reset()
    result = run_crawl(
        tmp, emulator, args={"keywords": "paris,tokyo"}, settings={"FLICKR_SHARD_SIZE": "20"}
    )
    assert result.returncode == 0, result.log[-3000:]
    return result, emulator.stats()


def test_tree_feed_and_metadata_agree(one_pass):
    result, _ = one_pass
    files = stored_files(result.store)
    assert len(files) == len(result.feed) > 100
    assert len({r["id"] for r in result.feed}) == len(result.feed)
    for record in result.feed:
        path = result.store / record["path"]
        assert path.is_file()
        keyword, shard, name = record["path"].split("/")
        assert keyword == record["keyword"] and len(shard) == 5 and shard.isdigit()
        assert name == f"{record['id']}_{record['secret']}_{record['server']}_{record['owner']}.jpg"
        with Image.open(path) as image:
            image.load()
            comment = json.loads(image.info["comment"])
            assert image.format == "JPEG" and image.size == (record["width"], record["height"])
            assert max(image.size) <= 1024 and min(image.size) >= 500
            exif = image.getexif()
        assert set(META_KEYS) | set(STORED_KEYS) | {"keyword", "license_name"} <= set(comment)
        assert {k: comment[k] for k in META_KEYS} == {k: record[k] for k in META_KEYS}
        assert exif.get(0x013B)  # Artist
        assert record["license_name"] in exif.get(0x8298, "")  # Copyright
        if record["latitude"] is not None:
            gps = exif.get_ifd(0x8825)
            assert gps and gps[1] in ("N", "S") and gps[3] in ("E", "W")


def test_shards_fill_in_order(one_pass):
    result, _ = one_pass
    per_dir = Counter(
        p.parent.relative_to(result.store).as_posix() for p in stored_files(result.store)
    )
    for keyword in ("paris", "tokyo"):
        counts = [n for d, n in sorted(per_dir.items()) if d.startswith(f"{keyword}/")]
        names = sorted(d for d in per_dir if d.startswith(f"{keyword}/"))
        assert names == [f"{keyword}/{i:05d}" for i in range(len(names))]
        assert all(n == 20 for n in counts[:-1]) and 0 < counts[-1] <= 20


def test_too_small_and_frames_are_handled(one_pass, emulator):
    result, _ = one_pass
    assert int(result.stats_value("flickr/images/too_small") or 0) > 0
    framed = [r for r in result.feed if r["frame"]]
    assert framed, "the corpus has framed photos"
    for record in framed[:10]:
        truth = emulator.photo(record["id"])
        assert truth["frame"], f"photo {record['id']} was cropped but has no frame"


def test_large_jpegs_pass_through_losslessly(one_pass):
    result, _ = one_pass
    passed = [r for r in result.feed if r["source_size"] == "l" and not r["frame"]]
    assert passed
    for record in passed[:5]:
        with urllib.request.urlopen(record["source_url"]) as answer:
            source = Image.open(io.BytesIO(answer.read()))
            source.load()
        with Image.open(result.store / record["path"]) as stored:
            stored.load()
            assert stored.tobytes() == source.tobytes()
            assert stored.info.get("quantization") == source.info.get("quantization")


def test_rerun_downloads_nothing_already_stored(one_pass, emulator, tmp_path):
    result, _ = one_pass
    before = {p: p.stat().st_mtime_ns for p in stored_files(result.store)}
    emulator.reset()
    again = run_crawl(
        result.store.parent,
        emulator,
        args={"keywords": "paris,tokyo"},
        settings={"FLICKR_SHARD_SIZE": "20"},
        feed_name="again.jsonl",
    )
    assert again.returncode == 0
    assert emulator.stats()["image_requests"] == 0
    assert again.feed == []
    assert {p: p.stat().st_mtime_ns for p in stored_files(result.store)} == before


def test_download_spider_shards_split_a_feed_with_no_overlap_and_no_gap(tmp_path, emulator):
    stage1 = run_crawl(
        tmp_path, emulator, args={"keywords": "paris", "download": "0"}, feed_name="s1.jsonl"
    )
    assert stage1.returncode == 0
    ids: list[str] = []
    for k in (1, 2, 3):
        work = tmp_path / f"shard{k}"
        work.mkdir()
        part = run_crawl(
            work,
            emulator,
            spider="flickr_download",
            args={"input": str(tmp_path / "s1.jsonl"), "shard": f"{k}/3"},
        )
        assert part.returncode == 0, part.log[-2000:]
        ids += [r["id"] for r in part.feed]
    assert len(ids) == len(set(ids))
    whole = tmp_path / "whole"
    whole.mkdir()
    full = run_crawl(
        whole, emulator, spider="flickr_download", args={"input": str(tmp_path / "s1.jsonl")}
    )
    assert set(ids) == {r["id"] for r in full.feed}


def test_download_spider_skips_bad_lines(tmp_path, emulator):
    good = run_crawl(
        tmp_path,
        emulator,
        args={"keywords": "tokyo", "download": "0", "max_photos": "3"},
        feed_name="s1.jsonl",
    )
    lines = (tmp_path / "s1.jsonl").read_text().splitlines()
    assert len(lines) == 3 and good.returncode == 0
    broken = [
        lines[0],
        "{not json",
        '{"id": "../1"}',
        "[]",
        lines[1],
        lines[2][: len(lines[2]) // 2],
    ]
    (tmp_path / "bad.jsonl").write_text("\n".join(broken) + "\n")
    result = run_crawl(
        tmp_path,
        emulator,
        spider="flickr_download",
        args={"input": str(tmp_path / "bad.jsonl")},
        feed_name="out.jsonl",
    )
    assert result.returncode == 0
    assert result.log.count("line") >= 4 and "flickr/input/bad_lines': 4" in result.log
    stored = {r["id"] for r in result.feed}
    assert stored <= {json.loads(lines[0])["id"], json.loads(lines[1])["id"]}


def test_download_spider_needs_no_api_key(tmp_path, emulator):
    stage1 = run_crawl(
        tmp_path,
        emulator,
        args={"keywords": "tokyo", "download": "0", "max_photos": "4"},
        feed_name="s1.jsonl",
    )
    assert stage1.returncode == 0 and len(stage1.feed) == 4
    # Flickr's own API URL and no key: the flow that calls the API would stop at once.
    settings = {"FLICKR_API_URL": "https://api.flickr.com/services/rest/"}
    refused = run_crawl(
        tmp_path,
        emulator,
        args={"keywords": "tokyo"},
        settings=settings,
        key="",
        feed_name="no.jsonl",
    )
    assert refused.returncode == 2 and "FLICKR_API_KEY is not set" in refused.log
    result = run_crawl(
        tmp_path,
        emulator,
        spider="flickr_download",
        args={"input": str(tmp_path / "s1.jsonl")},
        settings=settings,
        key="",
        feed_name="out.jsonl",
    )
    assert result.returncode == 0, result.log[-2000:]
    assert result.feed and all((result.store / r["path"]).is_file() for r in result.feed)


LOADED = """
import json, sys
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

settings = get_project_settings()
settings.set("IMAGES_STORE", sys.argv[2])
settings.set("LOG_LEVEL", "ERROR")
process = CrawlerProcess(settings)
process.crawl("flickr_download", input=sys.argv[1])
process.start()
heavy = ("numpy", "redis", "flickrspider.imaging", "flickrspider.frames", "pyvips")
print(json.dumps([m for m in heavy if m in sys.modules]))
"""


def test_the_crawls_own_process_loads_no_decoder_nor_redis(tmp_path):
    # Worker processes decode; redis-py is for distributed crawls: a one-process
    # crawl's own process starts without them (numpy and redis-py: 0.2 s of every start).
    (tmp_path / "empty.jsonl").write_text("")
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "flickrspider.settings"}
    env.pop("FLICKR_API_KEY", None)
    done = subprocess.run(
        [sys.executable, "-c", LOADED, str(tmp_path / "empty.jsonl"), str(tmp_path / "images")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
