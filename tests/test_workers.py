"""Worker processes: results, re-raised exceptions, crashes replaced, clean shutdown."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
import types
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from flickrspider.imagerules import ImageRejected
from flickrspider.workers import DEPTH, WorkerCrashed, WorkerError, WorkerPool
from tests import workerfns

PRELOAD = ("flickrspider.imaging",)  # also hands the forkserver our sys.path
TIMEOUT = 20  # seconds any one call may take before the test fails instead of hanging


class Gate:
    """A loopback listener that :func:`workerfns.check_in` calls hold busy until released."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(TIMEOUT)
        self.port = self.server.getsockname()[1]
        self.waiting: list[socket.socket] = []

    def arrival(self) -> int:
        """Wait for the next worker to check in; its pid."""
        conn, _ = self.server.accept()
        conn.settimeout(TIMEOUT)
        self.waiting.append(conn)
        with conn.makefile("rb") as lines:
            return int(lines.readline())

    def release(self) -> None:
        for conn in self.waiting:
            conn.sendall(b"go")
            conn.close()
        self.waiting.clear()

    def close(self) -> None:
        for conn in self.waiting:
            conn.close()
        self.server.close()


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    pool = WorkerPool(2, preload=PRELOAD)
    yield pool
    pool.close()


@pytest.fixture
def gate() -> Iterator[Gate]:
    gate = Gate()
    yield gate
    gate.close()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_results_come_back_from_another_process(pool: WorkerPool) -> None:
    assert pool.call(workerfns.add, 2, 3) == 5
    assert pool.call(workerfns.add, "a", "b") == "ab"
    pid = pool.call(workerfns.pid)
    assert pid != os.getpid()
    assert pool.call(workerfns.pid) == pid  # an idle worker is reused, not restarted


def test_calls_from_many_threads_share_the_workers(pool: WorkerPool) -> None:
    with ThreadPoolExecutor(6) as threads:
        sums = list(threads.map(lambda n: pool.call(workerfns.add, n, n), range(30)))
        pids = set(threads.map(lambda _: pool.call(workerfns.pid), range(12)))
    assert sums == [2 * n for n in range(30)]
    assert 1 <= len(pids) <= 2 and os.getpid() not in pids


def test_one_call_at_a_time_per_worker(pool: WorkerPool, gate: Gate) -> None:
    with ThreadPoolExecutor(2) as threads:
        held = [threads.submit(pool.call, workerfns.check_in, gate.port) for _ in range(2)]
        pids = {gate.arrival(), gate.arrival()}  # both in flight at once: two workers
        gate.release()
        assert {f.result(TIMEOUT) for f in held} == pids
    assert len(pids) == 2 and os.getpid() not in pids


def _wait_for(condition: Callable[[], bool]) -> None:
    for _ in range(TIMEOUT * 50):
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_a_busy_worker_holds_the_next_call_and_each_caller_gets_its_answer(gate: Gate) -> None:
    pool = WorkerPool(1, preload=PRELOAD)
    try:
        with ThreadPoolExecutor(3) as threads:
            held = threads.submit(pool.call, workerfns.check_in, gate.port)
            pid = gate.arrival()
            queued = [threads.submit(pool.call, workerfns.add, n, n) for n in (1, 2)]
            # One call waits in the busy worker's pipe, the other for room (DEPTH is 2).
            _wait_for(lambda: pool._slots[0] is not None and pool._slots[0]._sent == 2)
            assert pool._load == [DEPTH] and not any(f.done() for f in queued)
            gate.release()
            assert held.result(TIMEOUT) == pid
            assert [f.result(TIMEOUT) for f in queued] == [2, 4]
        assert pool.call(workerfns.pid) == pid and pool._load == [0]
    finally:
        pool.close()


def test_a_call_queued_behind_a_crash_runs_on_a_fresh_worker(gate: Gate) -> None:
    pool = WorkerPool(1, preload=PRELOAD)
    try:
        with ThreadPoolExecutor(2) as threads:
            crashing = threads.submit(pool.call, workerfns.check_in_and_exit, gate.port, 7)
            doomed = gate.arrival()
            queued = threads.submit(pool.call, workerfns.pid)
            _wait_for(lambda: pool._slots[0] is not None and pool._slots[0]._sent == 2)
            gate.release()
            with pytest.raises(WorkerCrashed, match=rf"{doomed} died \(exit code 7\)"):
                crashing.result(TIMEOUT)
            fresh = queued.result(TIMEOUT)  # never started where it was sent: run anew
        assert fresh not in (doomed, os.getpid()) and _gone(doomed)
        assert pool.call(workerfns.pid) == fresh
    finally:
        pool.close()


def test_workers_run_at_the_niceness_asked() -> None:
    pool = WorkerPool(1, preload=PRELOAD, niceness=3)
    try:
        assert pool.call(workerfns.niceness) == min(19, os.nice(0) + 3)
    finally:
        pool.close()
    plain = WorkerPool(1, preload=PRELOAD)
    try:
        assert plain.call(workerfns.niceness) == os.nice(0)
    finally:
        plain.close()


def test_exceptions_are_reraised_in_the_caller() -> None:
    pool = WorkerPool(1, preload=PRELOAD)
    try:
        pid = pool.call(workerfns.pid)
        with pytest.raises(KeyError, match="missing"):
            pool.call(workerfns.fail, "missing")
        with pytest.raises(ImageRejected) as info:
            pool.call(workerfns.reject, "too_small", "400x300 is under 500 px")
        err = info.value
        assert (err.reason, err.detail) == ("too_small", "400x300 is under 500 px")
        assert str(err) == "too_small: 400x300 is under 500 px"
        assert pool.call(workerfns.pid) == pid  # an exception does not cost the worker
    finally:
        pool.close()


