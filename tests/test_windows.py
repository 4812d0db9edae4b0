"""The window planner: each decision, and whole crawls against a simulated search.

``SimSearch`` is a small stand-in for ``flickr.photos.search`` over a sorted list
of upload seconds (photo id = index): at most ``cap`` results per query (pages
past the cap repeat the last one), totals off by up to +-``error``, other sort
orders as seeded permutations. ``crawl`` runs the planning loop the spider runs
(probe = page 1, settled pages, continuations as sub-chains, every sort order for
an over-cap second) and records what it found and every window it closed.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections import Counter, deque
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flickrspider.windows import (
    UNSPLITTABLE_SORTS,
    Advance,
    Continue,
    Narrow,
    PlannerConfig,
    Settled,
    Unsplittable,
    Window,
    after_last_page,
    decide,
    plan_next,
)

CFG = PlannerConfig(per_page=250)
LO = 1_100_000_000  # late 2004


# -- the simulator ---------------------------------------------------------------------------


@dataclass
class SimSearch:
    """``flickr.photos.search`` over ``uploads`` (sorted seconds; photo id = index)."""

    uploads: list[int]
    per_page: int = 250
    cap: int = 4000
    error: float = 0.10
    seed: int = 0
    calls: int = 0

    def span(self, window: Window) -> tuple[int, int]:
        lo = bisect.bisect_left(self.uploads, window.start)
        return lo, bisect.bisect_right(self.uploads, window.end)

    def total(self, window: Window) -> int:
        """The true count, off by up to +-error, the same every time for one window."""
        lo, hi = self.span(window)
        noise = random.Random(hash((self.seed, window.start, window.end))).uniform(-1, 1)
        return max(0, round((hi - lo) * (1 + self.error * noise)))

    def order(self, window: Window, sort: str) -> list[int]:
        lo, hi = self.span(window)
        ids = list(range(lo, hi))
        if sort == "date-posted-desc":
            ids.reverse()
        elif sort != "date-posted-asc":
            random.Random(hash((self.seed, sort, lo, hi))).shuffle(ids)
        return ids

    def search(
        self, window: Window, page: int, sort: str = "date-posted-asc"
    ) -> tuple[int, list[int]]:
        """(total, photo ids of the page)."""
        self.calls += 1
        page = min(page, self.cap // self.per_page)  # later pages repeat earlier results
        ids = self.order(window, sort)[(page - 1) * self.per_page : page * self.per_page]
        return self.total(window), ids

    def unreachable(self) -> set[int]:
        """Photos no sort order can reach: those past the cap in every order of their second."""
        safe = (self.cap // self.per_page) * self.per_page
        missing: set[int] = set()
        for second, count in Counter(self.uploads).items():
            if count > safe:
                window = Window(second, second)
                reach = {i for s in UNSPLITTABLE_SORTS for i in self.order(window, s)[:safe]}
                missing |= set(range(*self.span(window))) - reach
        return missing


@dataclass
class Crawl:
    found: set[int] = field(default_factory=set)
    chains: list[tuple[int, int, list[Window]]] = field(default_factory=list)
    reported_unreachable: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


def crawl(sim: SimSearch, cfg: PlannerConfig, lo: int, hi: int) -> Crawl:
    """Run the spider's planning loop for one keyword against ``sim``."""
    result = Crawl()
    chains: deque[tuple[Window, int]] = deque([(Window(lo, hi), hi)])
    while chains:
        first, chain_hi = chains.popleft()
        result.chains.append(
            (first.start, chain_hi, run_chain(sim, cfg, first, chain_hi, result, chains))
        )
    return result


def run_chain(sim, cfg, window, chain_hi, result, chains) -> list[Window]:
    closed: list[Window] = []
    uploads = sim.uploads
    while window is not None:
        total, ids = sim.search(window, 1)
        result.found.update(ids)
        decision = decide(cfg, window, total, [uploads[i] for i in ids])
        name = type(decision).__name__
        result.kinds[name] = result.kinds.get(name, 0) + 1
        if isinstance(decision, Narrow):
            window = decision.window
            continue
        if isinstance(decision, Settled):
            fetch_settled(sim, cfg, decision, ids, result, chains)
            closed.append(window)
            cursor, rate, prev = window.end + 1, decision.rate, window.seconds
        elif isinstance(decision, Advance):
            closed.append(decision.done)
            cursor, rate, prev = decision.cursor, decision.rate, decision.done.seconds
        else:
            fetch_every_sort(sim, cfg, decision.window, total, ids, result)
            closed.append(window)
            cursor, rate, prev = window.end + 1, None, 1
        window = plan_next(cfg, cursor, chain_hi, rate, prev)
    return closed


