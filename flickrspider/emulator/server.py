"""The HTTP side: Flickr's REST endpoint, the image host, faults, counters, control routes.

Routes (docs/ARCHITECTURE.md, "Emulator contract"):
``GET|POST /services/rest/``, ``GET /img/<server>/<file>``,
``GET /_emulator/truth``, ``GET /_emulator/photo/<id>``, ``GET /_emulator/stats``,
``POST /_emulator/reset``, ``GET|POST /_emulator/config``.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web
from PIL import Image

from flickrspider.emulator.answer import FORMATS, HTML_ERROR, echo, encode, fail
from flickrspider.emulator.corpus import OFFHOST, Corpus
from flickrspider.emulator.faults import FaultPlan, RateLimiter, Stats, request_key
from flickrspider.emulator.imagehost import ImageStore
from flickrspider.emulator.query import ApiError, parse_query
from flickrspider.emulator.records import size_dims

UNAVAILABLE_PATH = "/images/photo_unavailable.gif"
HTML = "text/html; charset=utf-8"
STATE: web.AppKey[Emulator] = web.AppKey("emulator")


def _unavailable_gif() -> bytes:
    """Flickr's "This photo is no longer available" placeholder: a small gray GIF."""
    out = io.BytesIO()
    Image.new("P", (500, 374), 200).save(out, "GIF")
    return out.getvalue()


