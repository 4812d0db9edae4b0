"""The job journal: what a resumable crawl has asked Flickr, and what it has finished.

One small SQLite file per job, ``JOBDIR/flickrspider.sqlite``, written as the crawl
goes, so that it is right whenever the process dies (SIGKILL included)::

    tasks   key (12 bytes) -> state, priority, task JSON    one row per search request
    took    photo id                                        photos this job sent to the dataset
    meta    runs, finished

A task is a search request's ``cb_kwargs["task"]`` (plain JSON, STYLE 6)::

    add(key, task)      PENDING, before its request leaves the spider
    finish(key)         DONE, once its callback's whole output is handled: child
                        tasks recorded, every item through the pipelines (stored,
                        dropped or exported); its JSON is dropped then

A restart re-issues every PENDING task. Doing a task twice is harmless: child
tasks are known by key, photos by the ledger and the feed. ``took`` tells a
photo this job stored (whose feed record a kill may have cut off) from one an
earlier job stored. Pure and stdlib-only; the Scrapy glue is ``flickrspider.journal``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FILE_NAME = "flickrspider.sqlite"
PENDING, DONE = 0, 1
KEY_BYTES = 12  # 96 bits: no collision among billions of tasks

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    key BLOB PRIMARY KEY,
    state INTEGER NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    task TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS took (id INTEGER PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""
# Fields that make a search request what it is (the rest is planning state).
_IDENTITY = ("kw", "kind", "sort", "start", "end", "page", "hi")


def task_key(task: Mapping[str, Any]) -> bytes:
    """A task's identity. A keyword's first probe is known by its keyword alone, so a
    restart whose "now" (the default ``max_upload_date``) has moved still knows it."""
    if task.get("first"):
        ident: list[Any] = ["first", task.get("kw")]
    else:
        ident = [task.get(name) for name in _IDENTITY]
    text = json.dumps(ident, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=KEY_BYTES).digest()


@dataclass(frozen=True)
class Pending:
    """An unfinished task to issue again."""

    key: bytes
    task: dict[str, Any]
    priority: int


class JobJournal:
    """The journal of one job. ``resumed`` is True when an earlier run of it started."""

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / FILE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # durable against a killed process
        self.db.executescript(_SCHEMA)
        self.runs = int(self._meta("runs", "0")) + 1
        self.was_finished = self._meta("finished", "0") == "1"
        self.resumed = self.runs > 1
        self._set_meta("runs", str(self.runs))
        self._set_meta("finished", "0")

    def close(self) -> None:
        self.db.close()

    # -- tasks -------------------------------------------------------------------
    def add(self, key: bytes, task: Mapping[str, Any], priority: int = 0) -> bool:
        """Record a new task as PENDING; False if the job knows it already (done or not)."""
        text = json.dumps(task, ensure_ascii=False, separators=(",", ":"))
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO tasks (key, state, priority, task) VALUES (?,?,?,?)",
            (key, PENDING, int(priority), text),
        )
        return cursor.rowcount == 1

    def knows(self, key: bytes) -> bool:
        return self.db.execute("SELECT 1 FROM tasks WHERE key=?", (key,)).fetchone() is not None

    def finish(self, key: bytes) -> None:
        """The task's whole output is handled: it is never issued again."""
        self.db.execute("UPDATE tasks SET state=?, task=NULL WHERE key=?", (DONE, key))

    def pending(self) -> Iterator[Pending]:
        """Unfinished tasks (in key order: any order will do)."""
        rows = self.db.execute(
            "SELECT key, task, priority FROM tasks WHERE state=?", (PENDING,)
        ).fetchall()
        for key, text, priority in rows:
            yield Pending(bytes(key), json.loads(text), int(priority))

    def counts(self) -> tuple[int, int]:
        """(pending, done) tasks."""
        rows = dict(self.db.execute("SELECT state, count(*) FROM tasks GROUP BY state").fetchall())
        return int(rows.get(PENDING, 0)), int(rows.get(DONE, 0))

    # -- photos --------------------------------------------------------------------
    def take(self, photo_id: int) -> None:
        """This job is about to store the photo (before the ledger claims a slot)."""
        self.db.execute("INSERT OR IGNORE INTO took (id) VALUES (?)", (int(photo_id),))

    def took(self, photo_id: int) -> bool:
        row = self.db.execute("SELECT 1 FROM took WHERE id=?", (int(photo_id),)).fetchone()
        return row is not None

    # -- the job -------------------------------------------------------------------
    def mark_finished(self) -> None:
        """Every task is done: running the job again has nothing left to do."""
        self._set_meta("finished", "1")

    def _meta(self, name: str, default: str) -> str:
        row = self.db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        return default if row is None else str(row[0])

    def _set_meta(self, name: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta (name, value) VALUES (?,?) "
            "ON CONFLICT(name) DO UPDATE SET value=excluded.value",
            (name, value),
        )
