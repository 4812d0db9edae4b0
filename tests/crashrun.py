"""``scrapy crawl`` with a crash point armed: the process signals itself at an exact step.

    FLICKRSPIDER_CRASH=POINT:N:SIGNAL python -m tests.crashrun crawl flickr -a ... -s ...

Used by ``tests/test_resume.py`` and ``benchmarks/soak.py`` to kill a crawl at a
chosen moment deterministically, instead of sleeping and hoping. POINT is where,
N the how-many-th time it is reached, SIGNAL one of KILL, INT, TERM, or INT2
(SIGINT at the N-th time and again at the next: Scrapy's forced stop):

- ``task_done``      the job journal has just marked the N-th search task done
- ``image_response`` the N-th image response reaches the images pipeline (others in flight)
- ``claimed``        the ledger has just given the N-th photo a shard slot (no file yet)
- ``renamed``        the N-th image file has just been renamed into place (ledger: pending)
- ``stored``         the ledger has just marked the N-th photo stored (feed line not yet written)
- ``exported``       the N-th feed line has just been written (its task not yet counted)

The storing steps (``claimed``, ``renamed``, ``stored``) run in worker processes,
where nothing is armed, so with those points the crawl stores in its own threads
(``FLICKR_IMAGE_PROCESSES=0``); ``image_response`` kills it with workers busy.

Nothing here is imported by the package: production code has no test hooks.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

SIGNALS = {"KILL": signal.SIGKILL, "INT": signal.SIGINT, "TERM": signal.SIGTERM}


class _Trigger:
    def __init__(self, spec: str) -> None:
        point, number, name = spec.split(":")
        self.point, self.at, self.name = point, int(number), name.upper()
        self.count = 0
        self.lock = threading.Lock()
        self.first_handler: object = None

    def hit(self) -> None:
        with self.lock:
            self.count += 1
            count = self.count
        if count == self.at:
            self.first_handler = signal.getsignal(signal.SIGINT)
            sig = signal.SIGINT if self.name == "INT2" else SIGNALS[self.name]
            os.kill(os.getpid(), sig)
        elif self.name == "INT2" and count == self.at + 1:
            self._await_second_stage()
            os.kill(os.getpid(), signal.SIGINT)

    def _await_second_stage(self) -> None:
        """Scrapy forces a stop on a second SIGINT once it has handled the first (it then
        installs another handler); one sent sooner counts as the first again."""
        if threading.current_thread() is threading.main_thread():
            return  # the handler runs on this thread: it has run already
        deadline = time.monotonic() + 10
        while signal.getsignal(signal.SIGINT) == self.first_handler:
            if time.monotonic() > deadline:
                break
            time.sleep(0.001)


def _after(owner: Any, name: str, trigger: _Trigger) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        trigger.hit()
        return result

    setattr(owner, name, wrapper)


def _before_async(owner: Any, name: str, trigger: _Trigger) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(original)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        trigger.hit()
        return await original(*args, **kwargs)

    setattr(owner, name, wrapper)


def arm(spec: str) -> None:
    trigger = _Trigger(spec)
    if trigger.point == "task_done":
        from flickrspider.job import JobJournal

        _after(JobJournal, "finish", trigger)
    elif trigger.point == "image_response":
        from flickrspider.imagespipeline import FlickrImagesPipeline

        _before_async(FlickrImagesPipeline, "media_downloaded", trigger)
    elif trigger.point == "claimed":
        from flickrspider.ledger import Ledger

        _after(Ledger, "claim", trigger)
    elif trigger.point == "renamed":
        from flickrspider import imagework

        _after(imagework, "write_atomic", trigger)
    elif trigger.point == "stored":
        from flickrspider.ledger import Ledger

        _after(Ledger, "mark_stored", trigger)
    elif trigger.point == "exported":
        from flickrspider import jobfeed

        _after(jobfeed._LineWriter, "write", trigger)
    else:
        raise SystemExit(f"unknown crash point {trigger.point!r}")


# Steps of storing an image, which worker processes run: armed here, they must run here.
IN_PROCESS = {"claimed", "renamed", "stored"}


def main() -> None:
    spec = os.environ.get("FLICKRSPIDER_CRASH")
    args = sys.argv[1:]
    if spec:
        arm(spec)
        if spec.split(":")[0] in IN_PROCESS:
            args += ["-s", "FLICKR_IMAGE_PROCESSES=0"]
    from scrapy.cmdline import execute

    execute(["scrapy", *args])


if __name__ == "__main__":
    main()
