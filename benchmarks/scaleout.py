"""Scale-out: images/s with 1, 2 and 4 distributed workers against one emulator.

    .venv/bin/python benchmarks/scaleout.py [--keywords 12] [--photos 150] [--workers 1,2,4]

One emulator serves a corpus of ``keywords x photos`` geotagged photos (one search
answer per keyword: the units of work the workers share); its image cache is warmed
first, so rendering is not measured. Then, each on a fresh IMAGES_STORE:

* ``local``: one ordinary process (no Redis), the baseline;
* ``N workers``: N ``scrapy crawl flickr`` processes started together on one
  redis-server with ``FLICKR_REDIS_URL`` (``FLICKR_REDIS_LEASES=1``: one search
  answer at a time per worker, so few answers still spread).

Printed per run: photos stored, wall time (process start to last exit, so Python
and Scrapy start-up included), crawl time (the longest worker's
``elapsed_time_seconds``), images/s on both, and the share of the workers' crawl
time spent in Redis calls: client side (``flickr/redis/seconds``: the reactor
thread blocked on a call, round trip and any wait for the GIL or a core included)
and server side (``INFO commandstats``: Redis's own time executing the commands). Every process shares the machine's cores with the
emulator and the others: on a 2-core machine expect little gain past 1 worker.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flickrspider.emulator import EmulatorProcess  # noqa: E402
from tests.servers import RedisServer  # noqa: E402

KEY = "bench-key"


def corpus(keywords: int, photos: int, cache: Path) -> dict:
    names = [f"place{i:02d}" for i in range(keywords)]
    return {
        "seed": 21,
        "keywords": dict.fromkeys(names, photos),
        "geo": 1.0,
        "shared": 0.0,
        "cache_dir": str(cache),
        "image_cache": 1024,
    }


def base_settings(emu: EmulatorProcess, store: Path) -> dict[str, str]:
    return {
        "FLICKR_API_URL": emu.api_url,
        "FLICKR_IMAGE_HOSTS": urlsplit(emu.url).netloc,
        "IMAGES_STORE": str(store),
        "FLICKR_API_CALLS_PER_HOUR": "100000000",
        "AUTOTHROTTLE_ENABLED": "False",
        "FLICKR_PROGRESS_INTERVAL": "0",
        "LOG_LEVEL": "INFO",
    }


def start(work: Path, name: str, args: list[str], settings: dict[str, str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "scrapy", "crawl", "flickr", *args]
    for key, value in settings.items():
        command += ["-s", f"{key}={value}"]
    env = {**os.environ, "FLICKR_API_KEY": KEY, "SCRAPY_SETTINGS_MODULE": "flickrspider.settings"}
    with (work / f"{name}.log").open("wb") as log:
        return subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)


def stats_of(log: Path) -> dict:
    """The stats dict Scrapy dumps at the end of a crawl's log."""
    text = log.read_text(encoding="utf-8", errors="replace")
    block = text.split("Dumping Scrapy stats:\n", 1)[1]
    block = block[: block.index("}") + 1]
    values = {}
    for line in block.strip("{}\n").splitlines():
        key, _, value = line.strip().rstrip(",").partition(": ")
        try:
            values[ast.literal_eval(key)] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            continue  # datetimes
    return values


def warm(emu: EmulatorProcess, work: Path, keywords: str) -> int:
    feed = work / "photos.jsonl"
    settings = base_settings(emu, work / "unused")
    proc = start(
        work, "list", ["-a", f"keywords={keywords}", "-a", "download=0", "-O", str(feed)], settings
    )
    assert proc.wait() == 0, (work / "list.log").read_text()[-2000:]
    records = [json.loads(line) for line in feed.read_text().splitlines() if line]
    urls = [r["urls"].get("l") or r["urls"]["o"] for r in records]

    def fetch(url: str) -> None:
        with urllib.request.urlopen(url, timeout=300) as answer:
            answer.read()

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(fetch, urls))
    return len(urls)


def run(
    emu: EmulatorProcess, work: Path, keywords: str, workers: int, redis: RedisServer | None
) -> dict:
    name = f"{workers}w" if redis else "local"
    redis_url = redis.url if redis else None
    store = work / f"images-{name}"
    settings = base_settings(emu, store)
    if redis_url:
        settings |= {
            "FLICKR_REDIS_URL": redis_url,
            "FLICKR_REDIS_CRAWL": f"bench-{name}",
            "FLICKR_REDIS_LEASES": "1",
        }
    if redis:
        redis.client().config_resetstat()
    began = time.perf_counter()
    procs = [
        start(work, f"{name}-{i}", ["-a", f"keywords={keywords}"], settings) for i in range(workers)
    ]
    codes = [p.wait() for p in procs]
    wall = time.perf_counter() - began
    assert codes == [0] * workers, codes
    stats = [stats_of(work / f"{name}-{i}.log") for i in range(workers)]
    stored = sum(1 for _ in store.rglob("*.jpg"))
    crawl = max(s["elapsed_time_seconds"] for s in stats)
    busy = sum(s["elapsed_time_seconds"] for s in stats)
    redis_s = sum(s.get("flickr/redis/seconds", 0.0) for s in stats)
    server_us = 0
    if redis:
        server_us = sum(c["usec"] for c in redis.client().info("commandstats").values())
    return {
        "run": "local (no Redis)" if not redis_url else f"{workers} worker{'s' * (workers > 1)}",
        "stored": stored,
        "wall_s": round(wall, 2),
        "crawl_s": round(crawl, 2),
        "images_per_s_wall": round(stored / wall, 1),
        "images_per_s_crawl": round(stored / crawl, 1),
        "redis_calls": sum(s.get("flickr/redis/calls", 0) for s in stats),
        "redis_share": round(redis_s / busy, 4) if redis_url else 0.0,
        "redis_server_share": round(server_us / 1e6 / busy, 5) if redis_url else 0.0,
        "per_worker_stored": [s.get("flickr/images/stored", 0) for s in stats],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keywords", type=int, default=12)
    parser.add_argument("--photos", type=int, default=150)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument(
        "--cache", type=Path, default=ROOT / "benchmarks" / "out" / "scaleout-cache"
    )
    opts = parser.parse_args()
    opts.cache.mkdir(parents=True, exist_ok=True)
    keywords = ",".join(f"place{i:02d}" for i in range(opts.keywords))
    rows = []
    with (
        EmulatorProcess(
            "--keys", KEY, config=corpus(opts.keywords, opts.photos, opts.cache)
        ) as emu,
        RedisServer() as redis_server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        work = Path(tmp)
        photos = warm(emu, work, keywords)
        print(
            f"{photos} photos in {opts.keywords} search answers; image cache warm; "
            f"{os.cpu_count()} cores",
            file=sys.stderr,
        )
        rows.append(run(emu, work, keywords, 1, None))
        for n in (int(w) for w in opts.workers.split(",")):
            rows.append(run(emu, work, keywords, n, redis_server))
    print(
        f"{'run':18} {'stored':>6} {'wall s':>7} {'crawl s':>7} {'img/s wall':>10} "
        f"{'img/s crawl':>11} {'in Redis':>8} {'(server)':>8}  per worker"
    )
    for r in rows:
        print(
            f"{r['run']:18} {r['stored']:6d} {r['wall_s']:7.1f} {r['crawl_s']:7.1f} "
            f"{r['images_per_s_wall']:10.1f} {r['images_per_s_crawl']:11.1f} "
            f"{100 * r['redis_share']:7.2f}% {100 * r['redis_server_share']:7.3f}%  "
            f"{r['per_worker_stored']}"
        )
    for r in rows:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
