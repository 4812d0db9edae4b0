"""What one worker still owes on each request it leased from the shared queue.

A leased search request is finished only when its callback has returned, every
request it yielded is in the shared queue and every photo it yielded has left
the item pipelines (stored, dropped or failed): only then may the lease end,
because only then would a crash of this worker lose nothing. ``LeaseTracker``
counts those loose ends per delivery and calls ``ack`` when none is left.

    leased(token, delivery, fingerprint)   the scheduler handed the request out
    started(delivery)                      its callback runs
    produced(delivery, obj)                the callback yielded an item or request
    done(obj)                              that item left the pipelines / request was queued
    callback_returned(delivery)            the callback's output is exhausted
    handed_off(delivery)                   a retry carries the work on under the same token

Pure Python; no Scrapy, no Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Work:
    token: str
    fingerprint: str
    pending: int = 0
    started: bool = False


class LeaseTracker:
    def __init__(self, ack: Callable[[str, str], object]) -> None:
        self._ack = ack
        self._open: dict[str, _Work] = {}
        self._children: dict[int, tuple[object, str]] = {}  # id(obj) -> (obj, delivery)

    def __len__(self) -> int:
        return len(self._open)

    def leased(self, token: str, delivery: str, fingerprint: str) -> None:
        self._open[delivery] = _Work(token, fingerprint)

    def holds(self, delivery: str | None, fingerprint: str) -> bool:
        """True if this worker holds ``delivery`` and it was for the same request."""
        work = self._open.get(delivery or "")
        return work is not None and work.fingerprint == fingerprint

    def started(self, delivery: str) -> bool:
        work = self._open.get(delivery)
        if work is None:
            return False
        work.started = True
        work.pending += 1  # the callback itself, until its output is exhausted
        return True

    def produced(self, delivery: str, obj: object) -> None:
        work = self._open.get(delivery)
        if work is not None:
            work.pending += 1
            self._children[id(obj)] = (obj, delivery)

    def owner_of(self, obj: object) -> tuple[str, str] | None:
        """(token, delivery) of the leased request that yielded ``obj``."""
        entry = self._children.get(id(obj))
        if entry is None or entry[0] is not obj:
            return None
        work = self._open.get(entry[1])
        return None if work is None else (work.token, entry[1])

    def parent_of(self, obj: object) -> str | None:
        entry = self._children.get(id(obj))
        return entry[1] if entry is not None and entry[0] is obj else None

    def done(self, obj: object) -> None:
        entry = self._children.get(id(obj))
        if entry is None or entry[0] is not obj:
            return
        del self._children[id(obj)]
        self._release(entry[1])

    def callback_returned(self, delivery: str) -> None:
        self._release(delivery)

    def handed_off(self, delivery: str) -> None:
        self._open.pop(delivery, None)

    def clear(self) -> None:
        self._open.clear()
        self._children.clear()

    def _release(self, delivery: str) -> None:
        work = self._open.get(delivery)
        if work is None:
            return
        work.pending -= 1
        if work.started and work.pending <= 0:
            del self._open[delivery]
            self._ack(work.token, delivery)
