"""Small JPEG thumbnails as ``data:`` URIs, for the contact sheets.

JPEG draft mode lets libjpeg decode at 1/2 .. 1/8 scale, so a 1024 px photo costs
a fraction of a full decode. Thumbnails are made in a thread pool (Pillow releases
the GIL while decoding and encoding).
"""

from __future__ import annotations

import base64
import io
import os
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

BOX = (240, 120)  # width, height: a 4:3 photo becomes 160 x 120, a 3:4 one 90 x 120
QUALITY = 70


Thumb = tuple[str, int, int]  # data URI, width, height


def thumbnail(path: Path) -> Thumb | None:
    """A ``data:image/jpeg;base64,...`` thumbnail of the image at ``path``, or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.draft("RGB", (BOX[0] * 2, BOX[1] * 2))
                image.thumbnail(BOX, Image.Resampling.LANCZOS)
                small = image.convert("RGB")
        buffer = io.BytesIO()
        small.save(buffer, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    uri = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return uri, small.width, small.height


def thumbnails(store: Path, relative_paths: Iterable[str]) -> dict[str, Thumb]:
    """Thumbnails by relative path; files that are missing or unreadable are left out."""
    root = store.resolve()
    # A feed's paths are input: only files inside the store are read.
    paths = [p for p in dict.fromkeys(relative_paths) if (root / p).resolve().is_relative_to(root)]
    workers = min(8, os.cpu_count() or 1, max(1, len(paths)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        uris = pool.map(lambda relative: thumbnail(root / relative), paths)
        return {path: uri for path, uri in zip(paths, uris, strict=True) if uri}
