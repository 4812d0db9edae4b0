"""Shared fixtures: the Flickr emulator as a subprocess on port 0, and real crawls.

Crawls run as ``python -m scrapy crawl ...`` subprocesses, exactly as a user runs them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import settings as hypothesis_settings

from flickrspider.emulator import EmulatorProcess

# Property tests draw the same examples on every run (CI must not flake on a random draw);
# HYPOTHESIS_PROFILE=explore draws new ones, to hunt for cases locally.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
TEST_KEY = "test-key-5f1e0c2a9b"

# A small corpus for end-to-end crawls: two keywords that share photos.
E2E_CONFIG = {"seed": 11, "keywords": {"paris": 150, "tokyo": 100}}


@dataclass
class CrawlResult:
    returncode: int
    log: str
    feed: list[dict]
    store: Path

    def stats_value(self, key: str) -> str | None:
        marker = f"'{key}': "
        for line in self.log.splitlines():
            if marker in line:
                return line.split(marker, 1)[1].rstrip(",}").strip()
        return None


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess("--keys", TEST_KEY, config=E2E_CONFIG) as emu:
        yield emu


def crawl_settings(emu: EmulatorProcess, store: Path) -> dict[str, str]:
    return {
        "FLICKR_API_URL": emu.api_url,
        "FLICKR_IMAGE_HOSTS": urlsplit(emu.url).netloc,
        "IMAGES_STORE": str(store),
        "FLICKR_API_CALLS_PER_HOUR": "1000000",
        "AUTOTHROTTLE_ENABLED": "False",
        "LOG_LEVEL": "INFO",
        "FLICKR_PROGRESS_INTERVAL": "0",
    }


def run_crawl(
    tmp_path: Path,
    emu: EmulatorProcess,
    spider: str = "flickr",
    args: dict[str, str] | None = None,
    settings: dict[str, str] | None = None,
    *,
    key: str = TEST_KEY,
    feed_name: str = "feed.jsonl",
    timeout: float = 300,
) -> CrawlResult:
    store = tmp_path / "images"
    feed = tmp_path / feed_name
    command = [sys.executable, "-m", "scrapy", "crawl", spider, "-O", str(feed)]
    for name, value in (args or {}).items():
        command += ["-a", f"{name}={value}"]
    for name, value in {**crawl_settings(emu, store), **(settings or {})}.items():
        command += ["-s", f"{name}={value}"]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "flickrspider.settings", "FLICKR_API_KEY": key}
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    records = []
    if feed.exists():
        records = [
            json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines() if line
        ]
    return CrawlResult(done.returncode, done.stdout + done.stderr, records, store)


@pytest.fixture
def crawl(tmp_path: Path, emulator: EmulatorProcess) -> Callable[..., CrawlResult]:
    def _crawl(*args, **kwargs) -> CrawlResult:
        return run_crawl(tmp_path, emulator, *args, **kwargs)

    return _crawl
