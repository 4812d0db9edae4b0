"""Flickr's photo licenses: ids 0-16, names, deed URLs and named groups.

Names are Flickr's own, as ``flickr.photos.licenses.getInfo`` returns them
(https://www.flickr.com/services/api/flickr.photos.licenses.getInfo.html):
ids 0-8 since 2008, 9 (CC0) and 10 (Public Domain Mark) since 2015, 11-16
(Creative Commons 4.0) since June 2025. ``short`` is the conventional short
form (``CC BY-SA 2.0``) used in attribution lines.

The ``license`` spider argument takes ids and group names, mixed::

    license=4,5,9        license=commercial        license=public,11
"""

from __future__ import annotations

from dataclasses import dataclass

_CC = "https://creativecommons.org/"
_COMMONS = "https://www.flickr.com/commons/usage/"
_USGOV = "http://www.usa.gov/copyright.shtml"


@dataclass(frozen=True)
class License:
    """One Flickr license: its id, Flickr's name, a short form and the deed URL ("" if none)."""

    id: int
    name: str
    short: str
    url: str


def _table() -> dict[int, License]:
    rows = [
        (0, "All Rights Reserved", "All Rights Reserved", ""),
        (1, "Attribution-NonCommercial-ShareAlike License", "CC BY-NC-SA 2.0", "by-nc-sa/2.0"),
        (2, "Attribution-NonCommercial License", "CC BY-NC 2.0", "by-nc/2.0"),
        (3, "Attribution-NonCommercial-NoDerivs License", "CC BY-NC-ND 2.0", "by-nc-nd/2.0"),
        (4, "Attribution License", "CC BY 2.0", "by/2.0"),
        (5, "Attribution-ShareAlike License", "CC BY-SA 2.0", "by-sa/2.0"),
        (6, "Attribution-NoDerivs License", "CC BY-ND 2.0", "by-nd/2.0"),
        (7, "No known copyright restrictions", "No known copyright restrictions", _COMMONS),
        (8, "United States Government Work", "US Government Work", _USGOV),
        (9, "Public Domain Dedication (CC0)", "CC0 1.0", _CC + "publicdomain/zero/1.0/"),
        (10, "Public Domain Mark", "PDM 1.0", _CC + "publicdomain/mark/1.0/"),
        (11, "CC BY 4.0", "CC BY 4.0", "by/4.0"),
        (12, "CC BY-SA 4.0", "CC BY-SA 4.0", "by-sa/4.0"),
        (13, "CC BY-ND 4.0", "CC BY-ND 4.0", "by-nd/4.0"),
        (14, "CC BY-NC 4.0", "CC BY-NC 4.0", "by-nc/4.0"),
        (15, "CC BY-NC-SA 4.0", "CC BY-NC-SA 4.0", "by-nc-sa/4.0"),
        (16, "CC BY-NC-ND 4.0", "CC BY-NC-ND 4.0", "by-nc-nd/4.0"),
    ]
    table = {}
    for lid, name, short, url in rows:
        # Creative Commons licenses are given by their path under /licenses/.
        full = url if url == "" or url.startswith("http") else f"{_CC}licenses/{url}/"
        table[lid] = License(lid, name, short, full)
    return table


LICENSES: dict[int, License] = _table()

# Named groups for the ``license`` argument.
GROUPS: dict[str, frozenset[int]] = {
    # Creative Commons licenses (2.0 and 4.0) and the CC0 waiver; the Public
    # Domain Mark is a label, not a license, and lives in "public".
    "cc": frozenset({1, 2, 3, 4, 5, 6, 9, 11, 12, 13, 14, 15, 16}),
    # Free to use commercially: CC BY, BY-SA, BY-ND (2.0 and 4.0), no known
    # restrictions, US Government Work, CC0, Public Domain Mark.
    "commercial": frozenset({4, 5, 6, 7, 8, 9, 10, 11, 12, 13}),
    # No copyright asserted.
    "public": frozenset({7, 8, 9, 10}),
}


def parse_licenses(value: str) -> frozenset[int]:
    """License ids from a comma list of ids and/or group names (``"4,5,public"``).

    Raises ``ValueError`` with a one-line message naming the bad part.
    """
    ids: set[int] = set()
    for raw in value.split(","):
        part = raw.strip().lower()
        if not part:
            continue
        if part in GROUPS:
            ids |= GROUPS[part]
        elif part.isascii() and part.isdigit() and int(part) in LICENSES:
            ids.add(int(part))
        else:
            groups = ", ".join(sorted(GROUPS))
            raise ValueError(f"unknown license {raw.strip()!r}: use ids 0-16 or {groups}")
    if not ids:
        raise ValueError("no license given: use ids 0-16 or " + ", ".join(sorted(GROUPS)))
    return frozenset(ids)


def license_name(license_id: object) -> str:
    """Flickr's name of a license id; ``"Unknown license (N)"`` for ids Flickr adds later."""
    if isinstance(license_id, int) and not isinstance(license_id, bool):
        known = LICENSES.get(license_id)
        return known.name if known else f"Unknown license ({license_id})"
    return "Unknown license"
