"""Stage-2 throughput: flickrspider vs a plain Scrapy ImagesPipeline spider, same URLs.

    .venv/bin/python benchmarks/throughput.py [--photos 3600] [--repeat 1]
                                              [--cache benchmarks/out/cache]
                                              [--work benchmarks/out/work]

Starts the emulator on a fixed corpus (default size mix: frames, small and
large originals, PNGs) and a second one where every photo passes through
unchanged (no frames; photos too small to keep are left out of its list). For
each, a stage-1 crawl lists the photos; the emulator's image cache is warmed so
neither contender waits on rendering; then, in the same run, ``scrapy crawl
flickr_download`` and the plain ImagesPipeline spider
(benchmarks/plain_images_spider.py) fetch the same URLs with the same
concurrency; and, as a reference, a spider that only downloads them (what Scrapy
alone costs per image: no pipeline can beat it). Printed:
images/s, CPU ms per image (of every process of the crawl: worker processes
included; and of the crawl's own process alone, where the reactor runs) and peak
RSS. Targets: >= 3x the plain pipeline's images/s; >= 250 images/s pass-through.

With ``--repeat N`` the three crawls run N times in turns (each into an empty
store) and the medians are shown, with the ratio of each turn: on a shared
machine a slow spell then slows every contender, not only the one it falls on.

The datasets are written under ``--work`` and all kept until the end (about
1 GB per turn): on the ext4 without a journal of the machine these figures come
from, creating a file scans past every inode of its block group freed in the
last minutes (``recently_deleted``), 0.3-0.5 ms of CPU instead of 0.03 when a
store of thousands of files was just deleted beside it, which would be counted
as the pipelines' own. The cost of creating a file there is measured and shown,
and a run waits (up to five minutes) until it is back to the usual before it starts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import median
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flickrspider import settings as defaults  # noqa: E402
from flickrspider.emulator import EmulatorProcess  # noqa: E402

KEY = "bench-key"
CONTENDERS = ("flickrspider", "plain ImagesPipeline", "Scrapy download only")
CORES = os.cpu_count() or 1
CONCURRENCY = {"CONCURRENT_REQUESTS": "32", "CONCURRENT_REQUESTS_PER_DOMAIN": "32"}


def corpus(photos: int, passthrough: bool, cache: Path) -> dict:
    config = {
        "seed": 77,
        "keywords": {"throughput": photos},
        "shared": 0.0,
        "cache_dir": str(cache),
        # Hold the whole corpus in memory (about 550 MB a case): the emulator stands in
        # for Flickr's CDN, whose CPU is not the crawl's; reading each image back from
        # its disk cache would cost ours 0.2 ms more per image on the same two cores.
        "image_cache": 2048,
    }
    if passthrough:
        config.update(frames=0.0, small=0.0, png=0.0, gif=0.0, no_large=0.0, videos=0.0)
    return config


def scrapy(args: list[str], cwd: Path, settings: dict[str, str], project: bool = True) -> dict:
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "measure.py"),
        "--",
        sys.executable,
        "-m",
        "scrapy",
        *args,
    ]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    env = {**os.environ, "FLICKR_API_KEY": KEY}
    if project:
        env["SCRAPY_SETTINGS_MODULE"] = "flickrspider.settings"
    else:
        env.pop("SCRAPY_SETTINGS_MODULE", None)
    out = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def chosen_url(record: dict) -> str:
    urls = record["urls"]
    return urls.get("l") or urls["o"]


def passes_whole(record: dict) -> bool:
    """Whether the photo is stored as downloaded, under the default settings: a JPEG
    no larger than max_side once the Large size is chosen, and not too small (frames
    are off in this corpus)."""
    max_side, min_side = defaults.FLICKR_MAX_SIDE, defaults.FLICKR_MIN_SIDE
    w, h = record["o_width"], record["o_height"]
    scale = min(1.0, max_side / max(w, h))
    fits = "l" in record["urls"] or max(w, h) <= max_side
    return fits and round(min(w, h) * scale) >= min_side and chosen_url(record).endswith(".jpg")


def warm(urls: list[str]) -> None:
    def fetch(url: str) -> None:
        with urllib.request.urlopen(url, timeout=120) as answer:
            answer.read()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(fetch, urls))


def contender(who: str, work: Path, base: dict[str, str], store: Path) -> dict:
    """One crawl of the same URLs by ``who`` (one of :data:`CONTENDERS`), measured."""
    if who == "flickrspider":
        args = ["crawl", "flickr_download", "-a", f"input={work / 'photos.jsonl'}"]
        return scrapy(args, work, {**base, "IMAGES_STORE": str(store)})
    args = ["runspider", str(ROOT / "benchmarks" / "plain_images_spider.py")]
    args += ["-a", f"urls={work / 'urls.txt'}"]
    settings = {"LOG_LEVEL": "WARNING", **CONCURRENCY}
    if who == "Scrapy download only":
        return scrapy([*args, "-a", "bare=1"], work, settings, project=False)
    return scrapy(args, work, {**settings, "IMAGES_STORE": str(store)}, project=False)


def create_cost(directory: Path, files: int = 200) -> float:
    """CPU ms to create an empty file in a new directory under ``directory`` (the
    files stay: deleting them would slow the next creations)."""
    probe = Path(tempfile.mkdtemp(dir=directory, prefix="probe-"))
    began = time.process_time()
    for n in range(files):
        (probe / str(n)).touch()
    return 1000 * (time.process_time() - began) / files


def settle(directory: Path, usual: float = 0.1, patience: float = 300.0) -> float:
    """Wait (up to ``patience`` s) until creating a file under ``directory`` costs under
    ``usual`` ms again, as it does once the inodes freed by an earlier run (its own
    stores, deleted at its end) are no longer recent; return the last cost measured."""
    waited = 0.0
    cost = create_cost(directory)
    while cost > usual and waited < patience:
        print(
            f"creating a file costs {cost:.3f} ms here (inodes freed recently): waiting",
            file=sys.stderr,
        )
        time.sleep(15)
        waited += 15
        cost = create_cost(directory)
    return cost


def run_case(
    name: str, photos: int, passthrough: bool, cache: Path, work: Path, repeat: int
) -> list[dict]:
    rows = []
    work.mkdir()
    with EmulatorProcess("--keys", KEY, config=corpus(photos, passthrough, cache)) as emu:
        host = urlsplit(emu.url).netloc
        base = {
            "FLICKR_API_URL": emu.api_url,
            "FLICKR_IMAGE_HOSTS": host,
            "LOG_LEVEL": "WARNING",
            "FLICKR_API_CALLS_PER_HOUR": "100000000",
            "AUTOTHROTTLE_ENABLED": "False",
            "FLICKR_PROGRESS_INTERVAL": "0",
            **CONCURRENCY,
        }
        scrapy(
            [
                "crawl",
                "flickr",
                "-a",
                "keywords=throughput",
                "-a",
                "geo=0",
                "-a",
                "download=0",
                "-O",
                str(work / "photos.jsonl"),
            ],
            work,
            base,
        )
        records = [json.loads(line) for line in (work / "photos.jsonl").read_text().splitlines()]
        if passthrough:  # only photos stored unchanged: none is dropped as too small
            records = [r for r in records if passes_whole(r)]
            (work / "photos.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        urls = [chosen_url(r) for r in records]
        (work / "urls.txt").write_text("\n".join(urls) + "\n")
        print(
            f"{name}: {len(urls)} photos; warming the emulator's image cache ...", file=sys.stderr
        )
        warm(urls)
        runs: dict[str, list[dict]] = {who: [] for who in CONTENDERS}
        for turn in range(repeat):  # in turns, so that a slow spell of the machine hits all
            for who in CONTENDERS:
                store = work / f"{who.split()[0]}-{turn}"
                m = contender(who, work, base, store)
                m["stored"] = sum(1 for _ in store.rglob("*.jpg")) if store.exists() else 0
                runs[who].append(m)  # the store stays until the end (see the docstring)
        for who, measured in runs.items():
            turns = [len(urls) / m["wall_s"] for m in measured]
            rows.append(
                {
                    "case": name,
                    "who": who,
                    "fetched": len(urls),
                    "stored": measured[0]["stored"],
                    "images_per_s": median(turns),
                    "cpu_ms_per_image": median(1000 * m["cpu_s"] / len(urls) for m in measured),
                    "main_cpu_ms_per_image": median(
                        1000 * m["cpu_main_s"] / len(urls) for m in measured
                    ),
                    "peak_rss_mb": max(m["peak_rss_mb"] for m in measured),
                    "turns": turns,
                }
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=3600)
    parser.add_argument("--cache", type=Path, default=ROOT / "benchmarks" / "out" / "cache")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out" / "work")
    parser.add_argument(
        "--repeat", type=int, default=1, help="turns of the three crawls per case (medians shown)"
    )
    opts = parser.parse_args()
    if opts.repeat < 1:
        parser.error(f"--repeat ({opts.repeat}) must be at least 1")
    opts.work.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(dir=opts.work) as tmp:
        work = Path(tmp)
        creating = settle(work)
        for name, passthrough in (("default mix", False), ("pass-through", True)):
            cache = opts.cache / name.replace(" ", "-")
            cache.mkdir(parents=True, exist_ok=True)
            photos = opts.photos if not passthrough else round(opts.photos * 1.12)  # ~10% out
            case_dir = work / name.replace(" ", "-")
            rows += run_case(name, photos, passthrough, cache, case_dir, opts.repeat)
        print(
            f"Creating a file under {opts.work}: {creating:.3f} ms of CPU at the start, "
            f"{create_cost(work):.3f} ms at the end (0.03 is usual; see the docstring)"
        )
    print(
        f"{'case':13} {'pipeline':21} {'photos':>6} {'stored':>6} {'images/s':>9} "
        f"{'CPU ms/img':>10} {'of it, crawl process':>20} {'peak RSS MB':>11}"
    )
    for r in rows:
        print(
            f"{r['case']:13} {r['who']:21} {r['fetched']:6d} {r['stored']:6d} {r['images_per_s']:9.1f} "
            f"{r['cpu_ms_per_image']:10.2f} {r['main_cpu_ms_per_image']:20.2f} {r['peak_rss_mb']:11.1f}"
        )
    for case in ("default mix", "pass-through"):
        ours, plain, bare = (r for r in rows if r["case"] == case)
        turns = ", ".join(
            f"{a / b:.2f}x" for a, b in zip(ours["turns"], plain["turns"], strict=True)
        )
        print(
            f"{case}: flickrspider / plain = {ours['images_per_s'] / plain['images_per_s']:.2f}x"
            f" (turn by turn: {turns}); "
            f"Scrapy's own download-only ceiling = {bare['images_per_s'] / plain['images_per_s']:.2f}x"
        )
        # What the 3x target asks of this machine: all its cores' CPU time per image at
        # that rate, against what flickrspider and Scrapy's download path alone spend.
        target = 3 * plain["images_per_s"]
        print(
            f"{case}: 3x the plain pipeline = {target:.1f} images/s = "
            f"{100 * target / bare['images_per_s']:.0f}% of the download-only ceiling; at that "
            f"rate {CORES} cores give at most {1000 * CORES / target:.2f} ms of CPU per image, "
            f"flickrspider spends {ours['cpu_ms_per_image']:.2f} (Scrapy's download path alone "
            f"{bare['cpu_ms_per_image']:.2f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
