"""The lease tracker: a lease ends only when all a leased answer yielded is done."""

from __future__ import annotations

from flickrspider.leases import LeaseTracker


class Acks(list):
    def __call__(self, token, delivery):
        self.append((token, delivery))


def test_ack_after_callback_items_and_requests():
    acks = Acks()
    tracker = LeaseTracker(acks)
    tracker.leased("T1", "5", "fp")
    assert tracker.started("5")
    item, child = object(), object()
    tracker.produced("5", item)
    tracker.produced("5", child)
    assert tracker.owner_of(item) == ("T1", "5")
    tracker.callback_returned("5")
    tracker.done(child)  # queued
    assert acks == [] and len(tracker) == 1
    tracker.done(item)  # through the pipelines
    assert acks == [("T1", "5")] and len(tracker) == 0
    tracker.done(item)  # a second signal for the same item changes nothing
    assert acks == [("T1", "5")]


def test_no_ack_before_the_callback_ran():
    acks = Acks()
    tracker = LeaseTracker(acks)
    tracker.leased("T1", "5", "fp")
    assert not tracker.started("6")  # not ours
    tracker.callback_returned("5")
    assert acks == [] and len(tracker) == 1


def test_handoff_and_identity():
    acks = Acks()
    tracker = LeaseTracker(acks)
    tracker.leased("T1", "5", "fp")
    assert (
        tracker.holds("5", "fp")
        and not tracker.holds("5", "other")
        and not tracker.holds(None, "fp")
    )
    tracker.started("5")
    retry = object()
    tracker.produced("5", retry)
    tracker.handed_off("5")
    tracker.done(retry)
    tracker.callback_returned("5")
    assert acks == [] and len(tracker) == 0
    assert tracker.owner_of(object()) is None


def test_clear_forgets_everything():
    acks = Acks()
    tracker = LeaseTracker(acks)
    tracker.leased("T1", "5", "fp")
    tracker.started("5")
    item = object()
    tracker.produced("5", item)
    tracker.clear()
    tracker.done(item)
    tracker.callback_returned("5")
    assert acks == [] and len(tracker) == 0
