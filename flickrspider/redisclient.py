"""The redis-py client of distributed crawls, timed.

Imported only by a crawl that joins Redis (``FLICKR_REDIS_URL``): a one-process
crawl never loads redis-py.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from redis import RedisError

__all__ = ["REDIS_TIME", "RedisError", "TimedRedis", "connect"]

# Time spent in Redis calls by this process (the scale-out benchmark reports it).
REDIS_TIME = {"calls": 0, "seconds": 0.0}


class TimedRedis(redis.Redis):
    """A redis-py client that adds the time of each command to ``REDIS_TIME``."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        started = time.perf_counter()
        try:
            return super().execute_command(*args, **options)
        finally:
            REDIS_TIME["calls"] += 1
            REDIS_TIME["seconds"] += time.perf_counter() - started


def connect(url: str) -> redis.Redis:
    return TimedRedis.from_url(
        url, socket_timeout=30, socket_connect_timeout=30, retry_on_timeout=True
    )