def test_unpicklable_result_or_exception_is_a_worker_error() -> None:
    pool = WorkerPool(1, preload=PRELOAD)
    try:
        pid = pool.call(workerfns.pid)
        with ThreadPoolExecutor(1) as thread:
            with pytest.raises(WorkerError, match="lock"):
                thread.submit(pool.call, workerfns.lock).result(TIMEOUT)
            with pytest.raises(WorkerError, match="lock"):
                thread.submit(pool.call, workerfns.raise_unpicklable).result(TIMEOUT)
        assert pool.call(workerfns.pid) == pid
    finally:
        pool.close()


@pytest.mark.parametrize(
    ("crash", "args", "exit_code"),
    [(workerfns.exit_now, (3,), 3), (workerfns.kill_self, (), -9)],
    ids=["exit", "sigkill"],
)
def test_crash_fails_only_its_call_and_worker_is_replaced(
    pool: WorkerPool, gate: Gate, crash: object, args: tuple[int, ...], exit_code: int
) -> None:
    with ThreadPoolExecutor(1) as thread:
        # One worker is held busy by another thread through the whole crash.
        held = thread.submit(pool.call, workerfns.check_in, gate.port)
        busy = gate.arrival()
        doomed = pool.call(workerfns.pid)  # the only free worker: the one that will crash
        assert doomed != busy
        with pytest.raises(WorkerCrashed, match=rf"{doomed} died \(exit code {exit_code}\)"):
            pool.call(crash, *args)  # type: ignore[arg-type]
        assert _gone(doomed)
        fresh = pool.call(workerfns.pid)
        assert fresh not in (doomed, busy)
        gate.release()
        assert held.result(TIMEOUT) == busy  # the other thread's call never noticed
    # Both slots work afterwards, concurrently.
    with ThreadPoolExecutor(2) as threads:
        calls = [threads.submit(pool.call, workerfns.check_in, gate.port) for _ in range(2)]
        assert {gate.arrival(), gate.arrival()} == {busy, fresh}
        gate.release()
        assert {f.result(TIMEOUT) for f in calls} == {busy, fresh}


def test_close_leaves_no_worker_alive(gate: Gate) -> None:
    pool = WorkerPool(3, preload=PRELOAD)
    with ThreadPoolExecutor(3) as threads:
        calls = [threads.submit(pool.call, workerfns.check_in, gate.port) for _ in range(3)]
        pids = {gate.arrival() for _ in range(3)}
        gate.release()
        assert {f.result(TIMEOUT) for f in calls} == pids
    assert len(pids) == 3 and not any(_gone(pid) for pid in pids)
    pool.close()
    assert all(_gone(pid) for pid in pids)


def test_close_of_an_unused_pool_starts_nothing() -> None:
    WorkerPool(4, preload=PRELOAD).close()


@pytest.mark.parametrize("processes", [0, -1])
def test_pool_needs_a_process(processes: int) -> None:
    with pytest.raises(ValueError, match=str(processes)):
        WorkerPool(processes)


def test_an_answer_the_caller_cannot_rebuild_is_a_worker_error(pool: WorkerPool) -> None:
    with pytest.raises(WorkerError, match="raise_two_args"):
        pool.call(workerfns.raise_two_args)
    assert pool.call(workerfns.add, 1, 2) == 3


def test_a_function_the_worker_cannot_import_is_a_worker_error(pool: WorkerPool) -> None:
    # a module that exists in this process only: it pickles here, and fails to load there
    module = types.ModuleType("flickrspider_test_parent_only")
    exec("def fn():\n    return 1\n", module.__dict__)
    sys.modules[module.__name__] = module
    try:
        first = pool.call(workerfns.pid)
        with pytest.raises(WorkerError, match="flickrspider_test_parent_only"):
            pool.call(module.fn)
        assert pool.call(workerfns.pid) == first  # the same worker, still alive
    finally:
        del sys.modules[module.__name__]


def test_a_function_that_cannot_be_pickled_is_a_worker_error(pool: WorkerPool) -> None:
    with pytest.raises(WorkerError, match="cannot be sent"):
        pool.call(lambda: 1)
    assert pool.call(workerfns.add, 2, 2) == 4


def test_a_worker_that_died_idle_is_replaced_quietly() -> None:
    pool = WorkerPool(1, preload=PRELOAD)
    try:
        first = pool.call(workerfns.pid)
        os.kill(first, signal.SIGKILL)
        for _ in range(100):
            if _gone(first) or _zombie(first):
                break
            time.sleep(0.02)
        assert pool.call(workerfns.pid) not in {first, None}
    finally:
        pool.close()


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_calls_after_close_are_refused(pool: WorkerPool) -> None:
    pool.call(workerfns.pid)
    pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        pool.call(workerfns.pid)


def test_start_brings_every_worker_up_before_any_call() -> None:
    pool = WorkerPool(2, preload=PRELOAD)
    try:
        pool.start()
        pids = {w.process.pid for w in pool._all}
        assert len(pids) == 2 and not any(_gone(pid) for pid in pids)
        with ThreadPoolExecutor(2) as threads:
            seen = set(threads.map(lambda _: pool.call(workerfns.pid), range(20)))
        assert seen <= pids  # the calls ran on the workers already started
    finally:
        pool.close()
