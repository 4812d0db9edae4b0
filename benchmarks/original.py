"""A faithful re-implementation of the original IM2GPS query stage, as a baseline.

``get_imgs_geo_gps_search.py`` (../shared/ORIGINAL.md): per window, up to six
counted bisection probes toward 250 photos, then pages 1..min(16, pages) sorted
by interestingness; the next window starts where this one ended. Sleeps are
left out (the benchmark counts calls, not seconds). Quirks kept on purpose: the
page count comes from the last probe although maxtime moved after it, and
consecutive windows share their boundary second. One deviation, so that the
baseline does not lose the tail of a keyword: maxtime is clamped to the end date
and bisection goes on there (the original stopped probing as soon as maxtime
passed the end and paged whatever window it had, up to 4,000 photos of it).
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

DESIRED = 250
EXTRAS = "tags,original_format,license,geo,date_taken,date_upload,o_dims,views"


class OriginalCrawler:
    def __init__(self, api_url: str, api_key: str, text: str) -> None:
        self.api_url = api_url
        self.api_key = api_key
        self.text = text
        self.calls = 0
        self.ids: set[str] = set()

    def search(self, **params: Any) -> dict[str, Any]:
        query = {
            "method": "flickr.photos.search",
            "api_key": self.api_key,
            "format": "json",
            "nojsoncallback": "1",
            "media": "photos",
            "per_page": "250",
            "has_geo": "1",
            "accuracy": "6",
            "text": self.text,
            **{k: str(v) for k, v in params.items()},
        }
        for _attempt in range(5):  # the original retried on exceptions
            self.calls += 1
            url = f"{self.api_url}?{urllib.parse.urlencode(query)}"
            try:
                with urllib.request.urlopen(url, timeout=30) as answer:
                    body = json.loads(answer.read())
            except (OSError, ValueError):
                continue
            if body.get("stat") == "ok":
                return body["photos"]
        raise RuntimeError("search kept failing")

    def run(self, start: int, end: int) -> None:
        timeskip = 2 * 86400
        mintime = maxtime = start
        while maxtime < end:
            lower = mintime + 900
            upper = mintime + 20 * timeskip
            maxtime = int(0.95 * lower + 0.05 * upper)
            keep_going = 6
            photos: dict[str, Any] = {"pages": 0}
            while keep_going > 0:
                maxtime = min(maxtime, end)  # deviation: never past the end date
                photos = self.search(page=1, min_upload_date=mintime, max_upload_date=maxtime)
                total = int(photos["total"])
                if total > DESIRED:
                    upper = maxtime
                    maxtime = (lower + maxtime) // 2
                if total < DESIRED:
                    if maxtime >= end:
                        break  # deviation: the rest of the range fits in this window
                    lower = maxtime
                    maxtime = (upper + maxtime) // 2
                if total > 0:
                    keep_going -= 1
                else:
                    upper += timeskip
            for page in range(1, min(16, int(photos["pages"])) + 1):
                answer = self.search(
                    page=page,
                    sort="interestingness-desc",
                    extras=EXTRAS,
                    min_upload_date=mintime,
                    max_upload_date=maxtime,
                )
                self.ids.update(p["id"] for p in answer["photo"])
            timeskip = max(1, maxtime - mintime)
            mintime = maxtime
