"""plan_slices: exact sums on the exchange's increments, minimum orders, bounded jitter."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bithumb_llm_trader.errors import InvalidOrder
from bithumb_llm_trader.twap import SizeUnit, SlicePlan, plan_slices

D = Decimal
MIN_ORDER = D(5000)
PRICE = D(100_000_000)


def test_ten_even_slices_one_minute_apart() -> None:
    plan = plan_slices(D(1_000_000), timedelta(minutes=10), slices=10)
    assert [s.size for s in plan.slices] == [D(100_000)] * 10
    assert [s.offset for s in plan.slices] == [timedelta(minutes=i) for i in range(10)]
    assert [s.slice_no for s in plan.slices] == list(range(1, 11))
    assert plan.notes == ()


def test_the_remainder_goes_to_the_last_slice() -> None:
    plan = plan_slices(D(1_000_009), timedelta(minutes=10), slices=10)
    assert [s.size for s in plan.slices] == [D(100_000)] * 9 + [D(100_009)]
    volume = plan_slices(D("0.1"), timedelta(minutes=3), slices=3, unit=SizeUnit.VOLUME,
                         reference_price=PRICE)
    assert [s.size for s in volume.slices] == [D("0.03333333")] * 2 + [D("0.03333334")]


def test_an_interval_sets_the_count_and_keeps_its_spacing() -> None:
    plan = plan_slices(D(1_000_000), timedelta(minutes=10), interval=timedelta(minutes=3))
    assert plan.count == 3 and plan.step == timedelta(minutes=3)
    assert [s.offset for s in plan.slices] == [timedelta(0), timedelta(minutes=3),
                                               timedelta(minutes=6)]
    single = plan_slices(D(10_000), timedelta(minutes=1), interval=timedelta(minutes=5))
    assert single.count == 1


def test_too_small_slices_mean_fewer_slices_and_a_note() -> None:
    plan = plan_slices(D(20_000), timedelta(minutes=10), slices=10, min_order_krw=MIN_ORDER)
    assert plan.count == 4 and plan.requested_slices == 10
    assert [s.size for s in plan.slices] == [D(5000)] * 4
    assert plan.step == timedelta(minutes=2, seconds=30)  # still spread over the duration
    assert "4 slices instead of 10" in plan.notes[0]
    volume = plan_slices(D("0.0002"), timedelta(minutes=10), slices=10, unit=SizeUnit.VOLUME,
                         reference_price=PRICE, min_order_krw=MIN_ORDER)
    assert volume.count == 4  # 0.00005 BTC is worth exactly 5,000 KRW at the reference


def test_totals_below_the_minimum_and_bad_arguments_are_refused() -> None:
    with pytest.raises(InvalidOrder, match="below the minimum order"):
        plan_slices(D(4999), timedelta(minutes=1), slices=1, min_order_krw=MIN_ORDER)
    with pytest.raises(ValueError, match="reference price"):
        plan_slices(D("0.1"), timedelta(minutes=1), slices=2, unit=SizeUnit.VOLUME)
    with pytest.raises(ValueError, match="multiple"):
        plan_slices(D("1000.5"), timedelta(minutes=1), slices=2)
    with pytest.raises(ValueError, match="exactly one"):
        plan_slices(D(1000), timedelta(minutes=1), slices=2, interval=timedelta(seconds=5))
    with pytest.raises(ValueError, match="seed"):
        plan_slices(D(1000), timedelta(minutes=1), slices=2, jitter=D("0.1"))
    with pytest.raises(ValueError, match="jitter"):
        plan_slices(D(1000), timedelta(minutes=1), slices=2, jitter=D("0.6"), seed=1)


def test_jitter_is_reproducible_from_its_seed() -> None:
    def plan(seed: int) -> SlicePlan:
        return plan_slices(D(1_000_000), timedelta(minutes=10), slices=10, jitter=D("0.3"),
                           seed=seed)

    assert plan(7) == plan(7)
    assert plan(7) != plan(8)
    assert len({s.size for s in plan(7).slices}) > 1


totals = st.one_of(
    st.integers(min_value=1, max_value=10**12).map(lambda n: (D(n), SizeUnit.NOTIONAL)),
    st.integers(min_value=1, max_value=10**10).map(
        lambda n: (D(n).scaleb(-8), SizeUnit.VOLUME)),
)
jitters = st.integers(min_value=0, max_value=50).map(lambda n: D(n) / 100)


@settings(max_examples=300, deadline=None)
@given(total_unit=totals, requested=st.integers(1, 200), minutes=st.integers(1, 600),
       jitter=jitters, seed=st.integers(0, 2**32), min_order=st.sampled_from([0, 1, 5000]))
def test_plans_are_exact_on_increments_and_within_bounds(
    total_unit: tuple[Decimal, SizeUnit], requested: int, minutes: int, jitter: Decimal,
    seed: int, min_order: int,
) -> None:
    total, unit = total_unit
    price = PRICE if unit is SizeUnit.VOLUME else None
    value = total * (price or 1)
    duration = timedelta(minutes=minutes)
    if value < min_order:
        with pytest.raises(InvalidOrder):
            plan_slices(total, duration, slices=requested, unit=unit, min_order_krw=D(min_order),
                        reference_price=price, jitter=jitter, seed=seed)
        return
    plan = plan_slices(total, duration, slices=requested, unit=unit,
                       min_order_krw=D(min_order), reference_price=price, jitter=jitter,
                       seed=seed)
    sizes = [s.size for s in plan.slices]
    # Exact: the slices add up to the parent, each on the increment, none empty.
    assert sum(sizes, D(0)) == total
    assert all(size > 0 and size % unit.step == 0 for size in sizes)
    # Minimum order: every slice is an order the exchange accepts.
    assert all(size * (price or 1) >= min_order for size in sizes)
    assert 1 <= plan.count <= requested
    assert (plan.count < requested) == bool(plan.notes)
    # Jitter: sizes within jitter of the even size (plus rounding, taken by the last).
    base = total / plan.count
    slack = unit.step * plan.count
    assert all(abs(size - base) <= base * jitter + slack for size in sizes)
    # Times: in order, inside the duration, within jitter of the even schedule.
    offsets = [s.offset for s in plan.slices]
    assert offsets == sorted(offsets)
    assert offsets[0] >= timedelta(0) and offsets[-1] < duration
    reach = plan.step * float(jitter) + timedelta(milliseconds=1)
    assert all(abs(o - i * plan.step) <= reach for i, o in enumerate(offsets))
