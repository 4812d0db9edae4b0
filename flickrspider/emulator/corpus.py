"""The in-process corpus: searches shaped like Flickr's, ground truth, records, images.

``Corpus(config)`` builds the photo table and its indexes (about a second per
million photos) and answers ``flickr.photos.search`` exactly as the server does,
without HTTP. Flickr's paging quirks live here:

- Only the first ``cap`` (4,000) results of a query, in the requested sort order,
  are reachable. A page past them repeats the last reachable page, and so does a
  page past the last one: "the Flickr API will return at most the first 4,000
  results" (flickr.photos.search reference); "for higher page numbers all
  returned search results were the same, i.e. page 102 was the same as page 103,
  104" (mikf/gallery-dl#116); "the same ~4,500 items over and over"
  (cc-archive/cccatalog#326); reading past the end of the list
  (smeredith/wdc-flickr-proxy#21). ``page`` echoes the page asked for.
- ``total`` may be approximate (runtime ``total_error``, deterministic per query,
  only for totals >= ``total_error_min``): "the displayed number of search
  results is always a bit higher than what is actually returned"
  (mikf/gallery-dl#116). ``pages`` follows the reported total.
"""

from __future__ import annotations

import io
import math
import random
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from PIL import Image

from flickrspider.emulator import images
from flickrspider.emulator.answer import fail, mix_types
from flickrspider.emulator.config import EmulatorConfig
from flickrspider.emulator.generate import build_table
from flickrspider.emulator.index import build_index
from flickrspider.emulator.query import ApiError, Query, parse_query
from flickrspider.emulator.records import (
    FORMATS,
    SIZES,
    geo_fields,
    image_path,
    mysql_datetime,
    photo_element,
    render_seed,
    secret,
    size_dims,
    texts,
)
from flickrspider.emulator.search import Ranks, match, order

OFFHOST = "127.0.0.2"  # loopback, but nothing listens there
_RESULT_CACHE = 64


