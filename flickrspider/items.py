"""Items: one photo found by the search, on its way to the dataset.

``META_KEYS`` are the Flickr API field names stored with every photo (SPEC §5);
``STORED_KEYS`` are what a stored image adds. The JSON Lines feed and the JPEG
comment carry ``META_KEYS + ("keyword",)`` and, for stored images, the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flickrspider.paths import file_name

# Flickr's own field names, in the order they appear in feeds and comments.
META_KEYS: tuple[str, ...] = (
    "id",
    "secret",
    "server",
    "farm",
    "owner",
    "ownername",
    "title",
    "tags",
    "license",
    "latitude",
    "longitude",
    "accuracy",
    "datetaken",
    "dateupload",
    "views",
    "originalformat",
    "o_width",
    "o_height",
)
# Added to every record: the query that found the photo and the license's name.
RECORD_KEYS: tuple[str, ...] = (*META_KEYS, "keyword", "license_name")
# Added once the image is stored.
STORED_KEYS: tuple[str, ...] = ("source_url", "source_size", "width", "height", "frame")
# Fields of a stage-1 feed record, and of a stored-image feed record.
STAGE1_FIELDS: tuple[str, ...] = (*RECORD_KEYS, "urls")
STORED_FIELDS: tuple[str, ...] = (*RECORD_KEYS, *STORED_KEYS, "path")


@dataclass
class PhotoItem:
    """A photo: Flickr metadata (typed, see ``flickrspider.flickrapi``) plus pipeline state."""

    id: str
    secret: str
    server: str
    owner: str
    keyword: str
    farm: int | None = None
    ownername: str | None = None
    title: str | None = None
    tags: str | None = None
    license: int | None = None
    license_name: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    accuracy: int | None = None
    datetaken: str | None = None
    dateupload: int | None = None
    views: int | None = None
    originalformat: str | None = None
    o_width: int | None = None
    o_height: int | None = None
    # Image URLs from the API answer, by Flickr size suffix ("l", "o", "c", ...).
    urls: dict[str, str] = field(default_factory=dict)
    # ImagesPipeline fields: the URL(s) to fetch, and what was stored.
    image_urls: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    # Filled in when the image is stored.
    source_url: str | None = None
    source_size: str | None = None
    width: int | None = None
    height: int | None = None
    frame: list[int] | None = None
    path: str | None = None

    def name(self) -> str:
        """The stored file's name, ``<id>_<secret>_<server>_<owner>.jpg``."""
        return file_name(self.id, self.secret, self.server, self.owner)

    def metadata(self) -> dict[str, Any]:
        """The JSON object written into the JPEG comment (SPEC §5)."""
        return {key: getattr(self, key) for key in (*RECORD_KEYS, *STORED_KEYS)}
