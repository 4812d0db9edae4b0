"""flickr.photos.search parameters, answer parsing, record validation and key redaction."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flickrspider.flickrapi import (
    BadRecord,
    FlickrError,
    InvalidKey,
    Permanent,
    Photo,
    Retryable,
    check_http,
    extras_for,
    parse_photo,
    parse_search,
    per_page_for,
    redact,
    search_params,
)
from flickrspider.items import META_KEYS, PhotoItem

SIZES = ("l", "o")

# A record shaped like Flickr's JSON answers: most numbers as strings, farm as a number.
RECORD = {
    "id": "27265926172",
    "owner": "25925838@N00",
    "secret": "133989a6e5",
    "server": "7780",
    "farm": 8,
    "title": "Mill House",
    "ispublic": 1,
    "license": "2",
    "dateupload": "1464658015",
    "datetaken": "2016-05-03 18:19:21",
    "datetakengranularity": "0",
    "ownername": "Howard TJ",
    "views": "454",
    "tags": "ohio mill house",
    "originalsecret": "c72a44a52b",
    "originalformat": "jpg",
    "o_width": "3264",
    "o_height": "2448",
    "latitude": "39.938447",
    "longitude": -82.610925,
    "accuracy": "16",
    "url_l": "https://live.staticflickr.com/7780/27265926172_133989a6e5_b.jpg",
    "height_l": 768,
    "width_l": "1024",
    "url_o": "https://live.staticflickr.com/7780/27265926172_c72a44a52b_o.jpg",
    "height_o": "2448",
    "width_o": "3264",
}


def page(photos: list[object], **counts: object) -> bytes:
    numbers = {"page": 1, "pages": "3", "perpage": 250, "total": "600", **counts}
    return json.dumps({"photos": {**numbers, "photo": photos}, "stat": "ok"}).encode()


# -- requests --------------------------------------------------------------------------------


def test_per_page():
    assert per_page_for(True, None) == 250
    assert per_page_for(False, (0.0, 0.0, 1.0, 1.0)) == 250
    assert per_page_for(False, None) == 500


def test_extras_ask_for_everything_downstream_needs():
    extras = extras_for(["l", "o", "b", "l"]).split(",")
    for name in ("license", "date_upload", "date_taken", "owner_name", "original_format",
                 "o_dims", "views", "tags", "geo", "url_l", "url_o"):  # fmt: skip
        assert name in extras
    assert len(extras) == len(set(extras)) and "url_b" not in extras
    assert "description" not in extras


def test_search_params_geo():
    params = search_params(
        api_key="k", text="paris -birthday", geo=True, accuracy=6, licenses=frozenset({9, 4}),
        bbox=None, min_upload=1000, max_upload=2000, page=3, per_page=250,
        extras="license,url_l",
    )  # fmt: skip
    assert params == {
        "method": "flickr.photos.search", "api_key": "k", "text": "paris -birthday",
        "media": "photos", "sort": "date-posted-asc", "min_upload_date": "1000",
        "max_upload_date": "2000", "extras": "license,url_l", "per_page": "250", "page": "3",
        "format": "json", "nojsoncallback": "1", "has_geo": "1", "accuracy": "6",
        "license": "4,9",
    }  # fmt: skip


def test_search_params_without_geo_with_bbox():
    params = search_params(
        api_key="", text="x", geo=False, accuracy=6, licenses=None,
        bbox=(-74.25, 40.5, -73.7, 40.917), min_upload=1, max_upload=2, page=1, per_page=250,
        sort="interestingness-desc", extras="",
    )  # fmt: skip
    assert "has_geo" not in params and "accuracy" not in params and "license" not in params
    assert params["bbox"] == "-74.25,40.5,-73.7,40.917"
    assert params["sort"] == "interestingness-desc"
    assert all(isinstance(v, str) for v in params.values())


# -- HTTP and answer-level errors ----------------------------------------------------------


def test_check_http():
    check_http(200, b"{}", "application/json")
    check_http(200, b'{"stat":"ok"}', "text/html; charset=utf-8")  # mislabelled JSON is fine
    for status in (408, 429, 500, 502, 503, 504):
        with pytest.raises(Retryable) as info:
            check_http(status, b"", None)
        assert info.value.reason == f"http_{status}"
    with pytest.raises(Permanent, match="HTTP 404"):
        check_http(404, b"", None)
    with pytest.raises(Retryable, match="HTML"):
        check_http(200, b"<html>Flickr is having a massage</html>", "text/html")


@pytest.mark.parametrize(
    ("code", "kind"),
    [(100, InvalidKey), ("100", InvalidKey), (105, Retryable), (106, Retryable),
     (201, Retryable), (10, Retryable), (1, Permanent), (3, Permanent), (116, Permanent)],
)  # fmt: skip
def test_fail_codes(code, kind):
    body = json.dumps({"stat": "fail", "code": code, "message": "Invalid API Key"}).encode()
    with pytest.raises(kind) as info:
        parse_search(body, sizes=SIZES)
    assert info.value.code == int(code) and info.value.reason == f"code_{int(code)}"
    assert info.value.message == "Invalid API Key"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty_body"),
        (b"   \n", "empty_body"),
        (b"<!DOCTYPE html><html><body>502</body></html>", "html"),
        (b'<?xml version="1.0"?><rsp stat="fail"><err code="105"/></rsp>', "html"),
        (b'{"photos": {"page": 1, "pages": 3, "perpage": 250, "tot', "bad_json"),
        (b'{"stat": "ok"', "bad_json"),
        (b"[1, 2]", "bad_json"),
        (b"null", "bad_json"),
        (b"\xff\xfe\xfa garbage", "bad_json"),
        (b"[" * 100_000, "bad_json"),
        (b'{"stat": "fail", "message": "no code"}', "bad_answer"),
        (b'{"stat": "fail", "code": "x"}', "bad_answer"),
        (b'{"stat": "maybe"}', "bad_answer"),
        (b'{"stat": "ok"}', "bad_answer"),
        (b'{"stat": "ok", "photos": []}', "bad_answer"),
        (b'{"stat": "ok", "photos": {"total": 5, "photo": {}}}', "bad_answer"),
        (b'{"stat": "ok", "photos": {"photo": []}}', "bad_answer"),
        (b'{"stat": "ok", "photos": {"total": -1, "photo": []}}', "bad_answer"),
        (b'{"stat": "ok", "photos": {"total": "12a", "photo": []}}', "bad_answer"),
        (b'{"stat": "ok", "photos": {"total": 1.5, "photo": []}}', "bad_answer"),
        (b'{"stat": "ok", "photos": {"total": true, "photo": []}}', "bad_answer"),
    ],
)
def test_malformed_answers_are_retryable(body, reason):
    with pytest.raises(Retryable) as info:
        parse_search(body, sizes=SIZES)
    assert info.value.reason == reason and info.value.code is None


# -- pages -------------------------------------------------------------------------------------


def test_parse_search_page():
    result = parse_search(page([RECORD, {**RECORD, "id": 1234}]), sizes=SIZES)
    assert (result.page, result.pages, result.perpage, result.total) == (1, 3, 250, 600)
    assert [p.id for p in result.photos] == ["27265926172", "1234"]
    assert result.rejected == [] and result.received == 2


def test_parse_search_callback_wrapper():
    body = b"jsonFlickrApi(" + page([RECORD]) + b");\n"
    assert parse_search(body, sizes=SIZES).photos[0].id == RECORD["id"]
    fail = b'jsonFlickrApi({"stat":"fail","code":100,"message":"Invalid API Key"})'
    with pytest.raises(InvalidKey):
        parse_search(fail, sizes=SIZES)


def test_parse_search_collects_rejected_records():
    photos = [RECORD, {**RECORD, "id": "../1"}, {**RECORD, "id": "77", "owner": "x/y"}, "junk"]
    result = parse_search(page(photos, total=4), sizes=SIZES)
    assert len(result.photos) == 1 and result.received == 4
    assert result.rejected == [("bad_id", "?"), ("bad_owner", "77"), ("not_an_object", "?")]


def test_parse_search_empty_page_and_missing_counts():
    result = parse_search(b'{"stat":"ok","photos":{"total":0}}', sizes=SIZES)
    assert (result.page, result.pages, result.total, result.photos) == (0, 0, 0, [])


# -- photo records -----------------------------------------------------------------------------


def test_parse_photo_types_every_field():
    photo = parse_photo(RECORD, sizes=SIZES)
    assert photo == Photo(
        id="27265926172", secret="133989a6e5", server="7780", owner="25925838@N00",
        dateupload=1464658015, farm=8, ownername="Howard TJ", title="Mill House",
        tags="ohio mill house", license=2, latitude=39.938447, longitude=-82.610925,
        accuracy=16, datetaken="2016-05-03 18:19:21", views=454, originalformat="jpg",
        originalsecret="c72a44a52b", o_width=3264, o_height=2448,
        urls={"l": RECORD["url_l"], "o": RECORD["url_o"]},
        dims={"l": (1024, 768), "o": (3264, 2448)},
    )  # fmt: skip


def test_as_dict_feeds_photo_item():
    record = parse_photo(RECORD, sizes=SIZES).as_dict()
    assert list(record) == [*META_KEYS, "urls"]
    item = PhotoItem(**record, keyword="mill", license_name="x")
    assert item.urls["l"].endswith("_b.jpg") and item.o_width == 3264


def test_minimal_record():
    photo = parse_photo(
        {"id": 5, "secret": "ab", "server": "1", "owner": "1@N01", "dateupload": 99}, sizes=SIZES
    )
    assert (photo.id, photo.dateupload, photo.urls, photo.dims) == ("5", 99, {}, {})
    assert photo.latitude is photo.license is photo.title is photo.farm is None


def test_untagged_geo_is_none():
    photo = parse_photo({**RECORD, "latitude": 0, "longitude": "0", "accuracy": "0"}, sizes=SIZES)
    assert (photo.latitude, photo.longitude, photo.accuracy) == (None, None, None)


def test_zero_date_taken_and_zero_dims_are_none():
    raw = {**RECORD, "datetaken": "0000-00-00 00:00:00", "o_width": "0", "o_height": 0}
    photo = parse_photo(raw, sizes=SIZES)
    assert photo.datetaken is photo.o_width is photo.o_height is None


def test_unknown_license_ids_are_kept():
    assert parse_photo({**RECORD, "license": "17"}, sizes=SIZES).license == 17


def test_b_size_uses_url_l():
    photo = parse_photo(RECORD, sizes=("b",))
    assert photo.urls == {"b": RECORD["url_l"]} and photo.dims == {"b": (1024, 768)}


def test_text_is_cleaned_and_capped():
    raw = {**RECORD, "title": "a\ud800b\x00c" + "x" * 5000, "ownername": {"_content": "Jo"}}
    photo = parse_photo(raw, sizes=SIZES)
    assert photo.title is not None and photo.title.startswith("a?bc") and len(photo.title) == 1000
    photo.title.encode("utf-8")
    assert photo.ownername == "Jo"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": "../1"}, "bad_id"), ({"id": ""}, "bad_id"), ({"id": -5}, "bad_id"),
        ({"id": None}, "bad_id"), ({"id": "1" * 21}, "bad_id"), ({"id": True}, "bad_id"),
        ({"secret": "ab/cd"}, "bad_secret"), ({"secret": "a b"}, "bad_secret"),
        ({"server": "../x"}, "bad_server"), ({"owner": "25925838"}, "bad_owner"),
        ({"owner": "../@N00"}, "bad_owner"), ({"dateupload": None}, "bad_dateupload"),
        ({"dateupload": "-1"}, "bad_dateupload"), ({"dateupload": "1.5"}, "bad_dateupload"),
        ({"dateupload": "9" * 40}, "bad_dateupload"), ({"farm": "x"}, "bad_farm"),
        ({"license": "-1"}, "bad_license"), ({"views": "many"}, "bad_views"),
        ({"title": 5}, "bad_title"), ({"tags": ["a"]}, "bad_tags"),
        ({"latitude": "91"}, "bad_geo"), ({"longitude": "nan"}, "bad_geo"),
        ({"latitude": "1e999"}, "bad_geo"), ({"latitude": [1]}, "bad_geo"),
        ({"longitude": True}, "bad_geo"), ({"accuracy": "17"}, "bad_accuracy"),
        ({"datetaken": "yesterday"}, "bad_datetaken"), ({"o_width": "-5"}, "bad_o_width"),
        ({"originalformat": "jpg/../x"}, "bad_originalformat"),
        ({"originalsecret": "a/b"}, "bad_originalsecret"),
        ({"url_l": "javascript:alert(1)"}, "bad_url"), ({"url_o": "file:///etc/passwd"}, "bad_url"),
        ({"url_l": "ftp://x/y.jpg"}, "bad_url"), ({"url_l": "https://a b/c.jpg"}, "bad_url"),
        ({"url_l": 5}, "bad_url"), ({"width_l": "-1024"}, "bad_width_l"),
        ({"height_o": "x"}, "bad_height_o"),
    ],
)  # fmt: skip
def test_malformed_records_are_rejected(change, reason):
    with pytest.raises(BadRecord) as info:
        parse_photo({**RECORD, **change}, sizes=SIZES)
    assert info.value.reason == reason


def test_not_a_record():
    for raw in (None, [], "id", 5):
        with pytest.raises(BadRecord, match="not_an_object"):
            parse_photo(raw, sizes=SIZES)


# -- fuzzing: nothing but BadRecord / FlickrError escapes --------------------------------------

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
    | st.text(max_size=40) | st.sampled_from(["../1", "0", "-5", "1e999", "javascript:x",
                                              "https://h/x.jpg", "12@N00", "\ud800", ""])
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [*RECORD, "url_c", "width_c", "ownername"]


@settings(max_examples=300, deadline=None)
@given(changes=st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6),
       dropped=st.sets(st.sampled_from(FIELDS), max_size=5))  # fmt: skip
def test_parse_photo_only_raises_bad_record(changes, dropped):
    raw = {k: v for k, v in {**RECORD, **changes}.items() if k not in dropped}
    try:
        photo = parse_photo(raw, sizes=("l", "o", "c"))
    except BadRecord as exc:
        assert re.fullmatch(r"[a-z_]+", exc.reason)
        return
    assert re.fullmatch(r"[0-9]{1,20}", photo.id)
    assert re.fullmatch(r"[0-9A-Za-z]+", photo.secret + photo.server)
    assert re.fullmatch(r"[0-9]+@N[0-9]{2}", photo.owner)
    assert all(u.lower().startswith(("http://", "https://")) for u in photo.urls.values())
    assert all(w > 0 and h > 0 for w, h in photo.dims.values())
    json.dumps(photo.as_dict(), ensure_ascii=False).encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_parse_search_only_raises_flickr_errors(body):
    try:
        parse_search(body, sizes=SIZES)
    except FlickrError as exc:
        assert exc.reason and "\n" not in exc.reason


@settings(max_examples=200, deadline=None)
@given(photos=st.lists(json_values | st.just(RECORD), max_size=5), counts=st.dictionaries(
    st.sampled_from(["page", "pages", "perpage", "total"]), json_values, max_size=4))  # fmt: skip
def test_parse_search_of_odd_pages(photos, counts):
    body = json.dumps({"stat": "ok", "photos": {"total": 1, **counts, "photo": photos}})
    try:
        result = parse_search(body.encode(), sizes=SIZES)
    except Retryable:
        return
    assert result.received == len(photos)


# -- redaction ---------------------------------------------------------------------------------


def test_redact():
    key = "0123456789abcdef0123456789abcdef"
    text = (
        f"GET https://api.flickr.com/services/rest/?method=x&api_key={key}&page=2 "
        f'body api_key=other-key&x=1 json {{"api_key": "third"}} enc api_key%3Dfourth '
        f"bare {key}"
    )
    out = redact(text, key)
    assert key not in out and "other-key" not in out and "third" not in out
    assert "fourth" not in out and out.count("REDACTED") == 5
    assert "page=2" in out and "x=1" in out
    assert redact("api_key=abc", "") == "api_key=REDACTED"
    assert redact("nothing here", key) == "nothing here"
