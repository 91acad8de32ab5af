"""Cutting a parent order into time slices: a pure function, exact to the last won.

Every slice is rounded DOWN to the exchange's increment (whole won for a KRW notional,
8 decimals for a coin volume) and the last slice takes the remainder, so the slices
always add up to the parent exactly: nothing is lost to rounding and nothing is
bought twice. A slice the exchange would refuse as too small is never planned: the
plan uses fewer, larger slices instead and says so in ``notes``.

Jitter makes the schedule harder to spot in the tape. Sizes move in random pairs
(one slice gets ``+d``, another ``-d``), so the total is unchanged before rounding
and every slice stays within ``jitter`` of the even size; times move by at most
``jitter`` of one interval, which (with ``jitter <= 0.5``) never reorders slices.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from enum import Enum

from ..domain import ONE, VOLUME_STEP, ZERO, round_krw, round_volume
from ..errors import InvalidOrder

MAX_JITTER = Decimal("0.5")
_MS = timedelta(milliseconds=1)
_JITTER_STEPS = 1_000_000


class SizeUnit(str, Enum):
    """What a TWAP is sized in: KRW to spend or receive, or coins to trade."""

    NOTIONAL = "notional"
    VOLUME = "volume"

    @property
    def step(self) -> Decimal:
        return ONE if self is SizeUnit.NOTIONAL else VOLUME_STEP

    def round(self, amount: Decimal) -> Decimal:
        """Round down onto the increment: never plan more than was asked for."""
        return round_krw(amount) if self is SizeUnit.NOTIONAL else round_volume(amount)


@dataclass(frozen=True, slots=True)
class PlannedSlice:
    """One child order of the plan; ``slice_no`` counts from 1."""

    slice_no: int
    offset: timedelta
    size: Decimal


@dataclass(frozen=True, slots=True)
class SlicePlan:
    unit: SizeUnit
    total: Decimal
    duration: timedelta
    step: timedelta
    slices: tuple[PlannedSlice, ...]
    requested_slices: int
    notes: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.slices)


def plan_slices(
    total: Decimal,
    duration: timedelta,
    *,
    slices: int | None = None,
    interval: timedelta | None = None,
    unit: SizeUnit = SizeUnit.NOTIONAL,
    min_order_krw: Decimal = ZERO,
    reference_price: Decimal | None = None,
    jitter: Decimal = ZERO,
    seed: int | None = None,
) -> SlicePlan:
    """Plan ``total`` over ``duration`` as ``slices`` orders, or one every ``interval``.

    Args:
        total: the parent size in ``unit``; must already sit on the unit's increment.
        duration: time from the first slice to the end of the schedule.
        slices: how many slices (exclusive with ``interval``).
        interval: time between slices; ``duration // interval`` slices (at least one).
        unit: KRW notional (whole won) or coin volume (8 decimals).
        min_order_krw: the exchange's smallest order value; no slice is planned below it.
        reference_price: KRW per coin, needed to value a volume plan's slices.
        jitter: 0 to 0.5, the largest relative move of a slice's size and time.
        seed: required with jitter, so the same inputs always give the same plan.

    Raises:
        ValueError: inconsistent arguments (a programming error).
        InvalidOrder: the total itself is below the minimum order.
    """
    _check_arguments(total, duration, slices, interval, unit, reference_price, jitter, seed)
    requested = slices if slices is not None else _count_for(duration, interval)
    price = reference_price if unit is SizeUnit.VOLUME else None
    if _value(total, price) < min_order_krw:
        raise InvalidOrder(
            f"the total {total} {_label(unit)} is below the minimum order of {min_order_krw} KRW"
        )
    count = _fitting_count(total, requested, unit, min_order_krw, price, jitter)
    notes: list[str] = []
    if count < requested:
        notes.append(
            f"{count} slices instead of {requested}: smaller slices would be under the "
            f"minimum order of {min_order_krw} KRW (or the increment {unit.step})"
        )
        interval = None  # fewer slices: spread them over the whole duration instead
    rng = random.Random(seed)
    sizes = _sizes(total, count, unit, jitter, rng)
    offsets = _offsets(duration, interval, count, jitter, rng)
    step = interval if interval is not None else duration / count
    planned = tuple(
        PlannedSlice(slice_no=i + 1, offset=offsets[i], size=sizes[i]) for i in range(count)
    )
    return SlicePlan(unit=unit, total=total, duration=duration, step=step, slices=planned,
                     requested_slices=requested, notes=tuple(notes))


def _check_arguments(
    total: Decimal, duration: timedelta, slices: int | None, interval: timedelta | None,
    unit: SizeUnit, reference_price: Decimal | None, jitter: Decimal, seed: int | None,
) -> None:
    if total <= 0 or unit.round(total) != total:
        raise ValueError(f"total must be positive and a multiple of {unit.step}, got {total}")
    if duration <= timedelta(0):
        raise ValueError("duration must be positive")
    if (slices is None) == (interval is None):
        raise ValueError("give exactly one of slices or interval")
    if slices is not None and slices < 1:
        raise ValueError("slices must be at least 1")
    if interval is not None and interval <= timedelta(0):
        raise ValueError("interval must be positive")
    if unit is SizeUnit.VOLUME and (reference_price is None or reference_price <= 0):
        raise ValueError("a volume plan needs a positive reference price")
    if not ZERO <= jitter <= MAX_JITTER:
        raise ValueError(f"jitter must be between 0 and {MAX_JITTER}, got {jitter}")
    if jitter > 0 and seed is None:
        raise ValueError("jitter needs a seed, so the plan can be reproduced")


def _count_for(duration: timedelta, interval: timedelta | None) -> int:
    assert interval is not None
    return max(1, duration // interval)


def _label(unit: SizeUnit) -> str:
    return "KRW" if unit is SizeUnit.NOTIONAL else "coins"


def _value(size: Decimal, price: Decimal | None) -> Decimal:
    """KRW value of a slice: the size itself for a notional plan."""
    return size if price is None else size * price


def _fitting_count(
    total: Decimal, requested: int, unit: SizeUnit, min_order: Decimal,
    price: Decimal | None, jitter: Decimal,
) -> int:
    """The most slices, up to ``requested``, whose smallest possible size is an order."""
    shrink = ONE - jitter
    # One increment of margin with jitter: its pair moves are rounded at 28 digits.
    margin = unit.step if jitter > 0 else ZERO

    def fits(count: int) -> bool:
        smallest = unit.round(total / count * shrink) - margin
        return smallest >= unit.step and _value(smallest, price) >= min_order

    # Start near the answer: no more slices than increments, or than minimum orders.
    upper = min(requested, int(total * shrink / unit.step) + 1)
    if min_order > 0:
        upper = min(upper, int(_value(total, price) * shrink / min_order) + 1)
    return next((count for count in range(upper, 1, -1) if fits(count)), 1)


def _sizes(
    total: Decimal, count: int, unit: SizeUnit, jitter: Decimal, rng: random.Random
) -> list[Decimal]:
    """Even sizes moved in random +d/-d pairs, rounded down; the last takes the rest."""
    base = total / count
    raw = [base] * count
    if jitter > 0 and count > 1:
        order = list(range(count))
        rng.shuffle(order)
        for first, second in zip(order[::2], order[1::2], strict=False):
            move = base * jitter * Decimal(rng.randint(-_JITTER_STEPS, _JITTER_STEPS))
            move /= _JITTER_STEPS
            raw[first] += move
            raw[second] -= move
    sizes = [unit.round(size) for size in raw[:-1]]
    sizes.append(total - sum(sizes, ZERO))
    return sizes


def _offsets(
    duration: timedelta, interval: timedelta | None, count: int, jitter: Decimal,
    rng: random.Random,
) -> list[timedelta]:
    """Slice ``i`` at ``i`` steps, moved by at most ``jitter`` of a step; none before 0.

    Each time is computed from the start, not from the previous one, so no rounding
    accumulates over a long schedule.
    """
    step = interval if interval is not None else duration / count
    reach = int(step // _MS * jitter)
    offsets = []
    for i in range(count):
        even = interval * i if interval is not None else duration * i / count
        shift = rng.randint(-reach, reach) * _MS if reach else timedelta(0)
        offsets.append(max(timedelta(0), even + shift))
    return offsets
