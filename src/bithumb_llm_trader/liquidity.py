"""Walking an orderbook: what an order would fill, at what average price.

Allocation uses it to cap a trade at what the book can absorb within the slippage
limit, the paper exchange to simulate fills level by level, and TWAP to guard slices.
All arithmetic is Decimal; volumes are rounded down to the exchange step per level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .domain import BPS, ZERO, Level, Side, average_price, bps, round_volume
from .fast_init import fast_init


@fast_init
@dataclass(frozen=True, slots=True)
class LevelFill:
    price: Decimal
    volume: Decimal

    @property
    def funds(self) -> Decimal:
        return self.price * self.volume


@fast_init
@dataclass(frozen=True, slots=True)
class BookWalk:
    """The result of walking one side of a book.

    ``complete`` is False when the book (or the price limit) ran out before the
    requested size was filled.
    """

    fills: tuple[LevelFill, ...]
    volume: Decimal
    funds: Decimal
    complete: bool

    @property
    def average_price(self) -> Decimal | None:
        return average_price(self.funds, self.volume)

    def slippage_bps(self, side: Side, arrival: Decimal) -> Decimal | None:
        """Signed cost versus ``arrival`` in bps: positive means worse than arrival."""
        return signed_slippage_bps(side, self.average_price, arrival)


def signed_slippage_bps(side: Side, avg: Decimal | None, arrival: Decimal | None) -> Decimal | None:
    """Cost of a fill at ``avg`` against ``arrival`` in bps, to 2 decimals.

    Positive is worse: paid more than arrival on a buy, received less on a sell.
    None when nothing filled or there is no arrival price.
    """
    if avg is None or arrival is None or arrival == 0:
        return None
    return bps(avg - arrival if side is Side.BUY else arrival - avg, arrival)


def walk_book(
    levels: Sequence[Level],
    side: Side,
    *,
    notional: Decimal | None = None,
    volume: Decimal | None = None,
    limit_price: Decimal | None = None,
) -> BookWalk:
    """Fill ``notional`` KRW (buys by value) or ``volume`` coins against ``levels``.

    Args:
        levels: the opposite side of the book, best first (asks for a buy).
        side: the side of the order being filled.
        notional: KRW to spend (without fees); exclusive with ``volume``.
        volume: coins to trade.
        limit_price: stop at levels worse than this price.
    """
    if (notional is None) == (volume is None):
        raise ValueError("give exactly one of notional or volume")
    fills: list[LevelFill] = []
    left_value = notional
    left_volume = volume
    for level in levels:
        if limit_price is not None and _worse(level.price, limit_price, side):
            break
        if left_value is not None:
            take = min(level.size, round_volume(left_value / level.price))
        else:
            assert left_volume is not None
            take = min(level.size, left_volume)
        if take <= 0:
            break
        fills.append(LevelFill(level.price, take))
        if left_value is not None:
            left_value -= take * level.price
        else:
            assert left_volume is not None
            left_volume -= take
        if (left_volume is not None and left_volume <= 0) or take < level.size:
            break
    filled = sum((f.volume for f in fills), ZERO)
    funds = sum((f.funds for f in fills), ZERO)
    if volume is not None:
        complete = filled >= volume
    else:
        assert notional is not None
        # Done when what is left cannot buy one volume step at the last price reached.
        complete = bool(fills) and round_volume((notional - funds) / fills[-1].price) <= 0
    return BookWalk(tuple(fills), filled, funds, complete)


def _worse(price: Decimal, limit: Decimal, side: Side) -> bool:
    return price > limit if side is Side.BUY else price < limit


def band_limit(best: Decimal, side: Side, max_slippage_bps: Decimal) -> Decimal:
    """The worst price within ``max_slippage_bps`` of ``best`` for an order of ``side``."""
    factor = max_slippage_bps / BPS
    return best * (1 + factor) if side is Side.BUY else best * (1 - factor)


def notional_within(
    levels: Sequence[Level], side: Side, max_slippage_bps: Decimal
) -> Decimal:
    """KRW value resting at prices within ``max_slippage_bps`` of the best level.

    Filling at most this much never pays a price worse than the band edge, so the
    average slippage against the best quote stays inside the limit too.
    """
    if not levels:
        return ZERO
    limit = band_limit(levels[0].price, side, max_slippage_bps)
    total = ZERO
    for level in levels:
        if _worse(level.price, limit, side):
            break
        total += level.price * level.size
    return total


def volume_within(levels: Sequence[Level], side: Side, max_slippage_bps: Decimal) -> Decimal:
    """Coin volume resting within ``max_slippage_bps`` of the best level."""
    if not levels:
        return ZERO
    limit = band_limit(levels[0].price, side, max_slippage_bps)
    total = ZERO
    for level in levels:
        if _worse(level.price, limit, side):
            break
        total += level.size
    return total