def fetch_settled(sim, cfg, decision, first_ids, result, chains) -> None:
    window, ids = decision.window, first_ids
    for page in range(2, decision.pages + 1):
        ids = sim.search(window, page)[1]
        result.found.update(ids)
    page = decision.pages
    while True:
        last = max((sim.uploads[i] for i in ids), default=window.end)
        more = after_last_page(cfg, window, page, len(ids), last)
        if more is None:
            return
        if isinstance(more, Unsplittable):
            fetch_every_sort(sim, cfg, more.window, sim.total(more.window), [], result)
            return
        if more.window is not None:
            chains.append((more.window, window.end))  # a sub-chain up to this window's end
            return
        page = more.page
        ids = sim.search(window, page)[1]
        result.found.update(ids)


def fetch_every_sort(sim, cfg, window, total, probe_ids, result) -> None:
    """Every page of every sort order (the probe is date-posted-asc page 1)."""
    found: set[int] = set(probe_ids)
    for sort in UNSPLITTABLE_SORTS:
        for page in range(1, cfg.max_pages + 1):
            if sort == UNSPLITTABLE_SORTS[0] and page == 1 and probe_ids:
                ids = probe_ids
            else:
                ids = sim.search(window, page, sort)[1]
            found.update(ids)
            if len(ids) < cfg.per_page:
                break
    result.found |= found
    result.reported_unreachable += max(0, total - len(found))


# -- synthetic upload histories ----------------------------------------------------------------

YEAR = 365 * 86400


def smooth(rng: random.Random, n: int, years: float, growth: float) -> list[int]:
    """n uploads over ``years``, the upload rate rising ``growth`` times from start to end."""
    span = int(years * YEAR)
    out = []
    for _ in range(n):
        u = rng.random()
        t = u if growth == 1 else math.log1p(u * (growth - 1)) / math.log(growth)
        out.append(LO + int(t * span))
    return sorted(out)


def with_bursts(rng: random.Random, uploads: list[int], bursts: int) -> list[int]:
    """Add bursts of 1,000-8,000 photos within 1-10 minutes."""
    out = list(uploads)
    hi = uploads[-1] if uploads else LO + YEAR
    for _ in range(bursts):
        start, length = rng.randint(LO, hi), rng.randint(60, 600)
        out += [start + rng.randrange(length) for _ in range(rng.randint(1000, 8000))]
    return sorted(out)


def with_hot_second(rng: random.Random, uploads: list[int], photos: int) -> list[int]:
    """Add ``photos`` uploads in one second."""
    hi = uploads[-1] if uploads else LO + YEAR
    return sorted([*uploads, *[rng.randint(LO, hi)] * photos])


def with_gaps(rng: random.Random, uploads: list[int], gaps: int) -> list[int]:
    """Remove every upload in a few random stretches of up to a year."""
    hi = uploads[-1] if uploads else LO + YEAR
    cuts = [(s, s + rng.randint(86400, YEAR)) for s in (rng.randint(LO, hi) for _ in range(gaps))]
    return [u for u in uploads if not any(a <= u <= b for a, b in cuts)]


# -- decide ------------------------------------------------------------------------------------


def test_config_derives_safe_count_and_target():
    assert (CFG.max_pages, CFG.safe, CFG.target) == (16, 4000, 3400)
    assert PlannerConfig(per_page=500).safe == 4000
    assert PlannerConfig(per_page=300).safe == 3900  # 13 whole pages
    with pytest.raises(ValueError):
        PlannerConfig(per_page=0)
    with pytest.raises(ValueError):
        Window(5, 4)


def test_settled_when_total_fits():
    window = Window(100, 199)
    decision = decide(CFG, window, 1001, [100, 150])
    assert decision == Settled(window, pages=5, rate=10.01)
    assert decide(CFG, window, 4000, []) == Settled(window, 16, 40.0)


def test_settled_with_no_photo_still_counts_the_probe():
    assert decide(CFG, Window(1, 10), 0, []) == Settled(Window(1, 10), 1, 0.0)


def test_settled_trusts_page_one_over_a_short_total():
    decision = decide(CFG, Window(0, 9), 3, list(range(10)))
    assert isinstance(decision, Settled) and decision.pages == 1 and decision.rate == 1.0


