"""Fault decisions, the per-key rate limit and the counters behind ``/_emulator/stats``.

Transient faults are decided per (URL without noise, attempt number) with a
seeded hash: the n-th request of a URL always gets the same verdict, and after
``fault_max_attempts`` faulted attempts a URL is always answered, so a client
that retries eventually succeeds and a rerun sees the same faults.
"""

from __future__ import annotations

import hashlib
from collections import Counter, deque
from collections.abc import Mapping
from typing import Any

# Arguments that do not change what is asked: keys, signatures, cache busters.
NOISE = frozenset(
    {
        "api_key",
        "api_sig",
        "auth_token",
        "oauth_signature",
        "oauth_nonce",
        "oauth_timestamp",
        "_",
        "nocache",
        "cb",
    }
)


def request_key(path: str, params: Mapping[str, str]) -> str:
    """The URL without noise: path plus sorted arguments, minus keys and cache busters."""
    kept = sorted((k, v) for k, v in params.items() if k not in NOISE)
    return path + "?" + "&".join(f"{k}={v}" for k, v in kept)


class FaultPlan:
    """Which fault, if any, the next request of a URL gets."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.attempts: dict[bytes, int] = {}

    def reset(self) -> None:
        self.attempts.clear()

    def decide(self, key: str, rates: Mapping[str, float], max_attempts: int) -> str | None:
        """A fault kind from ``rates`` (probabilities, tried in order) or None."""
        if not rates:
            return None
        digest = hashlib.blake2b(key.encode(), digest_size=12).digest()
        attempt = self.attempts.get(digest, 0)
        self.attempts[digest] = attempt + 1
        if attempt >= max_attempts:
            return None
        draw = hashlib.blake2b(digest + f"|{self.seed}|{attempt}".encode(), digest_size=8).digest()
        u = int.from_bytes(draw, "big") / 2**64
        for kind, rate in rates.items():
            if u < rate:
                return kind
            u -= rate
        return None


class RateLimiter:
    """At most ``limit`` calls per key in any sliding ``window`` seconds."""

    def __init__(self) -> None:
        self.calls: dict[str, deque[float]] = {}

    def reset(self) -> None:
        self.calls.clear()

    def check(self, key: str, limit: int, window: float, now: float) -> float:
        """0 when the call is allowed (and counted), else seconds until it would be."""
        if limit <= 0:
            return 0.0
        calls = self.calls.setdefault(key, deque())
        while calls and calls[0] <= now - window:
            calls.popleft()
        if len(calls) >= limit:
            return max(0.001, calls[0] + window - now)
        calls.append(now)
        return 0.0


class Stats:
    """Counters of everything the emulator answered."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.api_calls = 0
        self.api_calls_by_method: Counter[str] = Counter()
        self.api_errors_by_code: Counter[str] = Counter()
        self.image_requests = 0
        self.image_requests_by_suffix: Counter[str] = Counter()
        self.image_not_found = 0
        self.image_unavailable = 0
        self.faults: Counter[str] = Counter()
        self.rate_limited = 0
        self.params_ignored: Counter[str] = Counter()
        self.photos_returned = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "api_calls": self.api_calls,
            "api_calls_by_method": dict(self.api_calls_by_method),
            "api_errors_by_code": dict(self.api_errors_by_code),
            "image_requests": self.image_requests,
            "image_requests_by_suffix": dict(self.image_requests_by_suffix),
            "image_not_found": self.image_not_found,
            "image_unavailable": self.image_unavailable,
            "faults": dict(self.faults),
            "rate_limited": self.rate_limited,
            "params_ignored": dict(self.params_ignored),
            "photos_returned": self.photos_returned,
        }
