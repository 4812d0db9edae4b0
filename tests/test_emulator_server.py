"""The emulator over HTTP, started as ``python -m flickrspider.emulator --port 0``.

Answer shapes are compared with hand-written fixtures of Flickr's documented formats
(tests/fixtures/flickr_*.json). One emulator serves the module; tests that change
faults restore them.
"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from flickrspider.emulator import EmulatorError, EmulatorProcess

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "emulator-test-key"
CONFIG = {"seed": 21, "keywords": {"paris": 1500, "tokyo": 600}, "frames": 0.5}
ALL_EXTRAS = (
    "description,license,date_upload,date_taken,owner_name,icon_server,original_format,last_update,"
    "geo,tags,machine_tags,o_dims,views,media,path_alias,url_sq,url_t,url_s,url_q,url_m,url_n,url_w,"
    "url_z,url_c,url_l,url_h,url_k,url_o"
)


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorProcess]:
    with EmulatorProcess("--keys", f"{KEY},second-key", config=CONFIG) as emulator:
        yield emulator


@pytest.fixture
def clean(emu: EmulatorProcess) -> Iterator[EmulatorProcess]:
    """The emulator with counters zeroed; faults set by the test are switched off afterwards."""
    emu.reset()
    before = emu.configure()
    yield emu
    emu.configure(**before)
    emu.reset()


def fetch(
    url: str, data: dict[str, str] | None = None, timeout: float = 30
) -> tuple[int, dict[str, str], bytes]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with urllib.request.urlopen(url, data=body, timeout=timeout) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers), exc.read()


def api(emu: EmulatorProcess, **params: Any) -> tuple[int, dict[str, str], bytes]:
    params = {
        "api_key": KEY,
        "method": "flickr.photos.search",
        "format": "json",
        "nojsoncallback": "1",
        **params,
    }
    return fetch(emu.api_url + "?" + urllib.parse.urlencode({k: str(v) for k, v in params.items()}))


def search(emu: EmulatorProcess, **params: Any) -> dict[str, Any]:
    status, _, body = api(emu, **params)
    assert status == 200
    return json.loads(body)


def _type(value: Any) -> str:
    return (
        "number"
        if isinstance(value, int | float) and not isinstance(value, bool)
        else type(value).__name__
    )


# -- the REST API ---------------------------------------------------------------------------


def test_first_line_is_the_base_url(emu: EmulatorProcess) -> None:
    assert emu.url.startswith("http://127.0.0.1:") and emu.url.endswith("/")
    assert emu.api_url == emu.url + "services/rest/"


def test_search_answer_has_flickrs_shape_and_types(emu: EmulatorProcess) -> None:
    fixture = json.loads((FIXTURES / "flickr_search_extras.json").read_text())
    doc_geo, doc_plain = fixture["photos"]["photo"]
    answer = search(emu, text="paris", extras=ALL_EXTRAS, per_page=60, page=2)
    assert list(answer) == ["photos", "stat"] and answer["stat"] == "ok"
    head = answer["photos"]
    assert list(head) == list(fixture["photos"])
    assert {k: _type(v) for k, v in head.items()} == {
        k: _type(v) for k, v in fixture["photos"].items()
    }
    assert head["page"] == 2 and head["perpage"] == 60 and len(head["photo"]) == 60
    for photo in head["photo"]:
        doc = doc_geo if photo["accuracy"] else doc_plain
        assert set(photo) <= set(doc_geo), set(photo) - set(doc_geo)
        for name, value in photo.items():
            if name in doc:
                assert _type(value) == _type(doc[name]), (name, value, doc[name])
        assert photo["tags"] == photo["tags"].lower() and "url_o" in photo and "url_m" in photo
    assert {"url_l", "height_l", "width_l", "latitude", "place_id"} <= set().union(*head["photo"])


def test_jsonp_xml_and_post(emu: EmulatorProcess) -> None:
    params = {"api_key": KEY, "method": "flickr.photos.search", "text": "tokyo", "per_page": "3"}
    _, _, body = fetch(emu.api_url + "?" + urllib.parse.urlencode({**params, "format": "json"}))
    text = body.decode()
    assert text.startswith("jsonFlickrApi({") and text.endswith("})")
    as_json = json.loads(text[len("jsonFlickrApi(") : -1])
    _, _, body = fetch(emu.api_url + "?" + urllib.parse.urlencode(params))  # no format: REST XML
    rsp = ET.fromstring(body)
    assert rsp.tag == "rsp" and rsp.get("stat") == "ok"
    photos = rsp.find("photos")
    assert photos is not None and photos.get("total") == str(as_json["photos"]["total"])
    assert [p.get("id") for p in photos.findall("photo")] == [
        p["id"] for p in as_json["photos"]["photo"]
    ]
    status, _, body = fetch(emu.api_url, data={**params, "format": "json", "nojsoncallback": "1"})
    assert status == 200 and json.loads(body) == as_json
    _, _, raw = api(emu, text="tokyo", extras="url_m", per_page=1)
    assert b"http:\\/\\/127.0.0.1" in raw  # Flickr escapes slashes


def test_failures_have_flickrs_codes(emu: EmulatorProcess) -> None:
    doc = json.loads((FIXTURES / "flickr_error.json").read_text())
    bad_key = json.loads(api(emu, api_key="nope", text="paris")[2])
    assert list(bad_key) == list(doc) and bad_key == doc
    assert json.loads(api(emu, api_key="", text="paris")[2])["code"] == 100
    assert json.loads(api(emu, api_key="second-key", text="paris")[2])["stat"] == "ok"
    assert json.loads(api(emu, method="flickr.photos.frobnicate")[2])["code"] == 112
    assert json.loads(api(emu)[2])["code"] == 3
    _, _, body = api(emu, format="soap", text="paris")
    err = ET.fromstring(body).find("err")
    assert err is not None and err.get("code") == "111"
    _, _, body = api(emu, format="rest", api_key="nope", text="paris")
    err = ET.fromstring(body).find("err")
    assert (
        err is not None
        and err.get("code") == "100"
        and err.get("msg", "").startswith("Invalid API Key")
    )


def test_echo(emu: EmulatorProcess) -> None:
    doc = json.loads((FIXTURES / "flickr_echo.json").read_text())
    del doc["_comment"]
    answer = json.loads(api(emu, method="flickr.test.echo", foo="bar")[2])
    assert (
        set(answer) == set(doc) and answer["foo"] == {"_content": "bar"} and answer["stat"] == "ok"
    )


def test_truth_photo_and_stats_routes(clean: EmulatorProcess) -> None:
    emu = clean
    truth = emu.truth(text="paris", has_geo=1, accuracy=6)
    answer = search(emu, text="paris", has_geo=1, accuracy=6, per_page=250, sort="date-posted-asc")
    assert (
        answer["photos"]["total"] == len(truth)
        and [p["id"] for p in answer["photos"]["photo"]] == truth[:250]
    )
    record = emu.photo(truth[0])
    assert (
        record["id"] == truth[0]
        and "frame" in record
        and record["geotagged"]
        and record["accuracy"] >= 6
    )
    with pytest.raises(EmulatorError):
        emu.photo("12345")
    with pytest.raises(EmulatorError):
        emu.truth()  # parameterless
    stats = emu.stats()
    assert stats["api_calls"] == 1 and stats["api_calls_by_method"] == {"flickr.photos.search": 1}
    assert stats["faults"] == {} and stats["rate_limited"] == 0 and stats["image_requests"] == 0
    emu.reset()
    assert emu.stats()["api_calls"] == 0
    with pytest.raises(EmulatorError):
        emu.configure(no_such_fault=0.5)
    with pytest.raises(EmulatorError):
        emu.configure(api_500=2)


# -- the image host -------------------------------------------------------------------------


def test_images_match_their_advertised_sizes(clean: EmulatorProcess) -> None:
    emu = clean
    photos = search(
        emu, text="paris", extras="url_l,url_o,url_sq,original_format,o_dims", per_page=40
    )["photos"]["photo"]
    with_large = [p for p in photos if "url_l" in p][:3]
    assert with_large
    for p in with_large:
        status, headers, body = fetch(p["url_l"])
        assert status == 200 and headers["Content-Type"] == "image/jpeg"
        with Image.open(io.BytesIO(body)) as img:
            assert img.format == "JPEG" and img.size == (p["width_l"], p["height_l"])
        with Image.open(io.BytesIO(fetch(p["url_sq"])[2])) as img:
            assert img.size == (75, 75)
    small = next(p for p in photos if "url_l" not in p)
    status, _, body = fetch(small["url_o"])
    with Image.open(io.BytesIO(body)) as img:
        assert status == 200 and img.size == (int(small["o_width"]), int(small["o_height"]))
        assert img.format.lower().replace("jpeg", "jpg") == small["originalformat"]
    stats = emu.stats()
    assert stats["image_requests"] == 2 * len(with_large) + 1
    assert stats["image_requests_by_suffix"]["b"] == len(with_large)


def test_missing_sizes_wrong_secrets_and_png_originals(clean: EmulatorProcess) -> None:
    emu = clean
    truth = emu.truth(text="paris")
    records = [emu.photo(i) for i in truth[:200]]
    no_large = next(r for r in records if "b" not in r["sizes"])
    base = no_large["urls"]["-"].rsplit(".", 1)[0]
    status, headers, body = fetch(base + "_b.jpg")  # Flickr's "unavailable" placeholder
    assert status == 200 and headers["Content-Type"] == "image/gif" and len(body) < 5000
    assert fetch(base.replace(no_large["secret"], "0123456789") + "_z.jpg")[0] == 404
    assert fetch(emu.url + "img/1/123_abc_b.jpg")[0] == 404
    png = next((r for r in records if r["originalformat"] == "png"), None)
    if png is not None:
        _, headers, body = fetch(png["urls"]["o"])
        assert headers["Content-Type"] == "image/png" and body.startswith(b"\x89PNG")
    assert emu.stats()["image_unavailable"] == 1


# -- faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "check"),
    [
        ("api_500", 500, lambda b: b.startswith(b"<!DOCTYPE html>")),
        ("api_503", 503, lambda b: b"<html" in b),
        ("api_429", 429, lambda b: True),
        ("api_html_200", 200, lambda b: b.startswith(b"<!DOCTYPE html>")),
        ("api_html_502", 502, lambda b: b"<html" in b),
        ("api_105", 200, lambda b: json.loads(b)["code"] == 105),
        ("api_201", 200, lambda b: json.loads(b)["code"] == 201),
        ("api_truncated", 200, lambda b: b.startswith(b'{"photos"') and not b.endswith(b"}")),
    ],
)
def test_api_faults_then_a_retry_succeeds(
    clean: EmulatorProcess, fault: str, status: int, check: Any
) -> None:
    emu = clean
    emu.configure(**{fault: 1.0, "fault_max_attempts": 2})
    for _ in range(2):
        got, _, body = api(emu, text="paris", per_page=5, cb="ignored-noise")
        assert got == status and check(body)
    got, _, body = api(
        emu, text="paris", per_page=5, api_key="second-key"
    )  # same URL without noise
    assert got == 200 and json.loads(body)["stat"] == "ok"
    assert emu.stats()["faults"] == {fault: 2}


def test_faults_are_decided_per_url_and_attempt_deterministically(clean: EmulatorProcess) -> None:
    emu = clean
    emu.configure(api_500=0.5, fault_max_attempts=50)
    first = [api(emu, text="paris", page=p)[0] for p in range(1, 21) for _ in range(3)]
    emu.reset()  # attempt counts start again: the same verdicts
    second = [api(emu, text="paris", page=p)[0] for p in range(1, 21) for _ in range(3)]
    assert first == second and {500, 200} == set(first)


def test_slow_answers(clean: EmulatorProcess) -> None:
    emu = clean
    image = search(emu, text="tokyo", extras="url_t", per_page=1)["photos"]["photo"][0]["url_t"]
    echo = (
        emu.api_url + "?" + urllib.parse.urlencode({"api_key": KEY, "method": "flickr.test.echo"})
    )
    emu.configure(api_slow=1.0, img_slow=1.0, slow_seconds=2, fault_max_attempts=1)
    for url in (echo, image):
        with pytest.raises(TimeoutError):
            fetch(url, timeout=0.3)
        assert fetch(url)[0] == 200
    assert emu.stats()["faults"] == {"api_slow": 1, "img_slow": 1}


def test_image_faults_then_a_retry_succeeds(clean: EmulatorProcess) -> None:
    emu = clean
    urls = [
        p["url_m"] for p in search(emu, text="tokyo", extras="url_m", per_page=3)["photos"]["photo"]
    ]
    emu.configure(img_503=1.0, fault_max_attempts=1)
    assert fetch(urls[0])[0] == 503 and fetch(urls[0])[0] == 200
    emu.configure(img_503=0, img_html=1.0)
    status, headers, body = fetch(urls[1])
    assert status == 200 and headers["Content-Type"].startswith("text/html") and b"<html" in body
    emu.configure(img_html=0, img_truncated=1.0)
    status, _, cut = fetch(urls[2])
    _, _, whole = fetch(urls[2])
    assert (
        status == 200
        and whole.startswith(cut)
        and len(cut) < len(whole)
        and whole.endswith(b"\xff\xd9")
    )
    assert emu.stats()["faults"] == {"img_503": 1, "img_html": 1, "img_truncated": 1}


def test_permanent_photo_faults(clean: EmulatorProcess) -> None:
    emu = clean
    emu.configure(img_missing=0.3, img_offhost=0.3)
    photos = search(emu, text="paris", extras="url_l,url_o,url_m", per_page=100)["photos"]["photo"]
    records = {p["id"]: emu.photo(p["id"]) for p in photos}
    missing = [p for p in photos if records[p["id"]]["faults"]["img_missing"]]
    offhost = [p for p in photos if records[p["id"]]["faults"]["img_offhost"]]
    assert missing and offhost
    assert all(fetch(p["url_m"])[0] == 404 for p in missing[:3])
    for p in offhost:
        assert p["url_o"].startswith("http://127.0.0.2:") and p["url_m"].startswith(emu.url)
    assert all(p["url_o"].startswith(emu.url) for p in photos if p not in offhost)
    again = search(emu, text="paris", extras="url_l,url_o,url_m", per_page=100)["photos"]["photo"]
    assert again == photos  # permanent: the same photos every time
    assert emu.stats()["faults"]["img_offhost"] == 2 * len(offhost)


def test_rate_limit_per_key(clean: EmulatorProcess) -> None:
    emu = clean
    emu.configure(rate_limit_calls=3, rate_limit_window=3600)
    statuses = [api(emu, method="flickr.test.echo")[0] for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    status, headers, _ = api(emu, method="flickr.test.echo")
    assert status == 429 and int(headers["Retry-After"]) > 0
    assert api(emu, method="flickr.test.echo", api_key="second-key")[0] == 200  # another key
    assert emu.stats()["rate_limited"] == 3
