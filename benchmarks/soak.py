"""Soak: kill a resumable crawl at random moments, restart it, and count what went wrong.

    .venv/bin/python benchmarks/soak.py --minutes 10 [--photos 600] [--faults 0.03] [--seed 1]

Starts the emulator on a corpus of several keywords that share photos, makes one
uninterrupted reference run, then until the time is up runs jobs: each job is
``scrapy crawl flickr ... -s JOBDIR=... -O feed.jsonl`` started again and again
with the same command, and after a random delay killed with a random signal
(mostly SIGKILL, sometimes SIGTERM, SIGINT or two SIGINTs), until one run ends
on its own. Each finished job is compared with the reference:

- ids lost        stored by the reference, not by the job
- ids duplicated  stored twice (two files), or twice in the feed
- also: ids extra, partial or undecodable files, feed records missing, ledger
  and shard inconsistencies (``tests.resumekit.check_dataset``)

and the restarts it survived are counted. Prints one line per job and a JSON
summary; exits 1 if any id was lost or duplicated. Also reports the bytes per
photo of the durable state (job journal and dataset ledger).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flickrspider.emulator import EmulatorProcess
from flickrspider.job import FILE_NAME
from tests.resumekit import JobRun, check_dataset, job_run, read_feed, stored_files

KEY = "soak-key"
SHARD = 100
SIGNALS = [(signal.SIGKILL, 0.7), (signal.SIGTERM, 0.1), (signal.SIGINT, 0.1), ("INT2", 0.1)]


def pick_signal(rng: random.Random) -> signal.Signals | str:
    names, weights = zip(*SIGNALS, strict=True)
    return rng.choices(names, weights)[0]


def run_with_kills(run: JobRun, rng: random.Random, max_delay: float) -> tuple[int, Counter]:
    """Restart the job until a run ends by itself; returns (restarts, signals sent)."""
    restarts, sent = 0, Counter()
    while True:
        log = run.directory / f"run{restarts:03d}.log"
        proc = run.start(log)
        try:
            proc.wait(timeout=rng.uniform(0.3, max_delay))
        except subprocess.TimeoutExpired:  # still running: kill it now
            sig = pick_signal(rng)
            if sig == "INT2":
                proc.send_signal(signal.SIGINT)
                time.sleep(rng.uniform(0.05, 0.5))
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
            else:
                proc.send_signal(sig)
            sent[str(getattr(sig, "name", sig))] += 1
            try:
                proc.wait(timeout=300)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            restarts += 1
            continue
        if proc.returncode != 0:
            raise RuntimeError(f"a run ended with status {proc.returncode}; see {log}")
        if "Spider closed (finished)" in log.read_text(encoding="utf-8", errors="replace"):
            return restarts, sent
        restarts += 1  # a signal arrived as it ended: go on


def compare(run: JobRun, reference: set[str]) -> dict[str, object]:
    """What the job stored, against the reference."""
    problems: list[str] = []
    files: dict[str, str] = {}
    try:
        files = check_dataset(run.store, SHARD)
    except AssertionError as exc:
        problems.append(f"dataset: {exc}")
        try:
            files = stored_files(run.store)
        except AssertionError as inner:
            problems.append(f"files: {inner}")
    records = read_feed(run.feed) if run.feed.exists() else []
    feed_ids = Counter(r["id"] for r in records)
    duplicated = {pid for pid, n in feed_ids.items() if n > 1}
    for problem in problems:
        if "stored twice" in problem:
            duplicated.add(problem.split("photo ", 1)[1].split(" ", 1)[0])
    stored = set(files)
    return {
        "lost": sorted(reference - stored),
        "duplicated": sorted(duplicated),
        "extra": sorted(stored - reference),
        "feed_missing": sorted(stored - set(feed_ids)),
        "problems": problems,
    }


def state_bytes(run: JobRun, photos: int) -> dict[str, float]:
    def size(*paths: Path) -> int:
        return sum(p.stat().st_size for p in paths if p.exists())

    journal = run.job / FILE_NAME
    ledger = run.store / ".flickrspider" / "ledger.sqlite"
    return {
        "journal_bytes_per_photo": round(size(journal, Path(f"{journal}-wal")) / photos, 1),
        "ledger_bytes_per_photo": round(size(ledger, Path(f"{ledger}-wal")) / photos, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--photos", type=int, default=600, help="photos per keyword")
    parser.add_argument("--keywords", default="harbor,lighthouse,pier")
    parser.add_argument("--faults", type=float, default=0.0, help="rate of each transient fault")
    parser.add_argument(
        "--max-delay", type=float, default=8.0, help="longest run before a kill (s)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the job directories")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    keywords = [k.strip() for k in args.keywords.split(",") if k.strip()]
    faults = {
        kind: args.faults
        for kind in ("api_500", "api_429", "api_105", "api_truncated", "img_503", "img_truncated")
    }
    config = {"seed": args.seed, "keywords": dict.fromkeys(keywords, args.photos), "shared": 0.15}
    crawl_args = {"keywords": ",".join(keywords)}
    settings = {"FLICKR_SHARD_SIZE": str(SHARD)}
    work = Path(tempfile.mkdtemp(prefix="flickrspider-soak-"))
    deadline = time.monotonic() + 60 * args.minutes
    jobs: list[dict[str, object]] = []
    with EmulatorProcess("--keys", KEY, config=config) as emu:
        started = time.monotonic()
        reference_run = job_run(work / "reference", emu, KEY, crawl_args, settings=settings)
        done = reference_run.run(timeout=3600)
        if done.returncode != 0:
            print(done.log[-3000:], file=sys.stderr)
            return 2
        reference = set(check_dataset(reference_run.store, SHARD))
        print(
            f"reference: {len(reference)} photos stored in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        if args.faults:
            emu.configure(**faults)
        number = 0
        while time.monotonic() < deadline:
            number += 1
            emu.reset()
            run = job_run(work / f"job{number:03d}", emu, KEY, crawl_args, settings=settings)
            run.directory.mkdir(parents=True)
            began = time.monotonic()
            restarts, sent = run_with_kills(run, rng, args.max_delay)
            result = compare(run, reference)
            result.update(
                job=number,
                restarts=restarts,
                signals=dict(sent),
                seconds=round(time.monotonic() - began, 1),
                **state_bytes(run, max(1, len(reference))),
            )
            jobs.append(result)
            print(
                f"job {number}: {restarts} restarts survived {dict(sent)}, "
                f"lost {len(result['lost'])}, duplicated {len(result['duplicated'])}, "
                f"extra {len(result['extra'])}, feed missing {len(result['feed_missing'])}, "
                f"problems {len(result['problems'])}, {result['seconds']} s",
                flush=True,
            )
            if not args.keep and not (result["lost"] or result["duplicated"] or result["problems"]):
                shutil.rmtree(run.directory, ignore_errors=True)
    summary = {
        "jobs": len(jobs),
        "photos_per_job": len(reference),
        "restarts_survived": sum(int(j["restarts"]) for j in jobs),  # type: ignore[call-overload]
        "signals": sum((Counter(j["signals"]) for j in jobs), Counter()),  # type: ignore[arg-type]
        "ids_lost": sum(len(j["lost"]) for j in jobs),  # type: ignore[arg-type]
        "ids_duplicated": sum(len(j["duplicated"]) for j in jobs),  # type: ignore[arg-type]
        "ids_extra": sum(len(j["extra"]) for j in jobs),  # type: ignore[arg-type]
        "feed_missing": sum(len(j["feed_missing"]) for j in jobs),  # type: ignore[arg-type]
        "problems": [p for j in jobs for p in j["problems"]],  # type: ignore[attr-defined]
        "faults": args.faults,
        "state_bytes_per_photo": {
            k: jobs[-1][k] for k in ("journal_bytes_per_photo", "ledger_bytes_per_photo")
        }
        if jobs
        else {},
        "work": str(work),
    }
    print(json.dumps(summary, indent=1))
    if not args.keep and not summary["problems"]:
        shutil.rmtree(work, ignore_errors=True)
    bad = summary["ids_lost"] or summary["ids_duplicated"] or summary["problems"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
