"""Helpers for kill-and-restart tests and the soak benchmark: one job, run again and again.

``JobRun`` runs the same ``scrapy crawl`` command in one directory (so ``-O feed``,
``IMAGES_STORE`` and ``JOBDIR`` stay put), optionally with a crash point armed
(``tests/crashrun.py``) or as a process to signal from outside. ``check_dataset``
and ``check_feed`` assert what "the same dataset as an uninterrupted run" means
on disk: every file complete and where the ledger says, shards in order, no
partial files, each id once, every stored photo once in the feed.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image

from flickrspider.jpegmeta import read_metadata
from flickrspider.paths import STATE_DIR, keyword_dir

ROOT = Path(__file__).resolve().parent.parent
_SHARD = re.compile(r"\d{5}")


@dataclass
class Done:
    returncode: int
    log: str


@dataclass
class JobRun:
    """A crawl command bound to a directory, a key and an emulator."""

    directory: Path
    api_url: str
    image_host: str
    key: str
    args: dict[str, str]
    spider: str = "flickr"
    settings: dict[str, str] = field(default_factory=dict)
    jobdir: bool = True
    feed_flag: str = "-O"

    @property
    def store(self) -> Path:
        return self.directory / "images"

    @property
    def feed(self) -> Path:
        return self.directory / "feed.jsonl"

    @property
    def job(self) -> Path:
        return self.directory / "job"

    def command(self, runner: str) -> list[str]:
        command = [
            sys.executable,
            "-m",
            runner,
            "crawl",
            self.spider,
            self.feed_flag,
            str(self.feed),
        ]
        for name, value in self.args.items():
            command += ["-a", f"{name}={value}"]
        settings = {
            "FLICKR_API_URL": self.api_url,
            "FLICKR_IMAGE_HOSTS": self.image_host,
            "IMAGES_STORE": str(self.store),
            "FLICKR_API_CALLS_PER_HOUR": "1000000",
            "AUTOTHROTTLE_ENABLED": "False",
            "FLICKR_PROGRESS_INTERVAL": "0",
            "LOG_LEVEL": "INFO",
            **({"JOBDIR": str(self.job)} if self.jobdir else {}),
            **self.settings,
        }
        for name, value in settings.items():
            command += ["-s", f"{name}={value}"]
        return command

    def env(self, crash: str | None = None) -> dict[str, str]:
        env = {
            **os.environ,
            "SCRAPY_SETTINGS_MODULE": "flickrspider.settings",
            "FLICKR_API_KEY": self.key,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        env.pop("FLICKRSPIDER_CRASH", None)
        if crash:
            env["FLICKRSPIDER_CRASH"] = crash
        return env

    def run(self, crash: str | None = None, timeout: float = 300) -> Done:
        """Run to the end (or to the armed crash point) and return its exit status and log."""
        runner = "tests.crashrun" if crash else "scrapy"
        self.directory.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            self.command(runner),
            cwd=self.directory,
            env=self.env(crash),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Done(done.returncode, done.stdout + done.stderr)

    def start(self, log: Path) -> subprocess.Popen[bytes]:
        """Start without waiting (to be signalled from outside); the log goes to ``log``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            return subprocess.Popen(
                self.command("scrapy"),
                cwd=self.directory,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )


def job_run(
    directory: Path, emu: object, key: str, args: dict[str, str], **kwargs: object
) -> JobRun:
    """A JobRun against an ``EmulatorProcess``."""
    url = str(emu.url)  # type: ignore[attr-defined]
    return JobRun(directory, url + "services/rest/", urlsplit(url).netloc, key, args, **kwargs)  # type: ignore[arg-type]


def read_feed(path: Path) -> list[dict]:
    """The feed's records; the file must end with a newline after whole records."""
    data = path.read_bytes() if path.exists() else b""
    assert not data or data.endswith(b"\n"), "the feed ends in a partial line"
    return [json.loads(line) for line in data.split(b"\n") if line]


def stored_files(store: Path) -> dict[str, str]:
    """id -> path of every image file under ``store``; fails on anything else found there."""
    files: dict[str, str] = {}
    for path in sorted(store.rglob("*")):
        rel = path.relative_to(store)
        if rel.parts[0] == STATE_DIR or path.is_dir():
            continue
        assert path.suffix == ".jpg" and len(rel.parts) == 3, f"stray file {rel}"
        pid = rel.parts[2].split("_", 1)[0]
        assert pid not in files, f"photo {pid} stored twice: {files.get(pid)} and {rel}"
        files[pid] = rel.as_posix()
    return files


def check_dataset(store: Path, shard_size: int, *, settled: bool = True) -> dict[str, str]:
    """Assert the dataset is whole and consistent; return id -> path.

    ``settled=False`` accepts what a stopped run leaves: ledger rows still pending
    (a slot claimed, the file whole or not written at all).
    """
    files = stored_files(store)
    for pid, rel in files.items():
        kwdir, shard, _ = rel.split("/")
        assert _SHARD.fullmatch(shard), rel
        with Image.open(store / rel) as im:
            im.load()  # every byte of the image is there
            assert im.format == "JPEG", rel
            meta = json.loads(im.info["comment"])
        assert meta["id"] == pid and keyword_dir(meta["keyword"]) == kwdir, (rel, meta["keyword"])
        assert (meta["width"], meta["height"]) == im.size, rel
    db = sqlite3.connect(store / STATE_DIR / "ledger.sqlite")
    try:
        rows = db.execute(
            "SELECT p.id, k.dir, p.slot, p.name, p.state FROM photos p JOIN keywords k USING (kw)"
        ).fetchall()
    finally:
        db.close()
    ledger: dict[str, str] = {}
    slots: dict[str, list[int]] = defaultdict(list)
    for pid, kwdir, slot, name, state in rows:
        assert state != 0 or slot is None or not settled, f"photo {pid} left pending"
        if slot is not None and state in (0, 1):
            path = f"{kwdir}/{slot // shard_size:05d}/{name}"
            if state == 1 or (store / path).exists():
                ledger[str(pid)] = path
            slots[kwdir].append(slot)
    assert ledger == files, "the ledger and the files on disk disagree"
    for kwdir, taken in slots.items():
        assert sorted(taken) == list(range(len(taken))), f"{kwdir}: shard slots not filled in order"
    return files


def check_feed(feed: Path, files: dict[str, str]) -> list[dict]:
    """Every stored photo once in the feed, with its path; nothing else; each record
    agrees with the metadata in its file."""
    records = read_feed(feed)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), "a photo id appears twice in the feed"
    assert {r["id"]: r["path"] for r in records} == files
    store = feed.parent / "images"
    for record in records:
        meta = read_metadata(store / record["path"])
        for key in ("id", "keyword", "width", "height", "source_url", "source_size", "frame"):
            assert record[key] == meta[key], (key, record["id"])
    return records
