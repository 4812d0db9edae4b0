"""License names and deed links for the report, from ``flickrspider.licenses``.

The report names licenses by their short, versioned forms ("CC BY 2.0" rather than
Flickr's "Attribution License"), whatever name a record carries, and links the deed.
"""

from __future__ import annotations

from flickrspider.licenses import LICENSES


def license_name(license_id: int | None, stored_name: str = "") -> str:
    """The short name of a known id, else the name stored with the photo."""
    if license_id is not None and license_id in LICENSES:
        return LICENSES[license_id].short
    if stored_name:
        return stored_name
    return "Unknown license" if license_id is None else f"License {license_id}"


def license_url(license_id: int | None) -> str:
    """The deed URL of a license id, or "" (All Rights Reserved, unknown ids)."""
    known = LICENSES.get(license_id) if license_id is not None else None
    return known.url if known else ""
