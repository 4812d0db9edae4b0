"""``python -m flickrspider report``: reading a dataset, the page, the page in Chromium."""

from __future__ import annotations

import calendar
import io
import json
import random
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from flickrspider.__main__ import main as cli
from flickrspider.report import build, main
from flickrspider.report.attribution import decode_all
from flickrspider.report.collect import photo_from_record
from flickrspider.report.jpegcom import HEAD, find_comment, read_comment
from flickrspider.report.licenses import license_name, license_url
from flickrspider.report.svg import hundredths

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSTILE_TITLE = "<script>alert(1)</script>"
HOSTILE_OWNER = '"><img src=x onerror=alert(2)>'

# (keyword directory, keyword, id, license, (lat, lon) or None, (width, height), title)
PHOTOS: list[tuple[str, str, str, int, tuple[float, float] | None, tuple[int, int], str]] = [
    ("paris", "paris", "1001", 4, (48.8584, 2.2945), (1024, 768), "Eiffel tower"),
    ("paris", "paris", "1002", 4, (48.8606, 2.3376), (1024, 683), "Louvre"),
    ("paris", "paris", "1003", 1, (48.8530, 2.3499), (768, 1024), "Notre-Dame"),
    ("paris", "paris", "1004", 0, (0.0, 0.0), (1024, 768), "Flickr's 0,0 means no location"),
    ("paris", "paris", "1005", 9, None, (1024, 576), ""),
    ("tokyo", "tokyo", "2001", 11, (35.6586, 139.7454), (1024, 768), HOSTILE_TITLE),
    ("tokyo", "tokyo", "2002", 11, (35.6587, 139.7455), (1024, 768), "Same 0.01 cell"),
    ("tokyo", "tokyo", "2003", 5, (35.7148, 139.7967), (800, 600), "Senso-ji"),
    ("new_york", "new york", "3001", 2, (40.6892, -74.0445), (683, 1024), "Liberty"),
    ("new_york", "new york", "3002", 4, (40.7580, -73.9855), (1024, 768), "Times Square"),
]
SUMMARY = {
    "keywords": {
        "paris": {
            "found": 9,
            "stored": 5,
            "duplicates": 2,
            "too_small": 1,
            "failed": {"http_404": 1},
        },
        "tokyo": {
            "found": 4,
            "stored": 3,
            "duplicates": 0,
            "too_small": 0,
            "failed": {"timeout": 1},
        },
        "new york": {"found": 2, "stored": 2, "duplicates": 0, "too_small": 0, "failed": {}},
        "berlin": {"found": 0, "stored": 0, "duplicates": 0, "too_small": 0, "failed": {}},
    },
    "api_calls": 17,
    "finished": "2025-11-20T18:42:07+00:00",
}


def metadata(row: tuple[Any, ...]) -> dict[str, Any]:
    _, keyword, photo_id, license_id, where, (width, height), title = row
    lat, lon = where if where else (None, None)
    record = {
        "id": photo_id,
        "secret": "abcdef1234",
        "server": "65535",
        "farm": 66,
        "owner": f"{photo_id}@N00",
        "ownername": HOSTILE_OWNER if photo_id == "2001" else f"Author {photo_id}",
        "title": title,
        "tags": keyword,
        "license": license_id,
        "accuracy": 16,
        "datetaken": "2015-06-01 12:00:00",
        "dateupload": calendar.timegm((2011 + int(photo_id) % 1000, 6, 1, 12, 0, 0)),
        "views": 12,
        "originalformat": "jpg",
        "o_width": width * 2,
        "o_height": height * 2,
        "keyword": keyword,
        "license_name": "Attribution License" if license_id == 4 else "",
        "source_url": f"https://live.staticflickr.com/65535/{photo_id}_abcdef1234_b.jpg",
        "source_size": "l",
        "width": width,
        "height": height,
        "frame": None,
    }
    if where is not None:
        record.update(latitude=lat, longitude=lon)
    return record


def jpeg_bytes(record: dict[str, Any], color: tuple[int, int, int] = (90, 140, 200)) -> bytes:
    """A small JPEG (the report trusts width/height from the metadata) with a COM segment."""
    width, height = record["width"] // 16, record["height"] // 16
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(
        buffer, "JPEG", quality=80, comment=json.dumps(record).encode()
    )
    return buffer.getvalue()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A dataset as the spider leaves it, plus one broken file and one temporary file."""
    root = tmp_path / "images"
    for i, row in enumerate(PHOTOS):
        record = metadata(row)
        shard = root / row[0] / "00000"
        shard.mkdir(parents=True, exist_ok=True)
        color = (40 + 20 * i, 200 - 15 * i, 120)
        path = shard / f"{row[2]}_abcdef1234_65535_{row[2]}@N00.jpg"
        path.write_bytes(jpeg_bytes(record, color))
    (root / "paris" / "00000" / "broken.jpg").write_bytes(b"<html>not a jpeg</html>")
    (root / "paris" / "00000" / ".1009.tmp.jpg").write_bytes(b"\xff\xd8partial")
    (root / ".flickrspider").mkdir()
    (root / ".flickrspider" / "summary.json").write_text(json.dumps(SUMMARY), encoding="utf-8")
    return root


class Page(HTMLParser):
    """The bits of the page the tests look at: tables by id, element counts, attributes."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]


