"""License ids, names, groups and the ``license`` argument parser."""

from __future__ import annotations

import pytest

from flickrspider.licenses import GROUPS, LICENSES, License, license_name, parse_licenses


def test_every_flickr_license_id_is_known():
    assert sorted(LICENSES) == list(range(17))
    assert all(isinstance(lic, License) and lic.id == lid for lid, lic in LICENSES.items())


@pytest.mark.parametrize(
    ("lid", "name", "short"),
    [
        (0, "All Rights Reserved", "All Rights Reserved"),
        (1, "Attribution-NonCommercial-ShareAlike License", "CC BY-NC-SA 2.0"),
        (4, "Attribution License", "CC BY 2.0"),
        (7, "No known copyright restrictions", "No known copyright restrictions"),
        (8, "United States Government Work", "US Government Work"),
        (9, "Public Domain Dedication (CC0)", "CC0 1.0"),
        (10, "Public Domain Mark", "PDM 1.0"),
        (11, "CC BY 4.0", "CC BY 4.0"),
        (16, "CC BY-NC-ND 4.0", "CC BY-NC-ND 4.0"),
    ],
)
def test_names_follow_flickr(lid, name, short):
    assert (LICENSES[lid].name, LICENSES[lid].short) == (name, short)


def test_deed_urls():
    assert LICENSES[0].url == ""
    assert LICENSES[5].url == "https://creativecommons.org/licenses/by-sa/2.0/"
    assert LICENSES[13].url == "https://creativecommons.org/licenses/by-nd/4.0/"
    assert LICENSES[9].url == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert all(lic.url.startswith("http") for lid, lic in LICENSES.items() if lid)


def test_groups():
    assert GROUPS["public"] == {7, 8, 9, 10}
    assert GROUPS["commercial"] == {4, 5, 6, 7, 8, 9, 10, 11, 12, 13}
    assert GROUPS["cc"] == {1, 2, 3, 4, 5, 6, 9, 11, 12, 13, 14, 15, 16}
    assert 0 not in set().union(*GROUPS.values())


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        ("4", {4}),
        (" 4 , 5,9 ", {4, 5, 9}),
        ("public", {7, 8, 9, 10}),
        ("PUBLIC,11", {7, 8, 9, 10, 11}),
        ("commercial,public", GROUPS["commercial"]),
        ("0,16", {0, 16}),
        ("4,,5,", {4, 5}),
    ],
)
def test_parse_licenses(value, ids):
    assert parse_licenses(value) == frozenset(ids)


@pytest.mark.parametrize("value", ["17", "-1", "cc0", "4;5", "", " , ", "٤", "4.0"])
def test_parse_licenses_rejects_with_a_clear_message(value):
    with pytest.raises(ValueError, match="license") as info:
        parse_licenses(value)
    assert "\n" not in str(info.value)


def test_license_name():
    assert license_name(4) == "Attribution License"
    assert license_name(17) == "Unknown license (17)"
    assert license_name(None) == "Unknown license"
    assert license_name(True) == "Unknown license"
