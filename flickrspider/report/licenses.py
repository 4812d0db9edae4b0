"""Flickr's license ids (``flickr.photos.licenses.getInfo``): short names and deed URLs.

The report names licenses by these short, versioned forms ("CC BY 2.0" rather than
Flickr's "Attribution License"), whatever name a record carries, and links the deed.
"""

from __future__ import annotations

_CC = "https://creativecommons.org/"

# id: (name, URL or "" when there is no license to link to)
LICENSES: dict[int, tuple[str, str]] = {
    0: ("All Rights Reserved", ""),
    1: ("CC BY-NC-SA 2.0", _CC + "licenses/by-nc-sa/2.0/"),
    2: ("CC BY-NC 2.0", _CC + "licenses/by-nc/2.0/"),
    3: ("CC BY-NC-ND 2.0", _CC + "licenses/by-nc-nd/2.0/"),
    4: ("CC BY 2.0", _CC + "licenses/by/2.0/"),
    5: ("CC BY-SA 2.0", _CC + "licenses/by-sa/2.0/"),
    6: ("CC BY-ND 2.0", _CC + "licenses/by-nd/2.0/"),
    7: ("No known copyright restrictions", "https://www.flickr.com/commons/usage/"),
    8: ("US Government Work", "https://www.usa.gov/government-copyright"),
    9: ("CC0 1.0", _CC + "publicdomain/zero/1.0/"),
    10: ("Public Domain Mark 1.0", _CC + "publicdomain/mark/1.0/"),
    11: ("CC BY 4.0", _CC + "licenses/by/4.0/"),
    12: ("CC BY-SA 4.0", _CC + "licenses/by-sa/4.0/"),
    13: ("CC BY-ND 4.0", _CC + "licenses/by-nd/4.0/"),
    14: ("CC BY-NC 4.0", _CC + "licenses/by-nc/4.0/"),
    15: ("CC BY-NC-SA 4.0", _CC + "licenses/by-nc-sa/4.0/"),
    16: ("CC BY-NC-ND 4.0", _CC + "licenses/by-nc-nd/4.0/"),
}


def license_name(license_id: int | None, stored_name: str = "") -> str:
    """The short name of a known id, else the name stored with the photo."""
    if license_id in LICENSES:
        return LICENSES[license_id][0]
    if stored_name:
        return stored_name
    return "Unknown license" if license_id is None else f"License {license_id}"


def license_url(license_id: int | None) -> str:
    """The deed URL of a license id, or "" (All Rights Reserved, unknown ids)."""
    return LICENSES.get(license_id, ("", ""))[1] if license_id is not None else ""
