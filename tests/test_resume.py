"""Kill at any moment, start again with the same command: the dataset of an uninterrupted run.

Each test runs a real ``scrapy crawl`` with ``-s JOBDIR=...`` and ``-O feed.jsonl``,
kills it at an exact step (``tests/crashrun.py``: SIGKILL, SIGINT, SIGTERM or a
double SIGINT) or from outside when files appear, runs the same command again,
and compares with an uninterrupted run: the same ids, each once, every file
complete (decoded by Pillow), ledger and shard directories consistent, and a
feed with every stored photo exactly once.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from flickrspider.emulator import EmulatorProcess
from flickrspider.job import FILE_NAME
from tests.resumekit import check_dataset, check_feed, job_run, read_feed

pytestmark = pytest.mark.e2e

KEY = "resume-key-7c41d9"
SHARD = 25
# harbor: two pages (two search tasks) of images; mill and dock: stage 1 only, many windows.
CORPUS = {"seed": 23, "keywords": {"harbor": 270, "quay": 60, "mill": 2400, "dock": 900}}
IMAGES = {"keywords": "harbor,quay"}
STAGE1 = {"keywords": "mill,dock,harbor", "download": "0"}
SETTINGS = {"FLICKR_SHARD_SIZE": str(SHARD)}
# Two requests at a time keep search tasks queued, so a graceful stop leaves work to resume.
SLOW = {**SETTINGS, "CONCURRENT_REQUESTS": "2"}


@pytest.fixture(scope="module")
def emu():
    with EmulatorProcess("--keys", KEY, config=CORPUS) as emu:
        yield emu


@pytest.fixture(scope="module")
def reference_run(emu, tmp_path_factory):
    """An uninterrupted run with downloads (it also warms the emulator's image cache)."""
    run = job_run(tmp_path_factory.mktemp("ref_images"), emu, KEY, IMAGES, settings=SETTINGS)
    done = run.run()
    assert done.returncode == 0, done.log[-3000:]
    return run


@pytest.fixture(scope="module")
def reference_images(reference_run) -> dict[str, str]:
    """id -> path of the uninterrupted run's dataset."""
    files = check_dataset(reference_run.store, SHARD)
    check_feed(reference_run.feed, files)
    assert len(files) > 150
    return files


def copy_of_reference(reference_run, directory: Path) -> None:
    shutil.copytree(reference_run.store, directory / "images")


@pytest.fixture(scope="module")
def reference_stage1(emu, tmp_path_factory) -> set[str]:
    run = job_run(tmp_path_factory.mktemp("ref_stage1"), emu, KEY, STAGE1, jobdir=False)
    done = run.run()
    assert done.returncode == 0, done.log[-3000:]
    ids = [r["id"] for r in read_feed(run.feed)]
    assert len(ids) == len(set(ids)) > 2000
    return set(ids)


def journal_counts(job: Path) -> tuple[int, int]:
    db = sqlite3.connect(job / FILE_NAME)
    try:
        rows = dict(db.execute("SELECT state, count(*) FROM tasks GROUP BY state").fetchall())
    finally:
        db.close()
    return rows.get(0, 0), rows.get(1, 0)


def expect_interrupted(done, signal_name: str) -> None:
    if signal_name == "KILL":
        assert done.returncode == -signal.SIGKILL, done.log[-2000:]
    else:
        assert "shutting down gracefully" in done.log or "forcing unclean" in done.log, done.log[
            -2000:
        ]


# -- stage 1 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "crash",
    [
        "task_done:3:KILL",
        "exported:1500:KILL",
        "task_done:2:INT",
        "task_done:4:TERM",
        "task_done:2:INT2",
    ],
)
def test_stage1_killed_then_rerun_gives_the_uninterrupted_feed(
    emu, reference_stage1, tmp_path, crash
):
    run = job_run(tmp_path, emu, KEY, STAGE1, settings=SLOW)
    first = run.run(crash)
    expect_interrupted(first, crash.rsplit(":", 1)[1])
    pending, done = journal_counts(run.job)
    assert pending > 0 and done > 0, "the kill should leave unfinished search tasks"
    partial = {r["id"] for r in read_feed(run.feed)}
    assert partial < reference_stage1

    again = run.run()
    assert again.returncode == 0, again.log[-3000:]
    assert f"{pending} unfinished search tasks to issue again" in again.log
    ids = [r["id"] for r in read_feed(run.feed)]
    assert len(ids) == len(set(ids)), "a photo twice in the feed"
    assert set(ids) == reference_stage1
    assert journal_counts(run.job)[0] == 0
    # Scrapy's own queue stayed in memory: each unfinished task was asked once, from the journal
    assert f"'flickr/job/replayed_tasks': {pending}" in again.log
    assert "Resuming crawl (" not in again.log
    queue = run.job / "requests.queue"
    assert not any(p.is_file() and p.name != "active.json" for p in queue.rglob("*"))


