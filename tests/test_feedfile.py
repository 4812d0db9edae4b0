"""JSON Lines feed files a killed crawl can append to (``flickrspider.feedfile``)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flickrspider.feedfile import read_ids, record_id, repair_tail

LINE = b'{"id": "101", "title": "a"}\n'


@pytest.mark.parametrize(
    ("content", "expected", "cut"),
    [
        (b"", b"", 0),
        (LINE, LINE, 0),
        (LINE + b'{"id": "102", "ti', LINE, 17),  # a cut record is dropped
        (LINE + b'{"id": "102"}', LINE + b'{"id": "102"}\n', 0),  # a whole one is ended
        (b'{"id": "1', b"", 9),  # a file of one partial line
        (LINE + b"\n", LINE + b"\n", 0),
    ],
)
def test_repair_tail(tmp_path, content, expected, cut):
    path = tmp_path / "feed.jsonl"
    path.write_bytes(content)
    assert repair_tail(path) == cut
    assert path.read_bytes() == expected


def test_repair_tail_finds_the_last_newline_far_back(tmp_path):
    path = tmp_path / "feed.jsonl"
    long_partial = b'{"id": "7", "tags": "' + b"x" * 200_000
    path.write_bytes(LINE * 3 + long_partial)
    assert repair_tail(path) == len(long_partial)
    assert path.read_bytes() == LINE * 3


def test_repair_tail_of_a_missing_file(tmp_path):
    assert repair_tail(tmp_path / "none.jsonl") == 0


def test_read_ids_skips_what_is_not_a_record(tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_bytes(
        LINE + b"garbage\n" + b'{"id": 5}\n' + b'{"id": "x/../1"}\n' + b'[1]\n{"id": "9"'
    )
    assert set(read_ids(path)) == {101, 5}
    assert 101 in read_ids(path) and 102 not in read_ids(path) and "101" not in read_ids(path)


@given(st.binary(max_size=300))
def test_record_id_never_raises(line):
    record_id(line)


@given(st.lists(st.integers(min_value=1, max_value=10**15), max_size=20), st.binary(max_size=40))
def test_repair_keeps_every_whole_line(tmp_path_factory, ids, tail):
    path = tmp_path_factory.mktemp("feeds") / "feed.jsonl"
    body = b"".join(json.dumps({"id": str(i)}).encode() + b"\n" for i in ids)
    path.write_bytes(body + tail.replace(b"\n", b" "))
    repair_tail(path)
    data = path.read_bytes()
    assert data.startswith(body) and (not data or data.endswith(b"\n"))
    assert set(ids) <= set(read_ids(path))
