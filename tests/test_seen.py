"""The seen-photo set, in memory and shared in Redis: same verdicts, plus re-delivery."""

from __future__ import annotations

import pytest

from flickrspider.seen import LocalSeenIds, RedisSeenIds, Verdict
from tests.servers import RedisServer


@pytest.fixture(scope="module")
def server():
    with RedisServer() as redis_server:
        yield redis_server.client()


@pytest.fixture(params=["local", "redis"])
def seen(request, server):
    if request.param == "local":
        return LocalSeenIds()
    return RedisSeenIds(server, f"test:{request.node.name}")


def test_each_id_once_across_keywords(seen):
    assert seen.claim(1, "paris", None, ("T1", "1")) is Verdict.NEW
    assert seen.claim(1, "tokyo", None, ("T2", "2")) is Verdict.DUPLICATE
    assert seen.claim(2, "tokyo", None, ("T2", "2")) is Verdict.NEW


def test_max_photos_per_keyword(seen):
    assert seen.claim(1, "paris", 2, None) is Verdict.NEW
    assert seen.claim(2, "paris", 2, None) is Verdict.NEW
    assert seen.claim(3, "paris", 2, None) is Verdict.OVER_MAX
    assert seen.claim(3, "tokyo", 2, None) is Verdict.NEW
    assert seen.claim(1, "paris", 2, None) is Verdict.DUPLICATE


def test_a_redelivered_request_claims_its_photos_again(server):
    seen = RedisSeenIds(server, "test:redelivery")
    assert seen.claim(7, "paris", 1, ("T1", "10")) is Verdict.NEW  # first delivery (worker died)
    assert seen.claim(7, "paris", 1, ("T1", "11")) is Verdict.NEW  # same request, delivered again
    assert seen.claim(7, "paris", 1, ("T1", "11")) is Verdict.DUPLICATE  # repeated in one answer
    assert seen.claim(7, "paris", 1, ("T2", "12")) is Verdict.DUPLICATE  # another request
    assert seen.claim(8, "paris", 1, ("T1", "11")) is Verdict.OVER_MAX  # counted once
    assert server.hget("test:redelivery:found", "paris") == b"1"


def test_photo_ids_not_api_keys_are_stored(server):
    seen = RedisSeenIds(server, "test:keys")
    seen.claim(123, "paris", None, ("T1", "1"))
    assert server.hkeys("test:keys:seen") == [b"123"]
