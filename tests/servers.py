"""Loopback servers for tests and benchmarks: a real ``redis-server``, and free ports.

No fixed ports, no sleeps as synchronisation: a port is picked by binding to port
0, and readiness is polled with a deadline (a server that dies because someone
took the port meanwhile is started again on another one).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import redis

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], deadline: float, what: str, step: float = 0.05) -> None:
    """Poll ``check`` until it is true; fail after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while not check():
        if time.monotonic() > end:
            raise TimeoutError(f"gave up waiting for {what} after {deadline:.0f} s")
        time.sleep(step)


class RedisServer:
    """``with RedisServer() as r: r.url, r.client()`` — a throwaway redis-server on loopback."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self._dir = tempfile.TemporaryDirectory(prefix="flickrspider-redis-")

    def start(self) -> RedisServer:
        for _ in range(5):
            port = free_port()
            command = [
                REDIS_SERVER,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._dir.name,
                "--logfile",
                str(Path(self._dir.name, "redis.log")),
            ]
            self.proc = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            self.url = f"redis://127.0.0.1:{port}/0"
            if self._ready():
                return self
            self.stop()
        raise RuntimeError(f"redis-server did not start; see {self._dir.name}/redis.log")

    def _ready(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        end = time.monotonic() + 20
        while time.monotonic() < end:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                time.sleep(0.02)
        return False

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self._dir.cleanup()