def run_report(store: Path, out: Path, *extra: str) -> str:
    assert main([str(store), "-o", str(out), "-q", *extra]) == 0
    return out.read_text(encoding="utf-8")


def keyword_table(page: Page) -> dict[str, dict[str, str]]:
    head, *rows = page.tables["keyword-table"]
    return {row[0]: dict(zip(head[1:], row[1:], strict=True)) for row in rows}


# ---- reading the JPEG header


def test_find_comment_reads_only_the_header() -> None:
    record = metadata(PHOTOS[0])
    data = jpeg_bytes(record)
    exif = Image.Exif()
    exif[0x013B] = "Author 1001"  # Artist: an APP1 segment before the COM
    buffer = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buffer, "JPEG", exif=exif, comment=data and b'{"id": "x"}')
    assert json.loads(find_comment(data) or b"") == record
    assert json.loads(find_comment(buffer.getvalue()) or b"") == {"id": "x"}
    # The same answer as Pillow's full parse.
    assert find_comment(data) == Image.open(io.BytesIO(data)).info["comment"]

    class Counting(io.BytesIO):
        furthest = 0

        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            Counting.furthest = max(Counting.furthest, self.tell())
            return chunk

    # Pixels far away are never read.
    big = data[:-2] + b"\x00" * 1_000_000 + b"\xff\xd9"
    assert read_comment(Counting(big)) is not None
    assert Counting.furthest <= HEAD


def test_find_comment_edge_cases() -> None:
    com = json.dumps({"id": "7"}).encode()
    segment = b"\xff\xfe" + (len(com) + 2).to_bytes(2, "big") + com
    icc = b"\xff\xe2" + (60002).to_bytes(2, "big") + b"\x00" * 60000  # past the first read
    sos = b"\xff\xda\x00\x02"
    jpeg = b"\xff\xd8" + icc + b"\xff\xff" + segment + sos + b"pixels\xff\xd9"
    assert read_comment(io.BytesIO(jpeg)) == com
    # A comment after SOS is not a header comment; non-JSON comments are skipped.
    assert read_comment(io.BytesIO(b"\xff\xd8" + sos + segment)) is None
    plain = b"\xff\xfe\x00\x07hello"
    assert read_comment(io.BytesIO(b"\xff\xd8" + plain + segment + sos)) == com
    # Not a JPEG, truncated, or a bad length: no comment and no exception.
    assert read_comment(io.BytesIO(b"GIF89a")) is None
    assert read_comment(io.BytesIO(b"\xff\xd8" + segment[:10])) is None
    assert read_comment(io.BytesIO(b"\xff\xd8\xff\xfe\x00\x01")) is None
    assert read_comment(io.BytesIO(b"")) is None


def test_photo_from_record_is_lenient() -> None:
    photo = photo_from_record(
        {"id": 5, "latitude": "48.5", "longitude": "2.25", "dateupload": "1300000000"}, "kw", None
    )
    assert photo is not None
    assert (photo.id, photo.keyword, photo.latitude, photo.dateupload) == (
        "5",
        "kw",
        48.5,
        1300000000,
    )
    for lat, lon in [(0, 0), ("0", "0.0"), (91, 0), (None, 3), ("x", 1), (float("nan"), 2)]:
        located = photo_from_record({"id": "1", "latitude": lat, "longitude": lon}, "k", None)
        assert located is not None
        assert not located.geotagged
    assert photo_from_record({"title": "no id"}, "k", None) is None


def test_hundredths_are_short_and_exact() -> None:
    assert [hundredths(v) for v in (0, 5, -5, 100, -150, 123, 18000)] == [
        "0",
        ".05",
        "-.05",
        "1",
        "-1.5",
        "1.23",
        "180",
    ]


def test_license_names_are_short_and_versioned() -> None:
    assert license_name(4, "Attribution License") == "CC BY 2.0"
    assert license_url(4) == "https://creativecommons.org/licenses/by/2.0/"
    assert license_name(17, "Some New License") == "Some New License"
    assert (license_name(17), license_url(17)) == ("License 17", "")
    assert (license_name(None), license_url(0)) == ("Unknown license", "")


