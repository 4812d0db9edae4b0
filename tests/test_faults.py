"""Faults: with 10% transient failures of every kind, every storable photo is stored.

The emulator injects each transient fault kind at 10% per request (API HTTP 500,
503, 429, codes 105 and 201, HTML pages, truncated JSON, answers slower than the
timeout; image 503, truncated and HTML bodies, slow images), at most three times
per URL, on top of permanent failures (images that are gone, URLs off the
allowlist). The stored ids must equal those of a run without transient faults,
and the permanent failures must be counted by reason in the stats and the summary.
"""

from __future__ import annotations

import json

import pytest

from flickrspider.emulator import EmulatorProcess
from tests.resumekit import check_dataset, check_feed, job_run, read_feed

pytestmark = pytest.mark.e2e

KEY = "faults-key-90d2e1"
SHARD = 50
PERMANENT = {"img_missing": 0.04, "img_offhost": 0.04}
TRANSIENT = {
    **{kind: 0.1 for kind in ("api_500", "api_503", "api_429", "api_105", "api_201")},
    **{kind: 0.1 for kind in ("api_html_200", "api_html_502", "api_truncated", "api_slow")},
    **{kind: 0.1 for kind in ("img_503", "img_truncated", "img_html", "img_slow")},
}
API_KINDS = [k for k in TRANSIENT if k.startswith("api_")]
IMAGE_KINDS = [k for k in TRANSIENT if k.startswith("img_")]
SEARCH_KEYWORDS = ("reef", "dune", "marsh", "bay", "isle", "cape")
CORPUS = {
    "seed": 31,
    "keywords": {"fjord": 260, "cove": 90, **dict.fromkeys(SEARCH_KEYWORDS, 1500)},
    "shared": 0,
    "faults": PERMANENT,
}
# Fixed dates: the same search URLs every run, so the seeded faults fall the same way.
DATES = {"min_upload_date": "2004-02-01", "max_upload_date": "2025-01-01"}
ARGS = {"keywords": "fjord,cove", **DATES}
SETTINGS = {"FLICKR_SHARD_SIZE": str(SHARD)}
# Slow answers take 3 s; under faults the crawl gives up on a response after 2 s.
IMPATIENT = {**SETTINGS, "DOWNLOAD_TIMEOUT": "2"}


@pytest.fixture(scope="module")
def emu():
    with EmulatorProcess("--keys", KEY, config={**CORPUS, "slow_seconds": 3}) as emu:
        yield emu


def summary_of(store) -> dict:
    return json.loads((store / ".flickrspider" / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reference(emu, tmp_path_factory):
    run = job_run(tmp_path_factory.mktemp("ref"), emu, KEY, ARGS, settings=SETTINGS)
    done = run.run()
    assert done.returncode == 0, done.log[-3000:]
    files = check_dataset(run.store, SHARD)
    return files, summary_of(run.store)


def test_search_is_complete_despite_transient_api_faults(emu, tmp_path):
    emu.reset()
    emu.configure(**TRANSIENT)
    try:
        args = {"keywords": ",".join(SEARCH_KEYWORDS), "download": "0", **DATES}
        run = job_run(tmp_path, emu, KEY, args, settings=IMPATIENT)
        done = run.run()
        fired = emu.stats()["faults"]
    finally:
        emu.configure(**dict.fromkeys(TRANSIENT, 0))
    assert done.returncode == 0, done.log[-3000:]
    for kind in API_KINDS:
        assert fired.get(kind, 0) > 0, f"fault {kind} never fired: {fired}"
    ids = [r["id"] for r in read_feed(run.feed)]
    truth: set[str] = set()
    for keyword in SEARCH_KEYWORDS:
        truth.update(
            emu.truth(
                text=keyword,
                has_geo=1,
                accuracy=6,
                media="photos",
                min_upload_date=1075593600,
                max_upload_date=1735689600,
            )
        )
    assert len(ids) == len(set(ids)) and set(ids) == truth
    assert "flickr/windows/failed" not in done.log
    for reason in ("http_500", "http_429", "code_105", "code_201", "html", "bad_json"):
        assert f"'flickr/api/retried/{reason}'" in done.log, reason


def test_every_storable_photo_is_stored_despite_transient_faults(emu, reference, tmp_path):
    ref_files, ref_summary = reference
    emu.reset()
    emu.configure(**TRANSIENT)
    try:
        run = job_run(tmp_path, emu, KEY, ARGS, settings=IMPATIENT)
        done = run.run()
        fired = emu.stats()["faults"]
    finally:
        emu.configure(**dict.fromkeys(TRANSIENT, 0))
    assert done.returncode == 0, done.log[-3000:]
    for kind in IMAGE_KINDS:
        assert fired.get(kind, 0) > 0, f"fault {kind} never fired: {fired}"

    files = check_dataset(run.store, SHARD)
    check_feed(run.feed, files)
    assert set(files) == set(ref_files)

    # permanent failures: counted by reason, the same as without transient faults
    summary = summary_of(run.store)
    assert summary["failed"] == ref_summary["failed"]
    assert set(summary["failed"]) == {"not_found", "off_allowlist"}
    assert all(n > 0 for n in summary["failed"].values())
    for kw in ("fjord", "cove"):
        failed = summary["keywords"][kw]["failed"]
        assert failed == ref_summary["keywords"][kw]["failed"]
        listed = ", ".join(f"{r}={n}" for r, n in sorted(failed.items()))
        assert f"failed: {listed}" in done.log  # the end-of-run summary names them
    # no search window was lost, and the retries were counted by reason
    assert "flickr/windows/failed" not in done.log
    assert "flickr/api/retried/" in done.log and "flickr/images/retried/" in done.log
    assert "Traceback" not in done.log


def test_faults_and_a_kill_together(emu, reference, tmp_path):
    ref_files, _ = reference
    emu.reset()
    emu.configure(**TRANSIENT)
    try:
        run = job_run(tmp_path, emu, KEY, ARGS, settings=IMPATIENT)
        run.run("renamed:40:KILL")
        done = run.run()
    finally:
        emu.configure(**dict.fromkeys(TRANSIENT, 0))
    assert done.returncode == 0, done.log[-3000:]
    files = check_dataset(run.store, SHARD)
    check_feed(run.feed, files)
    assert set(files) == set(ref_files)
