"""The dataset ledger: which photo ids are stored where, in one small SQLite file.

It lives in ``IMAGES_STORE/.flickrspider/ledger.sqlite`` and makes storage
exactly-once across keywords, runs and crashes:

    claim(id)      -> a row in state PENDING with the keyword's next shard slot
    file written to <path>.part, renamed to <path>
    stored(id)     -> state STORED          (rejected(id, reason) -> REJECTED)

A crash between any two steps leaves a PENDING row; ``reconcile()`` at start
marks it STORED if its file is complete on disk, otherwise keeps its slot for
when the photo comes round again, so shard directories fill in order with no
holes. Rows are compact: an integer id, two small integers and the file name.
"""

from __future__ import annotations

import fcntl
import functools
import sqlite3
import threading
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from flickrspider.feedfile import IdSet
from flickrspider.paths import STATE_DIR, keyword_dir, shard_dir

PENDING, STORED, REJECTED = 0, 1, 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS photos (
    id INTEGER PRIMARY KEY,
    kw INTEGER NOT NULL,
    slot INTEGER,
    state INTEGER NOT NULL,
    name TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS keywords (
    kw INTEGER PRIMARY KEY,
    dir TEXT UNIQUE NOT NULL,
    next_slot INTEGER NOT NULL DEFAULT 0,
    name TEXT
);
"""


_F = TypeVar("_F", bound=Callable[..., Any])


def _locked(method: _F) -> _F:
    """Serialize a Ledger method: the image threads and the reactor share it."""

    @functools.wraps(method)
    def wrapper(self: Ledger, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


@dataclass(frozen=True)
class Claim:
    """Where a claimed photo goes: its shard slot, its path under IMAGES_STORE, and
    the keyword whose directory that is (an earlier, interrupted claim may have put
    the photo under another keyword that found it too)."""

    slot: int
    path: str
    keyword: str


class Ledger:
    def __init__(self, store: str | Path, shard_size: int) -> None:
        self.root = Path(store)
        self.shard_size = shard_size
        state = self.root / STATE_DIR
        state.mkdir(parents=True, exist_ok=True)
        # Written from the image threads (and the reactor): one connection, one lock.
        self.db = sqlite3.connect(
            state / "ledger.sqlite", isolation_level=None, check_same_thread=False
        )
        self.lock = threading.RLock()
        self.db.execute("PRAGMA busy_timeout=30000")  # worker processes may share the dataset
        # One process at a time sets the ledger up: SQLite answers "database is locked" at
        # once, without waiting, to a second process switching a new database to WAL.
        with (state / "ledger.open.lock").open("a+b") as opening:
            fcntl.flock(opening, fcntl.LOCK_EX)  # released when the file closes
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(keywords)")}
            if "name" not in columns:  # a ledger from before keyword names were kept
                self.db.execute("ALTER TABLE keywords ADD COLUMN name TEXT")
        self._kw_ids: dict[str, int] = {}
        # Lookups (the dedup pipeline asks one per photo, on the reactor) read through a
        # connection of their own: WAL lets them run beside a write, not wait for its lock.
        self.reader = sqlite3.connect(
            state / "ledger.sqlite", isolation_level=None, check_same_thread=False
        )
        self.reader.execute("PRAGMA query_only=1")
        self.read_lock = threading.Lock()

    def join_writers(self) -> bool:
        """Register this process as a writer of the dataset; True if it is the only one.

        Every process writing into one IMAGES_STORE (``flickr_download`` shards, say)
        holds a shared lock on ``.flickrspider/writers.lock`` for as long as it runs.
        Only a process that finds no other may clean up after a crash (``reconcile``),
        which it does holding the lock exclusively before sharing it.
        """
        self._writers = (self.root / STATE_DIR / "writers.lock").open("a+b")
        try:
            fcntl.flock(self._writers, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fcntl.flock(self._writers, fcntl.LOCK_SH)
            return False
        return True

    def share_writing(self) -> None:
        """After the clean-up: let other writers in."""
        fcntl.flock(self._writers, fcntl.LOCK_SH)

    def close(self) -> None:  # not @_locked: a signal handler, its signature must stay bare
        with self.lock, self.read_lock:
            self.db.close()
            self.reader.close()
        writers = getattr(self, "_writers", None)
        if writers is not None:
            writers.close()  # releases the writers lock

    # -- queries ---------------------------------------------------------
    def state(self, photo_id: str) -> int | None:
        with self.read_lock:
            row = self.reader.execute(
                "SELECT state FROM photos WHERE id=?", (int(photo_id),)
            ).fetchone()
        return None if row is None else int(row[0])

    def path_of(self, photo_id: str) -> str | None:
        with self.read_lock:
            row = self.reader.execute(
                "SELECT k.dir, p.slot, p.name FROM photos p JOIN keywords k USING (kw) "
                "WHERE p.id=?",
                (int(photo_id),),
            ).fetchone()
        if row is None or row[1] is None or row[2] is None:
            return None
        return f"{row[0]}/{shard_dir(row[1], self.shard_size)}/{row[2]}"

    def settled(self) -> IdSet:
        """The ids stored or rejected for good so far, in 8 bytes each: what the dedup
        pipeline looks up first, so that most photos never cost a query."""
        ids = array("q")
        with self.read_lock:
            for (pid,) in self.reader.execute("SELECT id FROM photos WHERE state!=?", (PENDING,)):
                ids.append(pid)
        return IdSet(ids)

    @_locked
    def count(self, state: int = STORED) -> int:
        return int(
            self.db.execute("SELECT count(*) FROM photos WHERE state=?", (state,)).fetchone()[0]
        )

    # -- transitions -----------------------------------------------------
    @_locked
    def claim(self, photo_id: str, keyword: str, name: str) -> Claim:
        """Reserve a slot for a photo (or return the one it already holds)."""
        pid = int(photo_id)
        with self._transaction():
            row = self.db.execute(
                "SELECT k.dir, p.slot, k.name FROM photos p JOIN keywords k USING (kw) "
                "WHERE p.id=?",
                (pid,),
            ).fetchone()
            if row is not None and row[1] is not None:
                directory, slot, owner = row
                keyword = owner or keyword
                self.db.execute("UPDATE photos SET name=? WHERE id=?", (name, pid))
            else:
                kw = self._keyword_id(keyword)
                directory = keyword_dir(keyword)
                taken = self.db.execute(
                    "UPDATE keywords SET next_slot=next_slot+1 WHERE kw=? RETURNING next_slot-1",
                    (kw,),
                ).fetchone()
                if taken is None:  # how SQLite's RETURNING shows a write that failed
                    raise sqlite3.OperationalError("no shard slot could be taken (disk full?)")
                slot = taken[0]
                self.db.execute(
                    "INSERT OR REPLACE INTO photos (id, kw, slot, state, name) VALUES (?,?,?,?,?)",
                    (pid, kw, slot, PENDING, name),
                )
        return Claim(slot, f"{directory}/{shard_dir(slot, self.shard_size)}/{name}", keyword)

    @_locked
    def mark_stored(self, photo_id: str) -> None:
        self.db.execute("UPDATE photos SET state=? WHERE id=?", (STORED, int(photo_id)))

    @_locked
    def mark_rejected(self, photo_id: str, keyword: str) -> None:
        """A photo that can never be stored (too small, gone): not fetched again.

        Any slot it held is kept for nobody; rejections of claimed photos are rare
        (the size rule is known only after download) and leave a hole of one.
        """
        self.db.execute(
            "INSERT INTO photos (id, kw, slot, state, name) VALUES (?,?,NULL,?,NULL) "
            "ON CONFLICT(id) DO UPDATE SET state=excluded.state",
            (int(photo_id), self._keyword_id(keyword), REJECTED),
        )

    @_locked
    def release(self, photo_id: str) -> None:
        """A transient failure: keep the slot, so a later run stores it in order."""
        self.db.execute("UPDATE photos SET state=? WHERE id=?", (PENDING, int(photo_id)))

    @_locked
    def reconcile(self, is_complete: Callable[[Path], bool]) -> tuple[int, int]:
        """After a crash: settle PENDING rows against the files on disk.

        Returns (marked stored, left pending). Partial ``.part`` files are removed.
        """
        stored = pending = 0
        rows = self.db.execute(
            "SELECT p.id, k.dir, p.slot, p.name FROM photos p JOIN keywords k USING (kw) "
            "WHERE p.state=? AND p.slot IS NOT NULL",
            (PENDING,),
        ).fetchall()
        for pid, directory, slot, name in rows:
            path = self.root / directory / shard_dir(slot, self.shard_size) / name
            path.with_name(path.name + ".part").unlink(missing_ok=True)
            if path.exists() and is_complete(path):
                self.mark_stored(str(pid))
                stored += 1
            else:
                path.unlink(missing_ok=True)
                pending += 1
        return stored, pending

    # -- helpers -----------------------------------------------------------
    def _keyword_id(self, keyword: str) -> int:
        directory = keyword_dir(keyword)
        if directory not in self._kw_ids:
            self.db.execute(
                "INSERT INTO keywords (dir, name) VALUES (?,?) "
                "ON CONFLICT(dir) DO UPDATE SET name=coalesce(name, excluded.name)",
                (directory, keyword),
            )
            row = self.db.execute("SELECT kw FROM keywords WHERE dir=?", (directory,)).fetchone()
            self._kw_ids[directory] = int(row[0])
        return self._kw_ids[directory]

    def _transaction(self) -> _Tx:
        return _Tx(self.db)


class _Tx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
