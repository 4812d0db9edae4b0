"""Hostile input: malformed and adversarial API answers, image bodies and keywords.

A small "hostile Flickr" on loopback answers every search with records that are
broken on purpose (missing fields, wrong types, huge strings, ids and secrets
with path characters, negative sizes, URLs with other schemes or hosts) and
serves image bodies that are decompression bombs, empty, GIF, PNG, HTML or
truncated. Real crawls run against it with keywords such as ``../../x``,
``a/b``, ``..``, ``CON``, ``東京``, ``São Paulo`` and a very long one. No crash,
no file outside IMAGES_STORE, and every refusal is counted under a clear reason.
The parsing layer is fuzzed with hypothesis up to the file system boundary.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from flickrspider.config import FlickrConfig
from flickrspider.flickrapi import BadRecord, parse_photo
from flickrspider.paths import file_name, keyword_dir, photo_path
from flickrspider.store import resolve
from tests.resumekit import JobRun, read_feed

pytestmark = pytest.mark.e2e

KEY = "hostile-key-3b7f0a"
KEYWORDS = ["../../x", "a/b", "..", "CON", "東京", "São Paulo", "nul\x7fkw", "w" * 400]


def _image(fmt: str, size: tuple[int, int], **kw: Any) -> bytes:
    """A photo-like (noisy, so not tiny once compressed) image in ``fmt``."""
    out = io.BytesIO()
    noise = Image.effect_noise(size, 60).convert("RGB")
    Image.blend(Image.new("RGB", size, (90, 140, 200)), noise, 0.5).save(out, fmt, **kw)
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _tiny_gif() -> bytes:
    """Flickr's "photo unavailable" image: a small, flat GIF."""
    out = io.BytesIO()
    Image.new("RGB", (500, 374), (200, 200, 200)).save(out, "GIF")
    return out.getvalue()


