"""Spider arguments: parsing, validation messages, queries files, negatives, shards."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flickrspider.args import (
    FLICKR_LAUNCH,
    ArgumentError,
    DownloadArgs,
    SearchArgs,
    is_negative,
    parse_queries_file,
    query_text,
)

NOW = 1_700_000_000  # 2023-11-14T22:13:20Z


def parse(**kwargs: object) -> SearchArgs:
    return SearchArgs.from_kwargs({"keywords": "paris", **kwargs}, now=NOW)


def error(**kwargs: object) -> str:
    with pytest.raises(ArgumentError) as info:
        SearchArgs.from_kwargs(kwargs, now=NOW)
    message = str(info.value)
    assert "\n" not in message
    return message


# -- SearchArgs ------------------------------------------------------------------------------


def test_defaults():
    args = parse()
    assert args == SearchArgs(queries=("paris",), max_upload_date=NOW)
    assert (args.min_upload_date, args.geo, args.accuracy) == (FLICKR_LAUNCH, True, 6)
    assert (args.licenses, args.bbox, args.max_photos, args.download) == (None, None, None, True)
    assert (args.negatives, args.negatives_mode) == ((), "filter")


def test_keywords_are_split_trimmed_and_deduplicated():
    args = parse(keywords=" new  york ,Paris,, paris,-Birthday,- wedding")
    assert args.queries == ("new york", "Paris")
    assert args.negatives == ("Birthday", "wedding")


def test_scrapyd_arguments_are_ignored():
    assert parse(_job="abc", _version="1", _spider="flickr") == parse()


def test_unknown_argument_names_a_close_match():
    assert error(keyword="paris") == (
        "bad spider argument keyword='paris': unknown argument (did you mean keywords?)"
    )
    assert "known:" in error(keywords="a", zzz="1")


def test_keywords_or_queries_file_required():
    assert error() == "missing spider argument keywords: give keywords=a,b or queries_file=<path>"
    assert "keywords=' , '" in error(keywords=" , ")
    assert "keywords='-birthday'" in error(keywords="-birthday")


def test_the_example_message_of_the_spec():
    assert error(keywords="a", accuracy="20") == (
        "bad spider argument accuracy='20': must be an integer from 1 to 16"
    )


@pytest.mark.parametrize("value", ["0", "17", "six", "6.5", "-1", ""])
def test_accuracy_range(value):
    assert f"accuracy={value!r}" in error(keywords="a", accuracy=value)


def test_accuracy_with_geo_off_is_an_error():
    assert error(keywords="a", geo="0", accuracy="11") == (
        "bad spider argument accuracy='11': only applies with geo=1"
    )
    assert parse(geo="0").geo is False
    assert parse(geo="1", accuracy="16").accuracy == 16


BOOLEANS = [("1", True), ("true", True), ("False", False), ("0", False), ("yes", True)]


@pytest.mark.parametrize(("value", "expected"), [*BOOLEANS, ("off", False)])
def test_booleans(value, expected):
    assert parse(download=value).download is expected
    assert parse(geo=value).geo is expected


def test_bad_boolean():
    assert error(keywords="a", download="maybe") == (
        "bad spider argument download='maybe': must be 1 or 0 (true/false)"
    )


def test_negatives_mode():
    assert parse(negatives="query").negatives_mode == "query"
    assert parse(negatives=" FILTER ").negatives_mode == "filter"
    assert "negatives='drop'" in error(keywords="a", negatives="drop")


def test_license_argument():
    assert parse(license="public,4").licenses == {4, 7, 8, 9, 10}
    message = error(keywords="a", license="cc,free")
    assert message.startswith("bad spider argument license='cc,free': unknown license 'free'")


@pytest.mark.parametrize(
    ("value", "stamp"),
    [
        ("1262304000", 1262304000),
        ("2010-01-01", 1262304000),
        ("2010-01-01T00:00:00", 1262304000),
        ("2010-01-01 00:00:00", 1262304000),
        ("2010-01-01T00:00:00Z", 1262304000),
        ("2010-01-01T02:00:00+02:00", 1262304000),
        ("2010-01-01T00:00:00.9", 1262304000),
    ],
)
def test_min_upload_date_forms(value, stamp):
    assert parse(min_upload_date=value).min_upload_date == stamp


def test_max_upload_date_as_a_day_includes_the_whole_day():
    args = parse(min_upload_date="2010-05-01", max_upload_date="2010-05-01")
    assert (args.min_upload_date, args.max_upload_date) == (1272672000, 1272672000 + 86399)
    assert parse(max_upload_date="2010-05-01T00:00:00").max_upload_date == 1272672000


def test_future_max_is_clamped_to_now():
    assert parse(max_upload_date="2999-01-01").max_upload_date == NOW
    assert parse(max_upload_date=str(10**12)).max_upload_date == NOW


@pytest.mark.parametrize(
    ("kwargs", "start"),
    [
        ({"min_upload_date": "2011-01-01", "max_upload_date": "2010-01-01"}, "max_upload_date="),
        ({"min_upload_date": "1262304000", "max_upload_date": "1262304000"}, "max_upload_date="),
        ({"min_upload_date": "2999-01-01"}, "min_upload_date='2999-01-01': is in the future"),
        ({"min_upload_date": "yesterday"}, "min_upload_date='yesterday': must be a date"),
        ({"max_upload_date": "2010-02-30"}, "max_upload_date='2010-02-30'"),
        ({"min_upload_date": "-5"}, "min_upload_date='-5'"),
        ({"min_upload_date": "1969-12-31T00:00:00"}, "min_upload_date="),
        ({"min_upload_date": "0001-01-01T00:00:00+01:00"}, "min_upload_date="),
    ],
)
def test_bad_dates(kwargs, start):
    assert error(keywords="a", **kwargs).startswith("bad spider argument " + start)


def test_bbox():
    assert parse(bbox="-74.3, 40.5,-73.7,40.9").bbox == (-74.3, 40.5, -73.7, 40.9)
    assert parse(bbox="-180,-90,180,90").bbox == (-180.0, -90.0, 180.0, 90.0)


@pytest.mark.parametrize(
    "value",
    ["1,2,3", "1,2,3,4,5", "a,b,c,d", "10,0,5,1", "0,10,1,5", "-181,0,0,1", "0,-91,1,0",
     "nan,0,1,1", "0,0,inf,1", "0,0,0,1", ""],
)  # fmt: skip
def test_bad_bbox(value):
    assert error(keywords="a", bbox=value).startswith(f"bad spider argument bbox={value!r}")


def test_max_photos():
    assert parse(max_photos="500").max_photos == 500
    for bad in ("0", "-3", "many", "1e3"):
        assert f"max_photos={bad!r}: must be an integer of at least 1" in error(
            keywords="a", max_photos=bad
        )


def test_non_string_values_are_accepted():
    assert parse(max_photos=5, geo=0, download=False).max_photos == 5


def test_long_values_are_shortened_in_messages():
    message = error(keywords="a", bbox="1" * 5000)
    assert len(message) < 400


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["keywords", "queries_file", "negatives", "geo", "accuracy",
                                        "license", "min_upload_date", "max_upload_date", "bbox",
                                        "max_photos", "download", "keyword", "_job"]),
                       st.text(max_size=30)))  # fmt: skip
def test_only_argument_errors_escape(kwargs):
    kwargs.pop("queries_file", None)  # file access is covered below
    try:
        args = SearchArgs.from_kwargs(kwargs, now=NOW)
    except ArgumentError as exc:
        assert "\n" not in str(exc) and str(exc).count("spider argument") == 1
    else:
        assert args.queries and args.min_upload_date < args.max_upload_date <= NOW


# -- queries files -----------------------------------------------------------------------


ORIGINAL_STYLE = (
    "# place recognition queries\r\n"
    "Argentina\r\n"
    "\r\n"
    "NY\r\n"
    "new york city\r\n"
    "-birthday\r\n"
    "-portrait\r\n"
    "  Paris  \r\n"
    "argentina\r\n"
    "-bw\r\n"
    "#-wedding\r\n"
    "- \r\n"
)


def test_parse_queries_file_original_format():
    queries, negatives = parse_queries_file(ORIGINAL_STYLE)
    assert queries == ["Argentina", "new york city", "Paris"]
    assert negatives == ["birthday", "portrait", "bw"]


def test_parse_queries_file_lf_and_empty():
    assert parse_queries_file("a\nrome\nberlin\n") == (["rome", "berlin"], [])
    assert parse_queries_file("") == ([], [])


def test_queries_file_argument(tmp_path):
    path = tmp_path / "place_rec_queries.txt"
    path.write_bytes(b"\xef\xbb\xbf" + ORIGINAL_STYLE.encode())
    args = parse(keywords="tokyo,-kid", queries_file=str(path))
    assert args.queries == ("tokyo", "Argentina", "new york city", "Paris")
    assert args.negatives == ("kid", "birthday", "portrait", "bw")
    only_file = SearchArgs.from_kwargs({"queries_file": str(path)}, now=NOW)
    assert only_file.queries[0] == "Argentina"


def test_queries_file_of_negatives_only_needs_keywords(tmp_path):
    path = tmp_path / "negatives.txt"
    path.write_text("-birthday\n-wedding\n")
    assert parse(queries_file=str(path)).negatives == ("birthday", "wedding")
    assert error(queries_file=str(path)).startswith("bad spider argument queries_file=")


def test_unreadable_queries_file(tmp_path):
    assert "cannot be read" in error(queries_file=str(tmp_path / "missing.txt"))
    assert "cannot be read" in error(queries_file=str(tmp_path))
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"caf\xe9 paris\n")
    assert "cannot be read (UnicodeDecodeError)" in error(queries_file=str(bad))


# -- negatives ----------------------------------------------------------------------------


def test_query_text():
    args = parse(keywords="paris,-birthday,-new york")
    assert query_text("paris", args) == "paris"
    query_mode = parse(keywords="paris,-birthday,-new york", negatives="query")
    assert query_text("paris", query_mode) == 'paris -birthday -"new york"'
    assert query_text("paris", parse(negatives="query")) == "paris"


@pytest.mark.parametrize(
    ("tags", "title", "hit"),
    [
        ("paris birthday eiffel", "", True),
        ("paris", "My Birthday in Paris", True),
        ("paris", "BIRTHDAY!", True),
        ("happybirthday paris", "birthdays", False),
        ("paris", "", False),
        ("newyork skyline", "", True),
        ("", "Trip to New York", True),
        ("", "newyorker", False),
    ],
)
def test_is_negative(tags, title, hit):
    assert is_negative(tags, title, ("birthday", "new york")) is hit


def test_is_negative_without_terms():
    assert is_negative("birthday", "birthday", ()) is False
    assert is_negative("a", "b", [" "]) is False


def test_is_negative_escapes_regex_characters():
    assert is_negative("c++ code", "", ["c++"]) is True
    assert is_negative("cxx code", "", ["c++"]) is False
    assert is_negative("", "learning c++", ["learning c++"]) is True
    assert is_negative("", "a.b", ["a.b"]) is True
    assert is_negative("", "axb", ["a.b"]) is False


# -- DownloadArgs --------------------------------------------------------------------------


def test_download_args(tmp_path):
    feed = tmp_path / "photos.jsonl"
    feed.write_text("")
    args = DownloadArgs.from_kwargs({"input": str(feed), "_job": "1"})
    assert args == DownloadArgs(input=str(feed), shard=None)
    assert args.in_shard("123")
    assert DownloadArgs.from_kwargs({"input": str(feed), "shard": " 3 / 15 "}).shard == (3, 15)


def test_download_args_errors(tmp_path):
    cases = [
        ({}, "missing spider argument input"),
        ({"input": str(tmp_path / "nope.jsonl")}, "bad spider argument input="),
        ({"input": str(tmp_path)}, "no such file"),
        ({"input": __file__, "shard": "0/3"}, "bad spider argument shard='0/3'"),
        ({"input": __file__, "shard": "4/3"}, "must be K/N with 1 <= K <= N"),
        ({"input": __file__, "shard": "1-3"}, "bad spider argument shard='1-3'"),
        ({"input": __file__, "keywords": "x"}, "bad spider argument keywords='x': unknown"),
    ]
    for kwargs, expected in cases:
        with pytest.raises(ArgumentError, match=expected.replace("(", r"\(")):
            DownloadArgs.from_kwargs(kwargs)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 20), ids=st.lists(st.integers(0, 10**12).map(str) | st.text(max_size=8)))
def test_shards_partition_the_ids(n, ids):
    shards = [DownloadArgs(input="x", shard=(k, n)) for k in range(1, n + 1)]
    for photo_id in ids:
        assert sum(s.in_shard(photo_id) for s in shards) == 1
