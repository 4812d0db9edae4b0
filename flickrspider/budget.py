"""The per-key API call budget: never more than N calls in any sliding hour.

Two rules, both hard:

* a sliding log: at most ``per_hour`` calls in any window of ``period`` seconds;
* pacing (GCRA): calls are spread at ``period / per_hour`` apart on average,
  with at most ``burst`` calls back to back, so a crawl does not spend its
  whole hour in the first minute and then stall.

``reserve()`` books the next call and returns how long to wait before making it.
``RedisBudget`` keeps the same two rules in Redis so that any number of workers
sharing a key share one budget.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol


class Budget(Protocol):
    def reserve(self) -> float: ...


class LocalBudget:
    def __init__(
        self,
        per_hour: int,
        *,
        period: float = 3600.0,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_hour < 1:
            raise ValueError(f"per_hour must be at least 1, got {per_hour}")
        self.per_hour = per_hour
        self.period = period
        self.interval = period / per_hour
        self.burst = max(1, burst if burst is not None else per_hour // 60)
        self.clock = clock
        self._log: deque[float] = deque()
        self._tat = 0.0  # GCRA theoretical arrival time

    def reserve(self) -> float:
        now = self.clock()
        # Forget calls that left the sliding window.
        while self._log and self._log[0] <= now - self.period:
            self._log.popleft()
        at = max(now, self._tat - (self.burst - 1) * self.interval)
        if len(self._log) >= self.per_hour:
            at = max(at, self._log[-self.per_hour] + self.period)
        self._tat = max(self._tat, at) + self.interval
        self._log.append(at)
        return at - now


# Both rules in one atomic step; keys: the log (sorted set) and the GCRA time.
# Time is the Redis server's, so workers whose clocks disagree still share one budget.
_RESERVE_LUA = """
local log, tatkey = KEYS[1], KEYS[2]
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local period, per_hour = tonumber(ARGV[2]), tonumber(ARGV[3])
local interval, burst, member = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
redis.call('ZREMRANGEBYSCORE', log, '-inf', now - period)
local tat = tonumber(redis.call('GET', tatkey) or '0')
local at = math.max(now, tat - (burst - 1) * interval)
local n = redis.call('ZCARD', log)
if n >= per_hour then
  local oldest = redis.call('ZRANGE', log, n - per_hour, n - per_hour, 'WITHSCORES')
  at = math.max(at, tonumber(oldest[2]) + period)
end
redis.call('SET', tatkey, tostring(math.max(tat, at) + interval), 'EX', math.ceil(period * 2))
redis.call('ZADD', log, at, member)
redis.call('EXPIRE', log, math.ceil(period * 2))
return tostring(at - now)
"""


class RedisBudget:
    """The same budget shared through Redis by every worker using one API key."""

    def __init__(self, server: Any, key_id: str, per_hour: int, *, period: float = 3600.0) -> None:
        self.server = server
        self.keys = [f"flickrspider:budget:{key_id}:log", f"flickrspider:budget:{key_id}:tat"]
        self.per_hour = per_hour
        self.period = period
        self.interval = period / per_hour
        self.burst = max(1, per_hour // 60)
        self._script = server.register_script(_RESERVE_LUA)
        self._me = secrets.token_hex(6)  # log members must be unique across workers
        self._seq = 0

    def reserve(self) -> float:
        self._seq += 1
        member = f"{self._me}:{self._seq}"
        args = [0, self.period, self.per_hour, self.interval, self.burst, member]
        return float(self._script(keys=self.keys, args=args))
