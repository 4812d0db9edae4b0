"""Scrapyd end to end: a real ``scrapyd`` on loopback, ``scrapyd-deploy`` of the project's
``[deploy:local]`` target, jobs scheduled through ``schedule.json`` and watched through
``listjobs.json``, the items feed and the images checked; a job cancelled mid-crawl and
scheduled again under the same job id resumes.

Scrapyd 1.6 cannot listen on port 0 (``http_port = 0`` starts no web service at all),
so a free port is picked by binding to port 0 first; if Scrapyd loses that port to
someone else meanwhile, it is started again on another.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from flickrspider.emulator import EmulatorProcess
from tests.conftest import ROOT, TEST_KEY, crawl_settings
from tests.servers import RedisServer, free_port, wait_for

pytestmark = pytest.mark.e2e

PROJECT = "flickrspider"
EGG_VERSION = "0.1.0+deployed"  # the deployed copy says so in its User-Agent


class Scrapyd:
    """``python -m scrapyd`` in its own directory, with its own scrapyd.conf."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> Scrapyd:
        for _ in range(5):
            port = free_port()
            dirs = {name: self.home / name for name in ("eggs", "logs", "items", "jobs", "dbs")}
            conf = configparser.ConfigParser()
            conf["scrapyd"] = {
                "bind_address": "127.0.0.1",
                "http_port": str(port),
                "poll_interval": "0.2",
                "max_proc": "4",
                **{f"{name}_dir": str(path) for name, path in dirs.items()},
            }
            with (self.home / "scrapyd.conf").open("w") as out:
                conf.write(out)
            env = {**os.environ, "FLICKR_API_KEY": TEST_KEY}  # never a schedule.json setting
            env.pop("SCRAPY_SETTINGS_MODULE", None)
            env.pop("PYTHONPATH", None)
            with (self.home / "scrapyd.out").open("ab") as log:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "scrapyd"],
                    cwd=self.home,
                    env=env,
                    stdout=log,
                    stderr=log,
                )
            self.url = f"http://127.0.0.1:{port}/"
            try:
                wait_for(self._ready, 30, "scrapyd to answer")
                return self
            except TimeoutError:
                self.stop()
        raise RuntimeError(f"scrapyd did not start; see {self.home / 'scrapyd.out'}")

    def _ready(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            raise TimeoutError("scrapyd exited")
        try:
            return self.get("daemonstatus.json")["status"] == "ok"
        except OSError:
            return False

    def get(self, endpoint: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(self.url + endpoint + query, timeout=30) as answer:
            return json.load(answer)

    def post(self, endpoint: str, fields: list[tuple[str, str]]) -> Any:
        body = urllib.parse.urlencode(fields).encode()
        with urllib.request.urlopen(self.url + endpoint, data=body, timeout=30) as answer:
            return json.load(answer)

    def job_state(self, job: str) -> str | None:
        jobs = self.get("listjobs.json", project=PROJECT)
        for state in ("pending", "running", "finished"):
            if any(j["id"] == job for j in jobs[state]):
                return state
        return None

    def wait_finished(self, job: str, deadline: float = 180) -> None:
        wait_for(lambda: self.job_state(job) == "finished", deadline, f"job {job} to finish", 0.2)

    def item_file(self, job: str) -> Path:
        return self.home / "items" / PROJECT / "flickr" / f"{job}.jl"

    def log_file(self, job: str) -> Path:
        return self.home / "logs" / PROJECT / "flickr" / f"{job}.log"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project whose [deploy:local] target is unchanged but for its URL."""
    copy = tmp_path_factory.mktemp("project")
    shutil.copytree(
        ROOT / "flickrspider", copy / "flickrspider", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md", "setup.py", "scrapy.cfg"):
        shutil.copy(ROOT / name, copy / name)
    init = copy / "flickrspider" / "__init__.py"
    text, found = re.subn(
        r'__version__ = "[^"]*"', f'__version__ = "{EGG_VERSION}"', init.read_text(encoding="utf-8")
    )
    assert found == 1
    init.write_text(text, encoding="utf-8")
    return copy


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory, project) -> Scrapyd:
    server = Scrapyd(tmp_path_factory.mktemp("scrapyd")).start()
    try:
        cfg = configparser.ConfigParser()
        cfg.read(project / "scrapy.cfg")
        assert cfg["deploy:local"]["project"] == PROJECT
        cfg["deploy:local"]["url"] = server.url
        with (project / "scrapy.cfg").open("w") as out:
            cfg.write(out)
        deploy = subprocess.run(
            [str(Path(sys.executable).with_name("scrapyd-deploy")), "local", "--version", "r1"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert deploy.returncode == 0, deploy.stderr + deploy.stdout
        answer = json.loads(deploy.stdout)
        assert answer["status"] == "ok" and answer["project"] == PROJECT and answer["spiders"] >= 2
        spiders = server.get("listspiders.json", project=PROJECT)["spiders"]
        assert {"flickr", "flickr_download"} <= set(spiders)
        yield server
    finally:
        server.stop()


def schedule(
    server: Scrapyd, emu: EmulatorProcess, store: Path, job: str, keywords: str, **extra: str
) -> None:
    settings = {**crawl_settings(emu, store), **extra}
    fields = [("project", PROJECT), ("spider", "flickr"), ("jobid", job), ("keywords", keywords)]
    fields += [("setting", f"{k}={v}") for k, v in settings.items()]
    answer = server.post("schedule.json", fields)
    assert answer == {"node_name": answer["node_name"], "status": "ok", "jobid": job}


def feed_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def jpegs(store: Path) -> set[str]:
    return {p.relative_to(store).as_posix() for p in store.rglob("*.jpg")}


@pytest.fixture(scope="module")
def first_job(scrapyd, emulator, tmp_path_factory) -> tuple[list[dict[str, Any]], Path]:
    store = tmp_path_factory.mktemp("first") / "images"
    schedule(scrapyd, emulator, store, "first", "paris,tokyo")
    scrapyd.wait_finished("first")
    return feed_records(scrapyd.item_file("first")), store


def test_deploy_schedule_and_collect(scrapyd, first_job):
    records, store = first_job
    log = scrapyd.log_file("first").read_text(encoding="utf-8")
    assert "Spider closed (finished)" in log, log[-3000:]
    assert f"flickrspider/{EGG_VERSION}" in log  # the job ran the deployed egg
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) > 100
    assert {r["path"] for r in records} == jpegs(store)
    assert all(r["keyword"] in {"paris", "tokyo"} and r["width"] for r in records)
    finished = scrapyd.get("listjobs.json", project=PROJECT)["finished"]
    assert any(j["id"] == "first" and j["items_url"] for j in finished)
    for text in (log, (scrapyd.home / "scrapyd.out").read_text(errors="replace")):
        assert TEST_KEY not in text


def test_a_killed_job_resumes_under_its_job_id(scrapyd, emulator, first_job, tmp_path):
    store = tmp_path / "images"
    slow = {"CONCURRENT_REQUESTS": "2", "DOWNLOAD_DELAY": "0.05"}
    schedule(scrapyd, emulator, store, "resumable", "paris,tokyo", **slow)
    wait_for(lambda: len(jpegs(store)) >= 10, 120, "the job to store some images", 0.1)
    fields = [("project", PROJECT), ("job", "resumable"), ("signal", "KILL")]
    assert scrapyd.post("cancel.json", fields)["prevstate"] == "running"
    scrapyd.wait_finished("resumable")
    cut = jpegs(store)
    expected = {r["id"] for r in first_job[0]}
    assert 10 <= len(cut) < len(expected)
    # the same job id: the same JOBDIR (jobs_dir/project/spider/job), so the crawl resumes
    schedule(scrapyd, emulator, store, "resumable", "paris,tokyo")
    scrapyd.wait_finished("resumable")
    log = scrapyd.log_file("resumable").read_text(encoding="utf-8")
    assert "Spider closed (finished)" in log, log[-3000:]
    final = [Path(p).name.split("_", 1)[0] for p in jpegs(store)]
    assert len(final) == len(set(final)) and set(final) == expected
    ids = [r["id"] for r in feed_records(scrapyd.item_file("resumable"))]
    assert len(ids) == len(set(ids)) and set(ids) == expected


def test_scrapyd_jobs_as_workers_of_one_distributed_crawl(scrapyd, emulator, first_job, tmp_path):
    store = tmp_path / "images"
    with RedisServer() as redis_server:
        shared = {"FLICKR_REDIS_URL": redis_server.url, "FLICKR_REDIS_LEASES": "1"}
        for job in ("worker-a", "worker-b"):  # Scrapyd's _job differs; the crawl is the same
            schedule(scrapyd, emulator, store, job, "paris,tokyo", **shared)
        for job in ("worker-a", "worker-b"):
            scrapyd.wait_finished(job)
    ids = [
        r["id"] for job in ("worker-a", "worker-b") for r in feed_records(scrapyd.item_file(job))
    ]
    assert len(ids) == len(set(ids)) and set(ids) == {r["id"] for r in first_job[0]}
    for job in ("worker-a", "worker-b"):
        assert "Spider closed (finished)" in scrapyd.log_file(job).read_text(encoding="utf-8")
