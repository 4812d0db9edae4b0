"""Attribution: who made each photo, under which license, and where it lives on Flickr.

The photos shown on the page are credited in a plain HTML table. The full list (every
photo of the dataset) is embedded as gzip-compressed, base64-encoded columnar JSON and
paged by the page's script, which keeps a 100,000-photo report at a few megabytes.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterable
from urllib.parse import quote

from flickrspider.report.collect import Photo
from flickrspider.report.licenses import license_name, license_url
from flickrspider.report.svg import esc


def photo_url(photo: Photo) -> str:
    return f"https://www.flickr.com/photos/{quote(photo.owner, safe='@')}/{quote(photo.id)}"


def people_url(owner: str) -> str:
    return f"https://www.flickr.com/people/{quote(owner, safe='@')}/"


def display_title(photo: Photo) -> str:
    return photo.title.strip() or "Untitled"


def caption(photo: Photo) -> str:
    """Plain text (escape it before use): title, owner, license."""
    owner = photo.ownername or photo.owner
    return f"{display_title(photo)} by {owner} ({license_name(photo.license, photo.license_name)})"


def license_link(photo: Photo) -> str:
    name, url = license_name(photo.license, photo.license_name), license_url(photo.license)
    if not url:
        return esc(name)
    return f'<a href="{esc(url)}" target="_blank" rel="noopener license">{esc(name)}</a>'


def shown_table(photos: Iterable[Photo]) -> str:
    """An HTML table crediting ``photos`` (title and photo link, owner, license)."""
    rows = []
    for photo in photos:
        rows.append(
            "<tr>"
            f'<td><a href="{esc(photo_url(photo))}" target="_blank" rel="noopener">'
            f"{esc(display_title(photo))}</a></td>"
            f'<td><a href="{esc(people_url(photo.owner))}" target="_blank" rel="noopener">'
            f"{esc(photo.ownername or photo.owner)}</a></td>"
            f"<td>{license_link(photo)}</td><td>{esc(photo.keyword)}</td>"
            "</tr>"
        )
    if not rows:
        return '<p class="empty">No photos are shown on this page.</p>'
    return (
        '<table class="attribution" id="shown-attribution"><thead><tr><th>Photo</th>'
        "<th>Author</th><th>License</th><th>Keyword</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def encode_all(photos: Iterable[Photo]) -> str:
    """Every photo's credit as base64(gzip(JSON)): index tables plus one column per field."""
    keywords: dict[str, int] = {}
    owners: dict[tuple[str, str], int] = {}
    licenses: dict[tuple[int | None, str], int] = {}
    columns: dict[str, list[object]] = {"id": [], "k": [], "o": [], "l": [], "t": []}
    for photo in sorted(photos, key=lambda p: (p.keyword, p.dateupload or 0, p.id)):
        lic = (photo.license, license_name(photo.license, photo.license_name))
        columns["id"].append(photo.id)
        columns["k"].append(keywords.setdefault(photo.keyword, len(keywords)))
        columns["o"].append(owners.setdefault((photo.owner, photo.ownername), len(owners)))
        columns["l"].append(licenses.setdefault(lic, len(licenses)))
        columns["t"].append(photo.title[:200])
    data = {
        "keywords": list(keywords),
        "owners": [owner for owner, _ in owners],
        "names": [name for _, name in owners],
        "licenses": [[name, license_url(lid)] for lid, name in licenses],
        **columns,
    }
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")


def decode_all(blob: str) -> dict[str, list[object]]:
    """The inverse of ``encode_all`` (for tests and scripts)."""
    data: dict[str, list[object]] = json.loads(gzip.decompress(base64.b64decode(blob)))
    return data
