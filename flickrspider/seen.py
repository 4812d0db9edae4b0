"""The seen-photo set: each photo id is passed on once per crawl, with ``max_photos``.

``LocalSeenIds`` is a set of ints for a one-process crawl. ``RedisSeenIds`` is the
same set shared by every worker of a distributed crawl, kept in Redis as

    P:seen    HASH  photo id -> "<token> <delivery>" of the search request that found it first
    P:found   HASH  keyword -> photos found for it (for max_photos)

Remembering which request delivery claimed a photo is what makes a re-delivered
request safe: when a worker dies, its search requests go back to the queue and
another worker parses the same answer again. Its photos were claimed by the dead
delivery of the *same* request, so they are claimed again (not dropped as
duplicates and lost); a photo that a *different* request claimed stays a
duplicate, and so does a photo repeated within one answer. Pure Python; no Scrapy.
"""

from __future__ import annotations

import enum
from collections import Counter
from typing import Any, Protocol


class Verdict(enum.Enum):
    NEW = "new"
    DUPLICATE = "duplicate"
    OVER_MAX = "over_max"


class SeenIds(Protocol):
    def claim(
        self, photo_id: int, keyword: str, max_photos: int | None, owner: tuple[str, str] | None
    ) -> Verdict: ...


class LocalSeenIds:
    """The seen set of a one-process crawl."""

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.found: Counter[str] = Counter()

    def claim(
        self,
        photo_id: int,
        keyword: str,
        max_photos: int | None,
        owner: tuple[str, str] | None = None,
    ) -> Verdict:
        if photo_id in self.ids:
            return Verdict.DUPLICATE
        if max_photos is not None and self.found[keyword] >= max_photos:
            return Verdict.OVER_MAX
        self.ids.add(photo_id)
        self.found[keyword] += 1
        return Verdict.NEW


# KEYS: seen, found. ARGV: photo id, keyword, max_photos (0 = none), token, delivery.
_CLAIM = """
local owner = redis.call('HGET', KEYS[1], ARGV[1])
local mine = ARGV[4] .. ' ' .. ARGV[5]
if owner then
  if ARGV[4] ~= '' and owner ~= mine and string.find(owner, ARGV[4] .. ' ', 1, true) == 1 then
    redis.call('HSET', KEYS[1], ARGV[1], mine)
    return 'new'
  end
  return 'duplicate'
end
local limit = tonumber(ARGV[3])
if limit > 0 and tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0') >= limit then
  return 'over_max'
end
redis.call('HSET', KEYS[1], ARGV[1], mine)
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
return 'new'
"""


class RedisSeenIds:
    """The seen set shared by the workers of one distributed crawl."""

    def __init__(self, server: Any, prefix: str) -> None:
        self.keys = [f"{prefix}:seen", f"{prefix}:found"]
        self._claim = server.register_script(_CLAIM)

    def claim(
        self,
        photo_id: int,
        keyword: str,
        max_photos: int | None,
        owner: tuple[str, str] | None = None,
    ) -> Verdict:
        token, delivery = owner or ("", "")
        args = [photo_id, keyword, max_photos or 0, token, delivery]
        answer = self._claim(keys=self.keys, args=args)
        return Verdict(answer.decode() if isinstance(answer, bytes) else answer)
