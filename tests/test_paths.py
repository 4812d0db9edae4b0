from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flickrspider.paths import STATE_DIR, file_name, keyword_dir, photo_path, shard_dir


@pytest.mark.parametrize("keyword", ["paris", "new york", "東京", "São Paulo"])
def test_plain_keywords_are_kept(keyword):
    assert keyword_dir(keyword) == keyword


@pytest.mark.parametrize(
    "keyword",
    [
        "../../x",
        "a/b",
        "..",
        ".",
        "",
        "CON",
        "con.txt",
        "a\\b",
        "x\x00y",
        ".flickrspider",
        " lpt1 ",
    ],
)
def test_hostile_keywords_stay_inside(keyword, tmp_path):
    name = keyword_dir(keyword)
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert name not in {"", ".", "..", STATE_DIR}
    assert name.split(".")[0].upper() not in {"CON", "LPT1"}
    target = (tmp_path / name).resolve()
    assert target.parent == tmp_path.resolve()


def test_changed_names_do_not_collide():
    assert keyword_dir("a/b") != keyword_dir("a_b")
    assert keyword_dir("a/b") == keyword_dir("a/b")  # deterministic


def test_long_keyword_is_capped():
    name = keyword_dir("ü" * 500)
    assert len(name.encode()) <= 120
    assert keyword_dir("ü" * 500) != keyword_dir("ü" * 501)


@given(st.text(max_size=300))
def test_any_keyword_is_one_safe_component(keyword):
    name = keyword_dir(keyword)
    parts = PurePosixPath(name).parts
    assert len(parts) == 1 and parts[0] not in {".", ".."}
    assert not any(ord(c) < 32 for c in name)
    assert len(name.encode("utf-8")) <= 120


def test_shards_fill_in_order():
    assert [shard_dir(i, 1000) for i in (0, 999, 1000, 15999)] == [
        "00000",
        "00000",
        "00001",
        "00015",
    ]
    assert (
        photo_path("Argentina", 15000, 1000, "1_a_2_3@N00.jpg") == "Argentina/00015/1_a_2_3@N00.jpg"
    )


def test_file_name_refuses_path_characters():
    assert file_name("315157387", "c36ba74681", "100", "23812473@N00") == (
        "315157387_c36ba74681_100_23812473@N00.jpg"
    )
    for bad in ("../1", "1/2", "", "a b"):
        with pytest.raises(ValueError):
            file_name(bad, "s", "1", "o@N00")
    assert Path(file_name("1", "s", "1", "o@N00")).name == "1_s_1_o@N00.jpg"