def test_single_second_that_fits_carries_no_rate():
    assert decide(CFG, Window(7, 7), 300, [7] * 250) == Settled(Window(7, 7), 2, None)


def test_advance_completes_everything_before_the_last_second():
    uploads = list(range(1000, 1250))  # one photo a second, last at 1249
    decision = decide(CFG, Window(1000, 9999), 9000, uploads)
    assert decision == Advance(done=Window(1000, 1248), cursor=1249, rate=250 / 249)


def test_advance_ignores_uploads_outside_the_window_and_unsorted_input():
    uploads = [1500, 1100, 50, 1300, 99999]
    decision = decide(CFG, Window(1000, 2000), 5000, uploads)
    assert isinstance(decision, Advance)
    assert decision.done == Window(1000, 1499) and decision.cursor == 1500


def test_narrow_when_page_one_is_all_in_the_first_second():
    assert decide(CFG, Window(50, 500), 4500, [50] * 250) == Narrow(Window(50, 50))


def test_narrow_halves_when_page_one_has_no_usable_photo():
    assert decide(CFG, Window(0, 99), 5000, []) == Narrow(Window(0, 49))
    assert decide(CFG, Window(0, 1), 5000, []) == Narrow(Window(0, 0))


def test_unsplittable_single_second_over_the_cap():
    decision = decide(CFG, Window(42, 42), 4001, [42] * 250)
    assert decision == Unsplittable(Window(42, 42))
    assert decision.sorts == UNSPLITTABLE_SORTS and decision.sorts[0] == "date-posted-asc"
    assert len(set(decision.sorts)) == 7


# -- plan_next ---------------------------------------------------------------------------------


def test_plan_without_rate_probes_the_whole_rest():
    assert plan_next(CFG, 10, 1000, None, None) == Window(10, 1000)
    assert plan_next(CFG, 10, 1000, None, 1) == Window(10, 1000)


def test_plan_stops_past_hi():
    assert plan_next(CFG, 1001, 1000, 1.0, 10) is None
    assert plan_next(CFG, 1000, 1000, 1.0, 10) == Window(1000, 1000)


def test_plan_sizes_the_window_for_the_target():
    window = plan_next(CFG, 0, 10**9, 1.0, 3000)
    assert window == Window(0, 3399)


def test_plan_probes_the_rest_after_a_sparse_window():
    assert plan_next(CFG, 0, 10**9, 0.0, 100) == Window(0, 10**9)  # no photo
    assert plan_next(CFG, 0, 10**9, 0.15, 100) == Window(0, 10**9)  # 15 photos
    assert plan_next(CFG, 0, 10**9, 0.5, 100) == Window(0, 6799)  # 50 photos: trusted


def test_plan_grows_at_most_max_growth_when_set():
    capped = PlannerConfig(per_page=250, max_growth=8.0)
    assert plan_next(capped, 0, 10**9, 0.5, 100) == Window(0, 799)
    assert plan_next(capped, 0, 10**9, 1.0, 3000) == Window(0, 3399)
    with pytest.raises(ValueError):
        PlannerConfig(per_page=250, max_growth=0.5)


def test_plan_is_at_least_one_second_and_clipped_to_hi():
    assert plan_next(CFG, 5, 10**9, 1e9, 1) == Window(5, 5)
    assert plan_next(CFG, 0, 3000, 0.001, 10**6) == Window(0, 3000)


def test_plan_takes_a_short_tail_along():
    assert plan_next(CFG, 0, 4000, 1.0, 3400) == Window(0, 4000)  # 601 s left: < 25%
    assert plan_next(CFG, 0, 5000, 1.0, 3400) == Window(0, 3399)


# -- after_last_page ---------------------------------------------------------------------------


def test_short_last_page_ends_the_window():
    assert after_last_page(CFG, Window(0, 99), 3, 249, 50) is None


def test_full_last_page_below_the_limit_asks_for_the_next_page():
    assert after_last_page(CFG, Window(0, 99), 3, 250, 50) == Continue(page=4)


def test_full_page_at_the_limit_continues_from_the_last_upload():
    assert after_last_page(CFG, Window(0, 99), 16, 250, 60) == Continue(window=Window(60, 99))
    assert after_last_page(CFG, Window(0, 99), 16, 250, 500) == Continue(window=Window(99, 99))


