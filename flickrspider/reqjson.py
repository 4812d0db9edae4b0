"""JSON for requests shared through Redis (scrapy-redis ``SCHEDULER_SERIALIZER``).

scrapy-redis pickles requests by default: whoever can write to the Redis server
can then run code in every worker. This module turns ``Request.to_dict()`` into
plain JSON instead, tagging the few types JSON lacks:

    bytes                      {"$b": "<base64>"}
    tuple                      {"$t": [...]}
    dict with non-str keys,    {"$d": [[key, value], ...]}
    or with a "$..." key

Anything else that JSON cannot hold raises ``TypeError`` naming the type, so a
request that cannot be shared fails loudly instead of arriving changed.
"""

from __future__ import annotations

import base64
import json
from typing import Any

_TAGS = frozenset({"$b", "$t", "$d"})


def dumps(obj: Any) -> bytes:
    return json.dumps(_encode(obj), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def loads(data: bytes | str) -> Any:
    return json.loads(data, object_hook=_decode)


def _encode(obj: Any) -> Any:
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, bytes):
        return {"$b": base64.b64encode(obj).decode("ascii")}
    if isinstance(obj, tuple):
        return {"$t": [_encode(v) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v) for v in obj]
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in obj):
            return {k: _encode(v) for k, v in obj.items()}
        return {"$d": [[_encode(k), _encode(v)] for k, v in obj.items()]}
    raise TypeError(f"cannot share a {type(obj).__name__} through Redis: {obj!r:.80}")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) != 1 or next(iter(obj)) not in _TAGS:
        return obj
    ((tag, value),) = obj.items()
    if tag == "$b":
        return base64.b64decode(value)
    if tag == "$t":
        return tuple(value)
    return {_hashable(k): v for k, v in value}


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key