# ---- the page


def test_report_content(store: Path, tmp_path: Path) -> None:
    text = run_report(store, tmp_path / "report.html")
    page = Page(text)

    # Per keyword: the last run's numbers and what is in the dataset.
    table = keyword_table(page)
    assert list(table) == ["berlin", "new york", "paris", "tokyo", "Total"]
    assert table["paris"]["Found"] == "9"
    assert table["paris"]["Stored"] == "5"
    assert table["paris"]["Duplicates"] == "2"
    assert table["paris"]["Too small"] == "1"
    assert table["paris"]["Failed"].startswith("1")
    assert "http_404 1" in table["paris"]["Failed"]
    assert table["paris"]["In dataset"] == "5"
    assert table["paris"]["Geotagged"] == "3"
    assert table["tokyo"]["Geotagged"] == "3"
    assert table["berlin"]["In dataset"] == "0"
    assert table["Total"]["Found"] == "15"
    assert table["Total"]["In dataset"] == "10"
    assert table["Total"]["Owners"] == "10"

    # The map: the coastline and one dot per distinct location (two Tokyo photos share one).
    assert len(page.find("svg", id="map")) == 1
    land = page.find("path", **{"class": "land"})
    assert len(land) == 1
    assert len(land[0]["d"] or "") > 20_000
    dots = {a["data-keyword"]: a for a in page.find("path", **{"class": "dots"})}
    assert {k: int(a["data-points"] or 0) for k, a in dots.items()} == {
        "paris": 3,
        "tokyo": 2,
        "new york": 2,
    }
    assert all((a["d"] or "").count("M") == int(a["data-points"] or 0) for a in dots.values())
    # Points are drawn at x = longitude, y = -latitude, in hundredths of a degree.
    assert "M2.29-48.86h0" in (dots["paris"]["d"] or "")
    assert "M-74.04-40.69h0" in (dots["new york"]["d"] or "")

    # Charts: years, licenses, sizes.
    assert len(page.find("svg", **{"class": "chart"})) >= 3
    assert "CC BY 2.0" in text
    assert "CC BY 4.0" in text
    assert re.search(r"1024\u00d7768 \(5\)", text)

    # Contact sheets: every photo (10 <= 24 per keyword), linking to its Flickr page.
    images = [a for a in page.find("img") if (a.get("src") or "").startswith("data:image/jpeg")]
    assert len(images) == 10
    links = [
        a["href"]
        for a in page.find("a")
        if (a.get("href") or "").startswith("https://www.flickr.com/photos/")
    ]
    assert "https://www.flickr.com/photos/1001@N00/1001" in links

    # Attribution: the shown photos in a table, every photo in the embedded list.
    shown = page.tables["shown-attribution"][1:]
    assert len(shown) == 10
    assert ["Eiffel tower", "Author 1001", "CC BY 2.0", "paris"] in shown
    assert ["Untitled", "Author 1005", "CC0 1.0", "paris"] in shown
    blob = re.search(r'id="attribution-data">([^<]*)<', text)
    assert blob
    data = decode_all(blob.group(1))
    assert sorted(data["id"]) == sorted(row[2] for row in PHOTOS)  # type: ignore[type-var]
    assert HOSTILE_TITLE in data["t"]


def test_hostile_strings_are_escaped(store: Path, tmp_path: Path) -> None:
    text = run_report(store, tmp_path / "report.html")
    assert HOSTILE_TITLE not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<img src=x" not in text
    assert "onerror=alert(2)>" not in text
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in text
    # Only the page's own script runs: one inline script, allowed by its hash.
    assert text.count("<script>") == 1
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text)
    assert csp
    assert "default-src 'none'" in csp.group(1)
    assert "script-src 'sha256-" in csp.group(1)


def test_without_summary_stored_counts_come_from_the_files(store: Path, tmp_path: Path) -> None:
    (store / ".flickrspider" / "summary.json").unlink()
    page = Page(run_report(store, tmp_path / "report.html"))
    table = keyword_table(page)
    assert list(table) == ["new york", "paris", "tokyo", "Total"]
    assert "In dataset" not in table["paris"]
    assert table["paris"]["Stored"] == "5"
    assert table["paris"]["Found"] == "\u2014"
    assert table["Total"]["Stored"] == "10"


def test_skips_broken_and_temporary_files(store: Path, tmp_path: Path) -> None:
    text = run_report(store, tmp_path / "report.html")
    assert "1 JPEG files without readable metadata were skipped" in text


