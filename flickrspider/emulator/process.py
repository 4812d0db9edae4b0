"""``EmulatorProcess``: the emulator CLI as a subprocess, for tests, the demo and benchmarks.

    with EmulatorProcess("--photos", "500", config={"faults": {"api_500": 0.1}}) as emu:
        emu.url, emu.api_url, emu.stats(), emu.reset(), emu.truth(text="paris"),
        emu.photo(photo_id), emu.configure(api_500=0)

Started with ``sys.executable -m flickrspider.emulator --port 0``; the base URL is
the first line it prints (read with a timeout). Control calls go over urllib to
loopback only.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class EmulatorError(RuntimeError):
    """The emulator did not start, or a control call failed."""


class EmulatorProcess:
    """A running ``python -m flickrspider.emulator``; use as a context manager."""

    def __init__(
        self,
        *args: str,
        config: Mapping[str, Any] | None = None,
        timeout: float = 120.0,
        stderr: int | IO[Any] | None = None,
    ) -> None:
        self.args = [str(a) for a in args]
        self.config = dict(config) if config is not None else None
        self.timeout = timeout
        self.stderr = stderr
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None
        self._config_file: Path | None = None
        self._reader: threading.Thread | None = None
        self.returncode: int | None = None

    @property
    def api_url(self) -> str:
        return self.url + "services/rest/"

    def start(self) -> EmulatorProcess:
        """Start the emulator and wait for its URL line."""
        command = [sys.executable, "-m", "flickrspider.emulator"]
        if "--port" not in self.args:
            command += ["--port", "0"]
        if self.config is not None:
            fd, name = tempfile.mkstemp(prefix="flickr-emulator-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self.config, out)
            self._config_file = Path(name)
            command += ["--config", name]
        command += self.args
        root = str(Path(__file__).resolve().parents[2])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
        }
        self.proc = subprocess.Popen(  # noqa: S603 - our own module, no shell
            command,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        lines: queue.Queue[str] = queue.Queue()
        assert self.proc.stdout is not None
        self._reader = threading.Thread(target=_pump, args=(self.proc.stdout, lines), daemon=True)
        self._reader.start()
        try:
            line = lines.get(timeout=self.timeout)
        except queue.Empty:
            self.stop()
            raise EmulatorError(f"the emulator printed no URL within {self.timeout:g}s") from None
        if not line.startswith("http://"):
            code = self.proc.wait(timeout=10)
            self.stop()
            raise EmulatorError(f"the emulator failed to start (exit {code}); see its stderr")
        self.url = line.strip()
        return self

    def stop(self) -> None:
        """Terminate the emulator and wait for it to exit."""
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=15)
            self.returncode = proc.returncode
            if self._reader is not None:
                self._reader.join(timeout=15)  # the pipe is at EOF once the process is gone
                self._reader = None
            if proc.stdout is not None:
                proc.stdout.close()
        if self._config_file is not None:
            self._config_file.unlink(missing_ok=True)
            self._config_file = None

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- control calls ------------------------------------------------------------------

    def _call(self, path: str, data: Mapping[str, Any] | None = None, method: str = "GET") -> Any:
        url = self.url + path
        host = urllib.parse.urlsplit(url).hostname
        if host not in LOOPBACK:
            raise EmulatorError(f"control calls go to loopback only, not {host!r}")
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(  # noqa: S310 - loopback http only
            url,
            data=body,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
                return json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            raise EmulatorError(
                f"{method} /{path}: HTTP {exc.code}: {exc.read().decode(errors='replace')}"
            ) from exc

    def stats(self) -> dict[str, Any]:
        """The counters: api_calls, api_calls_by_method, image_requests, faults, ..."""
        return self._call("_emulator/stats")

    def reset(self) -> None:
        """Zero the counters (and fault attempt counts and rate-limit windows)."""
        self._call("_emulator/reset", {}, "POST")

    def truth(self, **params: Any) -> list[str]:
        """Every photo id matching these flickr.photos.search arguments, uncapped."""
        query = urllib.parse.urlencode({k: str(v) for k, v in params.items()})
        return list(self._call(f"_emulator/truth?{query}")["ids"])

    def photo(self, photo_id: str | int) -> dict[str, Any]:
        """The full ground-truth record of one photo (including ``frame``)."""
        return self._call(f"_emulator/photo/{photo_id}")

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Merge fault/quirk settings into the running emulator; returns all settings."""
        return self._call("_emulator/config", settings, "POST")["faults"]


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    """Read the emulator's stdout: hand on the first line, drain the rest."""
    first = True
    try:
        for line in stream:
            if first:
                lines.put(line)
                first = False
    except (OSError, ValueError):  # the pipe was closed under us
        pass
    if first:
        lines.put("")  # exited before printing anything
