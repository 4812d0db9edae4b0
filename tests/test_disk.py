"""A full or unwritable disk: a clear error, the crawl stops, nothing partial remains.

IMAGES_STORE is put on a small tmpfs (full after a dozen images) or a read-only
one, mounted in a private mount namespace (``unshare -rm``: no root needed, and
the mount vanishes with the crawl). The store is copied out before the
namespace ends, then checked; a full disk's job is then resumed on a disk with
room and must end with the dataset of an uninterrupted run.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from flickrspider.emulator import EmulatorProcess
from tests.resumekit import Done, JobRun, check_dataset, check_feed, job_run, read_feed

KEY = "disk-key-51c0aa"
SHARD = 20
CORPUS = {"seed": 5, "keywords": {"moor": 120, "heath": 40}}
ARGS = {"keywords": "moor,heath"}
SETTINGS = {"FLICKR_SHARD_SIZE": str(SHARD)}


def _namespaces_work() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not _namespaces_work(), reason="needs unshare -rm and tmpfs mounts"),
]


def run_on_small_disk(
    run: JobRun, size: str, *, read_only: bool = False, everything: bool = False
) -> Done:
    """Run the crawl with IMAGES_STORE (or, with ``everything``, also JOBDIR and the
    feed) on a fresh tmpfs of ``size``; what it held is copied back afterwards."""
    mount = run.directory if everything else run.store
    mount.mkdir(parents=True, exist_ok=True)
    saved = run.directory.parent / f"{run.directory.name}-after"
    crawl = " ".join(shlex.quote(c) for c in run.command("scrapy"))
    target = shlex.quote(str(mount))
    steps = [f"mount -t tmpfs -o size={size} tmpfs {target}"]
    if read_only:
        steps.append(f"mount -o remount,ro {target}")
    script = (
        " && ".join(steps)
        + f" && {{ {crawl}; rc=$?; cp -a {target}/. {shlex.quote(str(saved))}/; exit $rc; }}"
    )
    saved.mkdir()
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        cwd=run.directory,
        env=run.env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # the tmpfs is gone with its namespace: put what it held where it was
    shutil.rmtree(mount)
    saved.rename(mount)
    return Done(done.returncode, done.stdout + done.stderr)


@pytest.fixture(scope="module")
def emu():
    with EmulatorProcess("--keys", KEY, config=CORPUS) as emu:
        yield emu


@pytest.fixture(scope="module")
def reference(emu, tmp_path_factory) -> dict[str, str]:
    run = job_run(tmp_path_factory.mktemp("ref"), emu, KEY, ARGS, settings=SETTINGS)
    assert run.run().returncode == 0
    return check_dataset(run.store, SHARD)


def test_full_disk_stops_cleanly_and_the_job_resumes_on_a_bigger_one(emu, reference, tmp_path):
    run = job_run(tmp_path, emu, KEY, ARGS, settings=SETTINGS)
    emu.reset()
    done = run_on_small_disk(run, "2m")
    log = done.log
    stops = [line for line in log.splitlines() if "Stopping:" in line]
    assert len(stops) == 1, stops  # one clear error: the image or the ledger met the full disk
    assert "No space left on device" in stops[0] or "disk is full" in stops[0], stops
    assert "'finish_reason': 'dataset_unwritable'" in log
    assert "Traceback" not in log and "Error processing" not in log
    # it stopped: far from every image was even asked for
    assert emu.stats()["image_requests"] < len(reference)

    # nothing partial: every file whole, ledger and feed agree with the disk
    assert not [p for p in run.store.rglob("*") if p.name.endswith(".part")]
    files = check_dataset(run.store, SHARD, settled=False)
    assert 0 < len(files) < len(reference)
    assert {r["id"] for r in read_feed(run.feed)} <= set(files)

    # room again: the same command (same JOBDIR) finishes the job
    again = run.run()
    assert again.returncode == 0, again.log[-3000:]
    # the search pages whose photos met the full disk were left unfinished, and are asked again
    unfinished = re.search(r"(\d+) unfinished search tasks to issue again", again.log)
    assert unfinished is not None and int(unfinished[1]) > 0
    files = check_dataset(run.store, SHARD)
    check_feed(run.feed, files)
    assert set(files) == set(reference)


def test_one_full_disk_for_store_jobdir_and_feed(emu, reference, tmp_path):
    run = job_run(tmp_path / "work", emu, KEY, ARGS, settings=SETTINGS)
    done = run_on_small_disk(run, "3m", everything=True)
    assert "Stopping: cannot write" in done.log
    assert "Traceback" not in done.log and "Error processing" not in done.log
    assert "Error caught on signal handler" not in done.log
    assert not [p for p in run.directory.rglob("*") if p.name.endswith(".part")]
    files = check_dataset(run.store, SHARD, settled=False)
    assert {r["id"] for r in read_feed(run.feed)} <= set(files)  # whole lines only

    again = run.run()
    assert again.returncode == 0, again.log[-3000:]
    files = check_dataset(run.store, SHARD)
    check_feed(run.feed, files)
    assert set(files) == set(reference)


def test_read_only_store_is_refused_before_any_request(emu, tmp_path):
    run = job_run(tmp_path, emu, KEY, ARGS, settings=SETTINGS)
    emu.reset()
    done = run_on_small_disk(run, "1m", read_only=True)
    assert done.returncode == 2, done.log[-2000:]
    assert f"IMAGES_STORE ('{run.store}') is not writable: Read-only file system" in done.log
    assert "Traceback" not in done.log
    assert emu.stats()["api_calls"] == 0
    assert list(Path(run.store).rglob("*")) == []