class Corpus:
    """A deterministic synthetic Flickr: ``search``, ``truth``, ``record``, ``render``."""

    def __init__(
        self,
        config: EmulatorConfig | Mapping[str, Any] | None = None,
        base_url: str = "http://127.0.0.1/",
    ) -> None:
        self.config = (
            config if isinstance(config, EmulatorConfig) else EmulatorConfig.from_dict(config or {})
        )
        self.runtime = self.config.runtime
        self.table = build_table(self.config)
        self.index = build_index(self.table)
        self.ranks = Ranks.build(self.table)
        self.base_url = base_url
        self._results: OrderedDict[tuple[str, str], tuple[np.ndarray, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.table)

    @property
    def offhost_url(self) -> str:
        """The base URL of permanent off-host faults: same port, host 127.0.0.2."""
        parts = urlsplit(self.base_url)
        netloc = OFFHOST + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    def row(self, photo_id: str | int) -> int:
        """The row of a photo id; KeyError when there is none."""
        try:
            pid = int(photo_id)
        except (TypeError, ValueError):
            raise KeyError(photo_id) from None
        row = int(np.searchsorted(self.table.ids, pid))
        if row >= len(self.table) or int(self.table.ids[row]) != pid:
            raise KeyError(photo_id)
        return row

    # -- search ------------------------------------------------------------------------

    def search(self, params: Mapping[str, str]) -> dict[str, Any]:
        """The ``flickr.photos.search`` answer (a ``stat`` ok or fail dict) for ``params``."""
        try:
            return self.search_query(parse_query(params))
        except ApiError as exc:
            return fail(exc.code, exc.message)

    def search_query(self, q: Query) -> dict[str, Any]:
        """The answer to an already parsed query: one page of the reachable results."""
        reachable, true_total = self._results_for(q)
        total = self.reported_total(q, true_total)
        last_page = max(1, math.ceil(len(reachable) / q.per_page))
        page = min(q.page, last_page)  # past the cap or the end: the last reachable page again
        rows = reachable[(page - 1) * q.per_page : page * q.per_page]
        offhost = self.offhost_url
        photos = [
            photo_element(
                self.table,
                int(r),
                q.extras,
                self.index.fillers,
                base_url=self.base_url,
                offhost_url=offhost if self.is_offhost(int(r)) else None,
            )
            for r in rows
        ]
        answer = {
            "photos": {
                "page": q.page,
                "pages": math.ceil(total / q.per_page),
                "perpage": q.per_page,
                "total": total,
                "photo": photos,
            },
            "stat": "ok",
        }
        mix_types(answer, self.runtime.mixed_types, self.config.seed)
        return answer

    def _results_for(self, q: Query) -> tuple[np.ndarray, int]:
        """(the reachable rows in sort order, the true total), cached per query and sort."""
        key = (q.key(), q.sort)
        if key not in self._results:
            rows = match(self.table, self.index, q, self.config.end)
            self._results[key] = (order(self.ranks, rows, q.sort, self.config.cap), len(rows))
            while len(self._results) > _RESULT_CACHE:
                self._results.popitem(last=False)
        self._results.move_to_end(key)
        return self._results[key]

    def reported_total(self, q: Query, true_total: int) -> int:
        """The ``total`` Flickr would report: exact, or off by up to ``total_error`` (per query)."""
        error = self.runtime.total_error
        if error <= 0 or true_total < self.runtime.total_error_min:
            return true_total
        u = zlib.crc32(f"{self.config.seed}|{q.key()}".encode()) / 2**32
        return max(0, round(true_total * (1 + (2 * u - 1) * error)))

    def truth(self, params: Mapping[str, str]) -> list[str]:
        """Every matching id in upload order: no cap, no paging (ApiError as Flickr would fail)."""
        rows = match(self.table, self.index, parse_query(params), self.config.end)
        return [str(i) for i in self.table.ids[rows]]

    # -- photos ------------------------------------------------------------------------

    def _fault(self, kind: str, row: int, rate: float) -> bool:
        return (
            rate > 0
            and zlib.crc32(f"{self.config.seed}|{kind}|{self.table.ids[row]}".encode()) / 2**32
            < rate
        )

    def is_missing(self, row: int) -> bool:
        """Permanent fault: every image of this photo answers 404."""
        return self._fault("img_missing", row, self.runtime.img_missing)

    def is_offhost(self, row: int) -> bool:
        """Permanent fault: this photo's url_l and url_o point to a host that does not answer."""
        return self._fault("img_offhost", row, self.runtime.img_offhost)

    def frame(self, row: int) -> images.FrameSpec | None:
        if not self.table.framed[row]:
            return None
        rng = random.Random(render_seed(self.table, row) ^ 0x5F3A9)
        return images.random_frame(rng, int(self.table.width[row]), int(self.table.height[row]))

    def record(self, photo_id: str | int) -> dict[str, Any]:
        """Ground truth for one photo: metadata, frame, sizes, URLs and permanent faults."""
        row = self.row(photo_id)
        t = self.table
        title, description, tags = texts(t, row, self.index.fillers)
        nsid, name = t.owner(row)
        frame = self.frame(row)
        geo = geo_fields(t, row)
        every = {
            s: size_dims(t, row, s)
            for s in ("s", "q", "t", "m", "n", "w", "", "z", "c", "b", "h", "k", "o")
        }
        sizes = {s: d for s, d in every.items() if d is not None}
        return {
            "id": str(t.ids[row]),
            "owner": nsid,
            "ownername": name,
            "secret": secret(t, row),
            "server": str(t.server[row]),
            "farm": int(t.farm[row]),
            "title": title,
            "description": description,
            "tags": " ".join(tags),
            "license": int(t.license[row]),
            "latitude": float(geo["latitude"]),
            "longitude": float(geo["longitude"]),
            "accuracy": int(geo["accuracy"]),
            "geotagged": bool(t.accuracy[row] > 0),
            "datetaken": mysql_datetime(int(t.taken[row])),
            "dateupload": int(t.upload[row]),
            "views": int(t.views[row]),
            "originalsecret": secret(t, row, "o"),
            "originalformat": FORMATS[t.fmt[row]],
            "o_width": int(t.width[row]),
            "o_height": int(t.height[row]),
            "media": "video" if t.video[row] else "photo",
            "keywords": [t.keywords[k] for k in (t.kw[row], t.kw2[row]) if k >= 0],
            "frame": frame.as_list() if frame else None,
            "frame_layers": [[w, list(rgb)] for w, rgb in frame.layers] if frame else None,
            "sizes": {(s or "-"): list(d) for s, d in sizes.items()},
            "urls": {(s or "-"): self.base_url + image_path(t, row, s) for s in sizes},
            "faults": {"img_missing": self.is_missing(row), "img_offhost": self.is_offhost(row)},
            "render_seed": render_seed(t, row),
        }

    def locate(self, server: str, filename: str) -> tuple[int, str]:
        """(row, suffix) of an image-host file name; KeyError when no such image URL exists."""
        stem, _, ext = filename.rpartition(".")
        pid, _, rest = stem.partition("_")
        got_secret, _, suffix = rest.partition("_")
        row = self.row(pid)
        if suffix not in {s for s, _ in SIZES.values()} or str(self.table.server[row]) != server:
            raise KeyError(filename)
        want_ext = FORMATS[self.table.fmt[row]] if suffix == "o" else "jpg"
        if got_secret != secret(self.table, row, suffix) or ext != want_ext:
            raise KeyError(filename)
        return row, suffix

    def render(self, photo_id: str | int, suffix: str) -> bytes:
        """The image bytes of one size (suffix letter, "" for 500 px); LookupError if none."""
        row = self.row(photo_id)
        dims = size_dims(self.table, row, suffix)
        if dims is None:
            raise LookupError(f"photo {photo_id} has no size {suffix!r}")
        ow, oh = int(self.table.width[row]), int(self.table.height[row])
        fmt = (
            {"png": "PNG", "gif": "GIF"}.get(FORMATS[self.table.fmt[row]], "JPEG")
            if suffix == "o"
            else "JPEG"
        )
        seed, frame = render_seed(self.table, row), self.frame(row)
        if suffix not in ("s", "q"):
            return images.render(seed, ow, oh, frame, dims[0], dims[1], fmt)
        # Cropped squares: render with the shorter side at the square's size, crop the centre.
        side = dims[0]
        scale = side / min(ow, oh)
        w, h = max(side, round(ow * scale)), max(side, round(oh * scale))
        with Image.open(io.BytesIO(images.render(seed, ow, oh, frame, w, h))) as img:
            left, top = (w - side) // 2, (h - side) // 2
            out = io.BytesIO()
            img.crop((left, top, left + side, top + side)).save(out, "JPEG", quality=90)
        return out.getvalue()
