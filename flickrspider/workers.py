"""Image work in worker processes: both cores decode, and the reactor keeps the GIL.

Pillow releases the GIL while it decodes, but everything around it (frame
statistics, metadata, Scrapy's own per-response work on the reactor) takes the
GIL, and a reactor thread that shares it with busy image threads waits on it.
So decoding, frame detection, resizing, encoding and splicing run in a few
worker processes, each doing one call at a time over its own pipe:

    pool = WorkerPool(2, preload=("flickrspider.imaging",))
    result = pool.call(fn, *args)   # blocking: from a thread, never the reactor

Each worker is owned by whichever thread has taken it, so when a worker dies
(a segfault in a decoder, the OOM killer) the call it was running is known
exactly: that call raises :class:`WorkerCrashed`, the worker is replaced, and no
other call is disturbed. Workers are started lazily, from a forkserver that has
imported ``preload`` once; they exit when their pipe closes, so a killed crawl
leaves none behind.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import queue
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


class WorkerCrashed(RuntimeError):
    """The worker process running a call died before answering."""


class WorkerError(RuntimeError):
    """A call failed in the worker with an exception that could not be sent back as is."""


def _serve(conn: Connection) -> None:
    """A worker's loop: run each (fn, args) received, send back ("ok"|"raise", value)."""
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
    def __init__(self, context: BaseContext) -> None:
        self.conn, child = context.Pipe()
        self.process: BaseProcess = context.Process(  # type: ignore[attr-defined]
            target=_serve, args=(child,), daemon=True, name="flickrspider-worker"
        )
        self.process.start()
        child.close()

    def call(self, fn: Callable[..., _T], args: tuple[Any, ...]) -> _T:
        try:
            message = ForkingPickler.dumps((fn, args))
        except Exception as exc:  # pickling only: nothing was sent
            raise WorkerError(f"{fn!r} or its arguments cannot be sent: {exc!r}") from exc
        try:
            self.conn.send_bytes(message)
            status, value = self.conn.recv()
        except (EOFError, OSError) as exc:
            self.process.join(5)
            raise WorkerCrashed(
                f"image worker {self.process.pid} died (exit code {self.process.exitcode})"
            ) from exc
        except Exception as exc:  # an answer that cannot be rebuilt here
            raise WorkerError(f"the answer of {fn!r} cannot be read: {exc!r}") from exc
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
    """``processes`` worker processes, handed out one call at a time."""

    def __init__(self, processes: int, preload: Iterable[str] = ()) -> None:
        if processes < 1:
            raise ValueError(f"a worker pool needs at least one process, not {processes}")
        self.processes = processes
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(list(preload))
        self._idle: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        for _ in range(processes):
            self._idle.put(None)  # a slot; its worker starts on first use
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False

    def call(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Run ``fn(*args)`` in a worker and return its result (or raise its exception).

        Blocks until a worker is free: call it from a thread. ``fn`` and the
        arguments travel by pickle, so ``fn`` must be a module-level function.
        """
        worker = self._idle.get()
        try:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            if worker is not None and not worker.process.is_alive():  # died while idle
                self._forget(worker)
                worker = None
            if worker is None:
                worker = self._start()
            return worker.call(fn, args)
        except WorkerCrashed:
            self._forget(worker)
            worker = None  # its slot gets a fresh worker on next use
            raise
        finally:
            self._idle.put(worker)

    def start(self) -> None:
        """Start every worker now rather than at its first call (blocks: from a thread)."""
        taken = [self._idle.get() for _ in range(self.processes)]
        try:
            for n, worker in enumerate(taken):
                if worker is None and not self._closed:
                    taken[n] = self._start()
        finally:
            for worker in taken:
                self._idle.put(worker)

    def close(self) -> None:
        """Stop every worker; call it once no call is in progress."""
        with self._lock:
            self._closed = True
            workers, self._all = self._all, []
        for worker in workers:
            worker.stop()

    def _start(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            worker = _Worker(self.context)
            self._all.append(worker)
        return worker

    def _forget(self, worker: _Worker | None) -> None:
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
        if worker is not None:
            logger.warning("Image worker %s died; starting another", worker.process.pid)
            worker.conn.close()
