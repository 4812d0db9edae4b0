"""Distributed crawls: real ``scrapy crawl`` workers on one real redis-server and one emulator.

The dataset of N workers must be the dataset of one: no photo twice, none missing,
each search request sent once; a worker killed mid-crawl loses nothing once the
others finish; one worker closing leaves the shared queue alone.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from scrapy import Request
from scrapy_redis.spiders import RedisSpider

from flickrspider.budget import RedisBudget
from flickrspider.distributed import RedisConfig, crawl_id, redact
from flickrspider.emulator import EmulatorProcess
from flickrspider.ledger import PENDING
from tests.conftest import ROOT, TEST_KEY, crawl_settings, run_crawl
from tests.helpers import truth
from tests.servers import RedisServer, wait_for

pytestmark = pytest.mark.e2e

# Stage 1: three keywords of several search pages each. Downloads: four small
# keywords, one search answer of ~50 photos each: four units of work to spread.
CORPUS = {"seed": 3, "keywords": {"paris": 1500, "tokyo": 1200, "rome": 900}}
IMAGE_CORPUS = {"seed": 5, "keywords": {"lyon": 60, "nice": 60, "lille": 60, "brest": 60}}
STAGE1 = "paris,tokyo,rome"
IMAGES = "lyon,nice,lille,brest"
FAST = {"FLICKR_REDIS_HEARTBEAT": "0.3", "FLICKR_REDIS_DEAD_AFTER": "2"}


@pytest.fixture(scope="module")
def emu():
    with EmulatorProcess("--keys", TEST_KEY, config=CORPUS) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def img_emu():
    with EmulatorProcess("--keys", TEST_KEY, config=IMAGE_CORPUS) as emulator:
        yield emulator


@pytest.fixture
def redis_server():
    with RedisServer() as server:
        yield server


@contextmanager
def slow_api(emu: EmulatorProcess, seconds: float) -> Iterator[None]:
    """Every API answer comes ``seconds`` late, so work overlaps between workers."""
    emu.configure(api_latency=seconds)
    try:
        yield
    finally:
        emu.configure(api_latency=0.0)


def leases_of(client: redis.Redis, prefix: str, worker: Worker) -> int:
    """Search answers the worker process holds (worker ids are host:pid:random)."""
    marker = f":{worker.proc.pid}:".encode()
    return sum(1 for v in client.hvals(f"{prefix}:leases") if marker in v.split(b" ", 1)[0])


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log_path: Path
    feed_path: Path

    def wait(self, timeout: float = 120) -> int:
        return self.proc.wait(timeout)

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    @property
    def ids(self) -> list[str]:
        if not self.feed_path.exists():
            return []
        lines = self.feed_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["id"] for line in lines if line.strip()]

    def stat(self, key: str) -> int:
        for line in self.log.splitlines():
            if f"'{key}': " in line:
                return int(float(line.split(": ", 1)[1].rstrip(",}")))
        return 0


def start_worker(
    tmp_path: Path,
    emu: EmulatorProcess,
    name: str,
    args: dict[str, str],
    settings: dict[str, str],
    store: Path,
) -> Worker:
    feed, log = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.log"
    command = [sys.executable, "-m", "scrapy", "crawl", "flickr", "-O", str(feed)]
    for key, value in args.items():
        command += ["-a", f"{key}={value}"]
    for key, value in {**crawl_settings(emu, store), **settings}.items():
        command += ["-s", f"{key}={value}"]
    env = {
        **os.environ,
        "SCRAPY_SETTINGS_MODULE": "flickrspider.settings",
        "FLICKR_API_KEY": TEST_KEY,
        "PYTHONPATH": str(ROOT),
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return Worker(proc, log, feed)


def run_workers(
    tmp_path: Path,
    emu: EmulatorProcess,
    n: int,
    args: dict[str, str],
    settings: dict[str, str],
    store: Path,
) -> list[Worker]:
    workers = [start_worker(tmp_path, emu, f"w{i}", args, settings, store) for i in range(n)]
    for worker in workers:
        assert worker.wait() == 0, worker.log[-3000:]
        assert "DeprecationWarning" not in worker.log
    return workers


def stored_ids(store: Path) -> list[str]:
    """Photo ids of the JPEGs in a dataset (file names start with the id)."""
    return [p.name.split("_", 1)[0] for p in store.rglob("*.jpg")]


def assert_clean(store: Path) -> None:
    assert not list(store.rglob("*.part")), "a partial file was left behind"
    db = sqlite3.connect(store / ".flickrspider" / "ledger.sqlite")
    assert db.execute("SELECT count(*) FROM photos WHERE state=?", (PENDING,)).fetchone()[0] == 0
    db.close()


def redis_holds_no_key(redis_server: RedisServer) -> None:
    """Nothing in Redis, key names or values, carries the API key."""
    client = redis_server.client()
    key_hash = hashlib.sha256(TEST_KEY.encode()).hexdigest()[:16]
    names = [k.decode() for k in client.keys("*")]
    assert names and all(
        n.startswith(("flickrspider:flickr-", f"flickrspider:budget:{key_hash}:")) for n in names
    ), names
    for name in names:
        assert TEST_KEY.encode() not in (client.dump(name) or b""), name


def budget_calls(redis_server: RedisServer) -> int:
    key_hash = hashlib.sha256(TEST_KEY.encode()).hexdigest()[:16]
    return int(redis_server.client().zcard(f"flickrspider:budget:{key_hash}:log"))


# -- stage 1 ---------------------------------------------------------------------------
def test_three_workers_find_what_one_finds_with_each_request_sent_once(tmp_path, emu, redis_server):
    emu.reset()
    (tmp_path / "one").mkdir()
    one = run_crawl(tmp_path / "one", emu, args={"keywords": STAGE1, "download": "0"})
    assert one.returncode == 0, one.log[-3000:]
    calls = emu.stats()["api_calls"]
    assert calls >= 10 and {r["id"] for r in one.feed} == truth(emu, STAGE1)

    emu.reset()
    settings = {"FLICKR_REDIS_URL": redis_server.url, "FLICKR_REDIS_LEASES": "2", **FAST}
    args = {"keywords": STAGE1, "download": "0"}
    with slow_api(emu, 0.3):
        workers = run_workers(tmp_path, emu, 3, args, settings, tmp_path / "images")
    ids = [i for w in workers for i in w.ids]
    assert len(ids) == len(set(ids)), "a photo appears in two workers' feeds"
    assert set(ids) == {r["id"] for r in one.feed}
    # every worker ran start(); the shared fingerprints let each search through once
    assert emu.stats()["api_calls"] == calls
    assert sum(w.stat("flickr/api/calls") for w in workers) == calls
    assert sum(1 for w in workers if w.stat("scheduler/dequeued/redis")) >= 2
    # one budget for the key, whichever worker made the call
    assert budget_calls(redis_server) == calls
    redis_holds_no_key(redis_server)

    # the same command again: the crawl is finished, nothing is asked again
    emu.reset()
    (tmp_path / "again").mkdir()
    again = run_crawl(tmp_path / "again", emu, args=args, settings=settings)
    assert again.returncode == 0 and again.feed == []
    assert emu.stats()["api_calls"] == 0
    assert "finished earlier" in again.log and "FLICKR_REDIS_CRAWL" in again.log


def test_two_crawls_on_one_redis_keep_apart(tmp_path, emu, redis_server):
    settings = {"FLICKR_REDIS_URL": redis_server.url, **FAST}
    store = tmp_path / "images"
    paris = start_worker(
        tmp_path, emu, "paris", {"keywords": "paris", "download": "0"}, settings, store
    )
    rome = start_worker(
        tmp_path, emu, "rome", {"keywords": "rome", "download": "0"}, settings, store
    )
    assert paris.wait() == 0 and rome.wait() == 0, paris.log[-2000:] + rome.log[-2000:]
    assert set(paris.ids) == truth(emu, "paris") and set(rome.ids) == truth(emu, "rome")
    # an explicit crawl name starts a new crawl of the same arguments
    named = {**settings, "FLICKR_REDIS_CRAWL": "paris-again"}
    again = start_worker(
        tmp_path, emu, "again", {"keywords": "paris", "download": "0"}, named, store
    )
    assert again.wait() == 0 and set(again.ids) == truth(emu, "paris")
    names = [k.decode() for k in redis_server.client().keys("flickrspider:*")]
    prefixes = {n.rsplit(":", 1)[0] for n in names if ":budget:" not in n}
    assert prefixes == {
        f"flickrspider:{crawl_id('flickr', {'keywords': 'paris', 'download': '0'})}",
        f"flickrspider:{crawl_id('flickr', {'keywords': 'rome', 'download': '0'})}",
        "flickrspider:paris-again",
    }


def test_a_worker_that_closes_leaves_the_shared_queue_to_the_others(tmp_path, emu, redis_server):
    settings = {"FLICKR_REDIS_URL": redis_server.url, "FLICKR_REDIS_LEASES": "1", **FAST}
    args = {"keywords": STAGE1, "download": "0"}
    store = tmp_path / "images"
    prefix = f"flickrspider:{crawl_id('flickr', args)}"
    client = redis_server.client()
    with slow_api(emu, 0.4):
        # stock scrapy-redis clears the queue and fingerprints when this worker closes
        quitter = start_worker(
            tmp_path, emu, "quitter", args, {**settings, "SCHEDULER_PERSIST": "False"}, store
        )
        stayer = start_worker(tmp_path, emu, "stayer", args, settings, store)
        wait_for(
            lambda: leases_of(client, prefix, quitter) > 0 and client.zcard(f"{prefix}:queue") > 0,
            60,
            "the quitter at work with work waiting",
        )
        quitter.proc.send_signal(signal.SIGINT)
        assert quitter.wait() == 0, quitter.log[-3000:]
        left = client.zcard(f"{prefix}:queue") + client.hlen(f"{prefix}:leases")
        assert stayer.wait() == 0, stayer.log[-3000:]
    assert "Closing spider (shutdown)" in quitter.log
    assert left > 0, "the quitter closed after all the work was done"
    ids = quitter.ids + stayer.ids
    assert len(ids) == len(set(ids)) and set(ids) == truth(emu, STAGE1)


# -- with downloads --------------------------------------------------------------------
@pytest.fixture(scope="module")
def reference(img_emu, tmp_path_factory):
    """The dataset one ordinary (not distributed) process stores."""
    tmp = tmp_path_factory.mktemp("reference")
    result = run_crawl(tmp, img_emu, args={"keywords": IMAGES})
    assert result.returncode == 0, result.log[-3000:]
    ids = stored_ids(result.store)
    assert len(ids) == len(set(ids)) > 100
    return set(ids)


def test_three_workers_store_what_one_stores(tmp_path, img_emu, redis_server, reference):
    settings = {"FLICKR_REDIS_URL": redis_server.url, "FLICKR_REDIS_LEASES": "1", **FAST}
    store = tmp_path / "images"
    workers = run_workers(tmp_path, img_emu, 3, {"keywords": IMAGES}, settings, store)
    ids = stored_ids(store)
    assert len(ids) == len(set(ids)) and set(ids) == reference
    feed = [i for w in workers for i in w.ids]
    assert len(feed) == len(set(feed)) and set(feed) == reference
    assert sum(1 for w in workers if w.stat("flickr/images/stored")) >= 2
    assert_clean(store)


def test_a_killed_worker_loses_nothing(tmp_path, img_emu, redis_server, reference):
    settings = {"FLICKR_REDIS_URL": redis_server.url, "FLICKR_REDIS_LEASES": "1", **FAST}
    store = tmp_path / "images"
    args = {"keywords": IMAGES}
    client = redis_server.client()
    prefix = f"flickrspider:{crawl_id('flickr', args)}"
    # the victim starts alone and slow, so it surely holds a search answer half stored
    slow = {**settings, "CONCURRENT_REQUESTS_PER_DOMAIN": "1", "DOWNLOAD_DELAY": "0.1"}
    victim = start_worker(tmp_path, img_emu, "victim", args, slow, store)

    def victim_leases() -> int:
        return leases_of(client, prefix, victim)

    wait_for(lambda: victim_leases() > 0, 60, "the victim to lease a search answer")
    others = [start_worker(tmp_path, img_emu, f"w{i}", args, settings, store) for i in range(2)]
    wait_for(
        lambda: len(stored_ids(store)) >= 5 and victim_leases() > 0,
        60,
        "the victim to be mid-answer",
    )
    victim.proc.kill()
    victim.wait()
    for worker in others:
        assert worker.wait() == 0, worker.log[-3000:]
    assert sum(w.stat("flickr/redis/recovered") for w in others) >= 1
    ids = stored_ids(store)
    assert len(ids) == len(set(ids)), "a photo was stored twice"
    assert set(ids) == reference, "a photo is missing"
    assert_clean(store)


# -- settings and budget ---------------------------------------------------------------
def test_settings_are_checked_at_start(tmp_path, emu):
    result = run_crawl(
        tmp_path,
        emu,
        args={"keywords": "paris", "download": "0"},
        settings={"FLICKR_REDIS_URL": "redis://127.0.0.1:1/0"},
    )
    assert result.returncode == 2
    errors = [line for line in result.log.splitlines() if line.startswith("flickrspider: ")]
    assert len(errors) == 1 and "FLICKR_REDIS_URL" in errors[0] and "Traceback" not in result.log
    base = {
        "FLICKR_REDIS_URL": "redis://x",
        "FLICKR_REDIS_HEARTBEAT": 5.0,
        "FLICKR_REDIS_DEAD_AFTER": 60.0,
        "FLICKR_REDIS_LEASES": 4,
        "FLICKR_REDIS_KEEP": 0,
    }
    for bad, culprit in [
        ({"FLICKR_REDIS_CRAWL": "a b"}, "FLICKR_REDIS_CRAWL"),
        ({"FLICKR_REDIS_DEAD_AFTER": 6.0}, "FLICKR_REDIS_DEAD_AFTER"),
        ({"FLICKR_REDIS_LEASES": 0}, "FLICKR_REDIS_LEASES"),
        ({"FLICKR_REDIS_HEARTBEAT": "soon"}, "FLICKR_REDIS_HEARTBEAT"),
    ]:
        with pytest.raises(ValueError, match=culprit):
            RedisConfig.from_settings(Settings({**base, **bad}))


def test_why_workers_run_their_own_start_and_not_redisspider():
    """scrapy-redis 0.9.1's RedisSpider feeds start URLs through start_requests(), which
    Scrapy 2.19 no longer calls: its start() yields nothing. Our workers each run the
    spider's ``async def start()``; the shared fingerprints let one copy through
    (see the three-worker test: each search is sent once)."""

    class Legacy(RedisSpider):
        name = "legacy"

        def start_requests(self):
            yield Request("http://127.0.0.1:1/")

    async def first_requests():
        return [r async for r in Legacy().start()]

    assert asyncio.run(first_requests()) == []


def test_the_crawl_name_ignores_scrapyd_arguments_and_never_shows_a_password():
    one = crawl_id("flickr", {"keywords": "a,b", "_job": "1"})
    assert one == crawl_id("flickr", {"keywords": "a,b", "_job": "2", "_version": "r1"})
    assert one != crawl_id("flickr", {"keywords": "a"}) and one.startswith("flickr-")
    assert redact("redis://user:s3cret@host:6379/0") == "redis://user:***@host:6379/0"


class Settings(dict):
    def getint(self, name, default=0):
        return int(self.get(name, default))

    def getbool(self, name, default=False):
        return bool(self.get(name, default))

    def getlist(self, name, default=None):
        return list(self.get(name, default or []))


def test_a_shared_budget_paces_all_workers_together(redis_server):
    per_hour, period = 20, 2.0
    client = redis_server.client()
    budgets = [RedisBudget(client, "k", per_hour, period=period) for _ in range(3)]
    for _ in range(10):
        for budget in budgets:
            budget.reserve()
    booked = sorted(
        score for _, score in client.zrange("flickrspider:budget:k:log", 0, -1, withscores=True)
    )
    assert len(booked) == 30
    gaps = [b - a for a, b in itertools.pairwise(booked)]
    assert min(gaps) >= period / per_hour - 1e-3  # one pace for the three of them
    for i, start in enumerate(booked):
        assert sum(1 for t in booked[i:] if t < start + period) <= per_hour
