"""Image work in worker processes: both cores decode, and the reactor keeps the GIL.

Pillow releases the GIL while it decodes, but everything around it (frame
statistics, metadata, Scrapy's own per-response work on the reactor) takes the
GIL, and a reactor thread that shares it with busy image threads waits on it.
So decoding, frame detection, resizing, encoding and splicing run in a few
worker processes, each running one call at a time from its own pipe:

    pool = WorkerPool(2, preload=("flickrspider.imaging",))
    result = pool.call(fn, *args)   # blocking: from a thread, never the reactor

A worker holds up to :data:`DEPTH` calls: the one it runs and the next, already
in its pipe, so that it starts that one the moment it answers instead of idling
until a thread of the crawl's process gets the GIL to send it (measured: a
worker waited a quarter of the crawl that way). A call goes to the least busy
worker. Calls are answered in the order sent, so when a worker dies (a segfault
in a decoder, the OOM killer) the call it was running is known exactly: that
call raises :class:`WorkerCrashed` and the worker is replaced, while the call
queued behind it, never started, runs on another worker as if nothing happened.
Workers are started lazily, from a forkserver that has imported ``preload``
once; they exit when their pipe closes, so a killed crawl leaves none behind.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import traceback
from collections.abc import Callable, Iterable
from multiprocessing.reduction import ForkingPickler
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.context import BaseContext
    from multiprocessing.process import BaseProcess

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
STOP = None  # sent to a worker: exit
DEPTH = 2  # calls a worker holds at once: the one it runs, and the next in its pipe


class WorkerCrashed(RuntimeError):
    """The worker process running a call died before answering."""


class WorkerError(RuntimeError):
    """A call failed in the worker with an exception that could not be sent back as is."""


class _NotRun(Exception):
    """The worker died before it started the call: it may run on another."""


def _serve(conn: Connection, niceness: int) -> None:
    """A worker's loop: run each (fn, args) received, send back ("ok"|"raise", value)."""
    if niceness:
        os.nice(niceness)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the crawl is gone
            return
        except Exception:  # a function or argument this process cannot import
            conn.send(("raise", WorkerError(traceback.format_exc(limit=5))))
            continue
        if message is STOP:
            return
        fn, args = message
        try:
            answer: tuple[str, Any] = ("ok", fn(*args))
        except Exception as exc:
            answer = ("raise", exc)
        try:
            conn.send(answer)
        except (EOFError, OSError):
            return
        except Exception:
            conn.send(("raise", WorkerError(traceback.format_exc(limit=5))))


class _Worker:
    def __init__(self, context: BaseContext, niceness: int) -> None:
        self.conn, child = context.Pipe()
        self.process: BaseProcess = context.Process(  # type: ignore[attr-defined]
            target=_serve, args=(child, niceness), daemon=True, name="flickrspider-worker"
        )
        self.process.start()
        child.close()
        self._sending = threading.Lock()
        self._turn = threading.Condition()
        self._sent = 0  # tickets: calls sent, in order
        self._answered = 0  # the ticket whose answer is read next
        self._died_at: int | None = None  # the ticket that was running when it died

    def call(self, message: bytes | memoryview, fn: Callable[..., _T]) -> _T:
        """Send ``message`` (``(fn, args)`` pickled), wait for its answer in turn and
        return it (or raise the call's exception, :class:`WorkerCrashed` or :class:`_NotRun`)."""
        with self._sending:
            ticket = self._sent
            self._sent += 1
            try:
                self.conn.send_bytes(message)  # blocks while the pipe holds the call before
            except (EOFError, OSError):
                sent = False
            else:
                sent = True
        with self._turn:
            while self._answered != ticket:
                self._turn.wait()
        try:
            if self._died_at is not None:  # it died running an earlier call: never started
                raise _NotRun
            try:
                if not sent:
                    raise EOFError("the worker's pipe is closed")
                status, value = self.conn.recv()
            except (EOFError, OSError) as exc:
                # This call was the worker's next: it counts as the one it died running,
                # so a worker that dies at once fails its call instead of being restarted
                # for it again and again.
                self._died_at = ticket
                self.process.join(5)
                raise WorkerCrashed(
                    f"image worker {self.process.pid} died (exit code {self.process.exitcode})"
                ) from exc
            except Exception as exc:  # an answer that cannot be rebuilt here
                raise WorkerError(f"the answer of {fn!r} cannot be read: {exc!r}") from exc
        finally:
            with self._turn:
                self._answered += 1
                self._turn.notify_all()
        if status == "raise":
            raise value
        return value

    def stop(self) -> None:
        with contextlib.suppress(EOFError, OSError):
            self.conn.send(STOP)
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()


