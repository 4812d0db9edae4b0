"""Module-level functions for tests/test_workers.py: worker processes import them by name."""

from __future__ import annotations

import os
import signal
import socket
import threading
from typing import NoReturn

from flickrspider.imagerules import ImageRejected


class Unpicklable(Exception):
    """An exception that holds a lock, so it cannot travel back from a worker."""

    def __init__(self) -> None:
        super().__init__("holds a lock")
        self.lock = threading.Lock()


def pid() -> int:
    return os.getpid()


def niceness() -> int:
    return os.nice(0)


def add(a: int, b: int) -> int:
    return a + b


def reject(reason: str, detail: str) -> NoReturn:
    raise ImageRejected(reason, detail)


def fail(message: str) -> NoReturn:
    raise KeyError(message)


def exit_now(code: int) -> NoReturn:
    os._exit(code)


def kill_self() -> NoReturn:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("still alive after SIGKILL")


def lock() -> threading.Lock:
    return threading.Lock()


def raise_unpicklable() -> NoReturn:
    raise Unpicklable()


def check_in(port: int) -> int:
    """Tell the test on loopback ``port`` this worker's pid, wait for its go, return the pid.

    This holds the worker busy for exactly as long as the test wants, without sleeps.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(str(os.getpid()).encode() + b"\n")
        if sock.recv(2) != b"go":
            raise ConnectionError("the test went away")
    return os.getpid()


def check_in_and_exit(port: int, code: int) -> NoReturn:
    """:func:`check_in`, then die with exit status ``code`` instead of answering."""
    check_in(port)
    os._exit(code)


class TwoArgs(Exception):
    """Pickles in the worker but cannot be rebuilt from its args in the caller."""

    def __init__(self, a: str, b: str) -> None:
        super().__init__(f"{a} {b}")


def raise_two_args() -> NoReturn:
    raise TwoArgs("a", "b")