def test_stage1_survives_repeated_kills_and_a_finished_job_asks_nothing(
    emu, reference_stage1, tmp_path
):
    run = job_run(tmp_path, emu, KEY, STAGE1, settings=SLOW)
    for crash in ("task_done:2:KILL", "task_done:3:KILL", "exported:200:KILL", "task_done:1:TERM"):
        run.run(crash)
    assert run.run().returncode == 0
    ids = [r["id"] for r in read_feed(run.feed)]
    assert len(ids) == len(set(ids)) and set(ids) == reference_stage1
    # the job is finished: the same command again asks Flickr nothing and keeps the feed
    feed = run.feed.read_bytes()
    emu.reset()
    assert run.run().returncode == 0
    assert emu.stats()["api_calls"] == 0
    assert run.feed.read_bytes() == feed


def test_partial_last_feed_line_is_repaired_on_resume(emu, reference_stage1, tmp_path):
    run = job_run(tmp_path, emu, KEY, STAGE1, settings=SLOW)
    run.run("task_done:2:KILL")
    records = read_feed(run.feed)
    with run.feed.open("ab") as fh:  # what a full disk or a power cut may leave
        fh.write(b'{"id": "12345", "secret": "ab')
    assert run.run().returncode == 0
    ids = [r["id"] for r in read_feed(run.feed)]
    assert len(ids) == len(set(ids)) and set(ids) == reference_stage1
    assert ids[: len(records)] == [r["id"] for r in records]


# -- with downloads -----------------------------------------------------------------------

KILL_POINTS = [
    "image_response:30:KILL",  # images in flight, none stored yet
    "renamed:20:KILL",  # right after a file rename, the ledger still says pending
    "stored:25:KILL",  # the ledger says stored, the feed line is not written yet
    "exported:30:KILL",  # the feed line is written, its search task not yet done
]


@pytest.mark.parametrize("crash", KILL_POINTS)
def test_download_killed_then_rerun_gives_the_uninterrupted_dataset(
    emu, reference_images, tmp_path, crash
):
    run = job_run(tmp_path, emu, KEY, IMAGES, settings=SETTINGS)
    first = run.run(crash)
    expect_interrupted(first, crash.rsplit(":", 1)[1])
    assert len(list(run.store.rglob("*.jpg"))) < len(reference_images)

    again = run.run()
    assert again.returncode == 0, again.log[-3000:]
    assert "Resuming the job" in again.log
    files = check_dataset(run.store, SHARD)
    check_feed(run.feed, files)
    assert set(files) == set(reference_images)
    if crash.startswith("stored"):
        # the photo stored just before the kill got its feed record from its file
        assert "'flickr/job/restored': " in again.log, again.log[-3000:]


def test_download_survives_every_signal_in_a_row(emu, reference_images, tmp_path):
    run = job_run(tmp_path, emu, KEY, IMAGES, settings=SLOW)
    for crash in (
        "claimed:5:KILL",  # a shard slot given, no file yet
        "renamed:2:INT2",  # Scrapy's forced, unclean stop, with an item half way through
    ):
        expect_interrupted(run.run(crash), crash.rsplit(":", 1)[1])
        assert journal_counts(run.job)[0] > 0, f"{crash}: nothing left to resume"
    # a graceful stop finishes the items already parsed (it may even finish the job)
    expect_interrupted(run.run("image_response:1:TERM"), "TERM")
    assert run.run().returncode == 0
    files = check_dataset(run.store, SHARD)
    check_feed(run.feed, files)
    assert set(files) == set(reference_images)


