"""The API key never leaves the request it is sent with.

A crawl with a distinctive key runs with downloads, a feed, ``JOBDIR``, DEBUG
logging and transient API faults (so retries, backoff and error paths all log),
is killed, stopped gracefully and finished; a second crawl uses a distinctive
*wrong* key. Every log line, stats value, feed, and every file under
IMAGES_STORE and JOBDIR (SQLite files and their journals, Scrapy's
``requests.seen`` and queue state included) is searched: zero hits.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flickrspider.emulator import EmulatorProcess
from tests.resumekit import job_run

pytestmark = pytest.mark.e2e

KEY = "SeCrEt-7f3e9a1c55d04b2e"
WRONG_KEY = "WrOnG-0c4e8b2a91f6d377"
FAULTS = {"api_500": 0.3, "api_105": 0.3, "api_html_200": 0.15, "api_truncated": 0.15}
CORPUS = {"seed": 41, "keywords": {"lagoon": 120, "ridge": 60}, "shared": 0.2}


def hits(secret: str, roots: list[Path], texts: list[str]) -> list[str]:
    """Where ``secret`` appears: in any file under ``roots`` or in any of ``texts``."""
    needle = secret.encode()
    found = [f"text #{i}" for i, text in enumerate(texts) if secret in text]
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if needle in path.read_bytes():
                found.append(str(path))
    return found


def test_the_key_is_nowhere_after_kills_faults_and_debug_logs(tmp_path):
    with EmulatorProcess("--keys", KEY, config={**CORPUS, "faults": FAULTS}) as emu:
        run = job_run(tmp_path, emu, KEY, {"keywords": "lagoon,ridge"})
        run.settings = {"LOG_LEVEL": "DEBUG", "FLICKR_PROGRESS_INTERVAL": "0.2"}
        logs = [
            run.run("image_response:20:KILL").log,
            run.run("renamed:5:INT").log,
            run.run().log,
        ]
        wrong = job_run(tmp_path / "wrong", emu, WRONG_KEY, {"keywords": "lagoon"})
        logs.append(wrong.run().log)

    assert "flickrspider summary (finished" in logs[2]
    assert "Dumping Scrapy stats" in logs[2]
    # API calls were retried (the first run, killed before its stats are dumped, may
    # have made them all): the key must not leak from those log lines either.
    assert "Retrying a Flickr API call" in "".join(logs)
    assert "Flickr rejected the API key (code 100)" in logs[3]
    stored = list(run.store.rglob("*.jpg"))
    assert len(stored) > 50 and run.feed.stat().st_size > 0
    assert (run.job / "flickrspider.sqlite").exists() and (run.job / "requests.seen").exists()

    roots = [run.store, run.job, run.feed.parent, wrong.directory]
    assert hits(KEY, roots, logs) == []
    assert hits(WRONG_KEY, roots, logs) == []


def test_the_search_would_find_a_leak(tmp_path):
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "x.sqlite-wal").write_bytes(b"\0\1" + KEY.encode() + b"\0")
    assert hits(KEY, [tmp_path], ["nothing", f"api_key={KEY}"]) == [
        "text #1",
        str(tmp_path / "deep" / "er" / "x.sqlite-wal"),
    ]
