from __future__ import annotations

import pytest

from flickrspider.budget import LocalBudget


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(budget: LocalBudget, clock: Clock, calls: int) -> list[float]:
    """Make calls as fast as the budget allows; return the times they were made."""
    times = []
    for _ in range(calls):
        clock.now += budget.reserve()
        times.append(clock.now)
    return times


@pytest.mark.parametrize("per_hour", [1, 60, 3600])
def test_never_more_than_per_hour_in_any_sliding_hour(per_hour):
    clock = Clock()
    times = run(LocalBudget(per_hour, clock=clock), clock, per_hour * 3 + 5)
    for i, t in enumerate(times):
        in_window = [u for u in times[: i + 1] if u > t - 3600]
        assert len(in_window) <= per_hour


def test_calls_are_paced_not_spent_at_once():
    clock = Clock()
    times = run(LocalBudget(3600, clock=clock), clock, 600)
    # a burst of one minute's worth, then about one call per second
    assert times[59] - times[0] < 1e-9
    assert 530 <= times[-1] - times[0] <= 545


def test_idle_time_is_not_hoarded_beyond_the_burst():
    clock = Clock()
    budget = LocalBudget(3600, clock=clock)
    clock.now += 10_000
    times = run(budget, clock, 120)
    assert times[-1] - times[0] >= 59


def test_bad_budget():
    with pytest.raises(ValueError, match="per_hour"):
        LocalBudget(0)