def test_download_sigkill_from_outside_when_files_appear(emu, reference_images, tmp_path):
    run = job_run(tmp_path, emu, KEY, IMAGES, settings=SETTINGS)
    proc = run.start(tmp_path / "first.log")
    try:
        deadline = time.monotonic() + 120
        while len(list(run.store.rglob("*.jpg"))) < 60:
            assert proc.poll() is None, "the crawl ended before the kill"
            assert time.monotonic() < deadline
            time.sleep(0.01)  # polling for the condition, not waiting for time to pass
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert run.run().returncode == 0
    files = check_dataset(run.store, SHARD)
    check_feed(run.feed, files)
    assert set(files) == set(reference_images)


def test_stage1_then_stage2_download_job_resumes(emu, reference_images, tmp_path):
    listing = job_run(tmp_path / "list", emu, KEY, {**IMAGES, "download": "0"}, jobdir=False)
    assert listing.run().returncode == 0
    run = job_run(
        tmp_path / "get",
        emu,
        KEY,
        {"input": str(listing.feed)},
        spider="flickr_download",
        settings=SETTINGS,
    )
    run.run("stored:40:KILL")
    again = run.run()
    assert again.returncode == 0, again.log[-3000:]
    files = check_dataset(run.store, SHARD)
    check_feed(run.feed, files)
    assert set(files) == set(reference_images)


# -- re-running into an existing dataset ------------------------------------------------------


def test_rerun_downloads_nothing_stored_and_refetches_damaged_files(
    emu, reference_run, reference_images, tmp_path
):
    copy_of_reference(reference_run, tmp_path)
    run = job_run(tmp_path, emu, KEY, IMAGES, settings=SETTINGS, jobdir=False)
    files = reference_images

    emu.reset()
    again = run.run()
    assert again.returncode == 0
    assert emu.stats()["image_requests"] == 0, "a stored photo was downloaded again"
    assert read_feed(run.feed) == []  # nothing new was stored

    damaged = sorted(files)[:5]
    paths = [run.store / files[pid] for pid in damaged]
    paths[0].write_bytes(paths[0].read_bytes()[:5000])  # truncated
    paths[1].write_bytes(b"\0" * 4096)  # zeroed
    paths[2].unlink()  # gone
    paths[3].write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)  # something else
    paths[4].write_bytes(b"")  # empty
    emu.reset()
    third = run.run()
    assert third.returncode == 0, third.log[-3000:]
    assert third.log.count("missing or damaged; fetching it again") == 5
    assert emu.stats()["image_requests"] == 5
    assert check_dataset(run.store, SHARD) == files  # same paths, whole again
    assert sorted(r["id"] for r in read_feed(run.feed)) == damaged


def test_a_new_job_into_an_existing_dataset_stores_and_exports_nothing_twice(
    emu, reference_run, reference_images, tmp_path
):
    copy_of_reference(reference_run, tmp_path)
    run = job_run(tmp_path, emu, KEY, {"keywords": "quay,harbor"}, settings=SETTINGS)
    emu.reset()
    run.run("task_done:1:KILL")
    assert run.run().returncode == 0
    assert emu.stats()["image_requests"] == 0
    assert check_dataset(run.store, SHARD) == reference_images
    # the photos an earlier job stored are not this job's: its feed stays empty
    assert read_feed(run.feed) == []


def test_signals_from_outside_leave_a_resumable_job(emu, reference_stage1, tmp_path):
    run = job_run(tmp_path, emu, KEY, STAGE1, settings=SLOW)
    for sig in (signal.SIGTERM, signal.SIGINT):
        log = tmp_path / "log.txt"
        proc = run.start(log)
        deadline = time.monotonic() + 120
        while not run.feed.exists() or run.feed.stat().st_size < 100_000:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(sig)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            raise
    assert run.run().returncode == 0
    ids = [r["id"] for r in read_feed(run.feed)]
    assert len(ids) == len(set(ids)) and set(ids) == reference_stage1
