"""The leased work queue against a real redis-server."""

from __future__ import annotations

import pytest

from flickrspider.workqueue import WorkQueue
from tests.servers import RedisServer


@pytest.fixture(scope="module")
def server():
    with RedisServer() as redis_server:
        yield redis_server.client()


@pytest.fixture
def queues(server, request):
    prefix = f"test:{request.node.name}"
    return WorkQueue(server, prefix, "host:1:a"), WorkQueue(server, prefix, "host:2:b")


def test_push_filters_fingerprints_and_pops_by_priority(queues):
    a, _ = queues
    assert a.push("t1", b"one", 0, fingerprint="fp1")
    assert not a.push("t9", b"copy of one", 0, fingerprint="fp1")
    assert a.push("t2", b"two", 5, fingerprint="fp2")
    assert a.push("t3", b"three", 0)  # no fingerprint: never filtered
    first = a.pop()
    assert (first.token, first.data) == ("t2", b"two")
    assert a.status() == (2, 1)


def test_a_lease_ends_only_by_its_own_delivery(queues):
    a, b = queues
    a.push("t1", b"one", 0)
    lease = a.pop()
    assert not b.ack(lease.token, lease.delivery)  # another worker
    assert not a.ack(lease.token, "999")  # another delivery
    assert a.ack(lease.token, lease.delivery)
    assert a.status() == (0, 0)
    assert not a.server.hexists(a.data, "t1")


def test_dead_workers_leases_go_back_to_the_queue(queues):
    a, b = queues
    a.push("t1", b"one", 3)
    a.push("t2", b"two", 0)
    lease = a.pop()
    b.heartbeat()
    assert b.recover(dead_after=60) == 0  # a is alive: its pop was a heartbeat
    a.server.zadd(a.workers, {a.worker: 0})  # a's last heartbeat long ago
    assert b.recover(dead_after=60) == 1
    again = b.pop()
    assert (again.token, again.data) == (lease.token, b"one")  # priority kept
    assert again.delivery != lease.delivery
    assert not a.ack(lease.token, lease.delivery)  # the dead delivery cannot end it
    assert a.heartbeat()  # a learns it was presumed dead
    assert b.status() == (1, 1)


def test_leases_of_unregistered_workers_are_recovered_too(queues):
    a, b = queues
    a.push("t1", b"one", 0)
    a.pop()
    a.server.zrem(a.workers, a.worker)
    assert b.recover(dead_after=60) == 1


def test_handoff_carries_the_work_on_under_the_same_token(queues):
    a, b = queues
    a.push("t1", b"one", 0, fingerprint="fp1")
    lease = a.pop()
    assert a.push("t1", b"one, retried", 0, handoff=lease.delivery)
    assert a.status() == (1, 0)
    again = b.pop()
    assert (again.token, again.data) == ("t1", b"one, retried")
    assert not a.ack(lease.token, lease.delivery)  # the old delivery no longer holds it
    assert b.status() == (0, 1)


def test_release_and_forget(queues):
    a, b = queues
    for token in ("t1", "t2", "t3"):
        a.push(token, token.encode(), 0)
    a.pop()
    a.pop()
    b.pop()
    assert a.release() == 2  # closing: both back in the queue
    assert a.status() == (2, 1)
    assert not a.server.zscore(a.workers, a.worker)
    assert b.forget() == 1  # idle: its lease is finished work
    assert b.status() == (2, 0)


def test_finish_only_when_nothing_waits_or_is_leased(queues, server):
    a, b = queues
    a.push("t1", b"one", 0, fingerprint="fp1")
    lease = a.pop()
    assert not b.try_finish(keep=100)
    a.ack(lease.token, lease.delivery)
    extra = f"{a.prefix}:seen"
    server.hset(extra, "1", "x")
    assert b.try_finish(keep=100, extra_keys=(extra,))
    assert a.is_finished() and b.try_finish(keep=100)
    assert 0 < server.ttl(a.dupefilter) <= 100 and 0 < server.ttl(extra) <= 100
    assert not a.push("t2", b"one again", 0, fingerprint="fp1")  # a re-run finds it done


def test_finish_with_keep_zero_deletes_everything(queues, server):
    a, _ = queues
    a.push("t1", b"one", 0, fingerprint="fp1")
    lease = a.pop()
    a.ack(lease.token, lease.delivery)
    assert a.try_finish(keep=0)
    assert not server.keys(f"{a.prefix}:*")


def test_worker_ids_are_single_words(server):
    with pytest.raises(ValueError, match="worker id"):
        WorkQueue(server, "test:bad", "two words")
