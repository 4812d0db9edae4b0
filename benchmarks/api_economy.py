"""API calls per 1,000 photos: flickrspider vs the original algorithm vs the floor.

    .venv/bin/python benchmarks/api_economy.py [--scale 1.0]

Starts the emulator on a fixed corpus, then for each keyword runs, in the same
run and against the same emulator: a stage-1 crawl of flickrspider
(``scrapy crawl flickr -a download=0``), the original algorithm
(benchmarks/original.py), and reports calls per 1,000 photos, recall against
the emulator's ground truth, and the floor ceil(N / per_page).
Target: flickrspider within 1.15x of the floor for keywords over 10,000 photos.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.original import OriginalCrawler
from flickrspider.emulator import EmulatorProcess

KEY = "bench-key"
START = 1075593600  # 2004-02-01, Flickr's launch and the spider's default
KEYWORDS = {"bench small": 3_000, "bench medium": 30_000, "bench large": 200_000}
PER_PAGE = 250  # geo queries


def crawl_ours(emu: EmulatorProcess, keyword: str, workdir: Path) -> tuple[int, set[str], float]:
    feed = workdir / "feed.jsonl"
    command = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "flickr",
        "-a",
        f"keywords={keyword}",
        "-a",
        "download=0",
        "-O",
        str(feed),
        "-s",
        f"FLICKR_API_URL={emu.api_url}",
        "-s",
        "FLICKR_API_CALLS_PER_HOUR=100000000",
        "-s",
        "LOG_LEVEL=WARNING",
        "-s",
        "FLICKR_PROGRESS_INTERVAL=0",
    ]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "flickrspider.settings", "FLICKR_API_KEY": KEY}
    emu.reset()
    began = time.perf_counter()
    subprocess.run(command, cwd=workdir, env=env, check=True)
    seconds = time.perf_counter() - began
    ids = {json.loads(line)["id"] for line in feed.read_text().splitlines() if line}
    return int(emu.stats()["api_calls"]), ids, seconds


def crawl_original(emu: EmulatorProcess, keyword: str, end: int) -> tuple[int, set[str], float]:
    emu.reset()
    began = time.perf_counter()
    crawler = OriginalCrawler(emu.api_url, KEY, keyword)
    crawler.run(START, end)
    return int(emu.stats()["api_calls"]), crawler.ids, time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the corpus sizes")
    parser.add_argument("--skip-original", action="store_true")
    opts = parser.parse_args()
    keywords = {k: max(50, int(n * opts.scale)) for k, n in KEYWORDS.items()}
    config = {"seed": 2008, "keywords": keywords}
    end = int(time.time())
    rows = []
    with EmulatorProcess("--keys", KEY, config=config) as emu, tempfile.TemporaryDirectory() as tmp:
        for keyword in keywords:
            truth = set(
                emu.truth(
                    text=keyword,
                    has_geo=1,
                    accuracy=6,
                    media="photos",
                    min_upload_date=START,
                    max_upload_date=end,
                )
            )
            floor = math.ceil(len(truth) / PER_PAGE)
            calls, ids, seconds = crawl_ours(emu, keyword, Path(tmp))
            row = {
                "keyword": keyword,
                "photos": len(truth),
                "floor": floor,
                "ours": calls,
                "ours_recall": len(ids & truth) / max(1, len(truth)),
                "ours_s": seconds,
            }
            if not opts.skip_original:
                o_calls, o_ids, o_seconds = crawl_original(emu, keyword, end)
                row.update(
                    original=o_calls,
                    original_recall=len(o_ids & truth) / max(1, len(truth)),
                    original_s=o_seconds,
                )
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    print_table(rows)
    return 0


def print_table(rows: list[dict]) -> None:
    def per_k(calls: float, n: int) -> str:
        return f"{1000 * calls / max(1, n):7.2f}"

    print(
        f"{'keyword':14} {'photos':>8} | {'calls/1k photos':^32} | {'x floor':^15} | {'recall':^15}"
    )
    print(
        f"{'':14} {'':>8} | {'floor':>7} {'ours':>7} {'original':>9}        | {'ours':>6} {'orig':>7} | {'ours':>6} {'orig':>7}"
    )
    for r in rows:
        orig = r.get("original")
        print(
            f"{r['keyword']:14} {r['photos']:8d} | {per_k(r['floor'], r['photos'])} {per_k(r['ours'], r['photos'])} "
            f"{per_k(orig, r['photos']) if orig is not None else '      -':>9}        | "
            f"{r['ours'] / max(1, r['floor']):6.3f} {(orig / max(1, r['floor'])) if orig else 0:7.2f} | "
            f"{100 * r['ours_recall']:5.1f}% {100 * r.get('original_recall', 0):6.1f}%"
        )


if __name__ == "__main__":
    sys.exit(main())
