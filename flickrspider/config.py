"""Typed, validated views of the ``FLICKR_*`` settings.

Each component reads its settings once, through ``FlickrConfig.from_settings``,
which raises ``ConfigError`` naming the setting and the value when one is bad
(STYLE 3). Takes any mapping with Scrapy's typed getters, so it never imports Scrapy.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

SIZE_LETTERS = frozenset("sqtmnwzcbhklo")
_HOST_RE = re.compile(r"^[A-Za-z0-9*.\-\[\]:]+$")


class ConfigError(ValueError):
    """A setting has a bad value; the message names it."""


class SettingsLike(Protocol):
    def get(self, name: str, default: Any = None) -> Any: ...
    def getint(self, name: str, default: int = 0) -> int: ...
    def getbool(self, name: str, default: bool = False) -> bool: ...
    def getlist(self, name: str, default: list[str] | None = None) -> list[str]: ...


def _bad(name: str, value: object, why: str) -> ConfigError:
    return ConfigError(f"{name} ({value!r}) {why}")


@dataclass(frozen=True)
class FlickrConfig:
    api_key: str
    api_url: str
    calls_per_hour: int
    image_hosts: tuple[str, ...]
    sizes: tuple[str, ...]
    images_store: str
    max_side: int
    min_side: int
    remove_frames: bool
    shard_size: int
    jpeg_quality: int
    redis_url: str | None
    image_processes: int

    @classmethod
    def from_settings(cls, settings: SettingsLike) -> FlickrConfig:
        api_url = str(settings.get("FLICKR_API_URL") or "")
        if urlsplit(api_url).scheme not in {"http", "https"} or not urlsplit(api_url).netloc:
            raise _bad("FLICKR_API_URL", api_url, "must be an http(s) URL")
        calls = _int(settings, "FLICKR_API_CALLS_PER_HOUR", 1, None)
        hosts = tuple(
            h.strip().lower() for h in settings.getlist("FLICKR_IMAGE_HOSTS") if h.strip()
        )
        for host in hosts:
            if not _HOST_RE.match(host):
                raise _bad("FLICKR_IMAGE_HOSTS", host, "must be host or host:port patterns")
        sizes = tuple(s.strip() for s in settings.getlist("FLICKR_SIZES") if s.strip())
        if not sizes or any(s not in SIZE_LETTERS for s in sizes):
            raise _bad(
                "FLICKR_SIZES",
                sizes,
                f"must be Flickr size letters from {''.join(sorted(SIZE_LETTERS))}",
            )
        max_side = _int(settings, "FLICKR_MAX_SIDE", 16, None)
        min_side = _int(settings, "FLICKR_MIN_SIDE", 0, None)
        if min_side > max_side:
            raise _bad("FLICKR_MIN_SIDE", min_side, f"must not exceed FLICKR_MAX_SIDE ({max_side})")
        store = str(settings.get("IMAGES_STORE") or "")
        if not store:
            raise _bad("IMAGES_STORE", store, "must be a directory path")
        redis_url = settings.get("FLICKR_REDIS_URL") or None
        if redis_url and urlsplit(str(redis_url)).scheme not in {"redis", "rediss", "unix"}:
            raise _bad("FLICKR_REDIS_URL", redis_url, "must be a redis://host:port/db URL")
        return cls(
            api_key=str(settings.get("FLICKR_API_KEY") or ""),
            api_url=api_url,
            calls_per_hour=calls,
            image_hosts=hosts,
            sizes=sizes,
            images_store=store,
            max_side=max_side,
            min_side=min_side,
            remove_frames=settings.getbool("FLICKR_REMOVE_FRAMES", True),
            shard_size=_int(settings, "FLICKR_SHARD_SIZE", 1, None),
            jpeg_quality=_int(settings, "FLICKR_JPEG_QUALITY", 1, 95),
            redis_url=str(redis_url) if redis_url else None,
            image_processes=_image_processes(settings),
        )

    def host_allowed(self, url: str) -> bool:
        """True if ``url`` is http(s) on a host (or host:port) of FLICKR_IMAGE_HOSTS."""
        scheme, sep, rest = url.partition("://")
        if not sep:
            return False
        end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
        return _netloc_allowed(self.image_hosts, scheme.lower(), rest[:end])


@functools.lru_cache(maxsize=1024)  # one crawl meets a handful of image hosts, many times
def _netloc_allowed(patterns: tuple[str, ...], scheme: str, netloc: str) -> bool:
    try:
        parts = urlsplit(f"{scheme}://{netloc}/")
        port = parts.port
    except ValueError:  # a port out of range or not a number
        return False
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return False
    host = parts.hostname.lower()
    candidates = {host, f"{host}:{port}"} if port else {host}
    return any(fnmatch.fnmatchcase(c, pat) for c in candidates for pat in patterns)


def _image_processes(settings: SettingsLike) -> int:
    if settings.get("FLICKR_IMAGE_PROCESSES") in (None, ""):
        return os.cpu_count() or 1
    return _int(settings, "FLICKR_IMAGE_PROCESSES", 0, 64)


def _int(settings: SettingsLike, name: str, low: int, high: int | None) -> int:
    raw = settings.get(name)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise _bad(name, raw, "must be an integer") from None
    if value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise _bad(name, raw, f"must be {bound}")
    return value
