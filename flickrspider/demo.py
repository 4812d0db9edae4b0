"""``python -m flickrspider demo``: a real crawl, offline, in under a minute.

Starts the Flickr emulator on a free loopback port, runs ``scrapy crawl flickr``
against it (query, download, frame removal, sharded store, metadata, feed),
writes the HTML report, and prints where everything is.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from flickrspider.emulator import EmulatorProcess

DEMO_KEYWORDS = "paris,tokyo,são paulo"
DEMO_CONFIG = {"seed": 7, "keywords": {"paris": 120, "tokyo": 90, "são paulo": 60}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flickrspider demo", description=__doc__)
    parser.add_argument(
        "--out", default="demo_output", help="output directory (default: %(default)s)"
    )
    opts = parser.parse_args(argv)
    out = Path(opts.out).resolve()
    images, feed, report = out / "images", out / "photos.jsonl", out / "report.html"
    out.mkdir(parents=True, exist_ok=True)
    with EmulatorProcess(config=DEMO_CONFIG) as emu:
        print(f"demo: Flickr emulator at {emu.url}", flush=True)
        host = urlsplit(emu.url).netloc
        command = [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "flickr",
            "-a",
            f"keywords={DEMO_KEYWORDS}",
            "-s",
            f"FLICKR_API_URL={emu.api_url}",
            "-s",
            f"FLICKR_IMAGE_HOSTS={host}",
            "-s",
            f"IMAGES_STORE={images}",
            "-s",
            "FLICKR_PROGRESS_INTERVAL=5",
            "-s",
            "LOG_LEVEL=INFO",
            "-O",
            str(feed),
        ]
        env = {
            **os.environ,
            "SCRAPY_SETTINGS_MODULE": "flickrspider.settings",
            "FLICKR_API_KEY": "demo-key",
        }
        code = subprocess.call(command, env=env, cwd=out)  # noqa: S603 - our own scrapy command
    if code != 0:
        print(f"demo: the crawl failed (exit {code})", file=sys.stderr)
        return code
    from flickrspider.report import main as report_main

    report_main([str(images), "-o", str(report), "-q"])
    stored = sum(1 for _ in images.rglob("*.jpg"))
    print(f"demo: {stored} images in {images}")
    print(f"demo: feed {feed}")
    print(f"demo: report {report}")
    return 0