class WorkerPool:
    """``processes`` worker processes, each holding up to :data:`DEPTH` calls.

    ``niceness`` is added to the workers' (see ``nice(2)``): work that waits on the
    crawl's process for its input should not take the CPU that process needs to feed it.
    """

    def __init__(self, processes: int, preload: Iterable[str] = (), niceness: int = 0) -> None:
        if processes < 1:
            raise ValueError(f"a worker pool needs at least one process, not {processes}")
        self.processes = processes
        self.niceness = niceness
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(list(preload))
        # A slot per process: its worker (started on first use) and the calls it holds.
        self._slots: list[_Worker | None] = [None] * processes
        self._load = [0] * processes
        self._starting = [threading.Lock() for _ in range(processes)]
        self._room = threading.Condition()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False

    def call(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Run ``fn(*args)`` in a worker and return its result (or raise its exception).

        Blocks until the call is answered: call it from a thread. ``fn`` and the
        arguments travel by pickle, so ``fn`` must be a module-level function.
        """
        try:
            message = ForkingPickler.dumps((fn, args))
        except Exception as exc:  # pickling only: nothing was sent
            raise WorkerError(f"{fn!r} or its arguments cannot be sent: {exc!r}") from exc
        while True:
            n = self._take()
            worker = None
            try:
                worker = self._worker(n)
                return worker.call(message, fn)
            except _NotRun:  # queued behind a call its worker died running: run it anew
                continue
            except WorkerCrashed:
                self._forget(n, worker)
                raise
            finally:
                with self._room:
                    self._load[n] -= 1
                    self._room.notify()

    def start(self) -> None:
        """Start every worker now rather than at its first call (blocks: from a thread)."""
        for n in range(self.processes):
            with self._starting[n]:
                if self._slots[n] is None and not self._closed:
                    self._slots[n] = self._start()

    def close(self) -> None:
        """Stop every worker; call it once no call is in progress."""
        with self._room:
            self._closed = True
            self._room.notify_all()
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.stop()

    def _take(self) -> int:
        """A slot with room for one more call, the least busy (an idle one first)."""
        with self._room:
            while True:
                if self._closed:
                    raise RuntimeError("the worker pool is closed")
                n = min(range(self.processes), key=lambda i: (self._load[i], i))
                if self._load[n] < DEPTH:
                    self._load[n] += 1
                    return n
                self._room.wait()

    def _worker(self, n: int) -> _Worker:
        """Slot ``n``'s worker, started now if it has none or if its worker died idle."""
        with self._starting[n]:
            worker = self._slots[n]
            if worker is not None and not worker.process.is_alive():
                self._forget(n, worker)  # a call it was running (if any) will say so too
                worker = None
            if worker is None:
                worker = self._slots[n] = self._start()
            return worker

    def _start(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            worker = _Worker(self.context, self.niceness)
            self._all.append(worker)
        return worker

    def _forget(self, n: int, worker: _Worker | None) -> None:
        """Drop a dead worker (once, whoever notices first); its slot gets a fresh one."""
        with self._lock:
            if worker is None or worker not in self._all:
                return
            self._all.remove(worker)
            if self._slots[n] is worker:
                self._slots[n] = None
        logger.warning("Image worker %s died; starting another", worker.process.pid)
        worker.conn.close()