def test_feed_gives_the_same_numbers(store: Path, tmp_path: Path) -> None:
    feed = tmp_path / "photos.jsonl"
    lines = []
    for row in PHOTOS:
        path = f"{row[0]}/00000/{row[2]}_abcdef1234_65535_{row[2]}@N00.jpg"
        lines.append(json.dumps({**metadata(row), "path": path}))
    lines += ["", "not json", json.dumps({"title": "no id"}), lines[0]]
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    text = run_report(store, tmp_path / "report.html", "--feed", str(feed))
    page = Page(text)
    assert keyword_table(page)["paris"]["In dataset"] == "5"
    assert len(page.find("img")) == 10
    assert "2 feed lines without readable metadata were skipped" in text
    assert "1 repeated photo ids were counted once" in text


def test_feed_paths_cannot_leave_the_store(store: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.jpg"
    outside.write_bytes(jpeg_bytes(metadata(PHOTOS[0])))
    feed = tmp_path / "photos.jsonl"
    feed.write_text(json.dumps({**metadata(PHOTOS[0]), "path": "../secret.jpg"}) + "\n")
    page = Page(run_report(store, tmp_path / "report.html", "--feed", str(feed)))
    assert page.find("img") == []


def test_stage1_feed_without_a_store(tmp_path: Path) -> None:
    feed = tmp_path / "photos.jsonl"
    feed.write_text("".join(json.dumps(metadata(row)) + "\n" for row in PHOTOS))
    page = Page(run_report(tmp_path / "nowhere", tmp_path / "report.html", "--feed", str(feed)))
    assert keyword_table(page)["Total"]["Stored"] == "10"
    assert page.find("img") == []


def test_thumbnail_limits(store: Path, tmp_path: Path) -> None:
    page = Page(run_report(store, tmp_path / "a.html", "--thumbnails", "2"))
    assert len(page.find("img")) == 6  # 2 for each of 3 keywords
    page = Page(run_report(store, tmp_path / "b.html", "--max-thumbnails", "3"))
    assert len(page.find("img")) == 3  # shared: one per keyword
    page = Page(run_report(store, tmp_path / "c.html", "--max-points", "4"))
    assert sum(int(a["data-points"] or 0) for a in page.find("path", **{"class": "dots"})) == 4


def test_report_is_deterministic(store: Path) -> None:
    first, second = build(store), build(store)
    stamp = re.compile(r"generated [0-9-]+ [0-9:]+ UTC")
    assert stamp.sub("", first) == stamp.sub("", second)


def test_dispatcher_runs_the_report(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "via-cli.html"
    assert cli(["report", str(store), "-o", str(out)]) == 0
    assert out.stat().st_size > 50_000
    assert f"wrote {out}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda t: [str(t / "missing")], "does not exist"),
        (lambda t: [str(t / "file.txt")], "is not a directory"),
        (lambda t: [str(t), "--feed", str(t / "missing.jsonl")], "cannot read feed"),
        (lambda t: [str(t / "d"), "-o", str(t / "no" / "dir" / "r.html")], "cannot write"),
        (lambda t: [str(t / "empty")], "no photos under"),
        (lambda t: [str(t / "d"), "--feed", str(t / "file.txt")], "no photo records in"),
        (lambda t: [str(t / "d" / "kw")], "looks like one keyword's directory"),
    ],
)
def test_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make_args: Any, message: str
) -> None:
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    shard = tmp_path / "d" / "kw" / "00000"
    shard.mkdir(parents=True)
    (shard / "1_s_1_o.jpg").write_bytes(jpeg_bytes(metadata(PHOTOS[0])))
    assert main(make_args(tmp_path)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("flickrspider report: ")
    assert message in err


def test_usage_errors_return_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["x", "--thumbnails", "-1"]) == 2
    assert "usage:" in capsys.readouterr().err


def test_land_file_is_small_and_in_range() -> None:
    path = Path(__file__).resolve().parent.parent / "flickrspider" / "report" / "land_110m.json"
    assert path.stat().st_size < 150_000
    feature = json.loads(path.read_text(encoding="utf-8"))
    assert "Natural Earth" in feature["properties"]["source"]
    points = [p for polygon in feature["geometry"]["coordinates"] for ring in polygon for p in ring]
    assert len(points) > 4000
    assert all(-180 <= lon <= 180 and -90 <= lat <= 90 for lon, lat in points)


# ---- scale


