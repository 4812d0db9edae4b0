"""A shared work queue in Redis where a request is leased, never just popped.

scrapy-redis pops a request off the shared queue: if the worker that popped it
dies, the request and everything it would have produced are gone. Here a pop
moves the request into a *lease* held by one delivery to one worker, and the
lease ends only when the worker says the request's work is finished (``ack``),
hands it on (``push`` of its retry), or gives it back on close. Leases of a
worker whose heartbeat is older than ``dead_after`` go back to the queue, so
another worker does the work again.

Keys, under one crawl prefix ``P`` (never the API key):

    P:queue       ZSET  token -> -priority          requests waiting
    P:data        HASH  token -> serialized request  waiting or leased
    P:leases      HASH  token -> "<worker> <delivery> <score>"
    P:workers     ZSET  worker -> last heartbeat (Redis server clock, seconds)
    P:deliveries  STR   counter; each pop is a new delivery number
    P:dupefilter  SET   request fingerprints (scrapy-redis RFPDupeFilter's key)
    P:finished    STR   set once no request is waiting or leased

Every step is one Lua script, so each is atomic, and all times come from the
Redis server's clock, so workers on machines with skewed clocks agree. Pure
Python over a redis-py client; no Scrapy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# KEYS: queue, data, leases, dupefilter. ARGV: token, data, score, fingerprint, handoff.
# Queue a request unless its fingerprint was seen (fingerprint "" = never filtered);
# a hand-off (a retry of a leased request) ends that lease in the same step.
_PUSH = """
if ARGV[4] ~= '' and redis.call('SADD', KEYS[4], ARGV[4]) == 0 then return 0 end
if ARGV[5] ~= '' then
  local lease = redis.call('HGET', KEYS[3], ARGV[1])
  if lease and string.find(lease, ARGV[5], 1, true) == 1 then
    redis.call('HDEL', KEYS[3], ARGV[1])
  end
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"""

# KEYS: queue, data, leases, workers, deliveries. ARGV: worker.
# The best-priority request moves from the queue into a lease; the pop is a heartbeat too.
_POP = """
local t = redis.call('TIME')
redis.call('ZADD', KEYS[4], tonumber(t[1]) + tonumber(t[2]) / 1e6, ARGV[1])
local top = redis.call('ZPOPMIN', KEYS[1])
if #top == 0 then return false end
local delivery = redis.call('INCR', KEYS[5])
redis.call('HSET', KEYS[3], top[1], ARGV[1] .. ' ' .. delivery .. ' ' .. top[2])
return {top[1], tostring(delivery), redis.call('HGET', KEYS[2], top[1]) or ''}
"""

# KEYS: queue, data, leases. ARGV: token, "<worker> <delivery> ".
# The work of a delivery is finished: end its lease (if it still holds it) and drop the request.
_ACK = """
local lease = redis.call('HGET', KEYS[3], ARGV[1])
if not lease or string.find(lease, ARGV[2], 1, true) ~= 1 then return 0 end
redis.call('HDEL', KEYS[3], ARGV[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then redis.call('HDEL', KEYS[2], ARGV[1]) end
return 1
"""

# KEYS: queue, data, leases, workers. ARGV: dead_after, worker ("" = any), mode.
# mode "requeue": leases of dead workers (or of `worker`) go back to the queue;
# mode "forget": leases of `worker` end as finished.
_SWEEP = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local dead_after, only, mode = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local leases = redis.call('HGETALL', KEYS[3])
local alive, moved = {}, 0
for i = 1, #leases, 2 do
  local token, lease = leases[i], leases[i + 1]
  local worker, delivery, score = string.match(lease, '^(%S+) (%S+) (%S+)$')
  local gone
  if only ~= '' then
    gone = (worker == only)
  else
    if alive[worker] == nil then
      local beat = redis.call('ZSCORE', KEYS[4], worker)
      alive[worker] = (beat ~= false and now - tonumber(beat) <= dead_after)
    end
    gone = not alive[worker]
  end
  if gone then
    redis.call('HDEL', KEYS[3], token)
    if mode == 'requeue' then
      redis.call('ZADD', KEYS[1], score, token)
    elseif not redis.call('ZSCORE', KEYS[1], token) then
      redis.call('HDEL', KEYS[2], token)
    end
    moved = moved + 1
  end
end
if only == '' then redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - dead_after) end
return moved
"""

# KEYS: workers. ARGV: worker. Returns 1 if the worker was not registered (new, or presumed dead).
_BEAT = """
local t = redis.call('TIME')
return redis.call('ZADD', KEYS[1], tonumber(t[1]) + tonumber(t[2]) / 1e6, ARGV[1])
"""

# KEYS: queue, leases, finished, then every key of the crawl. ARGV: seconds to keep it.
# When nothing waits and nothing is leased the crawl is finished: mark it, let it expire.
_FINISH = """
if redis.call('EXISTS', KEYS[3]) == 1 then return 1 end
if redis.call('ZCARD', KEYS[1]) > 0 or redis.call('HLEN', KEYS[2]) > 0 then return 0 end
redis.call('SET', KEYS[3], '1')
local keep = tonumber(ARGV[1])
for i = 3, #KEYS do
  if keep > 0 then redis.call('EXPIRE', KEYS[i], keep) else redis.call('DEL', KEYS[i]) end
end
return 1
"""


@dataclass(frozen=True)
class Lease:
    """One delivery of a queued request to a worker."""

    token: str
    delivery: str
    data: bytes


class WorkQueue:
    """The crawl's shared queue as seen by one worker."""

    def __init__(self, server: Any, prefix: str, worker: str) -> None:
        if " " in worker or not worker:
            raise ValueError(f"worker id must be a non-empty word, got {worker!r}")
        self.server = server
        self.prefix = prefix
        self.worker = worker
        self.queue, self.data, self.leases = f"{prefix}:queue", f"{prefix}:data", f"{prefix}:leases"
        self.workers, self.deliveries = f"{prefix}:workers", f"{prefix}:deliveries"
        self.dupefilter, self.finished = f"{prefix}:dupefilter", f"{prefix}:finished"
        self._push = server.register_script(_PUSH)
        self._pop = server.register_script(_POP)
        self._ack = server.register_script(_ACK)
        self._sweep = server.register_script(_SWEEP)
        self._beat = server.register_script(_BEAT)
        self._finish = server.register_script(_FINISH)

    def push(
        self, token: str, data: bytes, priority: int, *, fingerprint: str = "", handoff: str = ""
    ) -> bool:
        """Queue a request; False if its fingerprint was seen before (then nothing changes).

        ``handoff`` is the delivery that held this token: its lease ends now.
        """
        owner = f"{self.worker} {handoff} " if handoff else ""
        keys = [self.queue, self.data, self.leases, self.dupefilter]
        return bool(self._push(keys=keys, args=[token, data, -priority, fingerprint, owner]))

    def pop(self) -> Lease | None:
        """Lease the best waiting request to this worker, or None if none waits."""
        keys = [self.queue, self.data, self.leases, self.workers, self.deliveries]
        got = self._pop(keys=keys, args=[self.worker])
        if not got:
            return None
        token, delivery, data = (_text(got[0]), _text(got[1]), got[2])
        return Lease(token, delivery, data if isinstance(data, bytes) else str(data).encode())

    def ack(self, token: str, delivery: str) -> bool:
        """The work of this delivery is finished. False if the lease had moved on."""
        keys = [self.queue, self.data, self.leases]
        return bool(self._ack(keys=keys, args=[token, f"{self.worker} {delivery} "]))

    def heartbeat(self) -> bool:
        """Say this worker is alive. True if it was not registered (new, or presumed dead)."""
        return bool(self._beat(keys=[self.workers], args=[self.worker]))

    def recover(self, dead_after: float) -> int:
        """Requeue the leases of workers silent for ``dead_after`` seconds; how many."""
        return self._sweep_leases(dead_after, "", "requeue")

    def release(self) -> int:
        """This worker is closing: its leases go back to the queue. How many."""
        moved = self._sweep_leases(0, self.worker, "requeue")
        self.server.zrem(self.workers, self.worker)
        return moved

    def forget(self) -> int:
        """This worker is idle, so everything it leased is finished: end its leases."""
        return self._sweep_leases(0, self.worker, "forget")

    def status(self) -> tuple[int, int]:
        """(requests waiting, requests leased) across the crawl."""
        return int(self.server.zcard(self.queue)), int(self.server.hlen(self.leases))

    def is_finished(self) -> bool:
        return bool(self.server.exists(self.finished))

    def try_finish(self, keep: int, extra_keys: tuple[str, ...] = ()) -> bool:
        """Mark the crawl finished if nothing waits and nothing is leased; the crawl's keys
        then expire after ``keep`` seconds (0: deleted at once)."""
        keys = [
            self.queue,
            self.leases,
            self.finished,
            self.data,
            self.workers,
            self.deliveries,
            self.dupefilter,
            self.queue,
            self.leases,
            *extra_keys,
        ]
        return bool(self._finish(keys=keys, args=[keep]))

    def _sweep_leases(self, dead_after: float, only: str, mode: str) -> int:
        keys = [self.queue, self.data, self.leases, self.workers]
        return int(self._sweep(keys=keys, args=[dead_after, only, mode]))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