JPEG = _image("JPEG", (800, 600), quality=80)
BODIES: dict[str, tuple[str, bytes]] = {
    "good": ("image/jpeg", JPEG),
    "png": ("image/png", _image("PNG", (900, 700))),
    "gif": ("image/gif", _image("GIF", (820, 640))),
    "bomb": (
        "image/png",
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + _png_chunk(b"IEND", b""),
    ),
    "empty": ("image/jpeg", b""),
    "html": ("text/html", b"<html><body>Service unavailable</body></html>" * 50),
    "truncated": ("image/jpeg", JPEG[: len(JPEG) // 2]),
    "placeholder": ("image/gif", _tiny_gif()),
}


def records(text: str, base_url: str) -> list[Any]:
    """The page for one query: good records and every kind of broken one."""
    base = 10**11 + int(hashlib.sha1(text.encode()).hexdigest()[:7], 16) * 100

    def record(n: int, body: str = "good", **changes: Any) -> dict[str, Any]:
        pid = str(base + n)
        raw = {
            "id": pid, "secret": "0a1b2c3d4e", "server": "65535", "farm": 66,
            "owner": "12345678@N07", "ownername": "Ann", "title": f"photo {n}",
            "tags": "sea boat", "license": "4", "dateupload": str(1_400_000_000 + n),
            "datetaken": "2014-05-13 10:00:00", "latitude": "48.85", "longitude": "2.35",
            "accuracy": "16", "views": "3", "originalformat": "jpg",
            "url_l": f"{base_url}img/{body}/{pid}.jpg", "width_l": "800", "height_l": "600",
        }  # fmt: skip
        raw.update(changes)
        return {k: v for k, v in raw.items() if v is not None}

    return [
        record(0),
        record(1, "png"),
        record(2, "gif"),
        record(3, "bomb"),
        record(4, "empty"),
        record(5, "html"),
        record(6, "truncated"),
        record(7, "placeholder"),
        record(8, title="t" * 1_000_000, tags="x " * 200_000),  # huge strings, still stored
        record(9, url_l="file:///etc/passwd"),
        record(10, url_l="javascript:alert(1)"),
        record(11, url_l="ftp://127.0.0.1/x.jpg"),
        record(12, url_l="http://evil.example/x.jpg"),
        record(13, url_l=f"http://{urlsplit(base_url).netloc}@evil.example/x.jpg"),
        record(14, id="../../etc/passwd"),
        record(15, id=f"{base}/16"),
        record(16, secret="../x"),
        record(17, server=".."),
        record(18, owner="1/2@N00"),
        record(19, id=None),
        record(20, o_width="-5", o_height="-7"),
        record(21, width_l=-800, url_o=f"{base_url}img/good/neg.jpg"),
        record(22, dateupload=None),
        record(23, latitude="NaN"),
        record(24, tags=5),
        record(25, ownername={"_content": 5}),
        record(26, datetaken="yesterday"),
        record(27, accuracy="99"),
        record(28, id=True),
        record(29, url_l=f"{base_url}img/../../../etc/passwd"),
        [],
        "a string",
        None,
        record(0),  # the same photo twice
    ]


class HostileFlickr(BaseHTTPRequestHandler):
    server_version = "hostile/1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        params = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if params.get("api_key") != KEY:
            self._send(200, "application/json", b'{"stat":"fail","code":100,"message":"Invalid"}')
            return
        photos = records(params.get("text", ""), self.server.base_url)  # type: ignore[attr-defined]
        page = {
            "photos": {"page": 1, "pages": 1, "perpage": 250, "total": str(len(photos)),
                       "photo": photos},
            "stat": "ok",
        }  # fmt: skip
        self._send(200, "application/json", json.dumps(page).encode())

    def do_GET(self) -> None:
        parts = self.path.split("/")
        if len(parts) == 4 and parts[1] == "img" and parts[2] in BODIES:
            self._send(200, *BODIES[parts[2]])
        else:
            self._send(404, "text/html", b"<html>not here</html>")

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def hostile() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostileFlickr)
    server.base_url = f"http://127.0.0.1:{server.server_address[1]}/"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.base_url  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def every_file(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def crawled(hostile, tmp_path_factory):
    top = tmp_path_factory.mktemp("hostile")
    work = top / "a" / "b" / "work"  # room for "../../x" to land somewhere wrong
    run = JobRun(
        work, hostile + "services/rest/", urlsplit(hostile).netloc, KEY,
        {"keywords": ",".join(k.replace(",", " ") for k in KEYWORDS)},
        settings={"LOG_LEVEL": "DEBUG"},
    )  # fmt: skip
    done = run.run()
    return run, done, top


def test_hostile_crawl_ends_normally(crawled):
    _, done, _ = crawled
    assert done.returncode == 0, done.log[-3000:]
    assert "Traceback" not in done.log and "Unhandled error" not in done.log
    assert "DecompressionBombWarning" not in done.log
    assert "flickrspider summary (finished" in done.log


def test_nothing_is_written_outside_the_dataset(crawled):
    run, _, top = crawled
    allowed = (run.store, run.job)
    for path in every_file(top):
        assert path == run.feed or any(base in path.parents for base in allowed), path
    # no keyword made a directory of its own outside IMAGES_STORE or beside a shard
    names = {p.name for p in run.store.iterdir()}
    assert names == {".flickrspider"} | {keyword_dir(k) for k in KEYWORDS}
    for kwdir in run.store.iterdir():
        if kwdir.name != ".flickrspider":
            assert {p.name for p in kwdir.iterdir()} == {"00000"}


def test_good_images_are_stored_under_their_keyword(crawled):
    run, _, _ = crawled
    records = read_feed(run.feed)
    by_keyword: dict[str, set[str]] = {}
    for record in records:
        by_keyword.setdefault(record["keyword"], set()).add(record["id"][-2:])
        path = run.store / record["path"]
        assert path.is_file() and record["path"].startswith(keyword_dir(record["keyword"]) + "/")
        with Image.open(path) as im:
            im.load()
            meta = json.loads(im.info["comment"])
            assert len(meta["title"]) <= 1000
    # the JPEG, the PNG, the GIF and the record with huge strings
    assert by_keyword == {k: {"00", "01", "02", "08"} for k in KEYWORDS}


def test_every_refusal_is_counted_by_reason(crawled):
    run, done, _ = crawled
    summary = json.loads((run.store / ".flickrspider" / "summary.json").read_text("utf-8"))
    n = len(KEYWORDS)
    expected_images = {
        "decompression_bomb": n, "empty": n, "not_image": n, "truncated": n,
        "not_found": 2 * n,  # the placeholder GIF, and ../ in a URL path (404)
        "off_allowlist": 2 * n,  # another host, and another host behind user@
    }  # fmt: skip
    assert summary["failed"] == expected_images
    rejected = {
        line.split("'flickr/photos/rejected/")[1].split("'")[0]
        for line in done.log.splitlines()
        if "'flickr/photos/rejected/" in line
    }
    assert rejected >= {
        "bad_url", "bad_id", "bad_secret", "bad_server", "bad_owner", "bad_o_width",
        "bad_dateupload", "bad_geo", "bad_tags", "bad_ownername", "bad_datetaken",
        "bad_accuracy", "not_an_object", "bad_width_l",
    }  # fmt: skip
    assert f"'flickr/photos/duplicates': {n}" in done.log


# -- fuzzing the parsing layer up to the file system ---------------------------------

ROOT = Path("/data/store")


class _Settings(dict):
    def getint(self, name: str, default: int = 0) -> int:
        return int(self.get(name, default))

    def getbool(self, name: str, default: bool = False) -> bool:
        return bool(self.get(name, default))

    def getlist(self, name: str, default: list[str] | None = None) -> list[str]:
        value = self.get(name, default or [])
        return value.split(",") if isinstance(value, str) else list(value)


CONFIG = FlickrConfig.from_settings(
    _Settings(
        FLICKR_API_URL="https://api.flickr.com/services/rest/",
        FLICKR_API_CALLS_PER_HOUR=3600,
        FLICKR_IMAGE_HOSTS=["live.staticflickr.com", "farm*.staticflickr.com"],
        FLICKR_SIZES=["l", "o"],
        IMAGES_STORE=str(ROOT),
        FLICKR_MAX_SIDE=1024,
        FLICKR_MIN_SIDE=500,
        FLICKR_SHARD_SIZE=1000,
        FLICKR_JPEG_QUALITY=90,
    )
)
tokens = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["..", ".", "/", "a/b", "..\\x", "%2e%2e", "\x00", "\uff11\uff12\uff13", "9" * 30, "-1"]
    ),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.lists(st.integers(), max_size=2),
)
hosts = st.sampled_from(
    ["live.staticflickr.com", "farm1.staticflickr.com", "evil.example", "127.0.0.1",
     "live.staticflickr.com.evil.example", "live.staticflickr.com@evil.example",
     "evil.example#@live.staticflickr.com", "[::1]", "LIVE.STATICFLICKR.COM", ""]
)  # fmt: skip
urls = st.builds(
    lambda scheme, host, path: f"{scheme}{host}/{path}",
    st.sampled_from(
        ["http://", "https://", "ftp://", "file://", "javascript:", "//", "HTTP://", ""]
    ),
    hosts,
    st.text(max_size=20),
)
raw_records = st.fixed_dictionaries(
    {
        "id": st.one_of(tokens, st.integers(min_value=1, max_value=10**12).map(str)),
        "secret": st.one_of(tokens, st.just("0a1b2c3d4e")),
        "server": st.one_of(tokens, st.just("65535")),
        "owner": st.one_of(tokens, st.just("12345678@N07")),
        "dateupload": st.one_of(tokens, st.just("1400000000")),
    },
    optional={
        "url_l": st.one_of(urls, tokens),
        "url_o": st.one_of(urls, tokens),
        "o_width": tokens,
        "width_l": tokens,
        "latitude": tokens,
        "title": st.one_of(tokens, st.text(min_size=2000, max_size=3000)),
        "tags": tokens,
    },
)


@given(raw_records, st.text(max_size=200))
def test_any_accepted_record_lands_inside_the_store_and_only_on_allowed_hosts(raw, keyword):
    try:
        photo = parse_photo(raw, sizes=("l", "o"))
    except BadRecord as exc:
        assert exc.reason and exc.reason.replace("_", "").isalnum()
        return
    name = file_name(photo.id, photo.secret, photo.server, photo.owner)
    path = resolve(ROOT, photo_path(keyword, 123_456, 1000, name))
    assert ROOT in path.parents and path.parent.parent.parent == ROOT
    assert len(path.parent.parent.name.encode()) <= 128
    assert photo.title is None or len(photo.title) <= 1000
    for url in photo.urls.values():
        if CONFIG.host_allowed(url):
            parts = urlsplit(url)
            assert parts.scheme in {"http", "https"}
            assert parts.hostname in {"live.staticflickr.com", "farm1.staticflickr.com"}
