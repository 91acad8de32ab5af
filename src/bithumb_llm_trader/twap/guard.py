"""The price guard: how much of a slice the CURRENT book can take without paying too much.

The guard price is fixed when the TWAP starts: ``max_slippage_bps`` away from the
arrival price (the best opposite quote at the start), or the user's limit price when
that is tighter, rounded onto the tick towards safety. Each slice walks the book as it
is when the slice is due and takes only the levels inside the guard: a thin or moved
book shrinks the slice, and one with nothing inside the guard (or too little to make
a valid order) skips it. Whatever is not taken is carried to later slices.

The slice is then sent as a limit order AT the guard price, so even a book that moves
between this walk and the order's arrival cannot fill it beyond the guard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from ..domain import ZERO, Level, Side, round_price
from ..liquidity import band_limit, walk_book
from .plan import SizeUnit


@dataclass(frozen=True, slots=True)
class SliceSizing:
    """What to send for one slice: ``volume`` coins, or nothing and why."""

    target: Decimal
    volume: Decimal = ZERO
    expected_funds: Decimal = ZERO
    shrunk: bool = False
    skip_reason: str | None = None

    @property
    def send(self) -> bool:
        return self.skip_reason is None


def guard_price(
    arrival: Decimal, side: Side, max_slippage_bps: Decimal, limit_price: Decimal | None = None
) -> Decimal:
    """The worst price any slice may trade at, on the tick.

    A buy rounds down and a sell up, so rounding never loosens the guard.
    """
    worst = band_limit(arrival, side, max_slippage_bps)
    if limit_price is not None:
        worst = min(worst, limit_price) if side is Side.BUY else max(worst, limit_price)
    return round_price(worst, side)


def size_slice(
    levels: Sequence[Level],
    side: Side,
    *,
    unit: SizeUnit,
    target: Decimal,
    guard: Decimal,
    min_order_krw: Decimal,
) -> SliceSizing:
    """Fit ``target`` (in ``unit``) into the levels of ``levels`` inside ``guard``.

    Args:
        levels: the opposite side of the current book, best first.
        side: the TWAP's side.
        unit: whether ``target`` is KRW or coins.
        target: what this slice should trade, the carried-over part included.
        guard: the worst acceptable price (from ``guard_price``).
        min_order_krw: the smallest order the exchange accepts.
    """
    if target <= 0:
        return SliceSizing(target, skip_reason="nothing left to trade")
    if unit is SizeUnit.NOTIONAL:
        walk = walk_book(levels, side, notional=target, limit_price=guard)
    else:
        walk = walk_book(levels, side, volume=target, limit_price=guard)
    if walk.volume <= 0:
        return SliceSizing(target, skip_reason=_no_room(levels, side, guard))
    # The exchange values a limit order at its own price: for a sell that is the guard,
    # below the prices it will really fill at.
    value = min(walk.funds, guard * walk.volume)
    if value < min_order_krw:
        return SliceSizing(
            target,
            skip_reason=f"only {value} KRW fits inside the guard {guard}, under the "
            f"minimum order of {min_order_krw} KRW",
        )
    return SliceSizing(target, volume=walk.volume, expected_funds=walk.funds,
                       shrunk=not walk.complete)


def _no_room(levels: Sequence[Level], side: Side, guard: Decimal) -> str:
    quote = "ask" if side is Side.BUY else "bid"
    if not levels:
        return f"the book has no {quote}s"
    return f"the best {quote} {levels[0].price} is beyond the guard {guard}"
