"""Lazily rendered images: an in-memory LRU, an optional disk cache, a thread pool.

Rendering (images.py) costs milliseconds to a second per image, so it runs in
worker threads and never on the event loop; concurrent requests for one image
share a single render.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flickrspider.emulator import images
from flickrspider.emulator.corpus import Corpus
from flickrspider.emulator.records import FORMATS, render_seed


def _images_version() -> str:
    """A digest of the renderer's source: a changed renderer never reads stale files."""
    return hashlib.sha1(Path(images.__file__).read_bytes(), usedforsecurity=False).hexdigest()[:12]


class ImageStore:
    """Bytes of ``(row, suffix)`` images, rendered once and cached."""

    def __init__(
        self, corpus: Corpus, max_mb: int, cache_dir: str | None, workers: int | None = None
    ) -> None:
        self.corpus = corpus
        self.max_bytes = max_mb * 1024 * 1024
        self.held = 0
        self.cache_dir = Path(cache_dir) / _images_version() if cache_dir else None
        if self.cache_dir:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.pool = ThreadPoolExecutor(
            max_workers=workers or min(8, os.cpu_count() or 2), thread_name_prefix="emulator-render"
        )
        self.memory: OrderedDict[tuple[int, str], bytes] = OrderedDict()
        self.pending: dict[tuple[int, str], asyncio.Future[bytes]] = {}

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def get(self, row: int, suffix: str) -> bytes:
        """The image, from memory, disk or a fresh render (in a worker thread)."""
        key = (row, suffix)
        if key in self.memory:
            self.memory.move_to_end(key)
            return self.memory[key]
        if key not in self.pending:
            loop = asyncio.get_running_loop()
            self.pending[key] = asyncio.ensure_future(
                loop.run_in_executor(self.pool, self._produce, row, suffix)
            )
        try:
            data = await asyncio.shield(self.pending[key])
        finally:
            if key in self.pending and self.pending[key].done():
                del self.pending[key]
        if len(data) <= self.max_bytes and key not in self.memory:
            self.memory[key] = data
            self.held += len(data)
            while self.held > self.max_bytes:
                self.held -= len(self.memory.popitem(last=False)[1])
        return data

    def _disk_path(self, row: int, suffix: str) -> Path | None:
        if self.cache_dir is None:
            return None
        t = self.corpus.table
        ext = FORMATS[t.fmt[row]] if suffix == "o" else "jpg"
        name = (
            f"{render_seed(t, row):016x}_{t.width[row]}x{t.height[row]}_{int(t.framed[row])}"
            f"_{suffix or 'medium'}.{ext}"
        )
        return self.cache_dir / name[:2] / name

    def _produce(self, row: int, suffix: str) -> bytes:
        path = self._disk_path(row, suffix)
        if path is not None and path.exists():
            return path.read_bytes()
        data = self.corpus.render(str(self.corpus.table.ids[row]), suffix)
        if path is not None:  # complete files only: write aside, then rename
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        return data