def synthetic_feed(path: Path, count: int, keywords: int = 20, seed: int = 1) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            geo = rng.random() < 0.8
            record = {
                "id": str(10**10 + i * 37),
                "owner": f"{rng.randint(1, count // 5)}@N00",
                "ownername": f"user {rng.randint(1, count // 5)}",
                "title": f"{rng.choice(['sunset', 'street', 'harbour', 'bridge'])} {i}",
                "license": rng.randint(0, 10),
                "latitude": rng.uniform(-60, 70) if geo else 0,
                "longitude": rng.uniform(-180, 180) if geo else 0,
                "dateupload": rng.randint(1_100_000_000, 1_700_000_000),
                "keyword": f"place {i % keywords}",
                "width": 1024,
                "height": rng.choice([768, 683, 576]),
                "path": f"place {i % keywords}/{i // 1000:05d}/{i}.jpg",
            }
            out.write(json.dumps(record) + "\n")


def test_20000_photos_render_fast_and_small(tmp_path: Path) -> None:
    feed = tmp_path / "photos.jsonl"
    synthetic_feed(feed, 20_000)
    started = time.perf_counter()
    text = run_report(tmp_path, tmp_path / "report.html", "--feed", str(feed))
    elapsed = time.perf_counter() - started
    size = len(text.encode())
    assert elapsed < 10, f"{elapsed:.1f} s"
    assert size < 3_000_000, f"{size:,} bytes"
    page = Page(text)
    assert keyword_table(page)["Total"]["Stored"] == "20,000"
    assert sum(int(a["data-points"] or 0) for a in page.find("path", **{"class": "dots"})) > 15_000


# ---- the page in a real browser


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed")
def test_page_in_chromium(store: Path, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    report = tmp_path / "report.html"
    run_report(store, report)
    messages: list[tuple[str, str]] = []
    dialogs: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            page.on("console", lambda m: messages.append((m.type, m.text)))
            page.on("pageerror", lambda e: messages.append(("pageerror", str(e))))
            page.on("requestfailed", lambda r: messages.append(("requestfailed", r.url)))

            def on_dialog(dialog: Any) -> None:
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", on_dialog)
            page.goto(report.as_uri())
            page.wait_for_load_state("load")

            # The map: land, and the dots of every keyword, drawn with a size.
            assert page.locator("#map path.land").count() == 1
            assert page.locator("#map path.dots").count() == 3
            box = page.locator("#map").bounding_box()
            assert box is not None
            assert box["width"] > 1000
            assert 1.9 < box["width"] / box["height"] < 2.1
            assert page.locator("#map path.dots[data-keyword='paris']").bounding_box() is not None
            page.click("button[data-zoom='in']")
            assert page.get_attribute("#map", "viewBox") == "-90 -45 180 90"
            page.click("button[data-zoom='reset']")

            # Charts, thumbnails (decoded), the attribution of the shown photos.
            assert page.locator("#charts svg.chart").count() >= 3
            assert page.locator("#chart-years rect.bar").count() == 5  # 2012 .. 2016
            decoded = page.eval_on_selector_all(
                ".sheet img", "imgs => imgs.filter(i => i.complete && i.naturalWidth > 0).length"
            )
            assert decoded == 10
            assert page.locator("#shown-attribution tbody tr").count() == 10
            assert page.locator("text=<script>alert(1)</script>").count() >= 1  # shown as text

            # The full list: decoded on opening, filtered, downloadable.
            page.click("#all-attribution summary")
            page.wait_for_selector("#all-attribution-table tbody tr")
            assert page.locator("#all-attribution-table tbody tr").count() == 10
            page.fill("#attr-filter", "senso")
            page.wait_for_function(
                "document.querySelectorAll('#all-attribution-table tbody tr').length === 1"
            )
            with page.expect_download() as download_info:
                page.click("#attr-tsv")
            tsv = Path(download_info.value.path()).read_text(encoding="utf-8").splitlines()
            assert tsv[0].startswith("title\tauthor")
            assert len(tsv) == 11
            assert any("https://www.flickr.com/photos/2003@N00/2003" in line for line in tsv)

            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert dialogs == []
    assert [m for m in messages if m[0] in ("error", "pageerror", "requestfailed")] == []
    assert [m for m in messages if m[0] == "warning"] == []


def test_copied_report_needs_nothing_else(store: Path, tmp_path: Path) -> None:
    """The page refers to no file and no host: every src is a data: URI."""
    text = run_report(store, tmp_path / "report.html")
    shutil.rmtree(store)
    page = Page(text)
    for tag, attrs in page.tags:
        src = attrs.get("src")
        assert src is None or src.startswith("data:"), (tag, src)
        if tag == "link":
            assert (attrs.get("href") or "").startswith("data:")
    assert not re.search(r"""url\(\s*['"]?(?!data:)""", text)
    assert "@import" not in text