class Emulator:
    """State shared by the handlers: corpus, images, faults, limiter, counters."""

    def __init__(self, corpus: Corpus, workers: int | None = None) -> None:
        self.corpus = corpus
        self.config = corpus.config
        self.runtime = corpus.runtime
        self.images = ImageStore(corpus, self.config.image_cache, self.config.cache_dir, workers)
        self.api_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="emulator-api")
        self.plan = FaultPlan(self.config.seed)
        self.limiter = RateLimiter()
        self.stats = Stats()
        self.unavailable = _unavailable_gif()

    def reset(self) -> None:
        self.stats.reset()
        self.plan.reset()
        self.limiter.reset()

    def close(self) -> None:
        self.images.close()
        self.api_pool.shutdown(wait=False, cancel_futures=True)

    # -- REST API --------------------------------------------------------------------

    def check_key(self, key: str) -> dict[str, Any] | None:
        if not key.strip():
            return fail(100, "Invalid API Key (Key has invalid format)")
        if self.config.keys and key not in self.config.keys:
            return fail(100)
        return None

    def call(self, params: dict[str, str]) -> dict[str, Any]:
        """The answer to one API call (runs in the API thread)."""
        method = params.get("method", "")
        if method == "flickr.test.echo":
            return echo(params)
        if method != "flickr.photos.search":
            return fail(112, f'Method "{method}" not found')
        try:
            query = parse_query(params)
        except ApiError as exc:
            return fail(exc.code, exc.message)
        self.stats.params_ignored.update(query.ignored)
        answer = self.corpus.search_query(query)
        photos = answer["photos"]["photo"]
        self.stats.photos_returned += len(photos)
        if self.runtime.img_offhost > 0:
            off = sum(
                1
                for p in photos
                if any(OFFHOST in str(v) for k, v in p.items() if k.startswith("url_"))
            )
            if off:
                self.stats.faults["img_offhost"] += off
        return answer

    async def api(self, request: web.Request) -> web.StreamResponse:
        params = dict(request.query)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.post()).items()})
        stats, runtime = self.stats, self.runtime
        stats.api_calls += 1
        stats.api_calls_by_method[params.get("method") or "(none)"] += 1
        key = params.get("api_key", "")
        # The per-key budget (Flickr: "stay under 3600 queries per hour across the whole key").
        wait = self.limiter.check(
            key, int(runtime.rate_limit_calls), runtime.rate_limit_window, time.monotonic()
        )
        if wait:
            stats.rate_limited += 1
            return web.Response(
                status=429, text="Too Many Requests\n", headers={"Retry-After": str(int(wait) + 1)}
            )
        fault = self.plan.decide(
            request_key(request.path, params),
            runtime.api_fault_rates(),
            int(runtime.fault_max_attempts),
        )
        if fault:
            stats.faults[fault] += 1
        early = await self._api_fault(fault)
        if early is not None:
            return early
        if runtime.api_latency:
            await asyncio.sleep(runtime.api_latency)
        fmt = params.get("format", "rest") or "rest"
        if fmt not in FORMATS:
            answer = fail(111, f'Format "{fmt}" not found')
            params = {**params, "format": "rest"}
        elif fault in ("api_105", "api_201"):
            answer = fail(int(fault[4:]))
        elif (bad_key := self.check_key(key)) is not None:
            answer = bad_key
        else:
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(self.api_pool, self.call, params)
        if answer.get("stat") == "fail":
            stats.api_errors_by_code[str(answer["code"])] += 1
        body, ctype = encode(answer, params)
        if fault == "api_truncated":
            body = body[: max(1, len(body) // 2)]
        return web.Response(text=body, content_type=ctype, charset="utf-8")

    async def _api_fault(self, fault: str | None) -> web.Response | None:
        """The answer of a fault that replaces the real one; slow faults only delay it."""
        if fault in ("api_slow",):
            await asyncio.sleep(self.runtime.slow_seconds)
            return None
        statuses = {"api_500": 500, "api_503": 503, "api_html_200": 200, "api_html_502": 502}
        if fault in statuses:
            return web.Response(
                status=statuses[fault], text=HTML_ERROR, content_type="text/html", charset="utf-8"
            )
        if fault == "api_429":
            return web.Response(
                status=429, text="Too Many Requests\n", headers={"Retry-After": "1"}
            )
        return None

    # -- image host ------------------------------------------------------------------

    async def image(self, request: web.Request) -> web.StreamResponse:
        stats, runtime = self.stats, self.runtime
        stats.image_requests += 1
        server, filename = request.match_info["server"], request.match_info["file"]
        stem = filename.rpartition(".")[0]
        suffix = stem.split("_")[2] if stem.count("_") == 2 else ""
        stats.image_requests_by_suffix[suffix or "-"] += 1
        try:
            row, suffix = self.corpus.locate(server, filename)
        except KeyError:
            stats.image_not_found += 1
            raise web.HTTPNotFound(text="Not Found\n") from None
        if self.corpus.is_missing(row):
            stats.faults["img_missing"] += 1
            raise web.HTTPNotFound(text="Not Found\n")
        if size_dims(self.corpus.table, row, suffix) is None:
            # A size the photo does not have: Flickr's "unavailable" placeholder (ORIGINAL.md).
            stats.image_unavailable += 1
            raise web.HTTPFound(UNAVAILABLE_PATH)
        fault = self.plan.decide(
            request_key(request.path, {}),
            runtime.img_fault_rates(),
            int(runtime.fault_max_attempts),
        )
        if fault:
            stats.faults[fault] += 1
        if fault == "img_503":
            return web.Response(
                status=503, text=HTML_ERROR, content_type="text/html", charset="utf-8"
            )
        if fault == "img_html":
            return web.Response(
                status=200, text=HTML_ERROR, content_type="text/html", charset="utf-8"
            )
        if fault == "img_slow":
            await asyncio.sleep(runtime.slow_seconds)
        data = await self.images.get(row, suffix)
        if fault == "img_truncated":
            data = data[: max(1, len(data) // 2)]
        ext = filename.rpartition(".")[2]
        ctype = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif"}[ext]
        return web.Response(
            body=data, content_type=ctype, headers={"Cache-Control": "max-age=315360000"}
        )

    async def unavailable_image(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=self.unavailable, content_type="image/gif")

    # -- control routes --------------------------------------------------------------

    async def truth(self, request: web.Request) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        try:
            ids = await loop.run_in_executor(self.api_pool, self.corpus.truth, dict(request.query))
        except ApiError as exc:
            return web.json_response({"error": exc.message, "code": exc.code}, status=400)
        return web.json_response({"ids": ids, "count": len(ids)})

    async def photo(self, request: web.Request) -> web.StreamResponse:
        try:
            return web.json_response(self.corpus.record(request.match_info["id"]))
        except KeyError:
            return web.json_response({"error": f"no photo {request.match_info['id']}"}, status=404)

    async def stats_route(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.stats.as_dict())

    async def reset_route(self, request: web.Request) -> web.StreamResponse:
        self.reset()
        return web.json_response({"ok": True})

    async def config_route(self, request: web.Request) -> web.StreamResponse:
        if request.method == "POST":
            try:
                data = json.loads(await request.text() or "{}")
                if not isinstance(data, dict):
                    raise ValueError("the body must be a JSON object")
                self.runtime.update(data)
            except ValueError as exc:
                return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(
            {**self.config.as_dict(), "faults": self.runtime.as_dict(), "photos": len(self.corpus)}
        )

    async def index(self, request: web.Request) -> web.StreamResponse:
        return web.Response(
            text=f"flickrspider emulator: {len(self.corpus)} photos, REST API at /services/rest/\n"
        )


def make_app(emulator: Emulator) -> web.Application:
    """The aiohttp application serving ``emulator``."""
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app[STATE] = emulator
    app.router.add_route("*", "/services/rest/", emulator.api)
    app.router.add_route("*", "/services/rest", emulator.api)
    app.router.add_get("/img/{server}/{file}", emulator.image)
    app.router.add_get(UNAVAILABLE_PATH, emulator.unavailable_image)
    app.router.add_get("/_emulator/truth", emulator.truth)
    app.router.add_get("/_emulator/photo/{id}", emulator.photo)
    app.router.add_get("/_emulator/stats", emulator.stats_route)
    app.router.add_post("/_emulator/reset", emulator.reset_route)
    app.router.add_route("*", "/_emulator/config", emulator.config_route)
    app.router.add_get("/", emulator.index)
    app.on_cleanup.append(lambda _app: _close(emulator))
    return app


async def _close(emulator: Emulator) -> None:
    emulator.close()