def test_full_page_at_the_limit_in_the_first_second():
    assert after_last_page(CFG, Window(0, 99), 16, 250, 0) == Continue(window=Window(0, 0))
    assert after_last_page(CFG, Window(5, 5), 16, 250, 5) == Unsplittable(Window(5, 5))


# -- whole crawls against the simulator --------------------------------------------------------


def check_crawl(sim: SimSearch, cfg: PlannerConfig, lo: int, hi: int) -> Crawl:
    """Crawl and assert tiling and recall; return the crawl for further checks."""
    result = crawl(sim, cfg, lo, hi)
    for start, end, closed in result.chains:
        assert closed, "a chain closed no window"
        assert closed[0].start == start and closed[-1].end == end
        for before, after in itertools.pairwise(closed):
            assert after.start == before.end + 1, f"gap or overlap: {before} then {after}"
    inside = {i for i, u in enumerate(sim.uploads) if lo <= u <= hi}
    assert result.found <= set(range(len(sim.uploads)))
    assert inside - result.found == sim.unreachable() & inside
    return result


@st.composite
def histories(draw: st.DrawFn) -> list[int]:
    """Growth curves with gaps, bursts of thousands in minutes, and over-cap seconds."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    n = draw(st.integers(0, 30_000))
    uploads = smooth(rng, n, draw(st.floats(0.5, 8)), draw(st.sampled_from([1, 3, 10, 50])))
    uploads = with_gaps(rng, uploads, draw(st.integers(0, 3)))
    uploads = with_bursts(rng, uploads, draw(st.integers(0, 2)))
    if draw(st.booleans()):
        uploads = with_hot_second(rng, uploads, draw(st.integers(3_000, 9_000)))
    return uploads


@settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    uploads=histories(),
    per_page=st.sampled_from([250, 500]),
    error=st.sampled_from([0.0, 0.1]),
    seed=st.integers(0, 1000),
)
def test_crawl_tiles_the_range_and_finds_every_photo(uploads, per_page, error, seed):
    sim = SimSearch(uploads, per_page=per_page, error=error, seed=seed)
    lo = LO - 86_400
    hi = (uploads[-1] if uploads else LO) + 86_400
    result = check_crawl(sim, PlannerConfig(per_page=per_page), lo, hi)
    if error == 0:
        assert result.reported_unreachable == len(sim.unreachable())


@settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    data=st.data(),
    per_page=st.sampled_from([250, 500]),
    years=st.floats(0.5, 8),
    growth=st.sampled_from([1, 3, 10, 50]),
    seed=st.integers(0, 2**32),
)
def test_crawl_costs_close_to_one_call_per_page(data, per_page, years, growth, seed):
    """Smooth rates, totals off by up to 10%, at least 40 full pages of photos."""
    n = data.draw(st.integers(40 * per_page, 60_000), label="photos")
    uploads = smooth(random.Random(seed), n, years, growth)
    sim = SimSearch(uploads, per_page=per_page, error=0.1, seed=seed)
    check_crawl(sim, PlannerConfig(per_page=per_page), LO, uploads[-1] + 3600)
    floor = math.ceil(n / per_page)
    assert sim.calls <= 1.15 * floor, f"{sim.calls} calls for {floor} pages"


@pytest.mark.parametrize("photos", [0, 1, 249, 250, 251, 4000, 4001, 20_000])
def test_crawl_of_one_busy_second(photos):
    sim = SimSearch([LO + 5] * photos, error=0.0)
    result = check_crawl(sim, CFG, LO, LO + 10)
    if photos > 4000:
        assert result.kinds.get("Unsplittable") == 1
        assert result.reported_unreachable == len(sim.unreachable())
    if photos == 20_000:
        assert sim.unreachable(), "7 orders cannot reach all of 20,000 photos"


def test_crawl_with_an_under_reported_total_at_the_cap():
    """Flickr says 3,900 but 4,600 photos match: the full 16th page continues the window."""
    uploads = sorted(LO + i % 4600 for i in range(4600))
    sim = SimSearch(uploads, error=0.0)
    sim.total = lambda window: min(3900, len(range(*sim.span(window))))  # type: ignore[method-assign]
    result = check_crawl(sim, CFG, LO, LO + 5000)
    assert len(result.chains) == 2  # the continuation ran as its own chain


def test_crawl_of_an_empty_range_costs_one_call():
    sim = SimSearch([])
    check_crawl(sim, CFG, LO, LO + 10 * YEAR)
    assert sim.calls == 1
